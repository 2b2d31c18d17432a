using System.Runtime.InteropServices;

namespace Cnr.Linux;

/// <summary>The *at file calls an image unpacker needs: every path is relative to a directory fd that was
/// resolved inside the rootfs, so nothing a tar entry names can reach outside it.</summary>
public static unsafe partial class Libc
{
    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int mkdirat(SafeHandle dirfd, string path, uint mode);
    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int symlinkat(string target, SafeHandle newdirfd, string linkpath);
    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int linkat(SafeHandle olddirfd, string oldpath, SafeHandle newdirfd, string newpath, int flags);
    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int mknodat(SafeHandle dirfd, string path, uint mode, ulong dev);
    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int fchownat(SafeHandle dirfd, string path, uint owner, uint group, int flags);
    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int fchmodat(SafeHandle dirfd, string path, uint mode, int flags);
    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int utimensat(SafeHandle dirfd, string path, Timespec* times, int flags);
    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int unlinkat(SafeHandle dirfd, string path, int flags);
    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int lsetxattr(string path, string name, byte* value, nint size, int flags);
    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int fstatat(SafeHandle dirfd, string path, out Stat buf, int flags);

    [StructLayout(LayoutKind.Sequential)]
    public struct Timespec { public long Sec; public long Nsec; }

    /// <summary>struct stat on x86_64.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct Stat
    {
        public ulong Dev; public ulong Ino; public ulong Nlink; public uint Mode; public uint Uid; public uint Gid;
        private int _pad0; public ulong Rdev; public long Size; public long Blksize; public long Blocks;
        public Timespec Atime; public Timespec Mtime; public Timespec Ctime;
        private long _r0, _r1, _r2;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct OpenHow { public ulong Flags; public ulong Mode; public ulong Resolve; }

    public const ulong RESOLVE_NO_XDEV = 0x01, RESOLVE_NO_MAGICLINKS = 0x02, RESOLVE_NO_SYMLINKS = 0x04,
        RESOLVE_BENEATH = 0x08, RESOLVE_IN_ROOT = 0x10;
    public const int AT_REMOVEDIR = 0x200;
    public const uint S_IFMT = 0xF000, S_IFDIR = 0x4000, S_IFREG = 0x8000, S_IFLNK = 0xA000, S_IFIFO = 0x1000,
        S_IFCHR = 0x2000, S_IFBLK = 0x6000;

    /// <summary>openat2(2): <paramref name="path"/> resolved under <paramref name="dirfd"/> with the given
    /// RESOLVE_* flags. Returns the fd, invalid with errno set on failure.</summary>
    public static SafeFd openat2(SafeHandle dirfd, string path, int flags, ulong resolve, uint mode = 0)
    {
        var how = new OpenHow { Flags = (ulong)flags, Mode = mode, Resolve = resolve };
        int max = System.Text.Encoding.UTF8.GetMaxByteCount(path.Length) + 1;
        Span<byte> p = max <= 4096 ? stackalloc byte[max] : new byte[max];
        p[System.Text.Encoding.UTF8.GetBytes(path, p)] = 0;
        fixed (byte* pp = p)
            return syscall_fd(SYS_openat2, dirfd, (nint)pp, (nint)(&how), sizeof(OpenHow), 0, 0);
    }

    public static ulong makedev(uint major, uint minor)
        => ((ulong)(major & 0xfffff000) << 32) | ((ulong)(major & 0xfff) << 8)
         | ((ulong)(minor & 0xffffff00) << 12) | (minor & 0xff);
}
