using System.Text.RegularExpressions;
using Cnr.IntegrationTests.Harness;
using Xunit;

namespace Cnr.IntegrationTests.Security;

/// <summary>No descriptor of the runtime (state dir, pipes, the host's files) leaks into a container.</summary>
public class FdLeakTests
{
    [RootFact]
    public void Run_ProcessHasOnlyStdioOpen()
    {
        // 3 is ls's own handle on /proc/self/fd.
        using var b = new TestBundle("fds").WithArgs("ls", "/proc/self/fd");
        var r = b.Run();
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal(["0", "1", "2", "3"], r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [RootFact]
    public void Run_WithTerminal_ProcessHasOnlyStdioOpen()
    {
        using var b = new TestBundle("fdstty").WithArgs("ls", "/proc/self/fd");
        b.Spec.Process!.Terminal = true;
        b.Write();
        var r = Pty.Run([Repo.CnrBinary, "--root", b.StateRoot, "run", "--bundle", b.Dir, b.Id]);
        Assert.True(r.ExitCode == 0, r.ToString());
        // busybox ls lays names out in columns on a terminal. Terminal control sequences are not this test's
        // subject (TerminalTests checks that the terminal shows only the container's output).
        var shown = Regex.Replace(r.Stdout, @"\x1b(\[[0-9;?]*[A-Za-z]|[=>])", "");
        Assert.Equal(["0", "1", "2", "3"], shown.Split([' ', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries));
    }
}
