using System.Runtime.InteropServices;
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

    [Fact]
    public void SafeFd_IsInvalidOnlyAtMinusOne_ReadAsACInt()
    {
        // libc returns an int: the marshaller may see -1 as 0xffffffff in the 64-bit register.
        var returned = new SafeFd();
        Marshal.InitHandle(returned, unchecked((nint)0xffff_ffffL));
        Assert.True(returned.IsInvalid);
        Assert.False(SafeFd.Borrow(0).IsInvalid);   // fd 0 is an fd
        Assert.False(SafeFd.AtCwd.IsInvalid);       // AT_FDCWD is a dirfd
        Assert.Equal(Libc.AT_FDCWD, SafeFd.AtCwd.Fd);
    }

    [Fact]
    public void AnImportThatFails_ReturnsAnInvalidFd_WithErrno_AndCheckNamesIt()
    {
        using var fd = Libc.open("/nonexistent-cnr-interop-test", Libc.O_RDONLY | Libc.O_CLOEXEC, 0);
        Assert.True(fd.IsInvalid);
        Assert.Equal(Error.ENOENT, Errno.Last);
        var e = Assert.Throws<SyscallException>(() => SafeFd.Check(Libc.open("/nonexistent-cnr-interop-test", Libc.O_RDONLY | Libc.O_CLOEXEC, 0), "open", "/x"));
        Assert.Equal("open /x: ENOENT (No such file or directory)", e.Message);
    }

    [Fact]
    public void Borrow_NeverCloses_Own_ClosesOnDispose()
    {
        var (r, w) = Libc.Pipe("test");
        using (r)
        {
            SafeFd.Borrow(w.Fd).Dispose();
            byte one = 1;
            unsafe { Assert.Equal(1, (int)Libc.write(w, &one, 1)); }   // still open
            SafeFd.Own(w.Fd).Dispose();                              // closed here, not by w
            w.SetHandleAsInvalid();
            var buf = new byte[2];
            unsafe { fixed (byte* b = buf) Assert.Equal(1, (int)Libc.read(r, b, 2)); }
            unsafe { fixed (byte* b = buf) Assert.Equal(0, (int)Libc.read(r, b, 2)); }  // EOF: no writer left
        }
    }

    [Fact]
    public void Disposing_AnFd_LeavesErrnoAsTheFailedCallSetIt()
    {
        using var open = SafeFd.Check(Libc.open("/", Libc.O_PATH | Libc.O_CLOEXEC, 0), "open", "/");
        using (Libc.open("/nonexistent-cnr-interop-test", Libc.O_RDONLY | Libc.O_CLOEXEC, 0)) { }
        open.Dispose();
        Assert.Equal(Error.ENOENT, Errno.Last);
    }

    [Fact]
    public void ToStream_HandsTheFdToTheStream()
    {
        var fd = SafeFd.Check(Libc.open("/dev/null", Libc.O_WRONLY | Libc.O_CLOEXEC, 0), "open", "/dev/null");
        using (var stream = fd.ToStream(FileAccess.Write))
        {
            Assert.True(fd.IsClosed);
            stream.Write("x"u8);
        }
        fd.Dispose();
    }
}
