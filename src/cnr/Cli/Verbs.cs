using System.CommandLine;
using Cnr.Diagnostics;

namespace Cnr.Cli;

/// <summary>The list of verbs (one file each) and the one wrapper that turns exceptions into one clear line.</summary>
internal static class Verbs
{
    /// <summary>The command tree for these arguments: the root with the global flags and only the verb the
    /// arguments name, where they name one and ask for no help. Building every verb's options and System.CommandLine's
    /// help option (whose description loads a ResourceManager through reflection) was a fifth of `cnr state`; what
    /// the parse sees of the chosen verb, its flags and the global ones is the same as in <see cref="Root()"/>, so
    /// are the usage errors. Help, an unknown or missing verb, a directive and anything the scan cannot place get
    /// the whole tree.</summary>
    public static Command Root(string[] args)
    {
        if (args.Any(NeedsWholeTree)) return Root();
        var root = new Command(RootCommand.ExecutableName, Description);
        AddGlobals(root);
        var verb = Find(root, args);
        if (verb is null) return Root();
        root.Subcommands.Add(verb.Create());
        return root;
    }

    /// <summary>cnr's whole command tree: the global flags, every verb and `help`.</summary>
    public static RootCommand Root()
    {
        var root = new RootCommand(Description);
        // runc prints "cnr version …" lines, not System.CommandLine's bare version.
        foreach (var builtin in root.Options.OfType<VersionOption>().ToList())
            root.Options.Remove(builtin);
        AddGlobals(root);
        foreach (var command in All())
            root.Subcommands.Add(command);
        root.Subcommands.Add(HelpCommand.Create(root));
        return root;
    }

    private const string Description = "cnr — an OCI container runtime (runc-compatible)";

    private static void AddGlobals(Command root)
    {
        foreach (var option in GlobalOptions.All)
            root.Options.Add(option);
        root.Options.Add(GlobalOptions.Version);
        root.SetAction(r =>
        {
            if (r.GetValue(GlobalOptions.Version)) { VersionCommand.Print(); return 0; }
            Console.Error.WriteLine("cnr: a command is required (cnr --help lists the commands)");
            return 1;
        });
    }

    /// <summary>A token that may ask for help (System.CommandLine's -h, --help, -?, /h, /?, Go-style -help, a
    /// short-flag bundle holding h or ?, the help verb) or is a directive ([suggest]): only the whole tree
    /// answers those as before. Over-broad on purpose: a false match costs only the time saved.</summary>
    private static bool NeedsWholeTree(string token)
        => token is "help" or "h" or "/h" or "/?" or "--help"
           || token.StartsWith('[')
           || (token.StartsWith('-') && !token.StartsWith("--", StringComparison.Ordinal) && (token.Contains('h') || token.Contains('?')));

    /// <summary>The verb the arguments name: the first token that is neither a global flag nor its value, as
    /// <see cref="ArgsNormalizer"/> reads it; null when there is none or it is not a verb.</summary>
    private static VerbEntry? Find(Command root, string[] args)
    {
        for (int i = 0; i < args.Length; i++)
        {
            var token = args[i];
            if (token == "--") return null;
            if (!ArgsNormalizer.IsFlag(token))
                return Array.Find(Table, v => v.Name == token || v.Alias == token);
            var (name, value) = ArgsNormalizer.SplitValue(token);
            var option = ArgsNormalizer.FindGlobal(root, name);
            if (option is null) return null;  // an unknown flag: the whole tree's error
            if (value is null && ArgsNormalizer.TakesValue(option)) i++;
        }
        return null;
    }

    /// <summary>A verb: its name, runc's alias if any, and how to build it.</summary>
    internal sealed record VerbEntry(string Name, string? Alias, Func<Command> Create);

    /// <summary>Every verb but `help`, in the order the help lists them.</summary>
    internal static readonly VerbEntry[] Table =
    [
        new("version", null, VersionCommand.Create),
        new("spec", null, SpecCommand.Create),
        new("run", null, RunCommand.Create),
        new("create", null, CreateCommand.Create),
        new("start", null, StartCommand.Create),
        new("state", null, StateCommand.Create),
        new("kill", null, KillCommand.Create),
        new("delete", null, DeleteCommand.Create),
        new("exec", null, ExecCommand.Create),
        new("list", "ls", ListCommand.Create),
        new("ps", null, PsCommand.Create),
        new("features", null, FeaturesCommand.Create),
        new("pause", null, PauseCommand.Create),
        new("resume", null, PauseCommand.CreateResume),
        new("update", null, UpdateCommand.Create),
        new("bundle", null, BundleCommand.Create),
        new("pull", null, PullCommand.Create),
        new("stats", null, StatsCommand.Create),
        new("events", null, EventsCommand.Create),
        new("inspect", null, InspectCommand.Create),
        new("demo", null, DemoCommand.Create),
        new("hook", null, HookCommand.Create),
        new("checkpoint", null, CheckpointCommand.Create),
        new("restore", null, RestoreCommand.Create),
    ];

    public static IEnumerable<Command> All() => Table.Select(v => v.Create());

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
