using System.CommandLine;
using Cnr.Cli;
using Xunit;

namespace Cnr.Tests.Cli;

/// <summary>ArgsNormalizer's own rules on a small tree of its own (CommandLineTests checks cnr's real one):
/// which options a position sees, what takes a value, and where flag reading stops.</summary>
public class ArgsNormalizerTests
{
    /// <summary>root [--root DIR (recursive)] [--quiet (own)] { run [-d] [-t] [-p FILE] ID | exec [-u USER] ID ARGS… | image { pull REF } }</summary>
    private static RootCommand Tree()
    {
        var root = new RootCommand("test");
        root.Options.Add(new Option<string>("--root") { Recursive = true });
        root.Options.Add(new Option<bool>("--quiet"));
        var run = new Command("run");
        run.Options.Add(new Option<bool>("--detach", "-d"));
        run.Options.Add(new Option<bool>("--tty", "-t"));
        run.Options.Add(new Option<string>("--pid-file", "-p"));
        run.Arguments.Add(new Argument<string>("id"));
        var exec = new Command("exec");
        exec.Options.Add(new Option<string>("--user", "-u"));
        exec.Arguments.Add(new Argument<string>("id"));
        exec.Arguments.Add(new Argument<string[]>("args") { Arity = ArgumentArity.ZeroOrMore });
        var image = new Command("image");
        var pull = new Command("pull");
        pull.Arguments.Add(new Argument<string>("ref"));
        image.Subcommands.Add(pull);
        root.Subcommands.Add(run);
        root.Subcommands.Add(exec);
        root.Subcommands.Add(image);
        return root;
    }

    private static NormalizedArgs N(params string[] args) => ArgsNormalizer.Normalize(Tree(), args);

    [Theory]
    [InlineData(new[] { "run", "--root", "/r", "ID" }, new[] { "run", "--root", "/r", "ID" })]          // a recursive option after the verb
    [InlineData(new[] { "run", "-dt", "ID" }, new[] { "run", "-dt", "ID" })]                          // bool flags bundled
    [InlineData(new[] { "run", "-dp", "f", "ID" }, new[] { "run", "-dp", "f", "ID" })]                // the last of a bundle takes the value
    [InlineData(new[] { "run", "-pid-file=f", "ID" }, new[] { "run", "--pid-file=f", "ID" })]         // Go style, with =
    [InlineData(new[] { "run", "--detach=false", "ID" }, new[] { "run", "--detach=false", "ID" })]
    [InlineData(new[] { "run", "--", "--not-a-flag" }, new[] { "run", "--", "--not-a-flag" })]       // after -- everything is positional
    [InlineData(new[] { "run", "-" }, new[] { "run", "-" })]                                          // "-" is stdin, not a flag
    [InlineData(new[] { "run", "-5" }, new[] { "run", "-5" })]                                        // a negative number is a value
    [InlineData(new[] { "exec", "-u", "1", "ID", "sh", "-u" }, new[] { "exec", "-u", "1", "ID", "--", "sh", "-u" })]
    [InlineData(new[] { "exec", "ID" }, new[] { "exec", "ID" })]                                      // nothing after the id: no --
    [InlineData(new[] { "image", "pull", "--root", "/r", "alpine" }, new[] { "image", "pull", "--root", "/r", "alpine" })]
    [InlineData(new[] { "run", "image" }, new[] { "run", "image" })]                                  // a verb's name as an id
    public void Normalize_Accepts(string[] args, string[] expected)
    {
        var n = N(args);
        Assert.Null(n.Error);
        Assert.Equal(expected, n.Args);
    }

    [Theory]
    [InlineData(new[] { "run", "--quiet", "ID" }, "unknown flag: --quiet (cnr run --help lists the flags)")]    // not recursive: root only
    [InlineData(new[] { "run", "-dx", "ID" }, "unknown flag: -dx (cnr run --help lists the flags)")]
    [InlineData(new[] { "run", "-pd", "f", "ID" }, "unknown flag: -pd (cnr run --help lists the flags)")]        // a value-taking flag must come last
    [InlineData(new[] { "run", "-d=maybe", "ID" }, "-d: \"maybe\" is not true or false")]
    [InlineData(new[] { "run", "--pid-file" }, "flag needs a value: --pid-file")]
    [InlineData(new[] { "image", "push" }, "unknown command \"image push\" (cnr image --help lists the commands)")]
    [InlineData(new[] { "image", "pull", "--bogus", "x" }, "unknown flag: --bogus (cnr image pull --help lists the flags)")]
    public void Normalize_RefusesInOneLine(string[] args, string error)
    {
        var n = N(args);
        Assert.Equal(error, n.Error);
        Assert.Empty(n.Args);
    }
}
