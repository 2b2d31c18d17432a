using System.Text;
using static Cnr.Linux.Libc;
using E = Tmds.Linux.LibC;

namespace Cnr.Linux;

/// <summary>The procfs the runtime trusts. After pivot_root the path "/proc" belongs to the container: an image
/// (or a config without a proc mount) can put anything there, so the init reaches procfs only through this fd,
/// taken before pivot_root (<see cref="OpenBeforePivot"/>). Preferably a fresh procfs instance (fsopen, as
/// runc does): it belongs to the container's pid namespace, so the fd the init holds until `start` shows no host
/// process (a host /proc fd would lead to /proc/1/root of the host). Where the kernel refuses that, the host's
/// /proc: before pivot_root the init's mount namespace is still a copy of the host's, and "self" there resolves
/// to the init, whose pid the parent's pid namespace sees. Either way the fd is checked to be procfs.
/// `cnr exec`'s init gets the same on first use. Paths handed around as "/proc/self/fd/N" (<see cref="SelfFd"/>)
/// are resolved here, never by "/proc".</summary>
internal static class ProcFs
{
    private const string SelfFdPrefix = "/proc/self/fd/";
    private static SafeFd? _root;

    /// <summary>The container's init, first thing, while "/proc" is still the host's.</summary>
    public static void OpenBeforePivot() => _ = Root;

    private static SafeFd Root => _root ??= OpenProcFs();

