using System.Runtime.InteropServices;

namespace Cnr.Linux;

public static unsafe partial class Libc
{
    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int mkfifo(string path, int mode);
    [LibraryImport(Lib, SetLastError = true)] public static partial int flock(SafeHandle fd, int op);
    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int chdir(string path);
    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int sethostname(string name, nint len);
    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int setdomainname(string name, nint len);
    [LibraryImport(Lib, SetLastError = true)] public static partial int setsid();
    [LibraryImport(Lib, SetLastError = true)] public static partial int ioctl(SafeHandle fd, nuint request, nint arg);
    /// <summary>ioctl(2) of a request that returns a new fd (TIOCGPTPEER).</summary>
    [LibraryImport(Lib, EntryPoint = "ioctl", SetLastError = true)] public static partial SafeFd ioctl_fd(SafeHandle fd, nuint request, nint arg);
    /// <summary>dup2/dup3: the target is a number (0/1/2 in the init), which the call makes, not an fd it uses.</summary>
    [LibraryImport(Lib, SetLastError = true)] public static partial int dup2(SafeHandle oldfd, int newfd);
    [LibraryImport(Lib, SetLastError = true)] public static partial int dup3(SafeHandle oldfd, int newfd, int flags);
    [LibraryImport(Lib, SetLastError = true)] public static partial int isatty(SafeHandle fd);
    [LibraryImport(Lib, SetLastError = true)] public static partial int tcgetattr(SafeHandle fd, byte* termios);
    [LibraryImport(Lib, SetLastError = true)] public static partial int tcsetattr(SafeHandle fd, int action, byte* termios);
    [LibraryImport(Lib, SetLastError = true)] public static partial void cfmakeraw(byte* termios);
    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int connect(SafeHandle fd, byte* addr, int len);
    [LibraryImport(Lib, SetLastError = true)] public static partial SafeFd socket(int domain, int type, int protocol);
    [LibraryImport(Lib, SetLastError = true)] public static partial int poll(PollFd* fds, nuint n, int timeout);

    /// <summary>struct pollfd: the fd is a number in the array (its SafeFd is kept open by the caller).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct PollFd { public int Fd; public short Events, Revents; }

    public const short POLLIN = 1;
    public const nuint TIOCSCTTY = 0x540E, TIOCGWINSZ = 0x5413, TIOCSWINSZ = 0x5414, TIOCGPTN = 0x80045430,
        TIOCSPTLCK = 0x40045431;
}
