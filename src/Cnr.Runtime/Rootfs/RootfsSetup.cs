using Cnr.Devices;
using Cnr.Diagnostics;
using Cnr.Linux;
using Cnr.Spec;
using static Cnr.Linux.Libc;
using E = Tmds.Linux.LibC;

namespace Cnr.Rootfs;

/// <summary>The container's filesystem, built by `cnr init` inside the container's mount namespace:
/// <see cref="Prepare"/> (mounts and devices, before pivot_root) → <see cref="EnterRoot"/> → optionally
/// <see cref="BindConsole"/> → <see cref="Finish"/> (masked and read-only paths, read-only root).</summary>
public static class RootfsSetup
{
    /// <summary>Before pivot_root, in the container's mount namespace. <paramref name="rootfs"/> is the absolute
    /// host path of root.path; the working directory must be the bundle (relative bind sources resolve there).</summary>
    public static void Prepare(RuntimeSpec spec, string rootfs)
    {
        ulong? configured = RootPropagation(spec);
        // Nothing mounted from here on may reach the host: by default "/" becomes a slave of the host (host
        // mounts still appear, ours never go back), or whatever linux.rootfsPropagation asks for.
        Mounter.Mount(null, "/", null, configured ?? (MS_SLAVE | MS_REC), null, "/", "/");
        if (configured is { } p && (p & MS_SHARED) != 0) MakeParentMountPrivate(rootfs);

        // pivot_root needs the new root to be a mount point; binding it onto itself makes one.
        Mounter.Mount(rootfs, rootfs, null, MS_BIND | MS_REC, null, rootfs, rootfs);

        using var root = new InRoot(rootfs, rootfs);
        var mounts = spec.Mounts ?? [];
        for (int i = 0; i < mounts.Count; i++) SpecMounts.Apply(root, mounts[i], i);

        // A /dev bound from the host already has its devices (runc's rule).
        if (!mounts.Exists(m => InRoot.Clean(m.Destination) == "/dev" && (m.Type == "bind" || MountOptions.Parse(m.Options).IsBind)))
        {
            DeviceNodes.Create(root, DeviceNodes.All(spec.Linux?.Devices));
            DeviceNodes.Symlinks(root, procMounted: mounts.Exists(m => m.Type == "proc"));
        }
        if (spec.Process?.Terminal == true)
            root.OpenOrCreate("/dev/console", directory: false).Dispose();
    }

    /// <summary>Makes the rootfs the container's "/" (the working directory ends at the new "/").</summary>
    public static void EnterRoot(string rootfs, bool noPivot)
    {
        Chdir(rootfs);
        if (noPivot)
        {
            // For demonstrations (`--no-pivot`, ramdisk roots where pivot_root is EINVAL): the host's root stays in
            // the mount namespace under the moved mount, and a chroot is escapable by any process that keeps
            // CAP_SYS_CHROOT (chroot into a subdirectory, then walk ".." from the old cwd). pivot_root leaves
            // nothing of the host behind to escape to.
            Mounter.Mount(rootfs, "/", null, MS_MOVE, null, "/", "/");
            if (Steps.On) Steps.Report("pivot_root", "chroot(\".\")", "chroot .");
            Errno.Check(chroot("."), "chroot", rootfs);
        }
        else
        {
            // pivot_root(".", ".") stacks the old root on top of the new one at "/": no put_old directory
            // needed in the image. The old root is then detached; as a slave first, so that the unmount
            // cannot propagate back to the host even with a shared rootfsPropagation.
            if (Steps.On) Steps.Report("pivot_root", "pivot_root(\".\", \".\")", "pivot_root . .");
            Errno.Check(pivot_root(".", "."), "pivot_root", rootfs);
            Mounter.Mount(null, ".", null, MS_SLAVE | MS_REC, null, ".", ".");
            if (Steps.On) Steps.Report("mount", "umount2(\".\", MNT_DETACH)", "umount -l .");
            Errno.Check(umount2(".", MNT_DETACH), "umount2", "old root");
        }
        Chdir("/");
    }

