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

    [RootFact]
    public void Run_DevBoundFromBundleWithDevNullSymlink_RefusedInOneLine()
    {
        using var b = new TestBundle("devbind").CopyRootfs().WithArgs("true");
        var dev = Path.Combine(b.Dir, "dev");
        Directory.CreateDirectory(dev);
        File.CreateSymbolicLink(Path.Combine(dev, "null"), "/proc/timer_list");
        // A /dev bound in is taken as it is (no device nodes made), so its /dev/null must already be the device.
        var devMount = b.Spec.Mounts!.Single(m => m.Destination == "/dev");
        (devMount.Type, devMount.Source, devMount.Options) = ("bind", "dev", ["rbind"]);

        var r = b.Run();

        Assert.True(r.ExitCode != 0, r.ToString());
        var line = Host.OneErrorLine(r);
        Assert.Contains("linux.maskedPaths", line);
        Assert.Contains("/dev/null in the container is not the character device 1:3", line);
        Host.AssertNothingLeftBehind(b);
        HostCgroups.AssertNoneLeft(b);
    }
}
