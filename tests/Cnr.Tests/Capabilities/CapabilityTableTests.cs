using Cnr.Capabilities;
using Xunit;

namespace Cnr.Tests.Capabilities;

public class CapabilityTableTests
{
    [Theory]
    [InlineData("CAP_CHOWN", 0)]
    [InlineData("CAP_KILL", 5)]
    [InlineData("CAP_NET_BIND_SERVICE", 10)]
    [InlineData("CAP_SYS_ADMIN", 21)]
    [InlineData("CAP_AUDIT_WRITE", 29)]
    [InlineData("CAP_SETFCAP", 31)]
    [InlineData("CAP_AUDIT_READ", 37)]
    [InlineData("CAP_BPF", 39)]
    [InlineData("CAP_CHECKPOINT_RESTORE", 40)]
    public void TryParse_AndName_MatchLinuxNumbers(string name, int number)
    {
        Assert.True(CapabilityTable.TryParse(name, out int cap));
        Assert.Equal(number, cap);
        Assert.Equal(name, CapabilityTable.Name(number));
    }

    [Theory]
    [InlineData("net_admin")]
    [InlineData("NET_ADMIN")]
    [InlineData("cap_net_admin")]
    public void TryParse_AcceptsCommandLineSpellings(string name)
    {
        Assert.True(CapabilityTable.TryParse(name, out int cap));
        Assert.Equal(12, cap);
    }

    [Theory]
    [InlineData("CAP_FOO")]
    [InlineData("")]
    [InlineData("CAP_")]
    public void TryParse_RefusesUnknown(string name) => Assert.False(CapabilityTable.TryParse(name, out _));

    [Fact]
    public void Table_HasEveryCapabilityUpToCheckpointRestore()
    {
        Assert.Equal(40, CapabilityTable.LastKnown);
        for (int cap = 0; cap <= CapabilityTable.LastKnown; cap++)
        {
            Assert.StartsWith("CAP_", CapabilityTable.Name(cap));
            Assert.True(CapabilityTable.TryParse(CapabilityTable.Name(cap), out int back));
            Assert.Equal(cap, back);
        }
        Assert.Equal("41", CapabilityTable.Name(41));
    }

    [Fact]
    public void Last_IsTheRunningKernels()
        => Assert.Equal(int.Parse(File.ReadAllText("/proc/sys/kernel/cap_last_cap")), CapabilityTable.Last);

    [Fact]
    public void Decode_NamesTheSetBits()
    {
        // The default spec's set, as /proc/PID/status shows it: CapEff: 0000000020000420.
        Assert.Equal(["CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_AUDIT_WRITE"], CapabilityTable.Decode(0x20000420));
        Assert.Empty(CapabilityTable.Decode(0));
        Assert.Equal(41, CapabilityTable.Decode(0x1ffffffffff).Count());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(31)]
    [InlineData(37)]
    [InlineData(40)]
    [InlineData(63)]
    public void ProbeLast_FindsTheHighestCapabilityTheKernelAnswersFor(int last)
        => Assert.Equal(last, CapabilityTable.ProbeLast(cap => cap <= last ? 0 : Cnr.Linux.Error.EINVAL));

    [Fact]
    public void ProbeLast_AnotherError_IsThrownNotTakenAsTheEnd()
    {
        // A seccomp filter answering EPERM must not make the init think the kernel has few capabilities.
        var e = Assert.Throws<Cnr.Linux.SyscallException>(() => CapabilityTable.ProbeLast(cap => cap < 5 ? 0 : Cnr.Linux.Error.EPERM));
        Assert.Equal(Cnr.Linux.Error.EPERM, e.Number);
    }
}
