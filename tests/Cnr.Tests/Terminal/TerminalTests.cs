using System.Text;
using Cnr.Linux;
using Cnr.Terminal;
using Xunit;

namespace Cnr.Tests.Terminal;

/// <summary>The pty pieces on this machine's own /dev/ptmx, without a terminal of the test's own.</summary>
public unsafe class PtyTests
{
    [Fact]
    public void Open_GivesAMasterAndItsSlave_OnlyTheSlaveIsAPtySlave()
    {
        var (master, slave, path) = Pty.Open();
        using (master) using (slave)
        {
            Assert.Matches(@"^/dev/pts/\d+$", path);
            Assert.True(Pty.IsPtySlave(slave));
            Assert.False(Pty.IsPtySlave(master));
            // the slave is the one its number names (devpts of this test's mount namespace)
            Assert.Equal(path, new FileInfo($"/proc/self/fd/{slave.Fd}").LinkTarget);
        }
    }

    [Fact]
    public void IsPtySlave_IsFalseForAPipeAFileAndDevNull()
    {
        var (r, w) = Libc.Pipe("test");
        using (r) using (w) Assert.False(Pty.IsPtySlave(r));
        using var file = File.OpenHandle("/proc/self/status");
        using var devNull = File.OpenHandle("/dev/null");
        Assert.False(Pty.IsPtySlave(file));
        Assert.False(Pty.IsPtySlave(devNull));
    }

    [Fact]
    public void SetSize_OnTheMaster_IsWhatTheSlaveReads()
    {
        var (master, slave, _) = Pty.Open();
        using (master) using (slave)
        {
            Pty.SetSize(master, 33, 101);
            Assert.True(Pty.TryGetSize(slave, out var rows, out var cols));
            Assert.Equal((33, 101), (rows, cols));
        }
    }

    [Fact]
    public void TryGetSize_OfANewPtyOrAPipe_IsFalse()
    {
        var (master, slave, _) = Pty.Open();
        using (master) using (slave) Assert.False(Pty.TryGetSize(slave, out _, out _));  // 0x0 until someone sets it
        var (r, w) = Libc.Pipe("test");
        using (r) using (w)
        {
            Assert.False(Pty.TryGetSize(r, out var rows, out var cols));
            Assert.Equal((0, 0), (rows, cols));
        }
    }

    [Fact]
    public void BytesTypedOnTheMaster_ReachTheSlaveAsALine()
    {
        var (master, slave, _) = Pty.Open();
        using (master) using (slave)
        {
            var typed = "echo hi\n"u8.ToArray();
            fixed (byte* b = typed) Assert.Equal(typed.Length, (int)Libc.write(master, b, typed.Length));
            var buf = new byte[64];
            nint n;
            fixed (byte* b = buf) n = Libc.read(slave, b, buf.Length);  // canonical mode: one whole line
            Assert.Equal("echo hi\n", Encoding.UTF8.GetString(buf, 0, (int)n));
        }
    }
}

public class ConsoleSocketTests
{
    [Fact]
    public void Connect_NoListener_NamesTheFlagAndTheErrno()
    {
        var path = Path.Combine(Path.GetTempPath(), "cnr-no-such-console-" + Guid.NewGuid().ToString("N"));
        var e = Assert.Throws<SyscallException>(() => ConsoleSocket.Connect(path));
        Assert.Equal($"connect --console-socket {path}: ENOENT (No such file or directory)", e.Message);
    }

    [Fact]
    public void Connect_PathLongerThanSunPath_IsRefusedBeforeConnecting()
    {
        var path = "/tmp/" + new string('x', 120);
        var e = Assert.Throws<ArgumentException>(() => ConsoleSocket.Connect(path));
        Assert.Equal($"--console-socket: path too long: {path}", e.Message);
    }

    [Fact]
    public void Connect_ToAListeningSocket_Succeeds()
    {
        var path = Path.Combine(Path.GetTempPath(), "cnr-console-" + Guid.NewGuid().ToString("N")[..8]);
        using var listener = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
        listener.Bind(new System.Net.Sockets.UnixDomainSocketEndPoint(path));
        listener.Listen(1);
        try
        {
            using var console = ConsoleSocket.Connect(path);
            using var accepted = listener.Accept();
            Assert.True(accepted.Connected);
        }
        finally { File.Delete(path); }
    }
}
