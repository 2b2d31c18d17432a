using Cnr.Linux;
using static Cnr.Linux.Libc;

namespace Cnr.Rootfs;

/// <summary>The flags of a remount: what a bind mount already has, and what its remount must pass to keep or
/// change it. The calls themselves (and their steps) are <see cref="Sys.Mount"/> and its relatives.</summary>
internal static class Mounter
{
    /// <summary>The nosuid/nodev/noexec/ro/atime flags a bind mount already has. A remount must repeat them:
    /// in a user namespace they are locked and leaving one out is EPERM.</summary>
    public static ulong LockedFlags(SafeFd fd, string dest)
    {
        Errno.Check(FsFlags(fd, out _, out var st), "statfs", dest);
        ulong flags = 0;
        if ((st & ST_RDONLY) != 0) flags |= MS_RDONLY;
        if ((st & ST_NOSUID) != 0) flags |= MS_NOSUID;
        if ((st & ST_NODEV) != 0) flags |= MS_NODEV;
        if ((st & ST_NOEXEC) != 0) flags |= MS_NOEXEC;
        if ((st & ST_NOATIME) != 0) flags |= MS_NOATIME;
        if ((st & ST_NODIRATIME) != 0) flags |= MS_NODIRATIME;
        if ((st & ST_RELATIME) != 0) flags |= MS_RELATIME;
        return flags;
    }

    /// <summary>The remount flags for a bind mount: what was asked, plus what the mount has and the options did not
    /// clear; the atime mode is kept only when the options name none (the kernel would reset it to relatime).</summary>
    public static ulong RemountFlags(ulong asked, ulong cleared, ulong locked)
    {
        const ulong atime = MS_NOATIME | MS_RELATIME | MS_STRICTATIME;
        ulong keep = locked & ~cleared;
        if ((asked & atime) != 0 || (cleared & atime) != 0) keep &= ~atime;
        return MS_BIND | MS_REMOUNT | (asked & ~(MS_BIND | MS_REC | MS_REMOUNT)) | keep;
    }
}
