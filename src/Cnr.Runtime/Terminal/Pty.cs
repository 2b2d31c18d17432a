using System.Runtime.InteropServices;
using Cnr.Linux;

namespace Cnr.Terminal;

/// <summary>The container's terminal: a pty made from the container's own devpts instance (so that inside it
/// is /dev/pts/0), whose master goes to the parent (or the --console-socket) and whose slave becomes the
/// process's controlling terminal and stdio.</summary>
public static unsafe class Pty
{
    /// <summary>A new pty from the container's /dev/ptmx. The slave is opened from the master (TIOCGPTPEER), never
    /// by its path, and checked to be a pty of a devpts: /dev/pts in the container may be an image's directory.
    /// <c>SlavePath</c> is only for messages.</summary>
    public static (SafeFd Master, SafeFd Slave, string SlavePath) Open()
    {
        var (master, slave, slavePath) = Sys.OpenPty();
        if (IsPtySlave(slave)) return (master, slave, slavePath);
        slave.Dispose();
        master.Dispose();
        throw new InvalidOperationException($"/dev/ptmx in the container did not give a pty of a devpts; mount devpts on /dev/pts");
    }

    /// <summary>A character device with a pty slave major, on a devpts filesystem.</summary>
    public static bool IsPtySlave(SafeHandle fd)
        => Libc.StatX(fd, "", 0, out var st) == 0 && (st.Mode & Libc.S_IFMT) == Libc.S_IFCHR
           && st.RdevMajor is >= Libc.PtySlaveMajorFirst and <= Libc.PtySlaveMajorLast
           && Libc.FsFlags(fd, out long magic, out _) == 0 && magic == Libc.DEVPTS_SUPER_MAGIC;

    /// <summary>In the init, after setsid(): the slave becomes the controlling terminal and fds 0, 1, 2.</summary>
    public static void BecomeControllingTerminal(SafeFd slave, string slavePath, Spec.Box? size)
    {
        // Sized first: taking it is one step (setsid, TIOCSCTTY, dup2), as `setsid --ctty` does it.
        if (size is { Height: > 0, Width: > 0 }) SetSize(slave, (ushort)size.Height, (ushort)size.Width);
        Sys.TakeControllingTerminal(slave, slavePath);
    }

    public static void SetSize(SafeHandle fd, ushort rows, ushort cols)
    {
        ushort* ws = stackalloc ushort[4];
        ws[0] = rows; ws[1] = cols; ws[2] = 0; ws[3] = 0;
        Libc.ioctl(fd, Libc.TIOCSWINSZ, (nint)ws);
    }

    public static bool TryGetSize(SafeHandle fd, out ushort rows, out ushort cols)
    {
        ushort* ws = stackalloc ushort[4];
        if (Libc.ioctl(fd, Libc.TIOCGWINSZ, (nint)ws) < 0) { rows = cols = 0; return false; }
        rows = ws[0]; cols = ws[1];
        return rows > 0 && cols > 0;
    }
}
