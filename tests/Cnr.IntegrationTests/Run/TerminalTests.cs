using Cnr.IntegrationTests.Harness;
using Xunit;

namespace Cnr.IntegrationTests.Run;

/// <summary>`process.terminal: true` driven from a real terminal: the container gets a pty of its own with
/// the caller's window size, and keys like Ctrl-C reach it.</summary>
public class TerminalTests
{
    private static TestBundle Terminal(string name, string script)
    {
        var b = new TestBundle(name).WithArgs("sh", "-c", script);
        b.Spec.Process!.Terminal = true;
        b.Write();
        return b;
    }

    private static string[] CnrRun(TestBundle b) => [Repo.CnrBinary, "--root", b.StateRoot, "run", "--bundle", b.Dir, b.Id];

    [RootFact]
    public void Run_WithTerminal_ProcessHasPtyWithCallersWindowSize()
    {
        using var b = Terminal("tty", "tty; stty size");
        var r = Pty.Run(CnrRun(b), rows: 40, cols: 120);
        Assert.True(r.ExitCode == 0, r.ToString());
        var lines = r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.True(lines.Length >= 2, r.ToString());
        Assert.Contains(lines[^2], new[] { "/dev/pts/0", "/dev/console" });
        Assert.Equal("40 120", lines[^1]);
    }

    // Nothing but the container's output: no control sequences of cnr's own on the user's terminal.
    [RootFact]
    public void Run_WithTerminal_TerminalShowsOnlyContainerOutput()
    {
        using var b = Terminal("ttyout", "echo hello");
        var r = Pty.Run(CnrRun(b));
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("hello\n", r.Stdout);
    }

    [RootFact]
    public void Run_WithTerminal_CtrlCReachesContainer()
    {
        using var b = Terminal("ctrlc", "trap 'echo got INT; exit 5' INT; echo ready; while :; do sleep 0.1; done");
        var r = Pty.Run(CnrRun(b), trigger: "ready", send: [0x03]);
        Assert.Contains("got INT", r.Stdout);
        Assert.True(r.ExitCode == 5, r.ToString());
    }
}
