using Cnr.Devices;
using Cnr.Diagnostics;
using Cnr.Linux;
using Cnr.Plan;
using static Cnr.Linux.Libc;

namespace Cnr.Rootfs;

/// <summary>The container's filesystem, built by `cnr init` inside the container's mount namespace:
/// <see cref="Prepare"/> (mounts and devices, before pivot_root) → <see cref="EnterRoot"/> → optionally
/// <see cref="BindConsole"/> → <see cref="Finish"/> (masked and read-only paths, read-only root).</summary>
public static class RootfsSetup
{
    /// <summary>Before pivot_root, in the container's mount namespace. The working directory must be the bundle
    /// (relative bind sources resolve there).</summary>
    public static void Prepare(RootfsPlan plan)
    {
        string rootfs = plan.Path;
        ulong configured = plan.Propagation;
        if (plan.SharedMountNamespace)
        {
            // The caller's mount namespace: its "/" is not ours to change. Everything goes onto a bind of the rootfs
            // made a slave at once, so that nothing mounted on it reaches the host's other mounts, and `delete`
            // removes it all by detaching that one bind (Unmount).
            Sys.Mount(rootfs, rootfs, null, MS_BIND | MS_REC, null, rootfs, rootfs);
            Sys.Mount(null, rootfs, null, MS_SLAVE | MS_REC, null, rootfs, rootfs);
        }
        else
        {
            // Nothing mounted from here on may reach the host: by default "/" becomes a slave of the host (host
        // mounts still appear, ours never go back), or whatever linux.rootfsPropagation asks for. Unbindable
        // waits for Finish: the rootfs could not be bound onto itself below an unbindable "/" (EINVAL).
            bool now = configured != 0 && (configured & MS_UNBINDABLE) == 0;
            Sys.Mount(null, "/", null, now ? configured : MS_SLAVE | MS_REC, null, "/", "/");
            if ((configured & MS_SHARED) != 0) MakeParentMountPrivate(rootfs);

            // pivot_root needs the new root to be a mount point; binding it onto itself makes one.
            Sys.Mount(rootfs, rootfs, null, MS_BIND | MS_REC, null, rootfs, rootfs);
        }

        using var root = new InRoot(rootfs, rootfs);
        foreach (var step in plan.Mounts) SpecMounts.Apply(root, step);

        if (plan.MakeDevices)
        {
            DeviceNodes.Create(root, plan.Devices);
            DeviceNodes.Symlinks(root, plan.ProcMounted);
        }
        if (plan.Console)
        {
            using var dev = root.OpenOrCreate("/dev", directory: true);
            InRoot.ReplaceWithFile(dev, "console", "/dev/console").Dispose();
        }
    }

    /// <summary>Makes the rootfs the container's "/" (the working directory ends at the new "/").</summary>
    public static void EnterRoot(RootfsPlan plan)
    {
        string rootfs = plan.Path;
        Sys.Chdir(rootfs);
        if (plan.SharedMountNamespace)
        {
            // As runc without a mount namespace: neither pivot_root nor a move may touch the caller's mounts.
            Sys.Chroot(".", rootfs);
        }
        else if (plan.NoPivot)
        {
            // For demonstrations (`--no-pivot`, ramdisk roots where pivot_root is EINVAL): the host's root stays in
            // the mount namespace under the moved mount, and a chroot is escapable by any process that keeps
            // CAP_SYS_CHROOT (chroot into a subdirectory, then walk ".." from the old cwd). pivot_root leaves
            // nothing of the host behind to escape to.
            HideHostProcAndSys(rootfs);
            Sys.Mount(rootfs, "/", null, MS_MOVE, null, "/", "/");
            Sys.Chroot(".", rootfs);
        }
        else
        {
            // pivot_root(".", ".") stacks the old root on top of the new one at "/": no put_old directory
            // needed in the image. The old root is then detached; as a slave first, so that the unmount
            // cannot propagate back to the host even with a shared rootfsPropagation.
            Sys.PivotRoot(".", ".", rootfs);
            Sys.Mount(null, ".", null, MS_SLAVE | MS_REC, null, ".", ".");
            Sys.DetachMount(".", "old root");
        }
        Sys.Chdir("/");
    }

