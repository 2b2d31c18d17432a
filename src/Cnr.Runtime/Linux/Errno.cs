using System.Runtime.InteropServices;

namespace Cnr.Linux;

/// <summary>A failed system call, carrying the call, its argument and errno all the way to the user
/// ("mount `proc` to `/proc`: EPERM (Operation not permitted)").</summary>
public sealed class SyscallException : Exception
{
    public int Number { get; }
    public string Call { get; }
    public string? Detail { get; }
    /// <summary>The config entry or step it belongs to ("mounts[3]"), said first.</summary>
    public string? Where { get; }

    public SyscallException(string call, int errno, string? detail = null, string? where = null)
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

/// <summary>errno helpers: names for messages and the one place that turns a -1 into an exception.</summary>
public static class Errno
{
    public static int Last => Marshal.GetLastPInvokeError();

    /// <summary>Throws if <paramref name="rc"/> is negative, naming the call and its argument.</summary>
    public static int Check(int rc, string call, string? detail = null)
        => rc < 0 ? throw new SyscallException(call, Last, detail) : rc;

    public static long Check(long rc, string call, string? detail = null)
        => rc < 0 ? throw new SyscallException(call, Last, detail) : rc;

    public static string Describe(int errno) => Marshal.GetPInvokeErrorMessage(errno);

    public static string Name(int errno) => errno switch
    {
        1 => "EPERM", 2 => "ENOENT", 3 => "ESRCH", 4 => "EINTR", 5 => "EIO", 6 => "ENXIO", 7 => "E2BIG",
        8 => "ENOEXEC", 9 => "EBADF", 10 => "ECHILD", 11 => "EAGAIN", 12 => "ENOMEM", 13 => "EACCES",
        14 => "EFAULT", 15 => "ENOTBLK", 16 => "EBUSY", 17 => "EEXIST", 18 => "EXDEV", 19 => "ENODEV",
        20 => "ENOTDIR", 21 => "EISDIR", 22 => "EINVAL", 23 => "ENFILE", 24 => "EMFILE", 25 => "ENOTTY",
        26 => "ETXTBSY", 27 => "EFBIG", 28 => "ENOSPC", 29 => "ESPIPE", 30 => "EROFS", 31 => "EMLINK",
        32 => "EPIPE", 34 => "ERANGE", 36 => "ENAMETOOLONG", 38 => "ENOSYS", 39 => "ENOTEMPTY", 40 => "ELOOP",
        61 => "ENODATA", 95 => "EOPNOTSUPP", 110 => "ETIMEDOUT", 87 => "EUSERS",
        _ => "errno " + errno,
    };
}
