using Cnr.IntegrationTests.Harness;
using Cnr.Spec;
using Xunit;

namespace Cnr.IntegrationTests.Run;

/// <summary>`cnr run` in the foreground: what the user's process sees and what the caller gets back.</summary>
public class RunTests
{
    [RootFact]
    public void Run_ProcessIsPid1()
    {
        using var b = new TestBundle("pid1").WithArgs("sh", "-c", "echo $$");
        var r = b.Run();
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("1", r.Stdout.Trim());
    }

    [RootFact]
    public void Run_SetsHostnameFromConfig()
    {
        using var b = new TestBundle("host").WithArgs("hostname");
        b.Spec.Hostname = "cnr-test-box";
        var r = b.Run();
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("cnr-test-box", r.Stdout.Trim());
    }

    [RootFact]
    public void Run_PipesStdinToProcess()
    {
        using var b = new TestBundle("stdin").WithArgs("cat");
        var r = b.Run(stdin: "hi\n");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("hi\n", r.Stdout);
    }

    [RootFact]
    public void Run_ExitsWithProcessExitCode()
    {
        using var b = new TestBundle("exit").WithArgs("sh", "-c", "exit 42");
        var r = b.Run();
        Assert.True(r.ExitCode == 42, r.ToString());
    }

    // Without a pid namespace: pid 1 of a namespace ignores SIGKILL sent from inside it, so the process
    // could not kill itself there.
    [RootFact]
    public void Run_ProcessKilledBySignal_Exits128PlusSignal()
    {
        using var b = new TestBundle("sigexit").WithArgs("sh", "-c", "kill -9 $$; sleep 5");
        b.Spec.Linux!.Namespaces!.RemoveAll(n => n.Type == "pid");
        var r = b.Run();
        Assert.True(r.ExitCode == 137, r.ToString());
    }

    [RootFact]
    public void Run_AppliesEnvAndCwdFromConfig()
    {
        using var b = new TestBundle("envcwd").WithArgs("sh", "-c", "echo \"$GREETING\"; pwd");
        b.Spec.Process!.Env = ["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "GREETING=hello from cnr"];
        b.Spec.Process.Cwd = "/tmp";
        var r = b.Run();
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("hello from cnr\n/tmp\n", r.Stdout);
    }

    [RootFact]
    public void Run_RemovesStateWhenProcessExits()
    {
        using var b = new TestBundle("state").WithArgs("true");
        var r = b.Run();
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.False(Directory.Exists(Path.Combine(b.StateRoot, b.Id)), "the container's state dir is still there");
    }

    [RootFact]
    public void Run_WithNoPivot_RunsInTheRootfs()
    {
        using var b = new TestBundle("nopivot").WithArgs("sh", "-c", "cat /etc/hostname; echo $$");
        b.Write();
        var r = b.Cnr("run", "--no-pivot", "--bundle", b.Dir, b.Id);
        Assert.True(r.ExitCode == 0, r.ToString());
        // /etc/hostname of the busybox rootfs, not the host's.
        Assert.Equal("mybox\n1\n", r.Stdout);
    }

    [RootFact]
    public void Run_Detach_WritesPidFileOfRunningContainer()
    {
        using var b = new TestBundle("detach").WithArgs("sleep", "100");
        b.Write();
        var pidFile = Path.Combine(b.Dir, "container.pid");
        var r = b.CnrDetached("run", "--detach", "--pid-file", pidFile, "--bundle", b.Dir, b.Id);
        Assert.True(r.ExitCode == 0, r.ToString());

        var pid = int.Parse(File.ReadAllText(pidFile).Trim());
        Assert.True(Host.IsAlive(pid), $"pid {pid} from the pid file is not running");
        Assert.Equal((pid, "running"), Host.State(b));

        var del = b.Cnr("delete", "--force", b.Id);
        Assert.True(del.ExitCode == 0, del.ToString());
        Wait.Until(() => !Host.IsAlive(pid), $"pid {pid} to die of delete --force");
        Assert.False(Directory.Exists(Path.Combine(b.StateRoot, b.Id)), "state dir left after delete --force");
    }
}
