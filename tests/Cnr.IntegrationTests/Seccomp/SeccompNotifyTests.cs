using System.Diagnostics;
using System.Text.Json;
using Cnr.IntegrationTests.Harness;
using Cnr.Spec;
using Xunit;

namespace Cnr.IntegrationTests.Seccomp;

/// <summary>SCMP_ACT_NOTIFY with linux.seccomp.listenerPath: cnr hands the filter's listener fd, with the
/// container's state, to an agent listening there (as runc does), and the agent answers the container's calls.</summary>
public sealed class SeccompNotifyTests
{
    /// <summary>The agent: accepts CONNECTIONS connections (one per process that loaded the filter: the container's
    /// init, then each `exec`), keeps the first one's ContainerProcessState JSON in OUT (the Nth's in OUT.N), then
    /// answers every notification with ANSWER ("ok": success without doing anything; a number: that errno) until
    /// every filter's last process is gone. struct seccomp_notif is 80 bytes, seccomp_notif_resp 24 (linux/seccomp.h).</summary>
    private const string Agent = """
        import errno, fcntl, select, socket, struct, sys
        path, out, answer, want = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(path); s.listen(4)
        print("listening", flush=True)
        RECV, SEND = 0xC0502100, 0xC0182101
        p = select.poll(); p.register(s, select.POLLIN)
        got, live = 0, set()
        while got < want or live:
            ev = p.poll(60000)
            if not ev: break
            for fd, what in ev:
                if fd == s.fileno():
                    c, _ = s.accept()
                    msg, fds, _, _ = socket.recv_fds(c, 65536, 4)
                    got += 1
                    open(out if got == 1 else f"{out}.{got}", "w").write(msg.decode())
                    live.add(fds[0]); p.register(fds[0], select.POLLIN)
                    if got == want: p.unregister(s)
                    continue
                if what & select.POLLHUP:
                    p.unregister(fd); live.discard(fd)
                    continue
                buf = bytearray(80)
                try: fcntl.ioctl(fd, RECV, buf, True)
                except OSError as e:
                    if e.errno == errno.ENOENT: continue
                    raise
                nid, pid, flags, nr = struct.unpack_from("QIIi", buf)
                err = 0 if answer == "ok" else -int(answer)
                try: fcntl.ioctl(fd, SEND, struct.pack("QqiI", nid, 0, err, 0))
                except OSError: pass
                print("answered", nr, flush=True)
        """;

