using System.Runtime.InteropServices;

namespace Cnr.Linux;

/// <summary>A file descriptor, as the Libc imports take and return it (dotnet/runtime's SafeFileHandle in
/// Interop.Open.cs): an import that opens one returns a <see cref="SafeFd"/>, invalid (-1) on failure with errno
/// set; one that uses one takes a <see cref="SafeHandle"/>, which the marshaller keeps open for the call.
/// <list type="bullet">
/// <item>Owned (every fd cnr opens, all O_CLOEXEC): closed once, when disposed or finalized.</item>
/// <item><see cref="AtCwd"/>: AT_FDCWD for the *at calls.</item>
/// <item><see cref="Borrow"/>: an fd the process does not own here (0/1/2, the init's inherited and
/// preserved fds, a number the caller closes itself): never closed by this handle.</item>
/// <item><see cref="Own"/>: an fd that arrives as a number (SCM_RIGHTS, socketpair, pipe2, a raw syscall),
/// taken over where it is received.</item>
/// </list></summary>
public sealed class SafeFd : SafeHandle
{
    /// <summary>For the marshaller of an import that returns an fd.</summary>
    public SafeFd() : base(-1, ownsHandle: true) { }

    private SafeFd(int fd, bool ownsHandle) : base(-1, ownsHandle) => SetHandle(fd);

    /// <summary>Only -1: fd 0 is an fd, and AT_FDCWD (-100) a valid dirfd. The number is the handle's low 32 bits:
    /// libc returns a C int, and the x86_64 ABI leaves the upper half of the register the marshaller reads
    /// undefined (glibc's -1 may arrive as 0xffffffff).</summary>
    public override bool IsInvalid => (int)handle == -1;

    /// <summary>The number, for the few places that store it rather than pass it to a call (a C struct, bpf_attr,
    /// SCM_RIGHTS data, "/proc/self/fd/N"): the handle must be kept alive while the number is in use.</summary>
    public int Fd => (int)handle;

    protected override bool ReleaseHandle() => Libc.close((int)handle) == 0;

    /// <summary>AT_FDCWD: paths relative to the working directory (a fresh non-owning handle each time, so that
    /// disposing one cannot break another).</summary>
    public static SafeFd AtCwd => new(Libc.AT_FDCWD, ownsHandle: false);

    /// <summary>An fd number this handle must not close: 0/1/2, an fd the init inherited or preserves, one that
    /// another handle owns.</summary>
    public static SafeFd Borrow(int fd) => new(fd, ownsHandle: false);

    /// <summary>Takes ownership of an fd that arrived as a number (SCM_RIGHTS, socketpair, pipe2, a raw syscall).</summary>
    public static SafeFd Own(int fd) => new(fd, ownsHandle: true);

    /// <summary>A FileStream that owns the fd from now on (this handle no longer closes it).</summary>
    public FileStream ToStream(FileAccess access, int bufferSize = 4096)
    {
        var file = new Microsoft.Win32.SafeHandles.SafeFileHandle(Fd, ownsHandle: true);
        SetHandleAsInvalid();
        return new FileStream(file, access, bufferSize);
    }

    /// <summary>Throws for an invalid fd (errno names why), naming the call and its argument; else the fd.</summary>
    public static SafeFd Check(SafeFd fd, string call, string? detail = null)
        => fd.IsInvalid ? throw new SyscallException(call, Errno.Last, detail) : fd;

    /// <summary>Throws for a negative result of a raw syscall; else takes ownership of the fd it returned.</summary>
    public static SafeFd Check(long fd, string call, string? detail = null) => Own((int)Errno.Check(fd, call, detail));
}
