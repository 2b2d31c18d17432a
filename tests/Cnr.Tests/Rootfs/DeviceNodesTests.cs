using Cnr.Devices;
using Cnr.Spec;
using Xunit;

namespace Cnr.Tests.Rootfs;

public class DeviceNodesTests
{
    [Fact]
    public void All_WithoutConfig_IsRuncDefaults()
        => Assert.Equal(["/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty"],
            DeviceNodes.All(null).Select(d => d.Path));

    [Fact]
    public void All_ConfiguredDeviceReplacesTheDefaultOfTheSamePath()
    {
        var fuse = new LinuxDevice { Path = "/dev/fuse", Type = "c", Major = 10, Minor = 229 };
        var tty = new LinuxDevice { Path = "/dev//tty", Type = "c", Major = 5, Minor = 0, FileMode = 0x180 };
        var all = DeviceNodes.All([fuse, tty]).ToList();
        Assert.Equal(7, all.Count);
        Assert.Same(tty, all.Single(d => d.Path.EndsWith("tty")));
        Assert.Same(fuse, all[^2]);
    }
}
