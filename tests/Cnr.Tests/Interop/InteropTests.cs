using Cnr.Linux;
using Xunit;

namespace Cnr.Tests.Interop;

/// <summary>The hand-declared kernel structs and errno values against what the kernel and glibc really do.</summary>
public class InteropTests
{
    [Fact]
    public void OpenFds_ListsAnOpenFd_AndNotAClosedOne()
    {
        int closed;
        using (var gone = SafeFd.Check(Libc.open("/", Libc.O_PATH | Libc.O_CLOEXEC, 0), "open", "/")) closed = gone.Fd;
        using var fd = SafeFd.Check(Libc.open("/", Libc.O_PATH | Libc.O_CLOEXEC, 0), "open", "/");
        var open = ProcFs.OpenFds();
        Assert.Contains(fd.Fd, open);
        Assert.Contains(0, open);
        if (closed != fd.Fd) Assert.DoesNotContain(closed, open);
    }

    [Fact]
    public void StatX_ReadsTypeModeAndDeviceNumbers()
    {
        Assert.Equal(0, Libc.StatX(SafeFd.AtCwd, "/dev/null", 0, out var st));
        Assert.Equal(Libc.S_IFCHR, st.Mode & Libc.S_IFMT);
        Assert.Equal(0b110_110_110u, st.Mode & 0xfff);
        Assert.Equal((0u, 0u), (st.Uid, st.Gid));
        Assert.Equal((1u, 3u), (st.RdevMajor, st.RdevMinor));
    }

    [Fact]
    public void FsFlags_ReadsTheMagicAndTheMountFlags()
    {
        using var proc = SafeFd.Check(Libc.open("/proc", Libc.O_PATH | Libc.O_DIRECTORY | Libc.O_CLOEXEC, 0), "open", "/proc");
        Assert.Equal(0, Libc.FsFlags(proc, out long magic, out ulong flags));
        Assert.Equal(Libc.PROC_SUPER_MAGIC, magic);
        // The flags as /proc/mounts spells them for the same mount.
        var options = File.ReadLines("/proc/mounts").Select(l => l.Split(' ')).Last(f => f[1] == "/proc")[3].Split(',');
        Assert.Equal(options.Contains("ro"), (flags & Libc.ST_RDONLY) != 0);
        Assert.Equal(options.Contains("nosuid"), (flags & Libc.ST_NOSUID) != 0);
        Assert.Equal(options.Contains("nodev"), (flags & Libc.ST_NODEV) != 0);
        Assert.Equal(options.Contains("noexec"), (flags & Libc.ST_NOEXEC) != 0);
        Assert.Equal(options.Contains("relatime"), (flags & Libc.ST_RELATIME) != 0);
    }

    [Fact]
    public void Errno_LastIsTheEnum_AndNamesIt()
    {
        Assert.True(Libc.mkdir("/nonexistent-cnr-interop-test/x", 0b111_101_101) < 0);
        var e = Errno.Last;
        Assert.Equal(Error.ENOENT, e);
        Assert.Equal("ENOENT", Errno.Name(e));
        Assert.Equal("errno 4000", Errno.Name((Error)4000));
        Assert.Equal("mkdir /x: EACCES (Permission denied)", new SyscallException("mkdir", Error.EACCES, "/x").Message);
    }
}
