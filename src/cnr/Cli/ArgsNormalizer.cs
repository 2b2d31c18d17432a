namespace Cnr.Cli;

/// <summary>runc (urfave/cli) stops reading flags at the first positional argument, so in
/// `cnr exec ID sh -c 'echo hi'` the `-c` belongs to sh. System.CommandLine would take it as --cap:
/// a `--` is inserted after the container id of `exec` and `ps`.</summary>
internal static class ArgsNormalizer
{
    private static readonly string[] GlobalValueOptions = ["--root", "--log", "--log-format", "--criu"];

    public static string[] Normalize(string[] args)
    {
        int i = SkipOptions(args, 0, GlobalValueOptions);
        if (i >= args.Length) return args;
        string[] valueOptions = args[i] switch
        {
            "exec" => ExecCommand.ValueOptions,
            "ps" => PsCommand.ValueOptions,
            _ => [],
        };
        if (valueOptions.Length == 0) return args;
        int id = SkipOptions(args, i + 1, [.. valueOptions, .. GlobalValueOptions]);
        if (id >= args.Length - 1 || args[id + 1] == "--") return args;
        return [.. args[..(id + 1)], "--", .. args[(id + 1)..]];
    }

    private static int SkipOptions(string[] args, int i, string[] valueOptions)
    {
        while (i < args.Length && args[i].StartsWith('-') && args[i] != "--")
        {
            if (valueOptions.Contains(args[i])) i++;
            i++;
        }
        return i;
    }
}
