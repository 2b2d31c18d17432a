using Cnr.Diagnostics;
using Cnr.Linux;
using static Cnr.Linux.Libc;

namespace Cnr.Rootfs;

/// <summary>mount(2) with the two things every call needs: the step report (the C call and the mount(8) line a
/// student would type) and an error that names what was being mounted where.</summary>
internal static class Mounter
{
    private const ulong PropagationMask = MS_PRIVATE | MS_SHARED | MS_SLAVE | MS_UNBINDABLE;

    /// <param name="target">the path handed to the kernel (usually /proc/self/fd/N, <see cref="ProcFs.SelfFd"/>)</param>
    /// <param name="dest">the destination as the container sees it, for the call and errors</param>
    /// <param name="shellDest">the destination as the shell line should show it (rootfs-prefixed before pivot)</param>
    /// <param name="shownSource">the source to show when <paramref name="source"/> is a /proc/self/fd path</param>
    public static void Mount(string? source, string target, string? fstype, ulong flags, string? data, string dest, string shellDest, string? shownSource = null)
    {
        var errno = TryMount(source, target, fstype, flags, data, dest, shellDest, shownSource);
        if (errno != 0) throw Error(errno, shownSource ?? source, fstype, flags, data, dest);
    }

    /// <summary><see cref="Mount"/> for callers with a fallback: 0, or the errno.</summary>
    public static Error TryMount(string? source, string target, string? fstype, ulong flags, string? data, string dest, string shellDest, string? shownSource = null)
    {
        if (Steps.On)
            Steps.Report("mount", $"mount({Quote(shownSource ?? source)}, \"{dest}\", {Quote(fstype)}, {MountOptions.FlagNames(flags)}, {Quote(data)})",
                ShellLine(shownSource ?? source, fstype, flags, data, shellDest));
        return ProcFs.WithPaths(source, target, (s, t) => Libc.mount(s, t!, fstype, flags, data) < 0 ? Errno.Last : 0);
    }

    /// <summary>A bind the parent cloned (open_tree), attached at <paramref name="target"/>. The fd stays its
    /// owner's (the init keeps it until execve, which closes it: CLOEXEC, so the container's process never
    /// inherits the clone).</summary>
    public static void Attach(SafeFd mountFd, SafeFd target, string source, ulong flags, string dest, string shellDest)
    {
        if (Steps.On)
            Steps.Report("mount", $"move_mount(open_tree(\"{source}\", OPEN_TREE_CLONE{((flags & MS_REC) != 0 ? "|AT_RECURSIVE" : "")}), \"{dest}\")",
                ShellLine(source, null, flags, null, shellDest));
        if (move_mount(mountFd, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
            throw Error(Errno.Last, source, null, flags, null, dest);
    }

    /// <summary>"mount proc to /proc: EPERM (Operation not permitted)".</summary>
    public static SyscallException Error(Error errno, string? source, string? fstype, ulong flags, string? data, string dest)
        => new("mount", errno, Detail(source, fstype, flags, data, dest));

    /// <summary>Sets MOUNT_ATTR_* on the mount at fd and every mount below it (rro, rnosuid…).</summary>
    public static void SetRecursive(SafeFd fd, ulong set, ulong clear, string dest, string shellDest)
    {
        if (Steps.On)
            Steps.Report("mount", $"mount_setattr(\"{dest}\", AT_RECURSIVE, {{attr_set=0x{set:x}, attr_clr=0x{clear:x}}})",
                $"mount -o remount,bind{(((set & MOUNT_ATTR_RDONLY) != 0) ? ",ro" : "")} -R {shellDest}");
        if (mount_setattr(fd, AT_RECURSIVE, new MountAttr { AttrSet = set, AttrClr = clear }) < 0)
            throw new SyscallException("mount_setattr", Errno.Last, dest);
    }

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

    private static string Quote(string? s) => s is null ? "NULL" : "\"" + s + "\"";

    private static string Detail(string? source, string? fstype, ulong flags, string? data, string dest)
        => (flags & MS_REMOUNT) != 0 ? $"{dest} (remount {MountOptions.OptionString(flags & ~MS_REMOUNT, data)})"
         : source is null && (flags & PropagationMask) != 0 ? $"{dest} (make-{MountOptions.PropagationName(flags & (PropagationMask | MS_REC))})"
         : $"{source ?? fstype} to {dest}";

    internal static string ShellLine(string? source, string? fstype, ulong flags, string? data, string shellDest)
    {
        if ((flags & MS_REMOUNT) != 0)
        {
            var opts = MountOptions.OptionString(flags & ~MS_REMOUNT, data);
            return $"mount -o remount{((flags & MS_BIND) != 0 ? ",bind" : "")}{(opts.Length > 0 ? "," + opts : "")} {shellDest}";
        }
        if ((flags & MS_MOVE) != 0) return $"mount --move {source} {shellDest}";
        if ((flags & MS_BIND) != 0) return $"mount --{((flags & MS_REC) != 0 ? "rbind" : "bind")} {source} {shellDest}";
        if (source is null && (flags & PropagationMask) != 0)
            return $"mount --make-{MountOptions.PropagationName(flags & (PropagationMask | MS_REC))} {shellDest}";
        var o = MountOptions.OptionString(flags, data);
        return $"mount -t {fstype}{(o.Length > 0 ? " -o " + o : "")} {source ?? fstype} {shellDest}";
    }
}
