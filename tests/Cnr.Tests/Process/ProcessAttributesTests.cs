using Cnr.Capabilities;
using Cnr.Linux;
using Cnr.Plan;
using Cnr.Process;
using Cnr.Spec;
using Xunit;

namespace Cnr.Tests.Process;

public class ProcessAttributesTests
{
    [Fact]
    public void SearchPath_WithoutPathInEnv_IsTheStandardPath()
        => Assert.Equal("/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", ProcessAttributes.SearchPath(["TERM=xterm"]));

    [Fact]
    public void SearchPath_LastPathInEnvWins()
        => Assert.Equal("/opt/bin", ProcessAttributes.SearchPath(["PATH=/bin", "HOME=/root", "PATH=/opt/bin"]));

    [Fact]
    public void Gaps_WithNothingKept_IsEverythingFrom3()
        => Assert.Equal([(3u, uint.MaxValue)], ProcessAttributes.Gaps([]));

    [Fact]
    public void Gaps_SkipKeptFdsAndStdio()
        => Assert.Equal([(5u, 6u), (8u, uint.MaxValue)], ProcessAttributes.Gaps([1, 3, 4, 7]));

    [Fact]
    public void SchedAttr_FifoWithResetOnFork()
    {
        var attr = Sys.SchedAttr(PlanCompiler.Scheduler(new Scheduler { Policy = "SCHED_FIFO", Priority = 10, Flags = ["SCHED_FLAG_RESET_ON_FORK"] }));
        Assert.Equal((1u, 10u, 1UL, 48u), (attr.Policy, attr.Priority, attr.Flags, attr.Size));
    }

    [Fact]
    public void Scheduler_UnknownPolicy_NamesTheJsonPath()
    {
        var e = Assert.Throws<SpecException>(() => PlanCompiler.Scheduler(new Scheduler { Policy = "fifo" }));
        Assert.StartsWith("process.scheduler.policy: \"fifo\" is not a scheduling policy", e.Message);
    }

    [Fact]
    public void Scheduler_UnknownFlag_NamesTheJsonPath()
    {
        var e = Assert.Throws<SpecException>(() => PlanCompiler.Scheduler(new Scheduler { Policy = "SCHED_OTHER", Flags = ["SCHED_FLAG_RECLAIM", "X"] }));
        Assert.StartsWith("process.scheduler.flags[1]:", e.Message);
    }

    [Fact]
    public void IoPriorityValue_IsClassShiftedBy13PlusLevel()
        => Assert.Equal(2 << 13 | 4, PlanCompiler.IoPriorityValue(new IoPriority { Class = "IOPRIO_CLASS_BE", Priority = 4 }));

    [Fact]
    public void IoPriorityValue_UnknownClass_NamesTheJsonPath()
    {
        var e = Assert.Throws<SpecException>(() => PlanCompiler.IoPriorityValue(new IoPriority { Class = "IOPRIO_CLASS_FAST", Priority = 1 }));
        Assert.StartsWith("process.ioPriority.class:", e.Message);
    }

    [Fact]
    public void CapText_GroupsCapabilitiesBySets()
        => Assert.Equal("cap_kill,cap_net_bind_service+eip cap_net_raw+p",
            Sys.CapText(new CapabilitySets(0, Effective: 0x420, Inheritable: 0x420, Permitted: 0x2420, Ambient: 0)));

    [Fact]
    public void CapText_NoCapabilities_ClearsAll()
        => Assert.Equal("=", Sys.CapText(default));
}
