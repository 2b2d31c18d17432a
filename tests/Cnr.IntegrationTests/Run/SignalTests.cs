using Cnr.IntegrationTests.Harness;
using Xunit;

namespace Cnr.IntegrationTests.Run;

/// <summary>Signals sent to a foreground `cnr run` reach the container's process, as with runc.</summary>
public class SignalTests
{
    // The trap runs between two short sleeps; pid 1 gets only signals it has a handler for, which the traps are.
    private const string Trapper =
        "trap 'echo got USR1' USR1; trap 'echo got TERM; exit 3' TERM; echo ready; while :; do sleep 0.1; done";

    private const int SIGUSR1 = 10, SIGTERM = 15;

    [RootFact]
    public void Run_ForwardsSignalsToContainerProcess()
    {
        using var b = new TestBundle("sigfwd").WithArgs("sh", "-c", Trapper);
        b.Write();
        using var cnr = Background.Start(["--root", b.StateRoot, "run", "--bundle", b.Dir, b.Id]);
        cnr.WaitForStdout("ready");

        cnr.Signal(SIGUSR1);
        cnr.WaitForStdout("got USR1");
        cnr.Signal(SIGTERM);
        var r = cnr.WaitForExit();

        Assert.Contains("got TERM", r.Stdout);
        Assert.True(r.ExitCode == 3, r.ToString());
    }
}
