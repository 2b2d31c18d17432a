using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Parsing;
using Cnr.Diagnostics;

namespace Cnr.Cli;

/// <summary>Parses and runs a command line; a usage error is one line naming the flag or argument and what
/// it should be, exit status 1, never System.CommandLine's type names or a help dump.</summary>
internal static class CommandLine
{
    // No @response files: an argument that starts with @ is that argument, never a host file to read.
    private static readonly ParserConfiguration Config = new() { ResponseFileTokenReplacer = null };

    public static ParseResult Parse(Command root, IReadOnlyList<string> args) => root.Parse(args, Config);

    public static int Invoke(Command root, string[] args)
    {
        var normalized = ArgsNormalizer.Normalize(root, args);
        var parse = Parse(root, normalized.Error is null ? normalized.Args : args);
        // --help wins over a missing argument, as in runc (`cnr state -h`).
        if (normalized.Error is null && (parse.Errors.Count == 0 || parse.Action is HelpAction))
            return parse.Invoke();
        try { GlobalOptions.Apply(parse); }
        catch (Exception e) when (e is not OutOfMemoryException) { }  // the usage error is the one to report
        Log.Error(normalized.Error ?? Describe(parse));
        return 1;
    }

    /// <summary>The first parse error as one line. Flag values carry their own message (see
    /// <see cref="FlagValues"/>); missing and extra arguments name the verb and where its usage is.</summary>
    internal static string Describe(ParseResult parse)
    {
        var error = parse.Errors[0];
        if (error.SymbolResult is OptionResult || error.SymbolResult?.Parent is OptionResult) return error.Message;
        var path = new List<Command>();
        for (SymbolResult? s = parse.CommandResult; s is not null; s = s.Parent)
            if (s is CommandResult c) path.Insert(0, c.Command);
        var verb = string.Join(' ', path.Skip(1).Select(c => c.Name));
        var hint = ArgsNormalizer.HelpHint(path);
        if (parse.UnmatchedTokens.Count > 0)
            return $"{verb}: unexpected argument \"{parse.UnmatchedTokens[0]}\" ({hint} shows the usage)";
        foreach (var argument in parse.CommandResult.Command.Arguments)
            if (argument.Arity.MinimumNumberOfValues > 0 && !argument.HasDefaultValue
                && parse.GetResult(argument) is not ArgumentResult { Tokens.Count: > 0 })
                return $"{verb}: <{argument.Name}> is missing ({hint} shows the usage)";
        return error.Message;
    }
}

/// <summary>`cnr help [COMMAND…]`, as runc's: the same text as `cnr [COMMAND…] --help`.</summary>
internal static class HelpCommand
{
    public static Command Create(RootCommand root)
    {
        var topic = new Argument<string[]>("command") { Arity = ArgumentArity.ZeroOrMore, Description = "the command to describe" };
        var cmd = new Command("help", "show the list of commands, or the help of one command") { topic };
        cmd.Aliases.Add("h");
        Verbs.SetAction(cmd, r =>
        {
            var words = r.GetValue(topic) ?? [];
            Command target = root;
            foreach (var word in words)
                target = target.Subcommands.FirstOrDefault(c => c.Name == word || c.Aliases.Contains(word))
                         ?? throw new UsageException($"no help topic for \"{string.Join(' ', words)}\" (cnr --help lists the commands)");
            return CommandLine.Parse(root, [.. words, "--help"]).Invoke();
        });
        return cmd;
    }
}