    private static (TestBundle Bundle, System.Diagnostics.Process Agent, string Out) Start(string name, string answer, string script, bool noNewPrivileges = true, int connections = 1)
    {
        var b = new TestBundle(name).WithArgs("sh", "-c", script);
        var sock = Path.Combine(b.Dir, "agent.sock");
        var outFile = Path.Combine(b.Dir, "state.json");
        b.Spec.Process!.NoNewPrivileges = noNewPrivileges;
        b.Spec.Linux!.Seccomp = new LinuxSeccomp
        {
            DefaultAction = "SCMP_ACT_ALLOW",
            ListenerPath = sock,
            ListenerMetadata = "from-the-test",
            Syscalls = [new LinuxSyscall { Names = ["mkdir", "mkdirat"], Action = "SCMP_ACT_NOTIFY" }],
        };
        var script2 = Path.Combine(b.Dir, "agent.py");
        File.WriteAllText(script2, Agent);
        var psi = new ProcessStartInfo("python3") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { script2, sock, outFile, answer, connections.ToString() }) psi.ArgumentList.Add(a);
        var agent = System.Diagnostics.Process.Start(psi)!;
        Assert.Equal("listening", agent.StandardOutput.ReadLine());
        return (b, agent, outFile);
    }

    [RootFact]
    public void Notify_AgentAnswersSuccess_MkdirSucceedsWithoutCreating_AndGetsTheState()
    {
        var (b, agent, outFile) = Start("sn-ok", "ok", "mkdir /tmp/notified-dir && echo mkdir-ok; [ -e /tmp/notified-dir ] && echo exists || echo absent");
        using var _ = b;
        try
        {
            var r = b.Run();
            Assert.True(r.ExitCode == 0, r.ToString());
            Assert.Contains("mkdir-ok", r.Stdout);
            Assert.Contains("absent", r.Stdout);  // the agent said yes, and did nothing
            Assert.True(agent.WaitForExit(30_000), "the agent did not see the filter go away");
            Assert.Contains("answered", agent.StandardOutput.ReadToEnd());

            using var state = JsonDocument.Parse(File.ReadAllText(outFile));
            var root = state.RootElement;
            Assert.Equal("seccompFd", root.GetProperty("fds")[0].GetString());
            Assert.Equal("from-the-test", root.GetProperty("metadata").GetString());
            Assert.True(root.GetProperty("pid").GetInt32() > 0);
            Assert.False(string.IsNullOrEmpty(root.GetProperty("ociVersion").GetString()));
            Assert.Equal(b.Id, root.GetProperty("state").GetProperty("id").GetString());
            Assert.Equal("creating", root.GetProperty("state").GetProperty("status").GetString());
            Assert.Equal(b.Dir, root.GetProperty("state").GetProperty("bundle").GetString());
        }
        finally { if (!agent.HasExited) agent.Kill(); agent.Dispose(); }
    }

    [RootFact]
    public void Notify_AgentAnswersAnErrno_WithoutNoNewPrivileges_MkdirFailsWithIt()
    {
        var (b, agent, _) = Start("sn-errno", "13", "mkdir /tmp/notified-dir 2>&1; echo rc=$?", noNewPrivileges: false);
        using var _b = b;
        try
        {
            var r = b.Run();
            Assert.True(r.ExitCode == 0, r.ToString());
            Assert.Contains("Permission denied", r.Stdout);
            Assert.Contains("rc=1", r.Stdout);
        }
        finally { if (!agent.HasExited) agent.Kill(); agent.Dispose(); }
    }

    /// <summary>runc's exec loads the container's filter for the new process and sends its listener too: the agent
    /// gets a second connection, with the container "running", and answers the exec'd process's calls.</summary>
    [RootFact]
    public void Notify_Exec_TheExecdProcessListenerReachesTheAgentToo()
    {
        var (b, agent, outFile) = Start("sn-exec", "ok", "sleep 30", connections: 2);
        using var _b = b;
        try
        {
            var created = b.Create();
            Assert.True(created.ExitCode == 0, created.ToString());
            var started = b.Cnr("start", b.Id);
            Assert.True(started.ExitCode == 0, started.ToString());
            var r = b.Cnr("exec", b.Id, "sh", "-c", "mkdir /tmp/exec-notified && echo mkdir-ok; [ -e /tmp/exec-notified ] && echo exists || echo absent");
            Assert.True(r.ExitCode == 0, r.ToString());
            Assert.Contains("mkdir-ok", r.Stdout);
            Assert.Contains("absent", r.Stdout);

            using var state = JsonDocument.Parse(File.ReadAllText(outFile + ".2"));
            Assert.Equal("running", state.RootElement.GetProperty("state").GetProperty("status").GetString());
            Assert.Equal("from-the-test", state.RootElement.GetProperty("metadata").GetString());
            Assert.Equal("seccompFd", state.RootElement.GetProperty("fds")[0].GetString());
        }
        finally { if (!agent.HasExited) agent.Kill(); agent.Dispose(); }
    }

    [RootFact]
    public void Notify_NoAgentListening_FailsInOneLine_AndLeavesNothing()
    {
        using var b = new TestBundle("sn-none").WithArgs("true");
        b.Spec.Linux!.Seccomp = new LinuxSeccomp
        {
            DefaultAction = "SCMP_ACT_ALLOW",
            ListenerPath = Path.Combine(b.Dir, "nobody.sock"),
            Syscalls = [new LinuxSyscall { Names = ["mkdir"], Action = "SCMP_ACT_NOTIFY" }],
        };
        var r = b.Run();
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("linux.seccomp.listenerPath", r.Stderr);
        Assert.False(Directory.Exists(Path.Combine(b.StateRoot, b.Id)), "the state dir was left behind");
    }
}
