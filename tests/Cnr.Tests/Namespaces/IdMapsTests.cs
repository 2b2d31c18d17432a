using Cnr.Namespaces;
using Cnr.Spec;
using Xunit;
using SpecLinux = Cnr.Spec.Linux;

namespace Cnr.Tests.Namespaces;

public class IdMapsTests
{
    private static LinuxIdMapping M(uint container, uint host, uint size) => new() { ContainerID = container, HostID = host, Size = size };

    [Fact]
    public void Format_WritesOneKernelLinePerRange()
        => Assert.Equal("0 1000 1\n1 100000 65536\n", IdMaps.Format([M(0, 1000, 1), M(1, 100000, 65536)]));

    [Fact]
    public void Format_OfNoMappings_IsEmpty() => Assert.Equal("", IdMaps.Format(null));

    [Theory]
    [InlineData(1000u, 1u, 1000u, true)]    // what `cnr spec --rootless` writes
    [InlineData(1000u, 2u, 1000u, false)]   // one more id than the caller's own
    [InlineData(1001u, 1u, 1000u, false)]   // someone else's id
    public void OwnIdOnly_IsJustTheCallersOwnId(uint host, uint size, uint own, bool expected)
        => Assert.Equal(expected, IdMaps.OwnIdOnly([M(0, host, size)], own));

    [Fact]
    public void OwnIdOnly_IsFalseForASecondRange()
        => Assert.False(IdMaps.OwnIdOnly([M(0, 1000, 1), M(1, 100000, 65536)], 1000));

    [Fact]
    public void Validate_AcceptsPodmansSubuidLayout()
        => IdMaps.Validate("linux.uidMappings", [M(0, 1000, 1), M(1, 100000, 65536)]);

    [Theory]
    [MemberData(nameof(BadMaps))]
    public void Validate_RefusesWhatTheKernelWouldRefuse_NamingTheRange(LinuxIdMapping[] maps, string path, string problem)
    {
        var e = Assert.Throws<SpecException>(() => IdMaps.Validate("linux.uidMappings", maps));
        Assert.Equal(path, e.JsonPath);
        Assert.Contains(problem, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    public static TheoryData<LinuxIdMapping[], string, string> BadMaps() => new()
    {
        { [M(0, 1000, 0)], "linux.uidMappings[0].size", "is 0" },
        { [M(0, 1000, 1), M(0, 100000, 10)], "linux.uidMappings[1]", "container ids overlap those of [0]" },
        { [M(0, 100000, 100), M(100, 100050, 10)], "linux.uidMappings[1]", "host ids overlap those of [0]" },
        { [M(0, 4294967295, 2)], "linux.uidMappings[0]", "runs past the last id" },
        { [M(4294967290, 1000, 10)], "linux.uidMappings[0]", "runs past the last id" },
        { Enumerable.Range(0, IdMaps.MaxLines + 1).Select(i => M((uint)i, (uint)(1000 + i), 1)).ToArray(), "linux.uidMappings", "at most 340" },
    };

    [Fact]
    public void Validate_AsRoot_NeedsNoHelper()
        => IdMaps.Validate(new SpecLinux { UidMappings = [M(0, 100000, 65536)], GidMappings = [M(0, 100000, 65536)] }, 0, 0);

    [Fact]
    public void Validate_OwnIdOnly_NeedsNoHelper()
        => IdMaps.Validate(new SpecLinux { UidMappings = [M(0, 1000, 1)], GidMappings = [M(0, 1000, 1)] }, 1000, 1000);
}
