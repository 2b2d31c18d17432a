using Cnr.Diagnostics;
using Cnr.Linux;
using Cnr.Plan;
using static Cnr.Linux.Libc;

namespace Cnr.Rootfs;

/// <summary>config.json mounts[], one at a time and in order, onto destinations resolved inside the rootfs.</summary>
internal static class SpecMounts
{
    /// <summary>Mounts <paramref name="m"/>. A relative bind source is resolved by the kernel against the working
    /// directory, which `cnr init` keeps at the bundle directory, as the spec wants ("relative to the bundle").</summary>
    public static void Apply(InRoot root, MountStep m)
    {
        try { ApplyUnwrapped(root, m); }
        catch (SyscallException e)
        {
            // Every failure names the config entry (mounts[i]); one to resolve or create the destination also
            // says what was being mounted where.
            var what = e.Call is "mount" or "mount_setattr" ? e
                : new SyscallException("mount", e.Number, $"{m.Source} to {m.Destination} ({e.Call})");
            throw what.At($"mounts[{m.Index}]");
        }
    }

    private static void ApplyUnwrapped(InRoot root, MountStep m)
    {
        var (index, dest, type, o) = (m.Index, m.Destination, m.Type, m.Options);
        // A source from the parent is the init's until execve (Init.ReceiveBindSources): borrowed here.
        if (m.Kind == MountKind.Bind) Bind(root, m.Source, dest, o, index, m.SourceFd >= 0 ? SafeFd.Borrow(m.SourceFd) : null);
        else if (m.Kind == MountKind.Cgroup) Cgroup(root, dest, type, o, index);
        else
        {
            using var target = type is "proc" or "sysfs" ? OrdinaryDirectory(root, dest, type, index) : root.OpenOrCreate(dest, directory: true);
            string source = m.Source;
            // A read-only tmpfs is filled first, then made read-only; so is /dev, which gets its devices,
            // /dev/pts and the rest first (RootfsSetup.Finish makes it read-only, as runc's finalizeRootfs).
            bool copyUp = o.TmpCopyUp && type == "tmpfs";
            ulong flags = copyUp || IsReadonlyDev(m) ? o.Flags & ~MS_RDONLY : o.Flags;
            var rc = Sys.TryMount(source, root.PathOf(target), type, flags, o.Data, dest, root.Shell(dest));
            if (rc == Error.EPERM && type == "sysfs")
            {
                // A user namespace that does not own the network namespace may not mount sysfs: show the
                // host's read-only instead, as runc does, its submounts included (rro).
                Log.Debug($"mounts[{index}]: sysfs on {dest}: EPERM, bind-mounting the host's /sys read-only instead");
                Bind(root, "/sys", dest, HostSysfs, index);
                return;
            }
            // The kernel says only EINVAL when a filesystem does not take one of its options: name them.
            if (rc == Error.EINVAL && o.Data is { Length: > 0 } data)
                throw new MountFailedException($"mounts[{index}]: mount {source} to {dest}: EINVAL: {type} refused the options passed to it as data, \"{data}\" "
                    + $"(options that are not mount flags go to the filesystem as they are: fix or remove the one {type} does not take; see its manual for its options)");
            if (rc != 0) throw Sys.MountError(rc, source, type, flags, o.Data, dest);
            if (copyUp)
            {
                using var top = root.Open(dest);
                Sys.CopyUp(target, top, dest, root.Shell(dest));
                if (flags != o.Flags) Sys.Mount(null, root.PathOf(top), type, o.Flags | MS_REMOUNT, o.Data, dest, root.Shell(dest));
            }
            Finish(root, dest, o);
        }
    }

    /// <summary>The destination of a procfs or sysfs mount, which must be a plain directory of the rootfs with no
    /// symlink on the way (runc's rule): the masked and read-only paths under /proc and /sys are resolved in the
    /// container later, and a symlink of the image would have procfs land elsewhere and leave them unmasked.</summary>
    private static SafeFd OrdinaryDirectory(InRoot root, string dest, string type, int index)
    {
        var fd = root.OpenNoSymlinks(dest, O_DIRECTORY);
        if (fd.IsInvalid && Errno.Last == Error.ENOENT)
        {
            // Every component that exists is a plain directory: create the rest, then look again.
            root.OpenOrCreate(dest, directory: true).Dispose();
            fd = root.OpenNoSymlinks(dest, O_DIRECTORY);
        }
        if (!fd.IsInvalid) return fd;
        var errno = Errno.Last;
        if (errno != Error.ELOOP && errno != Error.ENOTDIR) throw new SyscallException("openat2", errno, dest);
        string problem = errno == Error.ENOTDIR ? "is not a directory"
            : IsPlainDirectory(root, InRoot.Clean(dest + "/..")) ? "is a symlink" : "is under a symlink";
        throw new InvalidOperationException(
            $"mounts[{index}]: {type} on {dest}: {dest} in the rootfs {problem}; procfs and sysfs must be mounted on an ordinary directory");
    }

