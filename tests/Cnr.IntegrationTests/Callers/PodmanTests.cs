using Cnr.IntegrationTests.Harness;
using Xunit;

namespace Cnr.IntegrationTests.Callers;

/// <summary>Podman (Debian's 4.3) with cnr as its OCI runtime: private storage and state, no network, the
/// cgroupfs manager with a cgroup parent of our own, a locally imported busybox image.</summary>
public sealed class PodmanFixture : IDisposable
{
    public CallerSandbox Box { get; }
    private readonly string _conf;

    public PodmanFixture()
    {
        Box = new CallerSandbox("podman");
        try
        {
            _conf = Path.Combine(Box.Dir, "containers.conf");
            // default_ulimits: podman's default nofile/nproc are above this VM's hard limits, and raising a hard limit
            // needs CAP_SYS_RESOURCE, which the VM lacks. runtime_supports_json: podman passes `--log-format=json --log FILE` only
            // to runtimes named here, and reads the runtime's errors from that file. pids_limit = 0 without a v2 pids
            // controller: podman's default limit (2048) would make cnr refuse every container on a hybrid host.
            var pidsLimit = CallerSandbox.HasCgroupV2Controller("pids") ? "" : "pids_limit = 0";
            File.WriteAllText(_conf, $"""
                [containers]
                {pidsLimit}
                default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
                netns = "none"
                [engine]
                cgroup_manager = "cgroupfs"
                events_logger = "file"
                runtime_supports_json = ["cnr"]
                """);
            var r = Podman("import", ImageArchive.RootfsTar, ImageArchive.Name);
            if (r.ExitCode != 0) throw new InvalidOperationException("podman import: " + r);
        }
        catch
        {
            Box.Dispose(); // xunit does not dispose a fixture whose constructor threw
            throw;
        }
    }

    /// <summary>podman with private root/runroot/tmpdir (the runroot in the sandbox's own /run: podman wants it
    /// under 50 characters, for the socket paths inside) and cnr (through the argv-logging wrapper) as the runtime.
    /// cnr keeps its default state root /run/cnr, private too: `--runtime-flag root=…` would not reach the
    /// `delete` that conmon's exit command (`podman container cleanup --rm`) runs.</summary>
    public CnrResult Podman(params string[] args) => PodmanWithStdin(null, args);

    public CnrResult PodmanWithStdin(string? stdin, params string[] args) =>
        Box.Exec("podman", PodmanArgs(args), stdin, env: Env);

    /// <summary>podman ARGS run by script(1), so that podman has a terminal and `-t` goes through a pty.</summary>
    public CnrResult PodmanInTerminal(params string[] args) =>
        Box.Exec("script", ["-qec", string.Join(' ', PodmanArgs(args).Prepend("podman").Select(a => "'" + a.Replace("'", "'\\''") + "'")), "/dev/null"], env: Env);

    private Dictionary<string, string> Env => new() { ["CONTAINERS_CONF"] = _conf };

    private string[] PodmanArgs(string[] args) =>
    [
        "--root", Path.Combine(Box.Dir, "storage"), "--runroot", "/run/podman",
        "--tmpdir", Path.Combine(Box.Dir, "libpod-tmp"), "--storage-driver", "vfs",
        "--cgroup-manager", "cgroupfs", "--events-backend", "file",
        "--runtime", Box.Runtime,
        .. args,
    ];

    public string Why(CnrResult r) => $"{r}\n--- runtime calls\n{Box.RuntimeCalls()}";

    public void Dispose()
    {
        try { Podman("rm", "--all", "--force", "--time", "0"); } catch { }
        Box.Dispose();
    }
}

public sealed class PodmanTests(PodmanFixture f) : IClassFixture<PodmanFixture>
{
    private string Cg => "--cgroup-parent=" + f.Box.CgroupParent;

    [CallerFact("podman", "conmon")]
    public void Podman_RunRm_PrintsOutputAndExitCode()
    {
        var r = f.Podman("run", "--rm", Cg, ImageArchive.Name, "echo", "hi");
        Assert.True(r.ExitCode == 0, f.Why(r));
        Assert.Equal("hi\n", r.Stdout);

        r = f.Podman("run", "--rm", Cg, ImageArchive.Name, "sh", "-c", "exit 7");
        Assert.True(r.ExitCode == 7, f.Why(r));
    }

