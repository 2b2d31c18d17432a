using Cnr.IntegrationTests.Harness;
using Xunit;

namespace Cnr.IntegrationTests.Security;

/// <summary>procfs and sysfs go only on a plain directory of the rootfs (runc's rule): an image's symlink there
/// would put them elsewhere and leave the masked and read-only paths under /proc and /sys uncovered.</summary>
public class ProcSymlinkTests
{
    [RootTheory]
    [InlineData("proc", "/proc", true, "is a symlink")]
    [InlineData("sysfs", "/sys", true, "is a symlink")]
    [InlineData("sysfs", "/sys", false, "is not a directory")]
    public void Run_ProcOrSysNotAPlainDirectory_RefusedInOneLineNamingTheMount(string type, string dest, bool symlink, string problem)
    {
        using var b = new TestBundle("procln").CopyRootfs().WithArgs("true");
        var rootfs = Path.Combine(b.Dir, "rootfs");
        var at = Path.Combine(rootfs, dest.TrimStart('/'));
        if (Directory.Exists(at)) Directory.Delete(at, recursive: true);
        if (symlink)
        {
            Directory.CreateDirectory(Path.Combine(rootfs, "elsewhere"));
            File.CreateSymbolicLink(at, "/elsewhere");
        }
        else File.WriteAllText(at, "");
        int index = b.Spec.Mounts!.FindIndex(m => m.Type == type);

        var r = b.Run();

        Assert.True(r.ExitCode != 0, r.ToString());
        Assert.Equal($"cnr: mounts[{index}]: {type} on {dest}: {dest} in the rootfs {problem}; procfs and sysfs must be mounted on an ordinary directory",
            Host.OneErrorLine(r));
        Host.AssertNothingLeftBehind(b);
        HostCgroups.AssertNoneLeft(b);
        if (symlink) Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(rootfs, "elsewhere")));
    }
}
