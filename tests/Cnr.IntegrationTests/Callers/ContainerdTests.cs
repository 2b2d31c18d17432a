using Cnr.IntegrationTests.Harness;
using Xunit;

namespace Cnr.IntegrationTests.Callers;

/// <summary>A private containerd (Debian's 1.6: own root, state and sockets, no CRI plugin) and `ctr` with
/// `--runc-binary` = cnr, through the io.containerd.runc.v2 shim.</summary>
public sealed class ContainerdFixture : IDisposable
{
    public CallerSandbox Box { get; }
    public string Socket { get; }

    public ContainerdFixture()
    {
        Box = new CallerSandbox("containerd");
        try
        {
            Socket = Path.Combine(Box.Dir, "containerd.sock");
            var config = Path.Combine(Box.Dir, "containerd.toml");
            File.WriteAllText(config, $"""
                version = 2
                root = "{Box.Dir}/root"
                state = "{Box.Dir}/state"
                disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",
                  "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.devmapper"]
                [grpc]
                  address = "{Socket}"
                [ttrpc]
                  address = "{Socket}.ttrpc"
                """);
            Box.StartDaemon("containerd", "containerd", ["--config", config], () => File.Exists(Socket), TimeSpan.FromSeconds(30));
            var r = Ctr("images", "import", "--all-platforms", ImageArchive.DockerArchive);
            if (r.ExitCode != 0) throw new InvalidOperationException("ctr images import: " + r + "\n" + Box.DaemonLog("containerd"));
        }
        catch
        {
            Box.Dispose(); // xunit does not dispose a fixture whose constructor threw
            throw;
        }
    }

    /// <summary>ctr against our containerd; fifos in our dir (ctr's default /run/containerd/fifo would be ours too,
    /// but explicit is clearer).</summary>
    public CnrResult Ctr(params string[] args) => Box.Exec("ctr", ["-a", Socket, .. args]);

    /// <summary>`ctr run` with cnr as the runc binary, its state root and the container's cgroup our own.</summary>
    public CnrResult CtrRun(string id, params string[] runArgsThenCommand)
    {
        var split = Array.IndexOf(runArgsThenCommand, "--");
        string[] flags = split < 0 ? [] : runArgsThenCommand[..split];
        string[] command = split < 0 ? runArgsThenCommand : runArgsThenCommand[(split + 1)..];
        // ctr sets cpu shares 1024 unless told 0; without a v2 cpu controller cnr would refuse the container.
        string[] noCpu = CallerSandbox.HasCgroupV2Controller("cpu") ? [] : ["--cpu-shares", "0"];
        return Ctr(["run", .. flags, .. noCpu, "--runc-binary", Box.Runtime, "--runc-root", Path.Combine(Box.Dir, "cnr-state"),
            "--cgroup", $"{Box.CgroupParent}/{id}", "--fifo-dir", Path.Combine(Box.Dir, "fifo"),
            ImageArchive.Name, id, .. command]);
    }

    public string Why(CnrResult r) => $"{r}\n--- runtime calls\n{Box.RuntimeCalls()}\n--- containerd log\n{Box.DaemonLog("containerd")}";

    public void Cleanup(string id)
    {
        Ctr("task", "kill", "-s", "SIGKILL", id);
        Wait.For(() => !System.Text.RegularExpressions.Regex.IsMatch(Ctr("task", "ls").Stdout, $"{id}\\s+\\d+\\s+RUNNING"), TimeSpan.FromSeconds(10));
        Ctr("task", "delete", "--force", id);
        Ctr("container", "delete", id);
    }

    public void Dispose() => Box.Dispose();
}

public sealed class ContainerdTests(ContainerdFixture f) : IClassFixture<ContainerdFixture>
{
    private static string NewId(string p) => p + "-" + Guid.NewGuid().ToString("N")[..8];

    [CallerFact("containerd", "ctr")]
    public void Containerd_RunsInTheSandboxsCgroup_NotTheTestRunsOwn()
    {
        var cgroups = File.ReadAllText($"/proc/{f.Box.DaemonPid("containerd")}/cgroup");
        Assert.Matches($@"(?m)^\d+:memory:{f.Box.CgroupParent}/containerd$", cgroups);
    }

    [CallerFact("containerd", "ctr")]
    public void Ctr_RunRm_PrintsOutputAndExitCode()
    {
        var id = NewId("rm");
        var r = f.CtrRun(id, "--rm", "--", "echo", "hi");
        Assert.True(r.ExitCode == 0, f.Why(r));
        Assert.Equal("hi\n", r.Stdout);

        id = NewId("rc");
        r = f.CtrRun(id, "--rm", "--", "sh", "-c", "exit 5");
        Assert.True(r.ExitCode == 5, f.Why(r));
    }