    [CallerFact("podman", "conmon")]
    public void Podman_PassesJsonLogFlagsAndBundleToTheRuntime()
    {
        var r = f.Podman("run", "--rm", Cg, ImageArchive.Name, "true");
        Assert.True(r.ExitCode == 0, f.Why(r));
        var create = f.Box.RuntimeCalls().Split('\n').First(l => l.Contains(" create "));
        Assert.Contains("--log-format=json", create);
        Assert.Contains("--bundle", create);
        Assert.Contains("--pid-file", create);
    }

    [CallerFact("podman", "conmon")]
    public void Podman_DetachedContainer_ExecPsTopStopRm()
    {
        var name = "pd-" + Guid.NewGuid().ToString("N")[..8];
        var r = f.Podman("run", "-d", "--name", name, Cg, ImageArchive.Name, "sleep", "1000");
        Assert.True(r.ExitCode == 0, f.Why(r));
        try
        {
            r = f.Podman("exec", name, "echo", "from-exec");
            Assert.True(r.ExitCode == 0, f.Why(r));
            Assert.Equal("from-exec\n", r.Stdout);

            r = f.PodmanWithStdin("echo piped; exit 3", "exec", "-i", name, "sh");
            Assert.True(r.ExitCode == 3, f.Why(r));
            Assert.Equal("piped\n", r.Stdout);

            r = f.Podman("ps", "--filter", "name=" + name, "--format", "{{.Names}} {{.Status}}");
            Assert.True(r.ExitCode == 0, f.Why(r));
            Assert.StartsWith(name + " Up", r.Stdout);

            r = f.Podman("top", name, "args");
            Assert.True(r.ExitCode == 0, f.Why(r));
            Assert.Contains("sleep 1000", r.Stdout);

            // sleep as pid 1 ignores SIGTERM: podman waits --time, then kills (as with runc).
            r = f.Podman("stop", "--time", "1", name);
            Assert.True(r.ExitCode == 0, f.Why(r));
            r = f.Podman("inspect", "--format", "{{.State.Status}}", name);
            Assert.Equal("exited\n", r.Stdout);

            r = f.Podman("rm", name);
            Assert.True(r.ExitCode == 0, f.Why(r));
        }
        finally { f.Podman("rm", "--force", "--time", "0", name); }
    }

    [CallerFact("podman", "conmon")]
    public void Podman_RunInteractive_GivesTheProcessATerminal()
    {
        // script(1) gives podman a terminal of its own, so `-it` goes through conmon and cnr's --console-socket.
        // The short sleep: podman's attach can miss the output of a process that exits within milliseconds
        // on a loaded machine (seen with runc too); what is tested is the terminal, not that race.
        var r = f.PodmanInTerminal("run", "--rm", "-it", Cg, ImageArchive.Name, "sh", "-c", "tty; echo done; sleep 0.3");
        Assert.True(r.ExitCode == 0, f.Why(r));
        Assert.Contains("/dev/pts/0", r.Stdout);
        Assert.Contains("done", r.Stdout);
    }

    [CallerFact("podman", "conmon")]
    public void Podman_ExecInteractive_GivesTheProcessATerminal()
    {
        var name = "pt-" + Guid.NewGuid().ToString("N")[..8];
        var r = f.Podman("run", "-d", "--name", name, Cg, ImageArchive.Name, "sleep", "1000");
        Assert.True(r.ExitCode == 0, f.Why(r));
        try
        {
            r = f.PodmanInTerminal("exec", "-it", name, "sh", "-c", "tty; sleep 0.3"); // see Podman_RunInteractive
            Assert.True(r.ExitCode == 0, f.Why(r));
            Assert.Contains("/dev/pts/", r.Stdout);
        }
        finally { f.Podman("rm", "--force", "--time", "0", name); }
    }