    private static bool IsPlainDirectory(InRoot root, string path)
    {
        using var fd = root.OpenNoSymlinks(path, O_DIRECTORY);
        return !fd.IsInvalid;
    }

    /// <summary>For an init in a user namespace started by root: every bind's source will come from the parent
    /// (<see cref="CloneSourcesIn"/>) as a message after the plan, in mounts order.</summary>
    public static bool MarkSourcesFromParent(RootfsPlan plan)
    {
        bool any = false;
        foreach (var m in plan.Mounts)
            if (m.Kind == MountKind.Bind) { m.SourceFd = MountStep.FromParent; any = true; }
        return any;
    }

    /// <summary>In the parent, for an init in a user namespace: each bind source cloned as a detached mount
    /// (open_tree, OPEN_TREE_CLONE) with the host root's reach — a source under a directory only the host's root
    /// may search (0700) is out of the user namespace's reach by path — but inside the container's own mount
    /// namespace <paramref name="mountNsFd"/>, as runc opens its mount sources after a setns there: that namespace
    /// is the kernel's copy of the host's for the user namespace, with the host mounts' ro/nosuid/nodev/noexec/
    /// atime flags locked, and the clone keeps the locks (a clone made in the host's namespace has none, and the
    /// container's root could remount it rw, suid or dev). The clones are made slaves, as the bind of a path under
    /// the init's rslave "/" would be: nothing mounted in the container goes back to the host through them.
    /// Returns them in mounts order, for the bind steps <see cref="MarkSourcesFromParent"/> marked.</summary>
    public static List<SafeFd> CloneSourcesIn(int mountNsFd, RootfsPlan plan, string bundle)
    {
        var binds = plan.Mounts.Where(m => m.SourceFd == MountStep.FromParent).ToList();
        var sources = binds.Select(m => (Path.GetFullPath(Path.IsPathRooted(m.Source) ? m.Source : Path.Join(bundle, m.Source)),
            OPEN_TREE_CLONE | (uint)O_CLOEXEC | ((m.Options.Flags & MS_REC) != 0 ? AT_RECURSIVE : 0))).ToList();
        var (clones, errno, failed) = Process.NativeSpawn.CloneInMountNamespace(mountNsFd, sources);
        if (clones is null)
        {
            if (failed < 0) throw new SyscallException("setns", errno, "the container's mount namespace (to clone its bind sources)");
            var m = binds[failed];
            throw new SyscallException("mount", errno, $"{m.Source} to {m.Destination} (mounts[{m.Index}].source)").At($"mounts[{m.Index}]");
        }
        var fds = clones.ToList();
        try
        {
            for (int i = 0; i < binds.Count; i++)
                if (mount_setattr(fds[i], AT_RECURSIVE, new MountAttr { Propagation = MS_SLAVE }) < 0)
                    throw new SyscallException("mount_setattr", Errno.Last, $"{binds[i].Source} (mounts[{binds[i].Index}].source, made a slave)").At($"mounts[{binds[i].Index}]");
            return fds;
        }
        catch
        {
            foreach (var fd in fds) fd.Dispose();
            throw;
        }
    }

