using Cnr.IntegrationTests.Harness;
using Xunit;

namespace Cnr.IntegrationTests.Callers;

/// <summary>A private dockerd (Debian's docker.io 20.10, with the containerd it starts itself) that knows cnr as
/// the runtime "cnr": own data root, exec root, socket, pid file and daemon.json; no bridge, no iptables; the
/// cgroupfs driver under our own cgroup parent. The image is `docker load`ed from a docker-archive.</summary>
public sealed class DockerFixture : IDisposable
{
    public CallerSandbox Box { get; }
    public string Socket { get; }

    /// <summary>Debian's client, not a newer one that may be first in PATH.</summary>
    public static string DockerCli => File.Exists("/usr/bin/docker") ? "/usr/bin/docker" : "docker";

    public DockerFixture()
    {
        Box = new CallerSandbox("docker");
        try
        {
            Socket = Path.Combine(Box.Dir, "docker.sock");
            var daemonJson = Path.Combine(Box.Dir, "daemon.json");
            File.WriteAllText(daemonJson, "{}");
            Box.StartDaemon("dockerd", "dockerd",
            [
                "--config-file", daemonJson, "--data-root", Path.Combine(Box.Dir, "data"),
                "--exec-root", Path.Combine(Box.Dir, "exec"), "-H", "unix://" + Socket,
                "--pidfile", Path.Combine(Box.Dir, "dockerd.pid"),
                "--add-runtime", "cnr=" + Box.Runtime,
                "--bridge=none", "--iptables=false", "--ip6tables=false", "--ip-masq=false",
                "--exec-opt", "native.cgroupdriver=cgroupfs", "--cgroup-parent", Box.CgroupParent,
                "--storage-driver", "vfs",
            ], () => File.Exists(Socket) && Docker("version").ExitCode == 0, TimeSpan.FromSeconds(60));
            var r = Docker("load", "-i", ImageArchive.DockerArchive);
            if (r.ExitCode != 0) throw new InvalidOperationException("docker load: " + r + "\n" + Box.DaemonLog("dockerd"));
        }
        catch
        {
            Box.Dispose(); // xunit does not dispose a fixture whose constructor threw
            throw;
        }
    }

    public CnrResult Docker(params string[] args) => Box.Exec(DockerCli, ["-H", "unix://" + Socket, .. args]);

    public string Why(CnrResult r) => $"{r}\n--- runtime calls\n{Box.RuntimeCalls()}\n--- dockerd log\n{Box.DaemonLog("dockerd")}";

    public void Dispose()
    {
        try
        {
            var ids = Docker("ps", "-aq").Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            if (ids.Length > 0) Docker(["rm", "-f", .. ids]);
        }
        catch { }
        Box.Dispose();
    }
}

public sealed class DockerTests(DockerFixture f) : IClassFixture<DockerFixture>
{
    private static string NewName(string p) => p + "-" + Guid.NewGuid().ToString("N")[..8];

    [CallerFact("dockerd")]
    public void Docker_RunRm_PrintsOutputAndExitCode()
    {
        var r = f.Docker("run", "--rm", "--runtime", "cnr", "--network", "none", ImageArchive.Name, "echo", "hi");
        Assert.True(r.ExitCode == 0, f.Why(r));
        Assert.Equal("hi\n", r.Stdout);

        r = f.Docker("run", "--rm", "--runtime", "cnr", "--network", "none", ImageArchive.Name, "sh", "-c", "exit 6");
        Assert.True(r.ExitCode == 6, f.Why(r));
    }

    /// <summary>Host networking: docker adds no libnetwork-setkey prestart hook, so this isolates the runtime's
    /// lifecycle from hook handling.</summary>
    [CallerFact("dockerd")]
    public void Docker_RunRm_HostNetwork_PrintsOutput()
    {
        var r = f.Docker("run", "--rm", "--runtime", "cnr", "--network", "host", ImageArchive.Name, "echo", "hi");
        Assert.True(r.ExitCode == 0, f.Why(r));
        Assert.Equal("hi\n", r.Stdout);
    }

