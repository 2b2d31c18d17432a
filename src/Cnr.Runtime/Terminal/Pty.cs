using Cnr.Diagnostics;
using Cnr.Linux;

namespace Cnr.Terminal;

/// <summary>The container's terminal: a pty made from the container's own devpts instance (so that inside it
/// is /dev/pts/0), whose master goes to the parent (or the --console-socket) and whose slave becomes the
/// process's controlling terminal and stdio.</summary>
public static unsafe class Pty
{
    public static (SafeFd Master, string SlavePath) Open()
    {
        var master = SafeFd.Check(Libc.open("/dev/ptmx", Libc.O_RDWR | Libc.O_NOCTTY | Libc.O_CLOEXEC, 0), "open", "/dev/ptmx");
        int unlock = 0;
        Errno.Check(Libc.ioctl(master.Fd, Libc.TIOCSPTLCK, (nint)(&unlock)), "ioctl(TIOCSPTLCK)", "/dev/ptmx");
        int n;
        Errno.Check(Libc.ioctl(master.Fd, Libc.TIOCGPTN, (nint)(&n)), "ioctl(TIOCGPTN)", "/dev/ptmx");
        var slave = $"/dev/pts/{n}";
        if (Steps.On) Steps.Report("terminal", $"open(\"/dev/ptmx\") → master; slave {slave}", null);
        return (master, slave);
    }

    /// <summary>In the init, after setsid(): the slave becomes the controlling terminal and fds 0, 1, 2.</summary>
    public static void BecomeControllingTerminal(string slavePath, Spec.Box? size)
    {
        Errno.Check(Libc.setsid(), "setsid");
        int fd = Errno.Check(Libc.open(slavePath, Libc.O_RDWR | Libc.O_CLOEXEC, 0), "open", slavePath);
        Errno.Check(Libc.ioctl(fd, Libc.TIOCSCTTY, 0), "ioctl(TIOCSCTTY)", slavePath);
        if (size is { Height: > 0, Width: > 0 }) SetSize(fd, (ushort)size.Height, (ushort)size.Width);
        for (int i = 0; i < 3; i++) Errno.Check(Libc.dup2(fd, i), "dup2", slavePath);
        Libc.close(fd);
        if (Steps.On) Steps.Report("terminal", $"setsid(); ioctl({slavePath}, TIOCSCTTY); dup2 → 0, 1, 2", "setsid --ctty");
    }

    public static void SetSize(int fd, ushort rows, ushort cols)
    {
        ushort* ws = stackalloc ushort[4];
        ws[0] = rows; ws[1] = cols; ws[2] = 0; ws[3] = 0;
        Libc.ioctl(fd, Libc.TIOCSWINSZ, (nint)ws);
    }

    public static bool TryGetSize(int fd, out ushort rows, out ushort cols)
    {
        ushort* ws = stackalloc ushort[4];
        if (Libc.ioctl(fd, Libc.TIOCGWINSZ, (nint)ws) < 0) { rows = cols = 0; return false; }
        rows = ws[0]; cols = ws[1];
        return rows > 0 && cols > 0;
    }
}