    [CallerFact("podman", "conmon")]
    public void Podman_PauseUnpause()
    {
        var name = "pp-" + Guid.NewGuid().ToString("N")[..8];
        var r = f.Podman("run", "-d", "--name", name, Cg, ImageArchive.Name, "sleep", "1000");
        Assert.True(r.ExitCode == 0, f.Why(r));
        try
        {
            r = f.Podman("pause", name);
            Assert.True(r.ExitCode == 0, f.Why(r));
            Assert.Equal("paused\n", f.Podman("inspect", "--format", "{{.State.Status}}", name).Stdout);
            r = f.Podman("unpause", name);
            Assert.True(r.ExitCode == 0, f.Why(r));
            Assert.Equal("running\n", f.Podman("inspect", "--format", "{{.State.Status}}", name).Stdout);
        }
        finally { f.Podman("rm", "--force", "--time", "0", name); }
    }

    [CallerFact("podman", "conmon", NeedsCgroupV2Controllers = "memory pids")]
    public void Podman_MemoryAndPidsLimits_ReachTheContainer()
    {
        // The limits land in the container's own cgroup: v2 files here, v1 files on a hybrid host.
        var r = f.Podman("run", "--rm", Cg, "--memory", "64m", "--pids-limit", "50", ImageArchive.Name, "sh", "-c",
            "cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max 2>/dev/null || " +
            "cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max");
        Assert.True(r.ExitCode == 0, f.Why(r));
        Assert.Equal(["67108864", "50"], r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [CallerFact("podman", "conmon")]
    public void Podman_Volume_IsBindMountedIntoTheContainer()
    {
        var vol = Path.Combine(f.Box.Dir, "vol");
        Directory.CreateDirectory(vol);
        File.WriteAllText(Path.Combine(vol, "f"), "volume-data\n");
        var r = f.Podman("run", "--rm", Cg, "-v", vol + ":/data", ImageArchive.Name, "sh", "-c", "cat /data/f; echo written > /data/g");
        Assert.True(r.ExitCode == 0, f.Why(r));
        Assert.Equal("volume-data\n", r.Stdout);
        Assert.Equal("written\n", File.ReadAllText(Path.Combine(vol, "g")));
    }

    [CallerFact("podman", "conmon")]
    public void Podman_User_RunsTheProcessAsThatUser()
    {
        var r = f.Podman("run", "--rm", Cg, "--user", "1000:1000", ImageArchive.Name, "id");
        Assert.True(r.ExitCode == 0, f.Why(r));
        // names appear when the image's /etc/passwd has the user (bundles/mybox has "student")
        Assert.Matches(@"^uid=1000(\(\w+\))? gid=1000(\(\w+\))? groups=1000", r.Stdout);
    }

    [CallerFact("podman", "conmon")]
    public void Podman_ReadOnly_MakesTheRootfsReadOnly()
    {
        var r = f.Podman("run", "--rm", Cg, "--read-only", ImageArchive.Name, "sh", "-c", "touch /x 2>/dev/null && echo writable || echo read-only");
        Assert.True(r.ExitCode == 0, f.Why(r));
        Assert.Equal("read-only\n", r.Stdout);
    }

    [CallerFact("podman", "conmon")]
    public void Podman_CapDropAll_LeavesNoCapabilities()
    {
        var r = f.Podman("run", "--rm", Cg, "--cap-drop", "all", ImageArchive.Name, "grep", "CapEff", "/proc/self/status");
        Assert.True(r.ExitCode == 0, f.Why(r));
        Assert.Equal("CapEff:\t0000000000000000\n", r.Stdout);
    }

    [CallerFact("podman", "conmon")]
    public void Podman_KillWithSignalName_ReachesTheProcess()
    {
        var name = "pk-" + Guid.NewGuid().ToString("N")[..8];
        var r = f.Podman("run", "-d", "--name", name, Cg, ImageArchive.Name, "sh", "-c", "trap 'exit 42' USR1; while true; do sleep 0.1; done");
        Assert.True(r.ExitCode == 0, f.Why(r));
        try
        {
            r = f.Podman("inspect", "--format", "{{.State.Pid}}", name);
            Assert.True(r.ExitCode == 0, f.Why(r));
            var pid = int.Parse(r.Stdout.Trim());
            Wait.Until(() => Host.Catches(pid, 10), "the container's trap on USR1");
            r = f.Podman("kill", "--signal", "USR1", name);
            Assert.True(r.ExitCode == 0, f.Why(r));
            r = f.Podman("wait", name);
            Assert.Equal("42\n", r.Stdout);
        }
        finally { f.Podman("rm", "--force", "--time", "0", name); }
    }
}
