using Cnr.Cli;
using Cnr.Spec;
using Xunit;

namespace Cnr.Tests.Cli;

/// <summary>`exec --cgroup` in runc's forms, and `update` filling the half of cpu.max it was not given and refusing
/// runc's flags for what cnr does not manage.</summary>
public class RuncFlagFormsTests
{
    [Fact]
    public void ExecCgroup_OnePathOrTheSamePathPerController()
    {
        Assert.Null(ExecCommand.SubCgroup([]));
        Assert.Equal("sub", ExecCommand.SubCgroup(["sub"]));
        Assert.Equal("a/b", ExecCommand.SubCgroup(["memory,pids:a/b", "cpu:a/b"]));
    }

    [Theory]
    [InlineData("--cgroup: \"a:b:c\" is not PATH or CONTROLLER:PATH", "a:b:c")]
    [InlineData("--cgroup: \"a\" needs a CONTROLLER: prefix when --cgroup is given more than once", "a", "b")]
    [InlineData("--cgroup: \",cpu:x\" has an empty controller name before ':'", ",cpu:x")]
    [InlineData("--cgroup: controller cpu is given more than once", "cpu:x", "cpu:x")]
    [InlineData("--cgroup: cnr uses cgroup v2, with one hierarchy for all controllers: give one path (got x, y)", "cpu:x", "memory:y")]
    [InlineData("--cgroup: the path is empty", "")]
    public void ExecCgroup_BadForms_OneLine(string message, params string[] values)
        => Assert.Equal(message, Assert.Throws<UsageException>(() => ExecCommand.SubCgroup(values)).Message);

    [Fact]
    public void UpdateCpu_PeriodAlone_KeepsTheRecordedQuota_AndQuotaAloneThePeriod()
    {
        var recorded = new LinuxCpu { Quota = 50000, Period = 100000 };
        var period = new LinuxCpu { Period = 200000 };
        UpdateCommand.KeepOtherCpuHalf(period, recorded);
        Assert.Equal((50000L, 200000UL), (period.Quota!.Value, period.Period!.Value));

        var quota = new LinuxCpu { Quota = 30000 };
        UpdateCommand.KeepOtherCpuHalf(quota, recorded);
        Assert.Equal((30000L, 100000UL), (quota.Quota!.Value, quota.Period!.Value));

        // both given, or nothing recorded: as given (cpu.max "max P" when there never was a quota)
        var both = new LinuxCpu { Quota = 1000, Period = 2000 };
        UpdateCommand.KeepOtherCpuHalf(both, recorded);
        Assert.Equal((1000L, 2000UL), (both.Quota!.Value, both.Period!.Value));
        var fresh = new LinuxCpu { Period = 200000 };
        UpdateCommand.KeepOtherCpuHalf(fresh, null);
        Assert.Null(fresh.Quota);
    }

    [Theory]
    [InlineData("--cpu-rt-period: real-time CPU bandwidth does not exist in cgroup v2, which cnr manages; leave the flag out", 1000000UL, null, null, null)]
    [InlineData("--cpu-rt-runtime: real-time CPU bandwidth does not exist in cgroup v2, which cnr manages; leave the flag out", null, 950000L, null, null)]
    [InlineData("--cpu-rt-runtime: real-time CPU bandwidth does not exist in cgroup v2, which cnr manages; leave the flag out", 0UL, -1L, "", null)]
    [InlineData("--l3-cache-schema: Intel RDT (resctrl, linux.intelRdt) is not supported by cnr; leave the flag out", null, null, "L3:0=ff", "MB:0=70")]
    [InlineData("--mem-bw-schema: Intel RDT (resctrl, linux.intelRdt) is not supported by cnr; leave the flag out", null, 0L, "", "MB:0=70")]
    public void Update_RealtimeAndRdtFlags_RefusedInOneLineNamingTheFlag(string message, ulong? rtPeriod, long? rtRuntime, string? l3, string? memBw)
        => Assert.Equal(message, Assert.Throws<UsageException>(() => UpdateCommand.Unsupported(rtPeriod, rtRuntime, l3, memBw)).Message);

    [Fact]
    public void Update_ZeroRealtimeAndEmptySchemas_AskForNothing_AndPass()
    {
        UpdateCommand.Unsupported(null, null, null, null);
        UpdateCommand.Unsupported(0, 0, "", "");
    }
}