    /// <summary>After <see cref="EnterRoot"/>: the terminal's pty slave (e.g. /dev/pts/0) becomes /dev/console.</summary>
    public static void BindConsole(string slavePath)
    {
        using var root = new InRoot("/", "");
        using var console = root.OpenOrCreate("/dev/console", directory: false);
        Mounter.Mount(slavePath, root.PathOf(console, "/dev/console"), null, MS_BIND, null, "/dev/console", "/dev/console");
    }

    /// <summary>After <see cref="EnterRoot"/> and <see cref="BindConsole"/>: linux.readonlyPaths, linux.maskedPaths,
    /// root.readonly, then linux.rootfsPropagation.</summary>
    public static void Finish(RuntimeSpec spec)
    {
        using (var root = new InRoot("/", ""))
        {
            foreach (var p in spec.Linux?.ReadonlyPaths ?? []) ReadonlyPath(root, InRoot.Clean(p));
            foreach (var p in spec.Linux?.MaskedPaths ?? []) MaskPath(root, InRoot.Clean(p));
        }
        if (spec.Root?.Readonly == true)
        {
            using var slash = SafeFd.Check(open("/", O_PATH | O_DIRECTORY | O_CLOEXEC, 0), "open", "/");
            Mounter.Mount(null, "/", null, Mounter.RemountFlags(MS_RDONLY, 0, Mounter.LockedFlags(slash, "/")), null, "/", "/");
        }
        if (RootPropagation(spec) is { } p2) Mounter.Mount(null, "/", null, p2, null, "/", "/");
    }

    /// <summary>A path the container may read but not change: bound onto itself, then remounted read-only.</summary>
    private static void ReadonlyPath(InRoot root, string path)
    {
        using (var fd = root.TryOpen(path))
        {
            if (fd is null) return;
            var at = root.PathOf(fd, path);
            Mounter.Mount(at, at, null, MS_BIND | MS_REC, null, path, path, shownSource: path);
        }
        using var top = root.Open(path);
        Mounter.Mount(null, root.PathOf(top, path), null, Mounter.RemountFlags(MS_RDONLY, 0, Mounter.LockedFlags(top, path)), null, path, path);
    }

    /// <summary>A path the container must not see: a directory is covered by an empty read-only tmpfs, a file
    /// by /dev/null.</summary>
    private static void MaskPath(InRoot root, string path)
    {
        using var fd = root.TryOpen(path);
        if (fd is null) return;
        Errno.Check(StatMode(fd.Fd, "", 0, out var mode), "stat", path);
        if ((mode & S_IFMT) == S_IFDIR) Mounter.Mount("tmpfs", root.PathOf(fd, path), "tmpfs", MS_RDONLY, null, path, path);
        else Mounter.Mount("/dev/null", root.PathOf(fd, path), null, MS_BIND, null, path, path);
    }

    private static ulong? RootPropagation(RuntimeSpec spec)
        => spec.Linux?.RootfsPropagation is { Length: > 0 } word
            ? MountOptions.Propagation(word) ?? throw new ArgumentException(
                $"linux.rootfsPropagation: \"{word}\" is not a propagation mode (private, rprivate, shared, rshared, slave, rslave, unbindable, runbindable)")
            : null;

    /// <summary>pivot_root refuses a new root whose parent mount is shared. Walks up from the rootfs to the
    /// mount it sits on (mount(2) says EINVAL for a directory that is not a mount point; "/" always is one)
    /// and makes it private.</summary>
    private static void MakeParentMountPrivate(string rootfs)
    {
        for (var dir = Path.GetDirectoryName(rootfs.TrimEnd('/')); !string.IsNullOrEmpty(dir); dir = Path.GetDirectoryName(dir))
        {
            int errno = Mounter.TryMount(null, dir, null, MS_PRIVATE, null, dir, dir);
            if (errno == 0) return;
            if (errno != E.EINVAL) throw Mounter.Error(errno, null, null, MS_PRIVATE, null, dir);
        }
    }

    private static void Chdir(string path)
    {
        if (Steps.On) Steps.Report("pivot_root", $"chdir(\"{path}\")", $"cd {path}");
        Errno.Check(chdir(path), "chdir", path);
    }
}
