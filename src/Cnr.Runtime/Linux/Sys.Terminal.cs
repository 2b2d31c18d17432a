namespace Cnr.Linux;

/// <summary>The container's terminal: the pty pair, and the slave taken as the init's controlling terminal and stdio.</summary>
public static unsafe partial class Sys
{
    /// <summary>A new pty from /dev/ptmx (the container's devpts instance once /dev is the container's): unlocked,
    /// and the slave opened from the master (TIOCGPTPEER), never by its path. <c>SlavePath</c> is only for
    /// messages. Reported once made, since the slave's number is the kernel's answer.</summary>
    public static (SafeFd Master, SafeFd Slave, string SlavePath) OpenPty()
    {
        var master = SafeFd.Check(Libc.open("/dev/ptmx", Libc.O_RDWR | Libc.O_NOCTTY | Libc.O_CLOEXEC, 0), "open", "/dev/ptmx");
        try
        {
            int unlock = 0;
            Errno.Check(Libc.ioctl(master, Libc.TIOCSPTLCK, (nint)(&unlock)), "ioctl(TIOCSPTLCK)", "/dev/ptmx");
            int n;
            Errno.Check(Libc.ioctl(master, Libc.TIOCGPTN, (nint)(&n)), "ioctl(TIOCGPTN)", "/dev/ptmx");
            var slavePath = $"/dev/pts/{n}";
            var slave = SafeFd.Check(Libc.ioctl_fd(master, Libc.TIOCGPTPEER, Libc.O_RDWR | Libc.O_NOCTTY | Libc.O_CLOEXEC), "ioctl(TIOCGPTPEER)", "/dev/ptmx");
            if (Diagnostics.Steps.On) Diagnostics.Steps.Report("terminal", $"open(\"/dev/ptmx\") → master; ioctl(TIOCGPTPEER) → slave {slavePath}", null);
            return (master, slave, slavePath);
        }
        catch
        {
            master.Dispose();
            throw;
        }
    }

    /// <summary>setsid(2), then the pty slave becomes the new session's controlling terminal (TIOCSCTTY) and
    /// fds 0, 1, 2: one step, as `setsid --ctty` does it.</summary>
    public static void TakeControllingTerminal(SafeFd slave, string slavePath)
    {
        if (Diagnostics.Steps.On) Diagnostics.Steps.Report("terminal", $"setsid(); ioctl({slavePath}, TIOCSCTTY); dup2 → 0, 1, 2", "setsid --ctty");
        Errno.Check(Libc.setsid(), "setsid");
        Errno.Check(Libc.ioctl(slave, Libc.TIOCSCTTY, 0), "ioctl(TIOCSCTTY)", slavePath);
        for (int i = 0; i < 3; i++) Errno.Check(Libc.dup2(slave, i), "dup2", slavePath);
    }
}
