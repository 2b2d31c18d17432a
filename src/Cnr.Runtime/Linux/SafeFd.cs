using Microsoft.Win32.SafeHandles;

namespace Cnr.Linux;

/// <summary>An owned file descriptor. Every fd cnr opens is O_CLOEXEC and lives in one of these.</summary>
public sealed class SafeFd : SafeHandleZeroOrMinusOneIsInvalid
{
    public SafeFd() : base(true) { }
    public SafeFd(int fd, bool ownsHandle = true) : base(ownsHandle) => SetHandle(fd);

    public int Fd => (int)handle;

    protected override bool ReleaseHandle() => Libc.close((int)handle) == 0;

    public static SafeFd Check(int fd, string call, string? detail = null) => new(Errno.Check(fd, call, detail));
}
