using System.CommandLine;
using Cnr.Containers;
using Cnr.Diagnostics;

namespace Cnr.Cli;

/// <summary>`cnr run [--bundle DIR] [--detach] [--keep] [--pid-file F] [--console-socket S] [--no-pivot] ID`.</summary>
internal static class RunCommand
{
    public static Command Create()
    {
        var o = new CreateOptionSet();
        var detach = CommonOptions.Detach();
        var keep = new Option<bool>("--keep") { Description = "do not delete the container after it exits (cnr delete ID does)" };
        // On run, not create: the script is the whole container, up to its process's execve, which only a run
        // (create and start in one) reports; and a trainer compares it with a container that runs.
        var script = new Option<string?>("--explain-script")
        {
            Description = "also write each kernel step as a bash script that builds the same container with util-linux tools "
                          + "(unshare, mount, pivot_root, setpriv…), to run beside this one and compare",
        };
        var cmd = new Command("run", "create and run a container") { detach, keep, script };
        o.AddTo(cmd);
        Verbs.SetAction(cmd, r =>
        {
            bool d = r.GetValue(detach);
            var options = o.Read(r, foreground: !d);
            if (r.GetValue(script) is { } file)
            {
                var dir = Path.GetDirectoryName(Path.GetFullPath(file))!;
                if (!Directory.Exists(dir)) throw new UsageException($"--explain-script {file}: the directory {dir} does not exist");
                Steps.AddSink(new ExplainScript(file, $"cnr run --explain-script {file} {options.Id}").Add);
            }
            return ContainerRun.Run(options, d, r.GetValue(keep));
        });
        return cmd;
    }
}
