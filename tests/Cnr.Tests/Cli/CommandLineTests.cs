using Cnr.Cli;
using Xunit;

namespace Cnr.Tests.Cli;

/// <summary>The command line as cnr reads it, on its real command tree: normalisation and the one-line usage errors.</summary>
public class CommandLineTests
{
    /// <summary>Normalised on the tree cnr builds for these arguments (<see cref="Verbs.Root(string[])"/>), which
    /// must read them exactly as the whole tree does.</summary>
    private static NormalizedArgs Normalize(params string[] args)
    {
        var n = ArgsNormalizer.Normalize(Verbs.Root(args), args);
        var whole = ArgsNormalizer.Normalize(Verbs.Root(), args);
        Assert.Equal(whole.Error, n.Error);
        Assert.Equal(whole.Args, n.Args);
        return n;
    }

    private static string? ParseError(params string[] args)
    {
        var error = ParseError(Verbs.Root(args), args);
        Assert.Equal(ParseError(Verbs.Root(), args), error);
        return error;
    }

    private static string? ParseError(System.CommandLine.Command root, string[] args)
    {
        var n = ArgsNormalizer.Normalize(root, args);
        if (n.Error is not null) return n.Error;
        var parse = Cnr.Cli.CommandLine.Parse(root, n.Args);
        return parse.Errors.Count == 0 ? null : Cnr.Cli.CommandLine.Describe(parse);
    }

    [Theory]
    [InlineData(new[] { "state", "ID" }, "state")]
    [InlineData(new[] { "--root", "/r", "--debug", "run", "-d", "ID" }, "run")]
    [InlineData(new[] { "--root", "state", "run", "ID" }, "run")]  // state is --root's value
    [InlineData(new[] { "--log=/l", "-root", "/r", "ls", "-q" }, "list")]
    [InlineData(new[] { "--log-format", "json", "exec", "ID", "sh", "-c", "true" }, "exec")]
    [InlineData(new[] { "resume", "ID" }, "resume")]
    public void Root_ForOneVerb_BuildsOnlyThatVerb(string[] args, string verb)
    {
        var root = Verbs.Root(args);
        Assert.Equal(verb, Assert.Single(root.Subcommands).Name);
        Assert.DoesNotContain(root.Options, o => o is System.CommandLine.Help.HelpOption);
    }

