using System.Runtime.InteropServices;

namespace Cnr.Linux;

/// <summary>libc bindings: one partial class, a file per mechanism (Libc.Mount.cs, Libc.Bpf.cs, Libc.Socket.cs…).
/// The rules, after dotnet/runtime's Interop.Sys:
/// <list type="bullet">
/// <item>Every import sets errno (but close, which only <see cref="SafeFd"/> calls); callers pass the result through <see cref="Errno.Check(int,string,string?)"/>
/// or compare <see cref="Errno.Last"/> with an <see cref="Error"/> value, never with a number.</item>
/// <item>File descriptors cross as handles, as in dotnet/runtime's Interop.Open.cs/Interop.Read.cs: an import
/// that makes an fd returns a <see cref="SafeFd"/> (invalid, with errno set, on failure:
/// <c>SafeFd.Check(open(…), "open", path)</c>, or <c>using var fd = open(…); if (fd.IsInvalid) …</c>), so it is
/// owned from the moment it exists; an import that uses one takes a <see cref="SafeHandle"/>, which the
/// marshaller keeps open for the call. AT_FDCWD is <see cref="SafeFd.AtCwd"/>; an fd this process does not own
/// (0/1/2, the `--preserve-fds` ones) is <see cref="SafeFd.Borrow"/>; one that arrives as a number (SCM_RIGHTS,
/// socketpair, pipe2, a raw syscall, the init's sync socket, exec fifo and bind sources named in its argv and
/// plan) becomes a handle where it is received, <see cref="SafeFd.Own"/>. Raw syscalls that make an fd go through <see cref="syscall_fd(long, nint, nint, nint, nint, nint, nint)"/>.
/// A number (<see cref="SafeFd.Fd"/>) is used only where the fd is data, with a comment there: the native clone
/// request, the plan's inherited fds, dup2/dup3 targets, bpf_attr, SCM_RIGHTS, pollfd, "/proc/self/fd/N".</item>
/// <item>What the kernel reads or fills is a <see cref="StructLayoutAttribute"/> struct (Statx, Statfs, PollFd,
/// Msghdr…), not offsets into a buffer; bpf_attr is the one exception (Libc.Bpf.cs says why).</item>
/// <item>The SYS_* numbers and struct stat are x86_64's: the static constructor refuses any other
/// architecture, so a build for one fails at its first call instead of calling whatever has that number there.</item>
/// </list></summary>
public static unsafe partial class Libc
{
    private const string Lib = "libc";

    static Libc()
    {
        if (RuntimeInformation.ProcessArchitecture != Architecture.X64)
            throw new PlatformNotSupportedException(
                $"cnr's syscall numbers and struct layouts are x86_64's; this is {RuntimeInformation.ProcessArchitecture}");
    }

