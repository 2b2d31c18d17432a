using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using Cnr.Containers;

namespace Cnr.Cli;

/// <summary>`cnr ps [-f table|json] ID [ps options]`: json is the list of pids; table is the host's `ps`
/// (default -ef) filtered to the container's processes, as runc does.</summary>
internal static class PsCommand
{
    public static Command Create()
    {
        var id = CommonOptions.Id();
        var psArgs = new Argument<string[]>("ps-options") { Arity = ArgumentArity.ZeroOrMore, Description = "options for ps (default -ef)" };
        var format = new Option<string>("--format", "-f") { Description = "table or json", DefaultValueFactory = _ => "table" };
        var cmd = new Command("ps", "ps displays the processes running inside a container") { id, psArgs, format };
        Verbs.SetAction(cmd, r =>
        {
            var store = CommonOptions.Store(r);
            IReadOnlyList<int> pids;
            using (var c = Container.Load(store, r.GetValue(id)!)) pids = ContainerProcesses.Pids(c);
            var fmt = r.GetValue(format);
            if (fmt == "json")
            {
                Console.WriteLine(JsonSerializer.Serialize(pids.ToList(), CliJson.Default.ListInt32));
                return 0;
            }
            if (fmt != "table") throw new UsageException($"--format: \"{fmt}\" is not a format (table, json)");
            var args = r.GetValue(psArgs) is { Length: > 0 } a ? a : ["-ef"];
            var psi = new ProcessStartInfo("ps") { RedirectStandardOutput = true, UseShellExecute = false };
            foreach (var arg in args) psi.ArgumentList.Add(arg);
            using var ps = System.Diagnostics.Process.Start(psi)!;
            var lines = ps.StandardOutput.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
            ps.WaitForExit();
            if (lines.Length == 0) return ps.ExitCode;
            var header = lines[0].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            int pidCol = Array.IndexOf(header, "PID");
            if (pidCol < 0) throw new InvalidOperationException("ps: couldn't find PID field in ps output");
            Console.WriteLine(lines[0]);
            var set = pids.ToHashSet();
            foreach (var line in lines.Skip(1))
            {
                var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length > pidCol && int.TryParse(fields[pidCol], out int pid) && set.Contains(pid))
                    Console.WriteLine(line);
            }
            return 0;
        });
        return cmd;
    }
}
