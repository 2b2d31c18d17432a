using Cnr.Cgroups;
using Xunit;

namespace Cnr.Tests.Cgroups;

public class CgroupPathTests
{
    [Theory]
    [InlineData(null, "/cnr/box")]
    [InlineData("", "/cnr/box")]
    [InlineData("/cnr-test/box", "/cnr-test/box")]
    [InlineData("/a//b/", "/a/b")]
    [InlineData("mine/box", "/cnr/mine/box")]
    [InlineData("machine.slice:libpod:abc", "/machine.slice/libpod-abc.scope")]
    [InlineData("system-foo.slice:cnr:x", "/system.slice/system-foo.slice/cnr-x.scope")]
    public void CgroupsPath_ResolvesFromTheHierarchyRoot(string? cgroupsPath, string expected)
        => Assert.Equal(expected, CgroupManager.ResolvePath("box", cgroupsPath));

    [Theory]
    [InlineData("/")]
    [InlineData("/a/../b")]
    [InlineData("../escape")]
    public void CgroupsPath_OutsideABelowRootCgroup_IsRejected(string cgroupsPath)
        => Assert.StartsWith("linux.cgroupsPath:", Assert.Throws<CgroupException>(() => CgroupManager.ResolvePath("box", cgroupsPath)).Message);
}
