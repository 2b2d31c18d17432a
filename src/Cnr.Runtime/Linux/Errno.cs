using System.Runtime.InteropServices;

namespace Cnr.Linux;

/// <summary>A failed system call, carrying the call, its argument and errno all the way to the user
/// ("mount `proc` to `/proc`: EPERM (Operation not permitted)").</summary>
public sealed class SyscallException : Exception
{
    public Error Number { get; }
    public string Call { get; }
    public string? Detail { get; }
    /// <summary>The config entry or step it belongs to ("mounts[3]"), said first.</summary>
    public string? Where { get; }

    public SyscallException(string call, Error errno, string? detail = null, string? where = null)
        : base($"{(where is null ? "" : where + ": ")}{call}{(detail is null ? "" : " " + detail)}: {Errno.Name(errno)} ({Errno.Describe(errno)})")
    {
        Call = call;
        Number = errno;
        Detail = detail;
        Where = where;
    }

    /// <summary>The same failure, said to belong to <paramref name="where"/>.</summary>
    public SyscallException At(string where) => new(Call, Number, Detail, where);
}

/// <summary>errno values, the one place cnr names them (as dotnet/runtime's Interop.Error): compare against
/// these, never against a number. The values are the kernel's (asm-generic, the same on x86_64 and arm64).
/// A value that crosses as an int (a negative return of libseccomp or the native clone, a number in a sync
/// message) is cast to <see cref="Error"/> where it is received.</summary>
public enum Error
{
    EPERM = 1, ENOENT = 2, ESRCH = 3, EINTR = 4, EIO = 5, ENXIO = 6, E2BIG = 7, ENOEXEC = 8, EBADF = 9,
    ECHILD = 10, EAGAIN = 11, ENOMEM = 12, EACCES = 13, EFAULT = 14, ENOTBLK = 15, EBUSY = 16, EEXIST = 17,
    EXDEV = 18, ENODEV = 19, ENOTDIR = 20, EISDIR = 21, EINVAL = 22, ENFILE = 23, EMFILE = 24, ENOTTY = 25,
    ETXTBSY = 26, EFBIG = 27, ENOSPC = 28, ESPIPE = 29, EROFS = 30, EMLINK = 31, EPIPE = 32, ERANGE = 34,
    ENAMETOOLONG = 36, ENOSYS = 38, ENOTEMPTY = 39, ELOOP = 40, ENODATA = 61, EUSERS = 87, EOPNOTSUPP = 95,
    ECONNRESET = 104, ETIMEDOUT = 110,
}

/// <summary>errno helpers: names for messages and the one place that turns a -1 into an exception.</summary>
public static class Errno
{
    public static Error Last => (Error)Marshal.GetLastPInvokeError();

    /// <summary>Throws if <paramref name="rc"/> is negative, naming the call and its argument.</summary>
    public static int Check(int rc, string call, string? detail = null)
        => rc < 0 ? throw new SyscallException(call, Last, detail) : rc;

    public static long Check(long rc, string call, string? detail = null)
        => rc < 0 ? throw new SyscallException(call, Last, detail) : rc;

    public static string Describe(Error errno) => Marshal.GetPInvokeErrorMessage((int)errno);

    /// <summary>"ENOENT"; a value the enum does not name reads "errno N".</summary>
    public static string Name(Error errno) => Enum.GetName(errno) ?? "errno " + (int)errno;
}
