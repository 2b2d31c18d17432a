using Cnr.IntegrationTests.Harness;
using Cnr.Spec;
using Xunit;

namespace Cnr.IntegrationTests.Process;

/// <summary>linux.personality (the init and every exec, as runc's tests check with `uname -m`) and
/// process.execCPUAffinity (an exec's CPUs once it is in the container; the init is left alone, as the spec says).</summary>
public sealed class PersonalityAndAffinityTests
{
    [RootFact]
    public void Personality_Linux32_RunAndExecSeeI686()
    {
        using var b = new TestBundle("pers").WithArgs("sh", "-c", "uname -m; sleep 100");
        b.Spec.Linux!.Personality = new LinuxPersonality { Domain = "LINUX32" };
        var r = b.Create();
        Assert.True(r.ExitCode == 0, r.ToString());
        var exec = b.Cnr("exec", b.Id, "uname", "-m");
        Assert.True(exec.ExitCode == 0, exec.ToString());
        Assert.Equal("i686\n", exec.Stdout);

        using var run = new TestBundle("pers-run").WithArgs("uname", "-m");
        run.Spec.Linux!.Personality = new LinuxPersonality { Domain = "LINUX32" };
        var ran = run.Run();
        Assert.True(ran.ExitCode == 0, ran.ToString());
        Assert.Equal("i686\n", ran.Stdout);
    }

    [RootFact]
    public void ExecCpuAffinity_Final_IsTheExecsMask_AndNotTheInits()
    {
        using var b = new TestBundle("affinity").WithArgs("sleep", "100");
        b.Spec.Process!.ExecCPUAffinity = new ExecCpuAffinity { Initial = "0", Final = "1" };
        var r = b.Create();
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal(0, b.Cnr("start", b.Id).ExitCode);
        var exec = b.Cnr("exec", b.Id, "grep", "Cpus_allowed_list", "/proc/self/status");
        Assert.True(exec.ExitCode == 0, exec.ToString());
        Assert.Equal("Cpus_allowed_list:\t1\n", exec.Stdout);
        var init = b.Cnr("exec", b.Id, "grep", "Cpus_allowed_list", "/proc/1/status");
        Assert.DoesNotContain("list:\t1\n", init.Stdout);
    }

    [RootFact]
    public void ExecCpuAffinity_NotACpuList_IsOneLineNamingTheField()
    {
        using var b = new TestBundle("affinity-bad").WithArgs("true");
        b.Spec.Process!.ExecCPUAffinity = new ExecCpuAffinity { Final = "1-" };
        var r = b.Run();
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("process.execCPUAffinity.final", r.Stderr);
        Assert.Contains("is not a CPU list", r.Stderr);
    }
}
