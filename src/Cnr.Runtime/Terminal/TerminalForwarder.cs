using System.Runtime.InteropServices;
using Cnr.Linux;

namespace Cnr.Terminal;

/// <summary>A foreground `cnr run` with a terminal: the host tty goes raw (restored on every exit path), the
/// window size is copied and follows SIGWINCH, and bytes are copied both ways between cnr's stdio and the
/// pty master. Ctrl-C is then a byte the container's own tty turns into SIGINT.</summary>
public sealed unsafe class TerminalForwarder : IDisposable
{
    /// <summary>cnr's own stdio: not owned here.</summary>
    private static readonly SafeFd StdIn = SafeFd.Borrow(0), StdOut = SafeFd.Borrow(1);
    private readonly SafeFd _master;
    private readonly byte[]? _savedTermios;
    private readonly PosixSignalRegistration? _winch;
    private readonly Thread _output;

    public TerminalForwarder(SafeFd master)
    {
        _master = master;
        if (Libc.isatty(StdIn) == 1)
        {
            _savedTermios = new byte[64];
            fixed (byte* t = _savedTermios)
            {
                if (Libc.tcgetattr(StdIn, t) == 0)
                {
                    byte* raw = stackalloc byte[64];
                    new Span<byte>(t, 64).CopyTo(new Span<byte>(raw, 64));
                    Libc.cfmakeraw(raw);
                    Libc.tcsetattr(StdIn, 0 /* TCSANOW */, raw);
                }
            }
            CopyWindowSize();
            _winch = PosixSignalRegistration.Create(PosixSignal.SIGWINCH, ctx => { ctx.Cancel = true; CopyWindowSize(); });
        }
        var input = new Thread(() => Copy(StdIn, _master)) { IsBackground = true, Name = "tty-in" };
        input.Start();
        _output = new Thread(() => Copy(_master, StdOut)) { IsBackground = true, Name = "tty-out" };
        _output.Start();
    }

    private void CopyWindowSize() => CopyWindowSize(_master);

    /// <summary>cnr's window size onto the container's terminal, before its process may look (`run` calls
    /// this before it lets the process go: a shell's first `stty size` must see the caller's size).</summary>
    public static void CopyWindowSize(SafeFd master)
    {
        if (Pty.TryGetSize(StdIn, out var rows, out var cols)) Pty.SetSize(master, rows, cols);
    }

    private static void Copy(SafeFd from, SafeFd to)
    {
        byte* buf = stackalloc byte[8192];
        while (true)
        {
            nint n = Libc.read(from, buf, 8192);
            if (n < 0 && Errno.Last == Error.EINTR) continue;
            if (n <= 0) return; // EIO on the master once the container's side is closed
            for (nint off = 0; off < n;)
            {
                nint w = Libc.write(to, buf + off, n - off);
                if (w < 0 && Errno.Last == Error.EINTR) continue;
                if (w <= 0) return;
                off += w;
            }
        }
    }

    /// <summary>After the container exits: let the output drain, then restore the tty.</summary>
    public void Dispose()
    {
        _output.Join(TimeSpan.FromSeconds(2));
        _winch?.Dispose();
        if (_savedTermios is not null)
            fixed (byte* t = _savedTermios) Libc.tcsetattr(StdIn, 0, t);
        _master.Dispose();
    }
}