    /// <summary>For a container without a mount namespace, in the caller's (`delete`, or a `create` that failed):
    /// detaches what the init mounted on the rootfs, the bind of it onto itself with everything on it, down to
    /// the mount that was there before (<paramref name="mountIdBefore"/>, as statx's stx_mnt_id gave it), so
    /// that a rootfs that is itself a mount point keeps it. Bounded: a rootfs that stays put is left with a
    /// warning rather than looped on.</summary>
    public static void Unmount(string rootfs, ulong mountIdBefore)
    {
        for (int i = 0; i < 16; i++)
        {
            if (MountId(SafeFd.AtCwd, rootfs, out ulong id) < 0 || id == mountIdBefore) return;
            var errno = Sys.TryDetachMount(rootfs);
            if (errno != 0)
            {
                Log.Warn($"unmounting the container's mounts on {rootfs}: umount2: {Errno.Name(errno)}");
                return;
            }
        }
    }

    /// <summary>For --no-pivot, as runc's msMoveRoot: the host's own procfs and sysfs mounts stay in the mount
    /// namespace under the moved rootfs, and the kernel lets a new user namespace mount procfs (sysfs) wherever a
    /// whole instance is already visible in its mount namespace (mount_too_revealing): `unshare -mrpf mount -t
    /// proc` in the container would get an unmasked /proc. So every full procfs and sysfs mount outside the
    /// rootfs is detached first (as a slave, so that the unmount stays here), or covered by an empty tmpfs where
    /// it cannot be.</summary>
    private static void HideHostProcAndSys(string rootfs)
    {
        var mountInfo = ProcFs.Read("self/mountinfo") ?? throw new SyscallException("read", Errno.Last, "/proc/self/mountinfo");
        string under = rootfs.TrimEnd('/') + "/";
        foreach (var m in Inspect.Inspector.ParseMountInfo(mountInfo.Split('\n', StringSplitOptions.RemoveEmptyEntries)))
        {
            if (m.FsRoot != "/" || m.FsType is not ("proc" or "sysfs") || m.MountPoint.StartsWith(under, StringComparison.Ordinal)) continue;
            // Gone already with a mount above it (EINVAL: no longer a mount point; ENOENT: no longer there).
            var rc = Sys.TryMount(null, m.MountPoint, null, MS_SLAVE | MS_REC, null, m.MountPoint, m.MountPoint);
            if (rc is Error.EINVAL or Error.ENOENT) continue;
            if (rc != 0) throw Sys.MountError(rc, null, null, MS_SLAVE | MS_REC, null, m.MountPoint);
            var errno = Sys.TryDetachMount(m.MountPoint);
            if (errno == 0) continue;
            if (errno is not (Error.EINVAL or Error.EPERM)) throw new SyscallException("umount2", errno, $"{m.MountPoint} (the host's {m.FsType}, hidden for --no-pivot)");
            Sys.Mount("tmpfs", m.MountPoint, "tmpfs", 0, null, m.MountPoint, m.MountPoint);
        }
    }

    /// <summary>After <see cref="EnterRoot"/>: the terminal's pty slave (e.g. /dev/pts/0) becomes /dev/console,
    /// bound through the slave's own fd (checked to be a pty) onto the plain file <see cref="Prepare"/> made: no
    /// path of the container is followed to find either (CVE-2025-52565).</summary>
    public static void BindConsole(SafeFd slave, string slavePath)
    {
        if (!Terminal.Pty.IsPtySlave(slave))
            throw new InvalidOperationException($"{slavePath} is not a pty; /dev/console is bound only to the container's terminal");
        using var root = new InRoot("/", "");
        using var console = SafeFd.Check(root.OpenNoSymlinks("/dev/console", 0), "openat2", "/dev/console (made before pivot_root)");
        Sys.Mount(ProcFs.SelfFd(slave), root.PathOf(console), null, MS_BIND, null, "/dev/console", "/dev/console", shownSource: slavePath);
    }

