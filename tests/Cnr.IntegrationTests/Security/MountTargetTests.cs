using Cnr.IntegrationTests.Harness;
using Cnr.Spec;
using Xunit;

namespace Cnr.IntegrationTests.Security;

/// <summary>Mount destinations are resolved inside the rootfs: a symlink in an image cannot point a mount at
/// the host.</summary>
public class MountTargetTests
{
    [RootFact]
    public void Run_MountOnSymlinkToHostPath_StaysInsideRootfs()
    {
        var hostTarget = Path.Combine("/var/tmp", "cnr-host-target-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(hostTarget);
        try
        {
            using var b = new TestBundle("symlinkmnt").CopyRootfs()
                .WithArgs("sh", "-c", "stat -f -c %T /evil/ && echo planted > /evil/marker");
            File.CreateSymbolicLink(Path.Combine(b.Dir, "rootfs", "evil"), hostTarget);
            b.Spec.Mounts ??= [];
            b.Spec.Mounts.Add(new Mount { Destination = "/evil", Type = "tmpfs", Source = "tmpfs", Options = ["nosuid", "nodev"] });

            var r = b.Run();

            Assert.Empty(Host.MountsMentioning(hostTarget));
            Assert.Empty(Directory.EnumerateFileSystemEntries(hostTarget));
            Assert.True(r.ExitCode == 0, r.ToString());
            Assert.Equal("tmpfs", r.Stdout.Trim());
        }
        finally
        {
            Directory.Delete(hostTarget, recursive: true);
        }
    }
}
