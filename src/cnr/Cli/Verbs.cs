using System.CommandLine;
using Cnr.Diagnostics;

namespace Cnr.Cli;

/// <summary>The list of verbs (one file each) and the one wrapper that turns exceptions into one clear line.</summary>
internal static class Verbs
{
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
    ];

    /// <summary>Runs a verb's body with the global flags applied; any failure becomes one line and exit 1.</summary>
    public static void SetAction(this Command command, Func<ParseResult, int> body)
        => command.SetAction((ParseResult r) =>
        {
            try
            {
                GlobalOptions.Apply(r);
                return body(r);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                Log.Error(e.Message);
                if (Log.DebugEnabled) Log.Debug(e.ToString());
                return 1;
            }
        });
}
