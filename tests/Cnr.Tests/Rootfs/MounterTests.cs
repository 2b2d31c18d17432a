using Cnr.Rootfs;
using Xunit;
using static Cnr.Linux.Libc;

namespace Cnr.Tests.Rootfs;

public class MounterTests
{
    [Fact]
    public void RemountFlags_KeepsLockedFlagsOfTheSource()
        => Assert.Equal(MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_RELATIME,
            Mounter.RemountFlags(MS_BIND | MS_RDONLY, 0, MS_NOSUID | MS_NODEV | MS_RELATIME));

    [Fact]
    public void RemountFlags_ExplicitClearWins()
        => Assert.Equal(MS_BIND | MS_REMOUNT | MS_NODEV,
            Mounter.RemountFlags(MS_BIND, MS_RDONLY | MS_NOSUID, MS_RDONLY | MS_NOSUID | MS_NODEV));

    [Fact]
    public void RemountFlags_AskedAtimeReplacesTheSourcesAtime()
        => Assert.Equal(MS_BIND | MS_REMOUNT | MS_NOATIME,
            Mounter.RemountFlags(MS_BIND | MS_REC | MS_NOATIME, 0, MS_RELATIME));

    [Theory]
    [InlineData("proc", "proc", 0UL, null, "mount -t proc proc R/proc")]
    [InlineData("tmpfs", "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755", "mount -t tmpfs -o nosuid,strictatime,mode=755 tmpfs R/proc")]
    [InlineData("/src", null, MS_BIND | MS_REC, null, "mount --rbind /src R/proc")]
    [InlineData("/src", null, MS_BIND, null, "mount --bind /src R/proc")]
    [InlineData(null, null, MS_BIND | MS_REMOUNT | MS_RDONLY, null, "mount -o remount,bind,ro R/proc")]
    [InlineData(null, null, MS_REC | MS_SLAVE, null, "mount --make-rslave R/proc")]
    public void ShellLine_IsWhatAStudentWouldType(string? source, string? type, ulong flags, string? data, string expected)
        => Assert.Equal(expected, Cnr.Linux.Sys.MountShellLine(source, type, flags, data, "R/proc"));

    [Fact]
    public void Error_NamesTheMount()
    {
        var e = Cnr.Linux.Sys.MountError(Cnr.Linux.Error.EPERM, "proc", "proc", 0, null, "/proc");
        Assert.Equal("mount proc to /proc: EPERM (Operation not permitted)", e.Message);
        Assert.Equal(Cnr.Linux.Error.EPERM, e.Number);
    }
}
