using System.CommandLine;
using Cnr.Diagnostics;

namespace Cnr.Cli;

/// <summary>The list of verbs (one file each) and the one wrapper that turns exceptions into one clear line.</summary>
internal static class Verbs
{
    /// <summary>cnr's command tree: the global flags, every verb and `help`.</summary>
    public static RootCommand Root()
    {
        var root = new RootCommand("cnr — an OCI container runtime (runc-compatible)");
        foreach (var option in GlobalOptions.All)
            root.Options.Add(option);
        foreach (var command in All())
            root.Subcommands.Add(command);
        root.Subcommands.Add(HelpCommand.Create(root));
        // runc prints "cnr version …" lines, not System.CommandLine's bare version.
        foreach (var builtin in root.Options.OfType<VersionOption>().ToList())
            root.Options.Remove(builtin);
        root.Options.Add(GlobalOptions.Version);
        root.SetAction(r =>
        {
            if (r.GetValue(GlobalOptions.Version)) { VersionCommand.Print(); return 0; }
            Console.Error.WriteLine("cnr: a command is required (cnr --help lists the commands)");
            return 1;
        });
        return root;
    }

    public static IEnumerable<Command> All() =>
    [
        VersionCommand.Create(),
        SpecCommand.Create(),
        RunCommand.Create(),
        CreateCommand.Create(),
        StartCommand.Create(),
        StateCommand.Create(),
        KillCommand.Create(),
        DeleteCommand.Create(),
        ExecCommand.Create(),
        ListCommand.Create(),
        PsCommand.Create(),
        FeaturesCommand.Create(),
        PauseCommand.Create(),
        PauseCommand.CreateResume(),
        UpdateCommand.Create(),
        BundleCommand.Create(),
        PullCommand.Create(),
        StatsCommand.Create(),
        EventsCommand.Create(),
        InspectCommand.Create(),
        DemoCommand.Create(),
        HookCommand.Create(),
        CheckpointCommand.Create(),
        RestoreCommand.Create(),
    ];

    /// <summary>Runs a verb's body with the global flags applied; any failure becomes one line and exit 1
    /// (or the verb's own failure status, as exec's 255).</summary>
    public static void SetAction(this Command command, Func<ParseResult, int> body, int failureStatus = 1, string failurePrefix = "")
        => command.SetAction((ParseResult r) =>
        {
            try
            {
                GlobalOptions.Apply(r);
                return body(r);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                Log.Error(failurePrefix + e.Message);
                if (Log.DebugEnabled) Log.Debug(e.ToString());
                return failureStatus;
            }
        });
}
