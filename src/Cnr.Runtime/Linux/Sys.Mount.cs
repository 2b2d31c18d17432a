using Cnr.Rootfs;
using static Cnr.Linux.Libc;

namespace Cnr.Linux;

/// <summary>The container's filesystem: mount(2) and its fd-based relatives, the directories and files made in
/// the rootfs for mount points, tmpcopyup, and the switch of root (pivot_root, chroot, the old root's detach).
/// A step's shell line names the destination as a shell in the host would reach it: `shellDest` is the
/// rootfs-prefixed path before pivot_root (<see cref="InRoot.Shell"/>), the container path after.</summary>
public static partial class Sys
{
    private const ulong PropagationMask = MS_PRIVATE | MS_SHARED | MS_SLAVE | MS_UNBINDABLE;

    /// <summary>mount(2); a failure is "mount SOURCE to DEST: ERRNO".</summary>
    /// <param name="target">the path handed to the kernel (usually /proc/self/fd/N, <see cref="ProcFs.SelfFd"/>)</param>
    /// <param name="dest">the destination as the container sees it, for the call and errors</param>
    /// <param name="shellDest">the destination as the shell line should show it (rootfs-prefixed before pivot)</param>
    /// <param name="shownSource">the source to show when <paramref name="source"/> is a /proc/self/fd path</param>
    public static void Mount(string? source, string target, string? fstype, ulong flags, string? data, string dest, string shellDest, string? shownSource = null)
    {
        var errno = TryMount(source, target, fstype, flags, data, dest, shellDest, shownSource);
        if (errno != 0) throw MountError(errno, shownSource ?? source, fstype, flags, data, dest);
    }

    /// <summary><see cref="Mount"/> for callers with a fallback: 0, or the errno (<see cref="MountError"/> says it).</summary>
    public static Error TryMount(string? source, string target, string? fstype, ulong flags, string? data, string dest, string shellDest, string? shownSource = null)
    {
        if (Diagnostics.Steps.On)
            Diagnostics.Steps.Report("mount", $"mount({Quote(shownSource ?? source)}, \"{dest}\", {Quote(fstype)}, {MountOptions.FlagNames(flags)}, {Quote(data)})",
                MountShellLine(shownSource ?? source, fstype, flags, data, shellDest));
        return ProcFs.WithPaths(source, target, (s, t) => Libc.mount(s, t!, fstype, flags, data) < 0 ? Errno.Last : 0);
    }

    /// <summary>"mount proc to /proc: EPERM (Operation not permitted)": a failed <see cref="Mount"/>.</summary>
    public static SyscallException MountError(Error errno, string? source, string? fstype, ulong flags, string? data, string dest)
        => new("mount", errno, MountErrorDetail(source, fstype, flags, data, dest));

