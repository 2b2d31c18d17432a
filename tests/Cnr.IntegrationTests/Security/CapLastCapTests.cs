using Cnr.IntegrationTests.Harness;
using Xunit;

namespace Cnr.IntegrationTests.Security;

/// <summary>How many capabilities the kernel has is asked of the kernel, not read from the container's
/// /proc/sys/kernel/cap_last_cap: with no procfs at /proc that file is the image's.</summary>
public class CapLastCapTests
{
    [RootFact]
    public void Run_ImageSaysCapLastCapIsMinusOne_ProcessHasOnlyTheConfiguredCapabilities()
    {
        using var b = new TestBundle("caplast").CopyRootfs()
            .WithArgs("sh", "-c", "grep -E '^Cap(Bnd|Eff|Prm):' /hostproc/self/status");
        FakeProcImage.Plant(FakeProcImage.Apply(b), "sys/kernel/cap_last_cap", "-1\n");

        var r = b.Run();

        Assert.True(r.ExitCode == 0, r.ToString());
        // The default spec's CAP_AUDIT_WRITE, CAP_KILL, CAP_NET_BIND_SERVICE: bits 29, 5, 10.
        const string configured = "0000000020000420";
        Assert.Contains($"CapBnd:\t{configured}", r.Stdout);
        Assert.Contains($"CapEff:\t{configured}", r.Stdout);
        Assert.Contains($"CapPrm:\t{configured}", r.Stdout);
    }
}