    [CallerFact("dockerd")]
    public void Docker_DetachedContainer_ExecTopStopRm()
    {
        var name = NewName("dd");
        var r = f.Docker("run", "-d", "--name", name, "--runtime", "cnr", "--network", "host", ImageArchive.Name, "sleep", "1000");
        Assert.True(r.ExitCode == 0, f.Why(r));
        try
        {
            r = f.Docker("exec", name, "echo", "from-exec");
            Assert.True(r.ExitCode == 0, f.Why(r));
            Assert.Equal("from-exec\n", r.Stdout);

            r = f.Docker("exec", name, "sh", "-c", "exit 9");
            Assert.True(r.ExitCode == 9, f.Why(r));

            r = f.Box.Exec("script", ["-qec", $"{DockerFixture.DockerCli} -H unix://{f.Socket} exec -it {name} sh -c 'tty; sleep 0.3'", "/dev/null"]); // attach timing margin, see PodmanTests
            Assert.True(r.ExitCode == 0, f.Why(r));
            Assert.Contains("/dev/pts/", r.Stdout);

            r = f.Docker("top", name);
            Assert.True(r.ExitCode == 0, f.Why(r));
            Assert.Contains("sleep 1000", r.Stdout);

            r = f.Docker("stop", "-t", "1", name);
            Assert.True(r.ExitCode == 0, f.Why(r));
            Assert.Equal("exited\n", f.Docker("inspect", "-f", "{{.State.Status}}", name).Stdout);
            r = f.Docker("rm", name);
            Assert.True(r.ExitCode == 0, f.Why(r));
        }
        finally { f.Docker("rm", "-f", name); }
    }

    [CallerFact("dockerd", NeedsCgroupV2Controllers = "cpu pids")]
    public void Docker_Update_ChangesTheRunningContainersLimits()
    {
        var name = NewName("du");
        var r = f.Docker("run", "-d", "--name", name, "--runtime", "cnr", "--network", "host", ImageArchive.Name, "sleep", "1000");
        Assert.True(r.ExitCode == 0, f.Why(r));
        try
        {
            // docker update → `cnr update --resources - ID` with the resources JSON on stdin.
            r = f.Docker("update", "--cpu-shares", "512", "--pids-limit", "100", name);
            Assert.True(r.ExitCode == 0, f.Why(r));
            Assert.Contains(f.Box.RuntimeCalls().Split('\n'), l => l.Contains("update --resources -"));
            r = f.Docker("exec", name, "cat", "/sys/fs/cgroup/pids.max");
            Assert.Equal("100\n", r.Stdout);
        }
        finally { f.Docker("rm", "-f", name); }
    }

    [CallerFact("dockerd")]
    public void Docker_RunInteractive_GivesTheProcessATerminal()
    {
        var r = f.Box.Exec("script", ["-qec", $"{DockerFixture.DockerCli} -H unix://{f.Socket} run --rm -it --runtime cnr --network host {ImageArchive.Name} sh -c 'tty; sleep 0.3'", "/dev/null"]); // attach timing margin, see PodmanTests
        Assert.True(r.ExitCode == 0, f.Why(r));
        Assert.Contains("/dev/pts/0", r.Stdout);
    }

    [CallerFact("dockerd")]
    public void Docker_VolumeAndUser_ReachTheContainer()
    {
        var vol = Path.Combine(f.Box.Dir, "vol");
        Directory.CreateDirectory(vol);
        File.WriteAllText(Path.Combine(vol, "f"), "volume-data\n");
        var r = f.Docker("run", "--rm", "--runtime", "cnr", "--network", "host", "-v", vol + ":/data:ro", "--user", "1000:1000",
            ImageArchive.Name, "sh", "-c", "cat /data/f; id -u; touch /data/x 2>/dev/null || echo ro");
        Assert.True(r.ExitCode == 0, f.Why(r));
        Assert.Equal("volume-data\n1000\nro\n", r.Stdout);
    }
}
