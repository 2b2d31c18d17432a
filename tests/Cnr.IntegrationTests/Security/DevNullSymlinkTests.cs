using Cnr.IntegrationTests.Harness;
using Xunit;

namespace Cnr.IntegrationTests.Security;

/// <summary>Masked files are covered with a /dev/null the runtime made or checked (char 1:3), never with whatever
/// the image has at /dev/null (CVE-2025-31133): with /dev not a fresh tmpfs, an image's symlink there stands in
/// for the device.</summary>
public class DevNullSymlinkTests
{
    [RootFact]
    public void Run_ImageDevNullIsSymlinkToHostFile_MaskedPathsReadEmpty()
    {
        using var b = new TestBundle("devnull").CopyRootfs()
            .WithArgs("sh", "-c", "wc -c < /etc/secret; wc -c < /proc/timer_list; stat -c %F /dev/null");
        var rootfs = Path.Combine(b.Dir, "rootfs");
        File.WriteAllText(Path.Combine(rootfs, "etc", "secret"), "not for the container\n");
        var devNull = Path.Combine(rootfs, "dev", "null");
        if (File.Exists(devNull) || Directory.Exists(devNull)) File.Delete(devNull);
        File.CreateSymbolicLink(devNull, "/proc/timer_list");
        // /dev is the image's own directory: no tmpfs over it.
        b.Spec.Mounts!.RemoveAll(m => m.Destination == "/dev");
        b.Spec.Linux!.MaskedPaths!.Add("/etc/secret");

        var r = b.Run();

        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal(["0", "0", "character special file"], r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
    }
}