    /// <summary>Only <see cref="SafeFd"/> closes: without SetLastError, so that disposing an fd never changes the
    /// errno a caller is about to report.</summary>
    [LibraryImport(Lib)] internal static partial int close(int fd);
    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial SafeFd open(string path, int flags, int mode);
    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial SafeFd openat(SafeHandle dirfd, string path, int flags, int mode);
    [LibraryImport(Lib, SetLastError = true)] public static partial nint read(SafeHandle fd, byte* buf, nint count);
    [LibraryImport(Lib, SetLastError = true)] public static partial nint write(SafeHandle fd, byte* buf, nint count);
    [LibraryImport(Lib, SetLastError = true)] public static partial int prctl(int option, nuint arg2, nuint arg3, nuint arg4, nuint arg5);
    [LibraryImport(Lib, SetLastError = true)] public static partial int kill(int pid, int sig);
    [LibraryImport(Lib, SetLastError = true)] public static partial int waitpid(int pid, out int status, int options);
    [LibraryImport(Lib, SetLastError = true)] public static partial int getpid();
    [LibraryImport(Lib, SetLastError = true)] public static partial uint geteuid();
    [LibraryImport(Lib, SetLastError = true)] public static partial uint getegid();
    [LibraryImport(Lib, SetLastError = true)] public static partial long syscall(long number, nint a1, nint a2, nint a3, nint a4, nint a5, nint a6);
    /// <summary>syscall(2) of a call whose first argument is an fd (getdents64, fsconfig, bpf on a cgroup…).</summary>
    [LibraryImport(Lib, EntryPoint = "syscall", SetLastError = true)]
    public static partial long syscall(long number, SafeHandle fd, nint a2, nint a3, nint a4, nint a5, nint a6);
    /// <summary>syscall(2) of a call that returns a new fd (fsopen, seccomp with a listener…).</summary>
    [LibraryImport(Lib, EntryPoint = "syscall", SetLastError = true)]
    public static partial SafeFd syscall_fd(long number, nint a1, nint a2, nint a3, nint a4, nint a5, nint a6);
    /// <summary>syscall(2) of a call that takes an fd and returns a new one (openat2, fsmount…).</summary>
    [LibraryImport(Lib, EntryPoint = "syscall", SetLastError = true)]
    public static partial SafeFd syscall_fd(long number, SafeHandle fd, nint a2, nint a3, nint a4, nint a5, nint a6);
    [LibraryImport(Lib, SetLastError = true)] public static partial int socketpair(int domain, int type, int protocol, int* sv);
    [LibraryImport(Lib, SetLastError = true)] public static partial nint send(SafeHandle fd, byte* buf, nint len, int flags);
    [LibraryImport(Lib, SetLastError = true)] public static partial nint recv(SafeHandle fd, byte* buf, nint len, int flags);
    [LibraryImport(Lib, SetLastError = true)] public static partial nint sendmsg(SafeHandle fd, Msghdr* msg, int flags);
    [LibraryImport(Lib, SetLastError = true)] public static partial nint recvmsg(SafeHandle fd, Msghdr* msg, int flags);
    [LibraryImport(Lib, SetLastError = true)] public static partial int fcntl(SafeHandle fd, int cmd, int arg);
    /// <summary>fcntl(fd, F_DUPFD_CLOEXEC, lowest): a new fd numbered <paramref name="lowest"/> or above.</summary>
    public static SafeFd DupCloexec(SafeHandle fd, int lowest = 0) => fcntl_dup(fd, F_DUPFD_CLOEXEC, lowest);
    [LibraryImport(Lib, EntryPoint = "fcntl", SetLastError = true)] private static partial SafeFd fcntl_dup(SafeHandle fd, int cmd, int arg);
    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial SafeFd memfd_create(string name, uint flags);
    [LibraryImport(Lib, SetLastError = true)] public static partial nint sendfile(SafeHandle outFd, SafeHandle inFd, long* offset, nint count);
    [LibraryImport(Lib, SetLastError = true)] public static partial int execve(byte* path, byte** argv, byte** envp);

    public const int O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2, O_CREAT = 0x40, O_EXCL = 0x80, O_NOCTTY = 0x100,
        O_TRUNC = 0x200, O_APPEND = 0x400, O_NONBLOCK = 0x800, O_DIRECTORY = 0x10000, O_NOFOLLOW = 0x20000,
        O_CLOEXEC = 0x80000, O_PATH = 0x200000;
    public const int F_GETFD = 1, F_SETFD = 2, F_DUPFD_CLOEXEC = 1030, F_ADD_SEALS = 1033;
    public const int PR_SET_PDEATHSIG = 1, PR_SET_DUMPABLE = 4, PR_SET_KEEPCAPS = 8, PR_SET_NAME = 15,
        PR_SET_CHILD_SUBREAPER = 36, PR_SET_NO_NEW_PRIVS = 38, PR_CAPBSET_READ = 23, PR_CAPBSET_DROP = 24,
        PR_CAP_AMBIENT = 47, PR_CAP_AMBIENT_RAISE = 2, PR_CAP_AMBIENT_CLEAR_ALL = 4;
    public const int AF_UNIX = 1, SOCK_STREAM = 1, SOCK_SEQPACKET = 5, SOCK_CLOEXEC = 0x80000, MSG_NOSIGNAL = 0x4000;
    public const uint MFD_CLOEXEC = 1, MFD_ALLOW_SEALING = 2;
    public const int F_SEAL_SEAL = 1, F_SEAL_SHRINK = 2, F_SEAL_GROW = 4, F_SEAL_WRITE = 8;
    public const int AT_FDCWD = -100, AT_EMPTY_PATH = 0x1000, AT_SYMLINK_NOFOLLOW = 0x100;
    public const int WNOHANG = 1;

    public const long SYS_pidfd_open = 434, SYS_close_range = 436, SYS_openat2 = 437, SYS_clone3 = 435,
        SYS_pivot_root = 155, SYS_seccomp = 317, SYS_capget = 125, SYS_capset = 126, SYS_prlimit64 = 302,
        SYS_pidfd_send_signal = 424, SYS_mount_setattr = 442, SYS_rt_sigaction = 13;

    public static int ExitStatus(int waitStatus)
        => (waitStatus & 0x7f) == 0 ? (waitStatus >> 8) & 0xff : 128 + (waitStatus & 0x7f);
}
