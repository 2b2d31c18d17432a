using Cnr.Linux;
using Cnr.Plan;
using Cnr.Rootfs;
using Cnr.Spec;
using static Cnr.Linux.Libc;

namespace Cnr.Devices;

/// <summary>The device nodes of the container's /dev (a fresh tmpfs from the spec's mounts): the defaults every
/// container gets, then linux.devices, then the /dev symlinks programs expect.</summary>
internal static class DeviceNodes
{
    /// <summary>runc's default devices: what a shell and most programs open without asking.</summary>
    public static readonly LinuxDevice[] Defaults =
    [
        new() { Path = "/dev/null", Type = "c", Major = 1, Minor = 3, FileMode = 0x1b6 },
        new() { Path = "/dev/zero", Type = "c", Major = 1, Minor = 5, FileMode = 0x1b6 },
        new() { Path = "/dev/full", Type = "c", Major = 1, Minor = 7, FileMode = 0x1b6 },
        new() { Path = "/dev/random", Type = "c", Major = 1, Minor = 8, FileMode = 0x1b6 },
        new() { Path = "/dev/urandom", Type = "c", Major = 1, Minor = 9, FileMode = 0x1b6 },
        new() { Path = "/dev/tty", Type = "c", Major = 5, Minor = 0, FileMode = 0x1b6 },
    ];

    /// <summary>The device list a container gets: the defaults, minus those linux.devices redefines, then
    /// linux.devices in order.</summary>
    public static IEnumerable<LinuxDevice> All(List<LinuxDevice>? configured)
    {
        foreach (var d in Defaults)
            if (configured is null || !configured.Exists(c => InRoot.Clean(c.Path) == d.Path)) yield return d;
        if (configured is not null) foreach (var d in configured) yield return d;
    }

    /// <summary>Creates each device with mknod, or, where the kernel forbids that (a user namespace: EPERM),
    /// as an empty file with the host's device bind-mounted onto it, as runc does.</summary>
    public static void Create(InRoot root, IEnumerable<DeviceNode> devices)
    {
        bool canMknod = true;
        foreach (var d in devices)
        {
            string path = d.Path;
            uint type = d.Mode & S_IFMT, perm = d.Mode & 0xfff;
            // The validator keeps devices under /dev: the path always names a file in a directory.
            string dir = InRoot.Clean(path + "/..");
            string name = path[(path.LastIndexOf('/') + 1)..];
            using var parent = root.OpenOrCreate(dir, directory: true);
            var errno = canMknod || type == S_IFIFO ? Sys.TryMknodAt(parent, name, d, root.Shell(d.Path)) : Error.EPERM;
            if (errno == Error.EEXIST && !IsDevice(parent, name, type, d.Major, d.Minor))
            {
                // What the image has there (a symlink to a host file, another device) is not what the config asks
                // for; left standing, it would be what the runtime and the process use as this device.
                Errno.Check(StatMode(parent, name, AT_SYMLINK_NOFOLLOW, out var mode), "stat", path);
                InRoot.Unlink(parent, name, path, mode);
                errno = canMknod || type == S_IFIFO ? Sys.TryMknodAt(parent, name, d, root.Shell(d.Path)) : Error.EPERM;
            }
            if (errno == Error.EPERM && type != S_IFIFO)
            {
                canMknod = false;
                BindHostDevice(root, parent, name, d);
            }
            else if (errno == 0)
            {
                // mknod's mode went through the umask; the spec's fileMode is the final one.
                Errno.Check(fchmodat(parent, name, perm, 0), "chmod", path);
                if (d.Uid != 0 || d.Gid != 0)
                    Errno.Check(fchownat(parent, name, d.Uid, d.Gid, AT_SYMLINK_NOFOLLOW), "chown", path);
            }
            else if (errno != Error.EEXIST) throw new SyscallException("mknod", errno, path);
        }
    }

    /// <summary>The host's node of the same path, checked to be the device the config names, bound through its fd
    /// onto a plain file: the host path is the container path, since before pivot_root the host's /dev is
    /// still "/dev".</summary>
    private static void BindHostDevice(InRoot root, SafeFd parent, string name, DeviceNode d)
    {
        string path = d.Path;
        using var source = OpenDevice(path, d.Mode & S_IFMT, d.Major, d.Minor) ?? throw new InvalidOperationException(
            $"device {path}: the host's {path} is not {d.TypeLetter} {d.Major}:{d.Minor}, and in a user namespace the container's node can only be the host's, bound");
        using var target = InRoot.ReplaceWithFile(parent, name, path);
        Sys.Mount(ProcFs.SelfFd(source), root.PathOf(target), null, MS_BIND, null, path, root.Shell(path), shownSource: path);
    }

    /// <summary>The host's device node at <paramref name="path"/> (before pivot_root), if it is the device asked
    /// for; null if it is something else.</summary>
    private static SafeFd? OpenDevice(string path, uint type, uint major, uint minor)
    {
        var fd = SafeFd.Check(open(path, O_PATH | O_CLOEXEC, 0), "open", path);
        if (IsDevice(fd, "", type, major, minor)) return fd;
        fd.Dispose();
        return null;
    }

    /// <summary>Whether dirfd/name (not followed if a symlink) is a device of this type and number; a fifo has no number.</summary>
    internal static bool IsDevice(SafeFd dirfd, string name, uint type, uint major, uint minor)
        => StatX(dirfd, name, AT_SYMLINK_NOFOLLOW, out var st) == 0 && (st.Mode & S_IFMT) == type
           && (type == S_IFIFO || (st.RdevMajor, st.RdevMinor) == (major, minor));

    /// <summary>/dev/fd, stdin, stdout, stderr, ptmx (the devpts instance's own, so each container has its own
    /// pty numbering) and, when /proc is mounted, core.</summary>
    public static void Symlinks(InRoot root, bool procMounted)
    {
        using var dev = root.OpenOrCreate("/dev", directory: true);
        Symlink(root, dev, "/proc/self/fd", "fd");
        Symlink(root, dev, "/proc/self/fd/0", "stdin");
        Symlink(root, dev, "/proc/self/fd/1", "stdout");
        Symlink(root, dev, "/proc/self/fd/2", "stderr");
        Symlink(root, dev, "pts/ptmx", "ptmx");
        if (procMounted) Symlink(root, dev, "/proc/kcore", "core");
    }

    private static void Symlink(InRoot root, SafeFd dev, string target, string name)
        => Sys.SymlinkAt(target, dev, name, "/dev/" + name, root.Shell("/dev/" + name));
}
