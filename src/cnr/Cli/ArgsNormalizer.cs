using System.CommandLine;

namespace Cnr.Cli;

/// <summary>The command line as System.CommandLine should see it, or the one-line usage error runc would give.</summary>
internal readonly record struct NormalizedArgs(string[] Args, string? Error);

/// <summary>Reads the arguments once against the command tree, before System.CommandLine does, for what it
/// gets wrong for a runc-compatible CLI: an unknown flag would become the container id (`run --bogus ID` said
/// "Unrecognized argument 'ID'"), an unknown verb printed the whole help, and runc's callers write Go-style
/// `-bundle` for `--bundle`. runc (urfave/cli) also stops reading flags at the first positional argument, so
/// in `cnr exec ID sh -c 'echo hi'` the `-c` belongs to sh: a `--` is inserted after the id of those verbs.</summary>
internal static class ArgsNormalizer
{
    /// <summary>Verbs whose arguments after the container id belong to the container's process or to ps.</summary>
    private static readonly string[] VerbsWithTrailingArgs = ["exec", "ps"];

    public static NormalizedArgs Normalize(Command root, string[] args)
    {
        var output = new List<string>(args.Length + 1);
        var path = new List<Command> { root };
        Command cmd = root;
        int positionals = 0;
        for (int i = 0; i < args.Length; i++)
        {
            var token = args[i];
            if (token == "--") { output.AddRange(args[i..]); break; }
            if (IsFlag(token))
            {
                var (name, value) = SplitValue(token);
                var option = Find(path, name);
                if (option is null && GoStyle(path, name) is { } goStyle)
                {
                    option = goStyle;
                    name = "-" + name;
                    token = value is null ? name : $"{name}={value}";
                }
                option ??= ShortFlagBundle(path, token);
                if (option is null) return Fail($"unknown flag: {name} ({HelpHint(path)} lists the flags)");
                // System.CommandLine would take the value of --detach=maybe for the next argument
                if (option.ValueType == typeof(bool) && value is not null && !bool.TryParse(value, out _))
                    return Fail(FlagValues.Error(name, value, "true or false"));
                output.Add(token);
                if (TakesValue(option) && value is null)
                {
                    if (i + 1 >= args.Length) return Fail($"flag needs a value: {name}");
                    output.Add(args[++i]);
                }
                continue;
            }
            if (positionals == 0 && cmd.Subcommands.FirstOrDefault(c => c.Name == token || c.Aliases.Contains(token)) is { } sub)
            {
                path.Add(cmd = sub);
                output.Add(token);
                continue;
            }
            if (cmd.Subcommands.Count > 0 && cmd.Arguments.Count == 0)
                return Fail($"unknown command \"{string.Join(' ', path.Skip(1).Select(c => c.Name).Append(token))}\" ({HelpHint(path)} lists the commands)");
            output.Add(token);
            if (++positionals == 1 && VerbsWithTrailingArgs.Contains(cmd.Name) && i + 1 < args.Length && args[i + 1] != "--")
            {
                output.Add("--");
                output.AddRange(args[(i + 1)..]);
                break;
            }
        }
        return new NormalizedArgs([.. output], null);
    }

    /// <summary>"cnr run --help" for the command being read.</summary>
    public static string HelpHint(IEnumerable<Command> path)
        => string.Join(' ', path.Select((c, i) => i == 0 ? "cnr" : c.Name)) + " --help";

    private static NormalizedArgs Fail(string error) => new([], error);

    /// <summary>"-1" is a value (update --memory -1, kill ID -9 is not a flag either), "-" is stdin.</summary>
    internal static bool IsFlag(string token)
        => token.Length > 1 && token[0] == '-' && !long.TryParse(token, out _);

    internal static (string Name, string? Value) SplitValue(string token)
    {
        int eq = token.IndexOf('=');
        return eq < 0 ? (token, null) : (token[..eq], token[(eq + 1)..]);
    }

    /// <summary>The command's own options, then the recursive ones of its parents (the global flags, --help).</summary>
    private static Option? Find(List<Command> path, string name)
    {
        for (int i = path.Count - 1; i >= 0; i--)
            foreach (var option in path[i].Options)
                if ((i == path.Count - 1 || option.Recursive) && (option.Name == name || option.Aliases.Contains(name)))
                    return option;
        return null;
    }

    /// <summary>Go's flag package, and so runc, takes -bundle for --bundle.</summary>
    private static Option? GoStyle(List<Command> path, string name)
        => !name.StartsWith("--", StringComparison.Ordinal) && name.Length > 2 ? Find(path, "-" + name) : null;

    /// <summary>The root's option a flag names before the verb (its own spelling or Go's), or null.</summary>
    internal static Option? FindGlobal(Command root, string name)
    {
        List<Command> path = [root];
        return Find(path, name) ?? GoStyle(path, name);
    }

    /// <summary>A bool flag may be given a value (--detach=true), never the next argument; --help takes none.</summary>
    internal static bool TakesValue(Option option) => option.ValueType != typeof(bool) && option.Arity.MaximumNumberOfValues > 0;

    /// <summary>`-dt` = `-d -t`: single-letter flags together, all but the last without a value; the last
    /// one's option (which may take the next argument), or null.</summary>
    private static Option? ShortFlagBundle(List<Command> path, string token)
    {
        if (token.Length < 3 || token[1] == '-' || token.Contains('=')) return null;
        Option? last = null;
        for (int i = 1; i < token.Length; i++)
        {
            if (last is not null && TakesValue(last)) return null;
            if ((last = Find(path, "-" + token[i])) is null) return null;
        }
        return last;
    }
}
