using System.Runtime.InteropServices;

namespace Cnr.Linux;

/// <summary>Mounts, in-root path resolution and device nodes: what the container's filesystem is built with.</summary>
public static unsafe partial class Libc
{
    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int mount(string? source, string target, string? fstype, ulong flags, string? data);
    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int umount2(string target, int flags);
    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int chroot(string path);
    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial nint readlinkat(SafeHandle dirfd, string path, byte* buf, nint size);
    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int statx(SafeHandle dirfd, string path, int flags, uint mask, out Statx statxbuf);
    [LibraryImport(Lib, SetLastError = true)] public static partial int fstatfs(SafeHandle fd, out Statfs buf);

    public const ulong MS_RDONLY = 1, MS_NOSUID = 2, MS_NODEV = 4, MS_NOEXEC = 8, MS_SYNCHRONOUS = 16,
        MS_REMOUNT = 32, MS_MANDLOCK = 64, MS_DIRSYNC = 128, MS_NOSYMFOLLOW = 256, MS_NOATIME = 1024,
        MS_NODIRATIME = 2048, MS_BIND = 4096, MS_MOVE = 8192, MS_REC = 16384, MS_SILENT = 32768,
        MS_UNBINDABLE = 1 << 17, MS_PRIVATE = 1 << 18, MS_SLAVE = 1 << 19, MS_SHARED = 1 << 20,
        MS_RELATIME = 1 << 21, MS_I_VERSION = 1 << 23, MS_STRICTATIME = 1 << 24, MS_LAZYTIME = 1 << 25;
    public const int MNT_DETACH = 2;

    public const ulong MOUNT_ATTR_RDONLY = 0x1, MOUNT_ATTR_NOSUID = 0x2, MOUNT_ATTR_NODEV = 0x4,
        MOUNT_ATTR_NOEXEC = 0x8, MOUNT_ATTR__ATIME = 0x70, MOUNT_ATTR_RELATIME = 0, MOUNT_ATTR_NOATIME = 0x10,
        MOUNT_ATTR_STRICTATIME = 0x20, MOUNT_ATTR_NODIRATIME = 0x80, MOUNT_ATTR_NOSYMFOLLOW = 0x200000;
    public const uint AT_RECURSIVE = 0x8000;

    /// <summary>statfs f_flags bits (ST_*), the per-mount flags as the kernel reports them.</summary>
    public const ulong ST_RDONLY = 1, ST_NOSUID = 2, ST_NODEV = 4, ST_NOEXEC = 8, ST_NOATIME = 1024,
        ST_NODIRATIME = 2048, ST_RELATIME = 4096;
    public const long CGROUP2_SUPER_MAGIC = 0x63677270;


    public const uint STATX_TYPE = 1, STATX_MODE = 2, STATX_UID = 8, STATX_GID = 0x10;

    /// <summary>struct statx, the same on every architecture; the kernel fills what the mask asks for.</summary>
    [StructLayout(LayoutKind.Sequential, Size = 256)]
    public struct Statx
    {
        public uint Mask, Blksize; public ulong Attributes;
        public uint Nlink, Uid, Gid; public ushort Mode; private ushort _spare0;
        public ulong Ino, Size, Blocks, AttributesMask;
        public StatxTimestamp Atime, Btime, Ctime, Mtime;
        public uint RdevMajor, RdevMinor, DevMajor, DevMinor;
        public ulong MntId;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct StatxTimestamp { public long Sec; public uint Nsec; private int _reserved; }

    /// <summary>struct statfs of a 64-bit glibc.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct Statfs
    {
        public long Type, Bsize; public ulong Blocks, Bfree, Bavail, Files, Ffree, Fsid; public long Namelen, Frsize;
        public ulong Flags; private long _spare0, _spare1, _spare2, _spare3;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct MountAttr { public ulong AttrSet, AttrClr, Propagation, UsernsFd; }

    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int pivot_root(string newRoot, string putOld);
    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int mount_setattr(SafeHandle dirfd, string path, uint flags, MountAttr* attr, nuint size);

    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial SafeFd open_tree(SafeHandle dirfd, string path, uint flags);
    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int move_mount(SafeHandle fromDirfd, string fromPath, SafeHandle toDirfd, string toPath, uint flags);
    /// <summary>open_tree(2): a detached copy of the mount (tree, with AT_RECURSIVE) at the path.</summary>
    public const uint OPEN_TREE_CLONE = 1;
    /// <summary>move_mount(2): the source, the target are the fds themselves.</summary>
    public const uint MOVE_MOUNT_F_EMPTY_PATH = 0x4, MOVE_MOUNT_T_EMPTY_PATH = 0x40;

    /// <summary>mount_setattr(2) on the mount an fd refers to, optionally on its whole subtree (AT_RECURSIVE).</summary>
    public static int mount_setattr(SafeHandle fd, uint flags, MountAttr attr)
        => mount_setattr(fd, "", flags | (uint)AT_EMPTY_PATH, &attr, (nuint)sizeof(MountAttr));

    /// <summary>What cnr reads of statx(2): type and mode, owner, and device numbers.</summary>
    public readonly record struct FileStat(uint Mode, uint Uid, uint Gid, uint RdevMajor, uint RdevMinor);


    /// <summary>statx(2) of dirfd/path, or of dirfd itself for "".</summary>
    public static int StatX(SafeHandle dirfd, string path, int flags, out FileStat st)
    {
        int rc = statx(dirfd, path, flags | (path.Length == 0 ? AT_EMPTY_PATH : 0), STATX_TYPE | STATX_MODE | STATX_UID | STATX_GID, out var buf);
        st = new FileStat(buf.Mode, buf.Uid, buf.Gid, buf.RdevMajor, buf.RdevMinor);
        return rc;
    }

    /// <summary>The id of the mount dirfd/path is on (statx's stx_mnt_id, as mountinfo's first field).</summary>
    public static int MountId(SafeHandle dirfd, string path, out ulong id)
    {
        const uint STATX_MNT_ID = 0x1000;
        int rc = statx(dirfd, path, path.Length == 0 ? AT_EMPTY_PATH : 0, STATX_MNT_ID, out var buf);
        id = buf.MntId;
        return rc;
    }

    /// <summary>The file type and permission bits (st_mode) of dirfd/path, or of dirfd itself for "".</summary>
    public static int StatMode(SafeHandle dirfd, string path, int flags, out uint mode)
    {
        int rc = StatX(dirfd, path, flags, out var st);
        mode = st.Mode;
        return rc;
    }

    /// <summary>fstatfs(2) reduced to the two fields cnr reads: the filesystem magic and the mount flags.</summary>
    public static int FsFlags(SafeHandle fd, out long type, out ulong flags)
    {
        int rc = fstatfs(fd, out var buf);
        type = buf.Type;
        flags = buf.Flags;
        return rc;
    }

    public static ulong makedev(long major, long minor)
        => (((ulong)major & 0xfffff000UL) << 32) | (((ulong)major & 0xfffUL) << 8)
         | (((ulong)minor & 0xffffff00UL) << 12) | ((ulong)minor & 0xffUL);
}
