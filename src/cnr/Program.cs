using System.CommandLine;
using Cnr.Cli;
using Cnr.Diagnostics;

// `cnr init` is the re-executed process inside the container's namespaces: it skips the command-line
// library entirely, because its start-up time is on every container's critical path.
if (args.Length > 0 && args[0] == "init")
    return Cnr.Process.Init.Main(args);

var root = new RootCommand("cnr — an OCI container runtime (runc-compatible)");
foreach (var option in GlobalOptions.All)
    root.Options.Add(option);
foreach (var command in Verbs.All())
    root.Subcommands.Add(command);
// runc prints "cnr version …" lines, not System.CommandLine's bare version.
foreach (var builtin in root.Options.OfType<VersionOption>().ToList())
    root.Options.Remove(builtin);
root.Options.Add(GlobalOptions.Version);
root.SetAction(r =>
{
    if (r.GetValue(GlobalOptions.Version)) { VersionCommand.Print(); return 0; }
    Console.Error.WriteLine("cnr: a command is required (try `cnr --help`)");
    return 1;
});
return root.Parse(ArgsNormalizer.Normalize(args)).Invoke();