    [Theory]
    [InlineData("--help")]
    [InlineData("state -h")]
    [InlineData("run -dh ID")]
    [InlineData("help run")]
    [InlineData("h")]
    [InlineData("state /?")]
    [InlineData("bogus ID")]
    [InlineData("--bogus state ID")]
    [InlineData("--root")]
    [InlineData("--version")]
    [InlineData("[suggest] st")]
    [InlineData("")]
    public void Root_ForHelpOrNoKnownVerb_IsTheWholeTree(string line)
    {
        var root = Verbs.Root(line.Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(Verbs.Table.Length + 1, root.Subcommands.Count);
        Assert.Contains(root.Options, o => o is System.CommandLine.Help.HelpOption);
    }

    [Fact]
    public void VerbTable_NamesWhatEachVerbIsCalled()
    {
        foreach (var verb in Verbs.Table)
        {
            var command = verb.Create();
            Assert.Equal(verb.Name, command.Name);
            Assert.Equal(verb.Alias is null ? [] : [verb.Alias], command.Aliases.ToArray());
        }
    }

    [Theory]
    [InlineData(new[] { "exec", "ID", "sh", "-c", "echo hi" }, new[] { "exec", "ID", "--", "sh", "-c", "echo hi" })]
    [InlineData(new[] { "--root", "/r", "exec", "-t", "--env", "A=1", "ID", "ls", "-l" }, new[] { "--root", "/r", "exec", "-t", "--env", "A=1", "ID", "--", "ls", "-l" })]
    [InlineData(new[] { "exec", "--user=1000", "ID", "id" }, new[] { "exec", "--user=1000", "ID", "--", "id" })]
    [InlineData(new[] { "exec", "ID", "--", "sh" }, new[] { "exec", "ID", "--", "sh" })]
    [InlineData(new[] { "exec", "-p", "process.json", "ID" }, new[] { "exec", "-p", "process.json", "ID" })]
    [InlineData(new[] { "exec", "-dt", "ID", "sh" }, new[] { "exec", "-dt", "ID", "--", "sh" })]
    [InlineData(new[] { "ps", "ID", "-o", "pid" }, new[] { "ps", "ID", "--", "-o", "pid" })]
    [InlineData(new[] { "ps", "-f", "json", "ID" }, new[] { "ps", "-f", "json", "ID" })]
    [InlineData(new[] { "-root", "/r", "run", "-bundle", "b", "ID" }, new[] { "--root", "/r", "run", "--bundle", "b", "ID" })]
    [InlineData(new[] { "run", "-bundle=b", "ID" }, new[] { "run", "--bundle=b", "ID" })]
    [InlineData(new[] { "update", "--memory", "-1", "ID" }, new[] { "update", "--memory", "-1", "ID" })]
    [InlineData(new[] { "kill", "ID", "KILL", "--all" }, new[] { "kill", "ID", "KILL", "--all" })]
    [InlineData(new[] { "bundle", "create", "d", "--from", "alpine" }, new[] { "bundle", "create", "d", "--from", "alpine" })]
    public void Normalize_RewritesAsRuncReads(string[] args, string[] expected)
    {
        var n = Normalize(args);
        Assert.Null(n.Error);
        Assert.Equal(expected, n.Args);
    }

    [Theory]
    [InlineData(new[] { "run", "--bogus", "nc-x" }, "unknown flag: --bogus (cnr run --help lists the flags)")]
    [InlineData(new[] { "--bogus", "list" }, "unknown flag: --bogus (cnr --help lists the flags)")]
    [InlineData(new[] { "run", "-x", "nc-x" }, "unknown flag: -x (cnr run --help lists the flags)")]
    [InlineData(new[] { "exec", "-dz", "ID", "sh" }, "unknown flag: -dz (cnr exec --help lists the flags)")]
    [InlineData(new[] { "bundle", "create", "--bogus", "d" }, "unknown flag: --bogus (cnr bundle create --help lists the flags)")]
    [InlineData(new[] { "bogus" }, "unknown command \"bogus\" (cnr --help lists the commands)")]
    [InlineData(new[] { "bogus", "-h" }, "unknown command \"bogus\" (cnr --help lists the commands)")]
    [InlineData(new[] { "bundle", "bogus" }, "unknown command \"bundle bogus\" (cnr bundle --help lists the commands)")]
    [InlineData(new[] { "run", "--bundle" }, "flag needs a value: --bundle")]
    [InlineData(new[] { "--root" }, "flag needs a value: --root")]
    public void Normalize_RefusesInOneLine(string[] args, string error) => Assert.Equal(error, Normalize(args).Error);

    [Theory]
    [InlineData(new[] { "update", "--memory", "64x", "ID" }, "--memory: \"64x\" is not " + FlagValues.SizeForm)]
    [InlineData(new[] { "update", "--memory-swap=lots", "ID" }, "--memory-swap: \"lots\" is not " + FlagValues.SizeForm)]
    [InlineData(new[] { "update", "--pids-limit", "abc", "ID" }, "--pids-limit: \"abc\" is not a number of processes, or -1 for unlimited")]
    [InlineData(new[] { "update", "--cpu-period", "-5", "ID" }, "--cpu-period: \"-5\" is not a number of microseconds")]
    [InlineData(new[] { "update", "--cpu-share", "x", "ID" }, "--cpu-shares: \"x\" is not a whole number, 0 or more")]
    [InlineData(new[] { "update", "--blkio-weight", "70000", "ID" }, "--blkio-weight: \"70000\" is not a weight from 10 to 1000")]
    [InlineData(new[] { "update", "--cpu-rt-period", "-1", "ID" }, "--cpu-rt-period: \"-1\" is not a number of microseconds")]
    [InlineData(new[] { "update", "--cpu-rt-runtime=lots", "ID" }, "--cpu-rt-runtime: \"lots\" is not a number of microseconds, or -1 for unlimited")]
    [InlineData(new[] { "update", "--l3-cache-schema", "ID" }, "update: <container-id> is missing (cnr update --help shows the usage)")]
    [InlineData(new[] { "run", "--preserve-fds", "x", "ID" }, "--preserve-fds: \"x\" is not a whole number, 0 or more")]
    [InlineData(new[] { "exec", "-g", "wheel", "ID", "id" }, "--additional-gids: \"wheel\" is not a group id (a number)")]
    [InlineData(new[] { "run", "--detach=maybe", "ID" }, "--detach: \"maybe\" is not true or false")]
    [InlineData(new[] { "state" }, "state: <container-id> is missing (cnr state --help shows the usage)")]
    [InlineData(new[] { "state", "a", "b" }, "state: unexpected argument \"b\" (cnr state --help shows the usage)")]
    [InlineData(new[] { "bundle", "create", "d" }, "Option '--from' is required.")]
    public void Parse_ErrorIsOneLineNamingTheFlag(string[] args, string error) => Assert.Equal(error, ParseError(args));

    [Theory]
    [InlineData("update", "--memory", "64m", "ID")]
    [InlineData("update", "--memory", "-1", "--memory-swap", "-1", "--cpu-quota", "-1", "--pids-limit", "-1", "ID")]
    [InlineData("update", "--cpu-rt-period", "1000000", "--cpu-rt-runtime", "-1", "--l3-cache-schema", "L3:0=ff", "--mem-bw-schema=MB:0=70", "ID")]
    [InlineData("kill", "-a", "ID", "0")]
    [InlineData("run", "--keep", "-d", "ID")]
    [InlineData("run", "--detach=true", "--no-pivot=false", "ID")]
    [InlineData("exec", "--ignore-paused", "ID", "true")]
    [InlineData("--rootless=auto", "--criu", "/usr/sbin/criu", "list")]
    [InlineData("state", "-h")]
    [InlineData("help", "run")]
    public void Parse_AcceptsRuncsFlags(params string[] args) => Assert.Null(ParseError(args));
}
