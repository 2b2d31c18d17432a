using Cnr.IntegrationTests.Harness;
using Cnr.Spec;
using Xunit;

namespace Cnr.IntegrationTests.Security;

/// <summary>linux.devices create nodes under /dev only: "/dev/../../etc/x" would plant a device among the
/// image's files.</summary>
public class DevicePathTests
{
    [RootFact]
    public void Run_DevicePathOutsideDev_RefusedInOneLine()
    {
        using var b = new TestBundle("devpath").CopyRootfs().WithArgs("true");
        b.Spec.Linux!.Devices = [new LinuxDevice { Path = "/dev/../../etc/x", Type = "c", Major = 1, Minor = 3, FileMode = 0x1b6 }];

        var r = b.Run();

        Assert.True(r.ExitCode != 0, r.ToString());
        var line = Host.OneErrorLine(r);
        Assert.Contains("linux.devices[0].path", line);
        Assert.Contains("/dev", line);
        Host.AssertNothingLeftBehind(b);
        HostCgroups.AssertNoneLeft(b);
        Assert.False(File.Exists(Path.Combine(b.Dir, "rootfs", "etc", "x")), "a device node was created at rootfs/etc/x");
    }
}