    /// <summary>After <see cref="EnterRoot"/> and <see cref="BindConsole"/>: linux.readonlyPaths, linux.maskedPaths,
    /// root.readonly, then linux.rootfsPropagation.</summary>
    public static void Finish(RootfsPlan plan)
    {
        using (var root = new InRoot("/", ""))
        {
            // A read-only /dev was mounted writable so that its devices and submounts could be made (SpecMounts).
            if (plan.ReadonlyDev)
            {
                using var dev = root.Open("/dev");
                Sys.Mount(null, root.PathOf(dev), null, Mounter.RemountFlags(MS_RDONLY, 0, Mounter.LockedFlags(dev, "/dev")), null, "/dev", "/dev");
            }
            foreach (var p in plan.ReadonlyPaths) ReadonlyPath(root, p);
            SafeFd? devNull = null;
            try
            {
                foreach (var p in plan.MaskedPaths) MaskPath(root, p, ref devNull);
            }
            finally { devNull?.Dispose(); }
        }
        if (plan.Readonly)
        {
            using var slash = SafeFd.Check(open("/", O_PATH | O_DIRECTORY | O_CLOEXEC, 0), "open", "/");
            Sys.Mount(null, "/", null, Mounter.RemountFlags(MS_RDONLY, 0, Mounter.LockedFlags(slash, "/")), null, "/", "/");
        }
        if (plan.Propagation != 0) Sys.Mount(null, "/", null, plan.Propagation, null, "/", "/");
    }

    /// <summary>A path the container may read but not change: bound onto itself, then remounted read-only.</summary>
    private static void ReadonlyPath(InRoot root, string path)
    {
        using (var fd = root.TryOpen(path))
        {
            if (fd is null) return;
            var at = root.PathOf(fd);
            Sys.Mount(at, at, null, MS_BIND | MS_REC, null, path, path, shownSource: path);
        }
        using var top = root.Open(path);
        Sys.Mount(null, root.PathOf(top), null, Mounter.RemountFlags(MS_RDONLY, 0, Mounter.LockedFlags(top, path)), null, path, path);
    }

    /// <summary>A path the container must not see: a directory is covered by an empty read-only tmpfs, a file
    /// by the container's /dev/null, opened once with no symlink allowed and checked to be the device 1:3, then
    /// bound through that fd: an image's /dev/null could be a symlink to anything (CVE-2025-31133). (The host's
    /// cannot serve: its mount is gone from this mount namespace after pivot_root.)</summary>
    private static void MaskPath(InRoot root, string path, ref SafeFd? devNull)
    {
        using var fd = root.TryOpen(path);
        if (fd is null) return;
        Errno.Check(StatMode(fd, "", 0, out var mode), "stat", path);
        if ((mode & S_IFMT) == S_IFDIR) Sys.Mount("tmpfs", root.PathOf(fd), "tmpfs", MS_RDONLY, null, path, path);
        else
        {
            devNull ??= OpenDevNull(root, path);
            Sys.Mount(ProcFs.SelfFd(devNull), root.PathOf(fd), null, MS_BIND, null, path, path, shownSource: "/dev/null");
        }
    }

    private static SafeFd OpenDevNull(InRoot root, string maskedPath)
    {
        var fd = root.OpenNoSymlinks("/dev/null", 0);
        string what = fd.IsInvalid ? (Errno.Last == Error.ELOOP ? "a symlink" : Errno.Name(Errno.Last)) : "another file";
        if (!fd.IsInvalid && DeviceNodes.IsDevice(fd, "", S_IFCHR, 1, 3)) return fd;
        fd.Dispose();
        throw new InvalidOperationException($"linux.maskedPaths: /dev/null in the container is not the character device 1:3 ({what}), so {maskedPath} cannot be masked; let cnr make /dev (no bind mount on /dev) or give it a real /dev/null");
    }

    /// <summary>pivot_root refuses a new root whose parent mount is shared. Walks up from the rootfs to the
    /// mount it sits on (mount(2) says EINVAL for a directory that is not a mount point; "/" always is one)
    /// and makes it private.</summary>
    private static void MakeParentMountPrivate(string rootfs)
    {
        for (var dir = Path.GetDirectoryName(rootfs.TrimEnd('/')); !string.IsNullOrEmpty(dir); dir = Path.GetDirectoryName(dir))
        {
            var errno = Sys.TryMount(null, dir, null, MS_PRIVATE, null, dir, dir);
            if (errno == 0) return;
            if (errno != Error.EINVAL) throw Sys.MountError(errno, null, null, MS_PRIVATE, null, dir);
        }
    }
}