    /// <summary>move_mount(2) of a bind the parent cloned (open_tree) onto <paramref name="target"/>, shown as the
    /// open_tree and bind it stands for. The fd stays its owner's (the init keeps it until execve, which closes
    /// it: CLOEXEC, so the container's process never inherits the clone).</summary>
    /// <param name="flags">MS_BIND, with MS_REC when the clone was recursive (AT_RECURSIVE)</param>
    public static void MoveMount(SafeFd mountFd, SafeFd target, string source, ulong flags, string dest, string shellDest)
    {
        if (Diagnostics.Steps.On)
            Diagnostics.Steps.Report("mount", $"move_mount(open_tree(\"{source}\", OPEN_TREE_CLONE{((flags & MS_REC) != 0 ? "|AT_RECURSIVE" : "")}), \"{dest}\")",
                MountShellLine(source, null, flags, null, shellDest));
        if (move_mount(mountFd, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
            throw MountError(Errno.Last, source, null, flags, null, dest);
    }

    /// <summary>mount_setattr(2) with AT_RECURSIVE: MOUNT_ATTR_* on the mount at fd and every mount below it
    /// (rro, rnosuid…).</summary>
    public static void MountSetAttrRecursive(SafeFd fd, ulong set, ulong clear, string dest, string shellDest)
    {
        if (Diagnostics.Steps.On)
            Diagnostics.Steps.Report("mount", $"mount_setattr(\"{dest}\", AT_RECURSIVE, {{attr_set=0x{set:x}, attr_clr=0x{clear:x}}})",
                $"mount -o remount,bind{(((set & MOUNT_ATTR_RDONLY) != 0) ? ",ro" : "")} -R {shellDest}");
        if (mount_setattr(fd, AT_RECURSIVE, new MountAttr { AttrSet = set, AttrClr = clear }) < 0)
            throw new SyscallException("mount_setattr", Errno.Last, dest);
    }

    /// <summary>umount2(2) with MNT_DETACH: 0, or the errno.</summary>
    public static Error TryDetachMount(string path)
    {
        if (Diagnostics.Steps.On) Diagnostics.Steps.Report("mount", $"umount2(\"{path}\", MNT_DETACH)", $"umount -l {path}");
        return umount2(path, MNT_DETACH) < 0 ? Errno.Last : 0;
    }

    /// <summary><see cref="TryDetachMount"/> where failing is an error; <paramref name="what"/> names the mount in it.</summary>
    public static void DetachMount(string path, string what)
    {
        var errno = TryDetachMount(path);
        if (errno != 0) throw new SyscallException("umount2", errno, what);
    }

    /// <summary>pivot_root(2); <paramref name="rootfs"/> names the new root in an error (the call is made from it, with ".").</summary>
    public static void PivotRoot(string newRoot, string putOld, string rootfs)
    {
        if (Diagnostics.Steps.On) Diagnostics.Steps.Report("pivot_root", $"pivot_root(\"{newRoot}\", \"{putOld}\")", $"pivot_root {newRoot} {putOld}");
        Errno.Check(pivot_root(newRoot, putOld), "pivot_root", rootfs);
    }

    /// <summary>chroot(2); <paramref name="rootfs"/> names the new root in an error (the call is made from it, with ".").</summary>
    public static void Chroot(string path, string rootfs)
    {
        if (Diagnostics.Steps.On) Diagnostics.Steps.Report("pivot_root", $"chroot(\"{path}\")", $"chroot {path}");
        Errno.Check(chroot(path), "chroot", rootfs);
    }

    /// <summary>chdir(2), as a step of entering the container's root.</summary>
    public static void Chdir(string path)
    {
        if (Diagnostics.Steps.On) Diagnostics.Steps.Report("pivot_root", $"chdir(\"{path}\")", $"cd {path}");
        Errno.Check(chdir(path), "chdir", path);
    }

    /// <summary>mkdirat(2) of a missing directory on the way to a mount point: 0, or the errno (EEXIST may be a
    /// dangling symlink the caller follows). Reported once made: a directory found there is no step.</summary>
    /// <param name="shellPath">the directory as the shell line should show it</param>
    public static Error TryMkdirAt(SafeFd parent, string name, uint mode, string shellPath)
    {
        if (mkdirat(parent, name, mode) < 0) return Errno.Last;
        if (Diagnostics.Steps.On) Diagnostics.Steps.Report("mount", $"mkdirat(\"{name}\", 0{Convert.ToString(mode, 8)})", $"mkdir {shellPath}");
        return 0;
    }

    /// <summary>openat(2) with O_CREAT|O_EXCL of an empty file, the mount point of a file bind (0644): 0, or the
    /// errno, as <see cref="TryMkdirAt"/>.</summary>
    public static Error TryCreateFileAt(SafeFd parent, string name, string shellPath)
    {
        using (var created = openat(parent, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0x1a4))
            if (created.IsInvalid) return Errno.Last;
        if (Diagnostics.Steps.On) Diagnostics.Steps.Report("mount", $"openat(\"{name}\", O_CREAT|O_EXCL)", $"touch {shellPath}");
        return 0;
    }

    /// <summary>The "tmpcopyup" mount option, reported as one step: the content of the directory a new tmpfs
    /// covers, copied into the tmpfs (cp -a without xattrs: type, content, mode and owner; symlinks copied,
    /// never followed).</summary>
    /// <param name="below">the destination, opened before the tmpfs covered it: an fd still reaches the
    /// covered directory, so no temporary mount point is needed</param>
    /// <param name="top">the destination opened again, now the new tmpfs</param>
    public static void CopyUp(SafeFd below, SafeFd top, string dest, string shellDest)
    {
        if (Diagnostics.Steps.On) Diagnostics.Steps.Report("mount", $"copy the content of the covered {dest} into the new tmpfs", $"cp -a <covered {shellDest}>/. {shellDest}/");
        CopyDirectory("/proc/self/fd/" + below.Fd, "/proc/self/fd/" + top.Fd);
    }

    private static void CopyDirectory(string from, string to)
    {
        foreach (var entry in Directory.EnumerateFileSystemEntries(from))
        {
            string target = to + "/" + Path.GetFileName(entry);
            Errno.Check(StatX(SafeFd.AtCwd, entry, AT_SYMLINK_NOFOLLOW, out var st), "stat", entry);
            uint type = st.Mode & S_IFMT, perm = st.Mode & 0xfff;
            switch (type)
            {
                case S_IFDIR:
                    Errno.Check(mkdirat(SafeFd.AtCwd, target, perm), "mkdir", target);
                    CopyDirectory(entry, target);
                    break;
                case S_IFREG:
                    File.Copy(entry, target);
                    break;
                case S_IFLNK:
                    var link = InRoot.ReadLink(SafeFd.AtCwd, entry) ?? throw new SyscallException("readlink", Errno.Last, entry);
                    Errno.Check(symlinkat(link, SafeFd.AtCwd, target), "symlink", target);
                    break;
                default:
                    Errno.Check(mknodat(SafeFd.AtCwd, target, st.Mode, makedev(st.RdevMajor, st.RdevMinor)), "mknod", target);
                    break;
            }
            Errno.Check(fchownat(SafeFd.AtCwd, target, st.Uid, st.Gid, AT_SYMLINK_NOFOLLOW), "chown", target);
            // After chown, which clears setuid/setgid; symlinks have no mode of their own.
            if (type != S_IFLNK) Errno.Check(fchmodat(SafeFd.AtCwd, target, perm, 0), "chmod", target);
        }
    }

    private static string Quote(string? s) => s is null ? "NULL" : "\"" + s + "\"";

    private static string MountErrorDetail(string? source, string? fstype, ulong flags, string? data, string dest)
        => (flags & MS_REMOUNT) != 0 ? $"{dest} (remount {MountOptions.OptionString(flags & ~MS_REMOUNT, data)})"
         : source is null && (flags & PropagationMask) != 0 ? $"{dest} (make-{MountOptions.PropagationName(flags & (PropagationMask | MS_REC))})"
         : $"{source ?? fstype} to {dest}";

    /// <summary>The mount(8) line that does what mount(2) with these arguments does.</summary>
    internal static string MountShellLine(string? source, string? fstype, ulong flags, string? data, string shellDest)
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
