using System.Runtime.InteropServices;

namespace Cnr.Linux;

public static unsafe partial class Libc
{
    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int mkfifo(string path, int mode);
    [LibraryImport(Lib, SetLastError = true)] public static partial int flock(int fd, int op);
    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int chdir(string path);
    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int sethostname(string name, nint len);
    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int setdomainname(string name, nint len);
    [LibraryImport(Lib, SetLastError = true)] public static partial int setsid();
    [LibraryImport(Lib, SetLastError = true)] public static partial int ioctl(int fd, nuint request, nint arg);
    [LibraryImport(Lib, SetLastError = true)] public static partial int dup2(int oldfd, int newfd);
    [LibraryImport(Lib, SetLastError = true)] public static partial int dup3(int oldfd, int newfd, int flags);
    [LibraryImport(Lib, SetLastError = true)] public static partial int isatty(int fd);
    [LibraryImport(Lib, SetLastError = true)] public static partial int tcgetattr(int fd, byte* termios);
    [LibraryImport(Lib, SetLastError = true)] public static partial int tcsetattr(int fd, int action, byte* termios);
    [LibraryImport(Lib, SetLastError = true)] public static partial void cfmakeraw(byte* termios);
    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int connect(int fd, byte* addr, int len);
    [LibraryImport(Lib, SetLastError = true)] public static partial int socket(int domain, int type, int protocol);
    [LibraryImport(Lib, SetLastError = true)] public static partial int poll(PollFd* fds, nuint n, int timeout);

    [StructLayout(LayoutKind.Sequential)]
    public struct PollFd { public int Fd; public short Events, Revents; }

    public const short POLLIN = 1;
    public const nuint TIOCSCTTY = 0x540E, TIOCGWINSZ = 0x5413, TIOCSWINSZ = 0x5414, TIOCGPTN = 0x80045430,
        TIOCSPTLCK = 0x40045431;
}
