using System.Text;
using static Cnr.Linux.Libc;

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
        SafeFd config;
        fixed (byte* name = "proc\0"u8) config = syscall_fd(SYS_fsopen, (nint)name, FSOPEN_CLOEXEC, 0, 0, 0, 0);
        using (config)
            if (!config.IsInvalid && syscall(SYS_fsconfig, config, FSCONFIG_CMD_CREATE, 0, 0, 0, 0) == 0)
            {
                var mnt = syscall_fd(SYS_fsmount, config, FSMOUNT_CLOEXEC, 0, 0, 0, 0);
                if (!mnt.IsInvalid) return Checked(mnt, "fsmount(proc)");
            }
        return Checked(open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC, 0), "/proc");
    }

    private static SafeFd Checked(SafeFd fd, string what)
    {
        var handle = SafeFd.Check(fd, "open", what);
        Errno.Check(FsFlags(handle, out long magic, out _), "statfs", what);
        if (magic != PROC_SUPER_MAGIC)
        {
            handle.Dispose();
            throw new InvalidOperationException($"{what} is not procfs (statfs magic 0x{magic:x}): cnr needs the host's /proc mounted");
        }
        return handle;
    }

    /// <summary>"/proc/self/fd/N": how an fd is named for mount(2) and friends, which take paths. Only the calls
    /// in this class resolve it (through the trusted procfs).</summary>
    public static string SelfFd(SafeFd fd) => SelfFdPrefix + fd.Fd.ToString();

    private static bool IsSelfFd(string? path) => path is not null && path.StartsWith(SelfFdPrefix, StringComparison.Ordinal);

    /// <summary>Runs a call on up to two paths; those that are <see cref="SelfFd"/> names are resolved through the
    /// trusted procfs: the call runs with the working directory there and gets "self/fd/N", and the working
    /// directory is restored afterwards. Other paths must then be absolute. Returns the call's errno (0: done).</summary>
    public static Error WithPaths(string? a, string? b, Func<string?, string?, Error> call)
    {
        bool ra = IsSelfFd(a), rb = IsSelfFd(b);
        if (!ra && !rb) return call(a, b);
        using var cwd = SafeFd.Check(open(".", O_PATH | O_DIRECTORY | O_CLOEXEC, 0), "open", "working directory");
        Errno.Check(fchdir(Root), "fchdir", "procfs");
        try { return call(ra ? Relative(a!) : a, rb ? Relative(b!) : b); }
        finally { Errno.Check(fchdir(cwd), "fchdir", "working directory"); }
    }

    private static string Relative(string selfFd) => selfFd["/proc/".Length..];

    /// <summary>openat in the trusted procfs: <paramref name="path"/> is relative to its root ("self/fd/3",
    /// "sys/net/ipv4/ip_forward"). Magic links (self/fd/N) are followed, as the caller means them to be.</summary>
    public static SafeFd Open(string path, int flags) => openat(Root, path, flags | O_CLOEXEC, 0);

    /// <summary>readlink of self/fd/N: where an fd is, as a path of the caller's root; null if unreadable.</summary>
    public static string? FdTarget(SafeFd fd) => Link("self/fd/" + fd.Fd.ToString());

    /// <summary>readlink of a link under procfs's root ("PID/fd/1"); null if unreadable.</summary>
    public static unsafe string? Link(string path)
    {
        byte* buf = stackalloc byte[4096];
        nint n = readlinkat(Root, path, buf, 4096);
        return n < 0 ? null : Encoding.UTF8.GetString(buf, (int)n);
    }

    /// <summary>Writes a procfs file (sysctl, oom_score_adj): <paramref name="path"/> under procfs's root, with
    /// nothing on the way that leaves it ("self" is an ordinary link to the pid, and stays inside).</summary>
    public static unsafe void Write(string path, string text)
    {
        using var file = SafeFd.Check(openat2(Root, path, O_WRONLY | O_CLOEXEC, RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV),
            "open", "/proc/" + path);
        var bytes = Encoding.ASCII.GetBytes(text);
        fixed (byte* p = bytes)
            if (write(file, p, bytes.Length) != bytes.Length)
                throw new SyscallException("write", Errno.Last, $"`{text}` to /proc/{path}");
    }

    /// <summary>Writes an LSM attr file of the calling thread ("thread-self/attr/…"), or <paramref name="fallback"/>
    /// where the kernel has no <paramref name="path"/> (ENOENT). Besides resolving beneath procfs's root and on
    /// its mount only, the opened file is checked to be procfs: the label must reach the kernel, nothing else.</summary>
    public static unsafe void WriteAttr(string path, string? fallback, string text)
    {
        const ulong how = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;
        var fd = openat2(Root, path, O_WRONLY | O_CLOEXEC, how);
        if (fd.IsInvalid && Errno.Last == Error.ENOENT && fallback is not null) fd = openat2(Root, path = fallback, O_WRONLY | O_CLOEXEC, how);
        using var file = SafeFd.Check(fd, "open", "/proc/" + path);
        Errno.Check(FsFlags(file, out long magic, out _), "statfs", "/proc/" + path);
        if (magic != PROC_SUPER_MAGIC)
            throw new InvalidOperationException($"/proc/{path} is not procfs (statfs magic 0x{magic:x}): refusing to write the LSM label there");
        var bytes = Encoding.UTF8.GetBytes(text);
        fixed (byte* p = bytes)
            if (write(file, p, bytes.Length) != bytes.Length)
                throw new SyscallException("write", Errno.Last, $"`{text}` to /proc/{path}");
    }

    /// <summary>A procfs file's text, or null where it cannot be read.</summary>
    public static unsafe string? Read(string path)
    {
        using var file = openat2(Root, path, O_RDONLY | O_CLOEXEC, RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV);
        if (file.IsInvalid) return null;
        // procfs files say size 0: read to the end (mountinfo is more than a page on most hosts)
        var text = new List<byte>();
        byte* buf = stackalloc byte[4096];
        for (nint n; (n = read(file, buf, 4096)) != 0;)
        {
            if (n < 0) return null;
            text.AddRange(new ReadOnlySpan<byte>(buf, (int)n));
        }
        return Encoding.UTF8.GetString(text.ToArray());
    }

    /// <summary>The numbers of this process's open fds (self/fd), listed with getdents64.</summary>
    public static unsafe List<int> OpenFds()
    {
        using var dir = SafeFd.Check(Open("self/fd", O_RDONLY | O_DIRECTORY), "open", "/proc/self/fd");
        var fds = new List<int>();
        byte* buf = stackalloc byte[4096];
        for (long n; (n = syscall(SYS_getdents64, dir, (nint)buf, 4096, 0, 0, 0)) != 0;)
        {
            if (n < 0) throw new SyscallException("getdents64", Errno.Last, "/proc/self/fd");
            for (long off = 0; off < n; off += ((Dirent64*)(buf + off))->Reclen)
                if (int.TryParse(new string((sbyte*)(buf + off + sizeof(Dirent64))), out int fd)) fds.Add(fd);
        }
        return fds;
    }
}
