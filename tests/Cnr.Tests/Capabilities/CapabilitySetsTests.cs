using Cnr.Capabilities;
using Cnr.Spec;
using Xunit;

namespace Cnr.Tests.Capabilities;

public class CapabilitySetsTests
{
    private static CapabilitySets From(LinuxCapabilities? caps, int lastCap = 40) => CapabilitySets.From(caps, lastCap, _ => { });

    [Fact]
    public void From_RuncDefaultSpec_GivesTheMasksRuncShowsInProcStatus()
    {
        // runc spec: CAP_AUDIT_WRITE (29), CAP_KILL (5), CAP_NET_BIND_SERVICE (10) → 0000000020000420.
        List<string> caps = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"];
        var sets = From(new LinuxCapabilities { Bounding = caps, Effective = caps, Permitted = caps });

        Assert.Equal(0x20000420UL, sets.Bounding);
        Assert.Equal(0x20000420UL, sets.Effective);
        Assert.Equal(0x20000420UL, sets.Permitted);
        Assert.Equal(0UL, sets.Inheritable);
        Assert.Equal(0UL, sets.Ambient);
    }

    [Fact]
    public void From_NoCapabilities_GivesEmptySets()
        => Assert.Equal(default, From(null));

    [Fact]
    public void From_CapabilityAbove32_SetsTheHighWord()
        => Assert.Equal(1UL << 40, From(new LinuxCapabilities { Ambient = ["CAP_CHECKPOINT_RESTORE"] }).Ambient);

    [Fact]
    public void From_UnknownName_NamesTheJsonPath()
    {
        var e = Assert.Throws<SpecException>(() => From(new LinuxCapabilities { Effective = ["CAP_KILL", "CAP_FOO"] }));
        Assert.StartsWith("process.capabilities.effective[1]: \"CAP_FOO\" is not a capability", e.Message);
    }

    [Fact]
    public void From_CapabilityNewerThanKernel_IsSkippedWithOneWarning()
    {
        var warnings = new List<string>();
        List<string> caps = ["CAP_KILL", "CAP_BPF", "CAP_CHECKPOINT_RESTORE"];
        var sets = CapabilitySets.From(new LinuxCapabilities { Bounding = caps, Permitted = caps }, lastCap: 38, warnings.Add);

        Assert.Equal(1UL << 5, sets.Bounding);
        Assert.Equal(1UL << 5, sets.Permitted);
        var warning = Assert.Single(warnings);
        Assert.Contains("CAP_BPF, CAP_CHECKPOINT_RESTORE", warning);
        Assert.Contains("cap_last_cap 38", warning);
    }

    [Fact]
    public void All_IsEveryCapabilityUpToTheLast()
    {
        Assert.Equal(0x1ffffffffffUL, CapabilitySets.All(40));
        Assert.Equal(ulong.MaxValue, CapabilitySets.All(63));
    }

    [Fact]
    public void Decode_NamesTheBitsLowestFirst()
        => Assert.Equal(["CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_AUDIT_WRITE"], CapabilitySets.Decode(0x20000420));

    [Fact]
    public void Decode_RoundTripsFrom()
    {
        List<string> all = [.. CapabilitySets.Decode(CapabilitySets.All(40))];
        Assert.Equal(41, all.Count);
        Assert.Equal(CapabilitySets.All(40), From(new LinuxCapabilities { Bounding = all }).Bounding);
    }
}
