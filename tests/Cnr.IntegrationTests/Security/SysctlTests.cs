using Cnr.IntegrationTests.Harness;
using Xunit;

namespace Cnr.IntegrationTests.Security;

/// <summary>linux.sysctl is written through the runtime's own procfs: with no procfs at /proc, the container's
/// /proc/sys is the image's, and writing there would set nothing.</summary>
public class SysctlTests
{
    [RootFact]
    public void Run_ImageHasItsOwnProcSys_SysctlReachesTheKernel()
    {
        using var b = new TestBundle("sysctl").CopyRootfs()
            .WithArgs("cat", "/hostproc/sys/net/ipv4/ip_forward");
        var proc = FakeProcImage.Apply(b);
        FakeProcImage.Plant(proc, "sys/net/ipv4/ip_forward", "image\n");
        b.Spec.Linux!.Sysctl = new() { ["net.ipv4.ip_forward"] = "1" };

        var r = b.Run();

        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("1", r.Stdout.Trim());
        Assert.Equal("image\n", File.ReadAllText(Path.Combine(proc, "sys/net/ipv4/ip_forward")));
    }
}
