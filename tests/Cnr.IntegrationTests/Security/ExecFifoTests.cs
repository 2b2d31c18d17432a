using Cnr.IntegrationTests.Harness;
using Xunit;

namespace Cnr.IntegrationTests.Security;

/// <summary>The init waits for `cnr start` on the exec fifo, reopened through the runtime's own procfs: an image
/// whose /proc/self/fd holds plain files (and a config without procfs at /proc) cannot let the process run at
/// `create`.</summary>
public class ExecFifoTests
{
    [RootFact]
    public void Create_ImageWithFakeProcSelfFd_ProcessRunsOnlyAfterStart()
    {
        using var b = new TestBundle("fakefd").CopyRootfs().WithArgs("sh", "-c", "cat /gate > /seen");
        var rootfs = Path.Combine(b.Dir, "rootfs");
        var fds = Path.Combine(rootfs, "proc", "self", "fd");
        Directory.CreateDirectory(fds);
        for (int fd = 0; fd < 64; fd++) File.WriteAllText(Path.Combine(fds, fd.ToString()), "");
        File.WriteAllText(Path.Combine(rootfs, "gate"), "before start\n");
        b.Spec.Mounts!.RemoveAll(m => m.Type == "proc");
        // Nothing under the image's /proc to mask: keep the attack to the exec fifo alone.
        b.Spec.Linux!.MaskedPaths = [];
        b.Spec.Linux.ReadonlyPaths = [];

        var created = b.Create();
        Assert.True(created.ExitCode == 0, created.ToString());
        File.WriteAllText(Path.Combine(rootfs, "gate"), "after start\n");
        var started = b.Cnr("start", b.Id);
        Assert.True(started.ExitCode == 0, started.ToString());
        b.WaitForStatus("stopped");

        Assert.Equal("after start\n", File.ReadAllText(Path.Combine(rootfs, "seen")));
    }
}