    [CallerFact("containerd", "ctr")]
    public void Ctr_RunTty_GivesTheProcessATerminal()
    {
        // The short sleep: the shim's console copy can miss the output of a process that exits within
        // milliseconds on a loaded machine; what is tested is the terminal, not that race.
        var id = NewId("tty");
        try
        {
            var r = f.Box.Exec("script", ["-qec", $"ctr -a {f.Socket} run --rm -t --runc-binary {f.Box.Runtime} " +
                (CallerSandbox.HasCgroupV2Controller("cpu") ? "" : "--cpu-shares 0 ") +
                $"--runc-root {f.Box.Dir}/cnr-state --cgroup {f.Box.CgroupParent}/{id} {ImageArchive.Name} {id} sh -c 'tty; sleep 0.3'", "/dev/null"]);
            Assert.True(r.ExitCode == 0, f.Why(r));
            Assert.Contains("/dev/pts/0", r.Stdout);
        }
        finally { f.Cleanup(id); }
    }

    [CallerFact("containerd", "ctr")]
    public void Ctr_DetachedTask_ExecPsKillDelete()
    {
        var id = NewId("d");
        var r = f.CtrRun(id, "-d", "--", "sleep", "1000");
        Assert.True(r.ExitCode == 0, f.Why(r));
        try
        {
            // the shim may list the task a moment after `run -d` returns on a loaded machine
            Wait.Until(() => (r = f.Ctr("task", "ls")).ExitCode == 0 && r.Stdout.Contains("RUNNING"), "the task to be listed", last: () => f.Why(r));
            Assert.Matches($"{id}\\s+\\d+\\s+RUNNING", r.Stdout);

            r = f.Ctr("task", "exec", "--exec-id", "e1", id, "echo", "from-exec");
            Assert.True(r.ExitCode == 0, f.Why(r));
            Assert.Equal("from-exec\n", r.Stdout);

            r = f.Ctr("task", "exec", "--exec-id", "e2", id, "sh", "-c", "exit 4");
            Assert.True(r.ExitCode == 4, f.Why(r));

            r = f.Box.Exec("script", ["-qec", $"ctr -a {f.Socket} task exec -t --exec-id e3 {id} sh -c 'tty; sleep 0.3'", "/dev/null"]); // attach timing margin, see Ctr_RunTty
            Assert.True(r.ExitCode == 0, f.Why(r));
            Assert.Contains("/dev/pts/", r.Stdout);

            // `ctr task ps` is `cnr ps --format json`: the pids of the container's processes.
            r = f.Ctr("task", "ps", id);
            Assert.True(r.ExitCode == 0, f.Why(r));
            Assert.Matches(@"\n\d+\s", r.Stdout);

            r = f.Ctr("task", "pause", id);
            Assert.True(r.ExitCode == 0, f.Why(r));
            Assert.Matches($"{id}\\s+\\d+\\s+PAUSED", f.Ctr("task", "ls").Stdout);
            r = f.Ctr("task", "resume", id);
            Assert.True(r.ExitCode == 0, f.Why(r));

            r = f.Ctr("task", "kill", "-s", "SIGKILL", id);
            Assert.True(r.ExitCode == 0, f.Why(r));
            Wait.Until(() => (r = f.Ctr("task", "ls")).Stdout.Contains("STOPPED"), "the task to stop", last: () => f.Why(r));
            Assert.Matches($"{id}\\s+\\d+\\s+STOPPED", r.Stdout);

            r = f.Ctr("task", "delete", id);
            Assert.True(r.ExitCode == 0, f.Why(r));
            Assert.DoesNotContain(id, f.Ctr("task", "ls").Stdout);
            Assert.False(Directory.Exists(Path.Combine(f.Box.Dir, "cnr-state", id)), "cnr's state dir is left after task delete");
        }
        finally { f.Cleanup(id); }
    }

    [CallerFact("containerd", "ctr")]
    public void Ctr_BindMount_ReachesTheContainer()
    {
        var vol = Path.Combine(f.Box.Dir, "vol");
        Directory.CreateDirectory(vol);
        File.WriteAllText(Path.Combine(vol, "f"), "volume-data\n");
        var id = NewId("bm");
        var r = f.CtrRun(id, "--rm", "--mount", $"type=bind,src={vol},dst=/data,options=rbind:ro",
            "--", "sh", "-c", "cat /data/f; touch /data/x 2>/dev/null || echo ro");
        Assert.True(r.ExitCode == 0, f.Why(r));
        Assert.Equal("volume-data\nro\n", r.Stdout);
    }
}