    /// <summary>mount --bind, then the remount that applies ro/nosuid/… (the kernel ignores them on the bind
    /// itself), then propagation and recursive attributes. <paramref name="sourceFd"/>: the source as the
    /// parent cloned it (<see cref="CloneSourcesIn"/>), attached instead of bound by path.</summary>
    public static void Bind(InRoot root, string source, string dest, ParsedMountOptions o, int index, SafeFd? sourceFd = null)
    {
        int rc = sourceFd is not null ? StatMode(sourceFd, "", 0, out var mode) : StatMode(SafeFd.AtCwd, source, 0, out mode);
        if (rc < 0) throw new SyscallException("mount", Errno.Last, $"{source} to {dest} (mounts[{index}].source)");
        // Relative to the bundle (the working directory now): made absolute, since the mount itself runs with the
        // working directory in the runtime's procfs to resolve the target's fd (ProcFs.WithPaths).
        string kernelSource = source.StartsWith('/') ? source : Path.Join(Environment.CurrentDirectory, source);
        using (var target = root.OpenOrCreate(dest, directory: (mode & S_IFMT) == S_IFDIR))
        {
            if (sourceFd is not null) Sys.MoveMount(sourceFd, target, source, o.Flags & (MS_BIND | MS_REC), dest, root.Shell(dest));
            else Sys.Mount(kernelSource, root.PathOf(target), null, o.Flags & (MS_BIND | MS_REC), null, dest, root.Shell(dest), shownSource: source);
        }
        if ((o.Flags & ~(MS_BIND | MS_REC | MS_REMOUNT)) != 0 || o.ClearFlags != 0)
        {
            using var top = root.Open(dest);
            ulong flags = Mounter.RemountFlags(o.Flags, o.ClearFlags, Mounter.LockedFlags(top, dest));
            Sys.Mount(null, root.PathOf(top), null, flags, null, dest, root.Shell(dest));
        }
        Finish(root, dest, o);
    }

    /// <summary>"cgroup" means the container's view of the cgroup tree. This mounts cgroup2: inside a cgroup
    /// namespace it shows the container's own cgroup, and unlike v1 it needs no per-controller mounts. Where
    /// the kernel refuses (a user namespace without its own cgroup namespace), the host's cgroup2 mount is
    /// bound in with the same flags; without one, the mount is skipped with a warning.</summary>
    private static void Cgroup(InRoot root, string dest, string type, ParsedMountOptions o, int index)
    {
        using (var target = root.OpenOrCreate(dest, directory: true))
        {
            // v1 option words (controller names) mean nothing to cgroup2.
            var rc = Sys.TryMount("cgroup2", root.PathOf(target), "cgroup2", o.Flags, type == "cgroup2" ? o.Data : null, dest, root.Shell(dest));
            if (rc == 0) { Finish(root, dest, o); return; }
            if (HostCgroup2() is { } host)
            {
                Log.Debug($"mounts[{index}]: cgroup2 on {dest}: {Errno.Name(rc)}, bind-mounting the host's {host} instead");
                Bind(root, host, dest, o with { Flags = o.Flags | MS_BIND | MS_REC, Data = null }, index);
                return;
            }
            Log.Warn($"mounts[{index}]: cannot mount cgroup2 on {dest} ({Errno.Name(rc)}) and the host has no cgroup2 mount to bind; {dest} is left empty");
        }
    }

    private static string? HostCgroup2()
    {
        foreach (var p in (ReadOnlySpan<string>)["/sys/fs/cgroup", "/sys/fs/cgroup/unified"])
        {
            using var fd = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
            if (!fd.IsInvalid && FsFlags(fd, out var magic, out _) == 0 && magic == CGROUP2_SUPER_MAGIC) return p;
        }
        return null;
    }

    /// <summary>rbind,nosuid,nodev,noexec,ro,rro: the host's /sys as runc shows it where sysfs cannot be mounted.</summary>
    private static readonly ParsedMountOptions HostSysfs = new(MS_BIND | MS_REC | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, 0, [], null,
        MOUNT_ATTR_RDONLY, 0, TmpCopyUp: false);

    /// <summary>A mount of /dev itself (not a bind) that asks to be read-only.</summary>
    public static bool IsReadonlyDev(MountStep m) => m.Destination == "/dev" && m.Kind != MountKind.Bind && (m.Options.Flags & MS_RDONLY) != 0;

    /// <summary>Propagation words and recursive attributes, on the mount now at dest (not the fd beneath it).</summary>
    private static void Finish(InRoot root, string dest, ParsedMountOptions o)
    {
        if (o.Propagation.Length == 0 && o.RecursiveSet == 0 && o.RecursiveClear == 0) return;
        using var top = root.Open(dest);
        foreach (var p in o.Propagation)
            Sys.Mount(null, root.PathOf(top), null, p, null, dest, root.Shell(dest));
        if (o.RecursiveSet != 0 || o.RecursiveClear != 0)
            Sys.MountSetAttrRecursive(top, o.RecursiveSet, o.RecursiveClear, dest, root.Shell(dest));
    }
}

/// <summary>A config.json mount that failed: the message names mounts[i] for the user.</summary>
internal sealed class MountFailedException(string message) : Exception(message);
