using System.Diagnostics;
using Cnr.IntegrationTests.Harness;
using Xunit;

namespace Cnr.IntegrationTests.Lifecycle;

/// <summary>`--console-socket` (how conmon, containerd's shim and Docker get a container's terminal): the
/// runtime sends the pty master over the AF_UNIX socket with SCM_RIGHTS.</summary>
public sealed class ConsoleSocketTests
{
    /// <summary>A listener that accepts one connection, takes the fd (socket.recv_fds), says whether it is a
    /// terminal, and reads from it until "hello-pty" or EOF.</summary>
    private const string Listener = """
        import os, select, socket, sys, time
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(sys.argv[1]); s.listen(1)
        print("listening", flush=True)
        c, _ = s.accept()
        msg, fds, _, _ = socket.recv_fds(c, 4096, 4)
        print("fds", len(fds), flush=True)
        fd = fds[0]
        print("isatty", os.isatty(fd), flush=True)
        data, end = b"", time.time() + 10
        while b"hello-pty" not in data and time.time() < end:
            if select.select([fd], [], [], 0.5)[0]:
                try: chunk = os.read(fd, 1024)
                except OSError: break
                if not chunk: break
                data += chunk
        print("data", data.decode(errors="replace").strip(), flush=True)
        """;

    [RootFact]
    public void ConsoleSocket_ReceivesThePtyMaster_AndTheContainerWritesToIt()
    {
        using var b = new TestBundle("cs").WithArgs("sh", "-c", "tty; echo hello-pty; sleep 2");
        b.Spec.Process!.Terminal = true;
        var sock = Path.Combine(b.Dir, "console.sock");
        var script = Path.Combine(b.Dir, "listener.py");
        File.WriteAllText(script, Listener);
        var psi = new ProcessStartInfo("python3") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(script);
        psi.ArgumentList.Add(sock);
        using var listener = System.Diagnostics.Process.Start(psi)!;
        try
        {
            Assert.Equal("listening", listener.StandardOutput.ReadLine());
            var r = b.Create("--console-socket", sock);
            Assert.True(r.ExitCode == 0, r.ToString());
            r = b.Cnr("start", b.Id);
            Assert.True(r.ExitCode == 0, r.ToString());
            Assert.True(listener.WaitForExit(15_000), "listener did not finish");
            var output = listener.StandardOutput.ReadToEnd();
            Assert.Contains("fds 1", output);
            Assert.Contains("isatty True", output);
            Assert.Contains("/dev/pts/0", output);
            Assert.Contains("hello-pty", output);
        }
        finally { if (!listener.HasExited) listener.Kill(); }
    }

    [RootFact]
    public void ConsoleSocket_Missing_FailsCleanlyAndLeavesNothing()
    {
        using var b = new TestBundle("cm").WithArgs("sh");
        b.Spec.Process!.Terminal = true;
        var sock = Path.Combine(b.Dir, "nobody-listens.sock");
        var r = b.Create("--console-socket", sock);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains(sock, r.Stderr);
        Assert.Single(r.Stderr.Trim().Split('\n'));
        Assert.Equal("", b.Cnr("list", "-q").Stdout);
        Assert.False(Directory.Exists(Path.Combine(b.StateRoot, b.Id)), "state dir left by a failed create");
    }

    [RootFact]
    public void Terminal_WithoutConsoleSocket_IsRefusedForCreate()
    {
        // runc: "cannot allocate tty if runc will detach without setting console socket".
        using var b = new TestBundle("ct").WithArgs("sh");
        b.Spec.Process!.Terminal = true;
        var r = b.Create();
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("console-socket", r.Stderr);
        Assert.Equal("", b.Cnr("list", "-q").Stdout);
    }
}