    private static unsafe SafeFd OpenProcFs()
    {
        int fs;
        fixed (byte* name = "proc\0"u8) fs = (int)syscall(SYS_fsopen, (nint)name, FSOPEN_CLOEXEC, 0, 0, 0, 0);
        if (fs >= 0)
        {
            using var config = new SafeFd(fs);
            if (syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, 0, 0, 0, 0) == 0)
            {
                int mnt = (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, 0, 0, 0, 0);
                if (mnt >= 0) return Checked(mnt, "fsmount(proc)");
            }
        }
        return Checked(open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC, 0), "/proc");
    }

    private static SafeFd Checked(int fd, string what)
    {
        var handle = SafeFd.Check(fd, "open", what);
        Errno.Check(FsFlags(handle.Fd, out long magic, out _), "statfs", what);
        if (magic != PROC_SUPER_MAGIC)
        {
            handle.Dispose();
            throw new InvalidOperationException($"{what} is not procfs (statfs magic 0x{magic:x}): cnr needs the host's /proc mounted");
        }
        return handle;
    }

    /// <summary>"/proc/self/fd/N": how an fd is named for mount(2) and friends, which take paths. Only the calls
    /// in this class resolve it (through the trusted procfs).</summary>
    public static string SelfFd(int fd) => SelfFdPrefix + fd.ToString();

    private static bool IsSelfFd(string? path) => path is not null && path.StartsWith(SelfFdPrefix, StringComparison.Ordinal);

    /// <summary>Runs a call on up to two paths; those that are <see cref="SelfFd"/> names are resolved through the
    /// trusted procfs: the call runs with the working directory there and gets "self/fd/N", and the working
    /// directory is restored afterwards. Other paths must then be absolute. Returns the call's errno (0: done).</summary>
    public static int WithPaths(string? a, string? b, Func<string?, string?, int> call)
    {
        bool ra = IsSelfFd(a), rb = IsSelfFd(b);
        if (!ra && !rb) return call(a, b);
        using var cwd = SafeFd.Check(open(".", O_PATH | O_DIRECTORY | O_CLOEXEC, 0), "open", "working directory");
        Errno.Check(fchdir(Root.Fd), "fchdir", "procfs");
        try { return call(ra ? Relative(a!) : a, rb ? Relative(b!) : b); }
        finally { Errno.Check(fchdir(cwd.Fd), "fchdir", "working directory"); }
    }

    private static string Relative(string selfFd) => selfFd["/proc/".Length..];

    /// <summary>openat in the trusted procfs: <paramref name="path"/> is relative to its root ("self/fd/3",
    /// "sys/net/ipv4/ip_forward"). Magic links (self/fd/N) are followed, as the caller means them to be.</summary>
    public static int Open(string path, int flags) => openat(Root.Fd, path, flags | O_CLOEXEC, 0);

    /// <summary>readlink of self/fd/N: where an fd is, as a path of the caller's root; null if unreadable.</summary>
    public static string? FdTarget(int fd) => Link("self/fd/" + fd.ToString());

    /// <summary>readlink of a link under procfs's root ("PID/fd/1"); null if unreadable.</summary>
    public static unsafe string? Link(string path)
    {
        byte* buf = stackalloc byte[4096];
        nint n = readlinkat(Root.Fd, path, buf, 4096);
        return n < 0 ? null : Encoding.UTF8.GetString(buf, (int)n);
    }

    /// <summary>Writes a procfs file (sysctl, oom_score_adj): <paramref name="path"/> under procfs's root, with
    /// nothing on the way that leaves it ("self" is an ordinary link to the pid, and stays inside).</summary>
    public static unsafe void Write(string path, string text)
    {
        int fd = openat2(Root.Fd, path, O_WRONLY | O_CLOEXEC, RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV);
        using var file = SafeFd.Check(fd, "open", "/proc/" + path);
        var bytes = Encoding.ASCII.GetBytes(text);
        fixed (byte* p = bytes)
            if (write(file.Fd, p, bytes.Length) != bytes.Length)
                throw new SyscallException("write", Errno.Last, $"`{text}` to /proc/{path}");
    }

    /// <summary>Writes an LSM attr file of the calling thread ("thread-self/attr/…"), or <paramref name="fallback"/>
    /// where the kernel has no <paramref name="path"/> (ENOENT). Besides resolving beneath procfs's root and on
    /// its mount only, the opened file is checked to be procfs: the label must reach the kernel, nothing else.</summary>
    public static unsafe void WriteAttr(string path, string? fallback, string text)
    {
        const ulong how = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;
        int fd = openat2(Root.Fd, path, O_WRONLY | O_CLOEXEC, how);
        if (fd < 0 && Errno.Last == E.ENOENT && fallback is not null) fd = openat2(Root.Fd, path = fallback, O_WRONLY | O_CLOEXEC, how);
        using var file = SafeFd.Check(fd, "open", "/proc/" + path);
        Errno.Check(FsFlags(file.Fd, out long magic, out _), "statfs", "/proc/" + path);
        if (magic != PROC_SUPER_MAGIC)
            throw new InvalidOperationException($"/proc/{path} is not procfs (statfs magic 0x{magic:x}): refusing to write the LSM label there");
        var bytes = Encoding.UTF8.GetBytes(text);
        fixed (byte* p = bytes)
            if (write(file.Fd, p, bytes.Length) != bytes.Length)
                throw new SyscallException("write", Errno.Last, $"`{text}` to /proc/{path}");
    }

    /// <summary>A small procfs file's text, or null where it cannot be read.</summary>
    public static unsafe string? Read(string path)
    {
        int fd = openat2(Root.Fd, path, O_RDONLY | O_CLOEXEC, RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV);
        if (fd < 0) return null;
        using var file = new SafeFd(fd);
        byte* buf = stackalloc byte[4096];
        nint n = read(fd, buf, 4096);
        return n < 0 ? null : Encoding.UTF8.GetString(buf, (int)n);
    }

    /// <summary>The numbers of this process's open fds (self/fd), listed with getdents64.</summary>
    public static unsafe List<int> OpenFds()
    {
        using var dir = SafeFd.Check(Open("self/fd", O_RDONLY | O_DIRECTORY), "open", "/proc/self/fd");
        var fds = new List<int>();
        byte* buf = stackalloc byte[4096];
        for (long n; (n = syscall(SYS_getdents64, dir.Fd, (nint)buf, 4096, 0, 0, 0)) != 0;)
        {
            if (n < 0) throw new SyscallException("getdents64", Errno.Last, "/proc/self/fd");
            // struct linux_dirent64: d_ino 8, d_off 8, d_reclen 2, d_type 1, then the NUL-terminated name.
            for (long off = 0; off < n; off += *(ushort*)(buf + off + 16))
                if (int.TryParse(new string((sbyte*)(buf + off + 19)), out int fd)) fds.Add(fd);
        }
        return fds;
    }
}
