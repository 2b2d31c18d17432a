namespace Cnr.IntegrationTests.Harness;

/// <summary>Runs a command on a new pseudo-terminal of a given size, as a user at a terminal would
/// (python3's pty module: the command gets the pty as its controlling terminal and stdio). Optionally types
/// BYTES once the output shows TRIGGER. Returns the exit status and what the terminal showed (\r\n → \n).</summary>
public static class Pty
{
    private const string Driver = """
        import os, pty, select, sys, time, fcntl, termios, struct, signal
        rows, cols, trigger, send, timeout = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3].encode(), bytes.fromhex(sys.argv[4]), float(sys.argv[5])
        pid, fd = pty.fork()
        if pid == 0:
            fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
            os.execvp(sys.argv[6], sys.argv[6:])
        out, sent, deadline = b"", False, time.monotonic() + timeout
        while True:
            ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                os.kill(pid, signal.SIGKILL)
                sys.stdout.buffer.write(out + b"\n[pty driver: timed out]\n")
                sys.exit(124)
            try:
                data = os.read(fd, 4096)
            except OSError:  # EIO: every slave fd is closed
                break
            if not data:
                break
            out += data
            if trigger and not sent and trigger in out:
                os.write(fd, send)
                sent = True
        _, status = os.waitpid(pid, 0)
        sys.stdout.buffer.write(out)
        code = os.waitstatus_to_exitcode(status)
        sys.exit(code if code >= 0 else 128 - code)
        """;

    public static CnrResult Run(IEnumerable<string> command, ushort rows = 40, ushort cols = 120,
        string trigger = "", byte[]? send = null, TimeSpan? timeout = null)
    {
        var t = timeout ?? TimeSpan.FromSeconds(30);
        var r = Cnr.Exec("python3", ["-c", Driver, rows.ToString(), cols.ToString(), trigger,
            Convert.ToHexString(send ?? []), t.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture), .. command],
            timeout: t + TimeSpan.FromSeconds(10));
        return r with { Stdout = r.Stdout.Replace("\r\n", "\n") };
    }
}
