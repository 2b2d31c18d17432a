using Cnr.Cli;

// `cnr init` is the re-executed process inside the container's namespaces: it skips the command-line
// library entirely, because its start-up time is on every container's critical path.
if (args.Length > 0 && args[0] == "init")
    return Cnr.Process.Init.Main(args);

return Cnr.Cli.CommandLine.Invoke(Verbs.Root(args), args);
