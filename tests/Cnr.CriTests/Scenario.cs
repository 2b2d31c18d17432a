using System.Diagnostics;
using System.Text;
using Cnr.CriTests.Cri;
using Grpc.Core;

namespace Cnr.CriTests;

internal sealed record Settings(string Handler, bool SystemdCgroup, string LogRoot, string PauseImage, string BusyboxImage);

/// <summary>One pod the way a kubelet runs it (shareProcessNamespace, a CNI network, limits, logs), its
/// containers through their whole life, and the requests cnr must refuse, each answer checked on the node.</summary>
internal sealed class Scenario(RuntimeService.RuntimeServiceClient runtime, ImageService.ImageServiceClient images, Node node, Report report, Settings settings)
{
    private const long MiB = 1024 * 1024;
    // a CRI call in the user-mode-linux guest takes seconds; this only bounds a hang
    private static readonly TimeSpan CallLimit = TimeSpan.FromMinutes(3);

    private readonly string _uid = "cricheck" + Guid.NewGuid().ToString("N")[..12];
    private string _podId = "";
    private int _sandboxPid;
    private PodSandboxConfig _pod = new();
    // every container and its init's pid, for the checks that they leave nothing
    private readonly Dictionary<string, string> _containers = [];
    private readonly Dictionary<string, int> _pids = [];

    private static DateTime Deadline => DateTime.UtcNow + CallLimit;

    private string LogDir => Path.Combine(settings.LogRoot, _uid);

    // kubelet's names for a pod's cgroup: cgroupfs a path, systemd a slice whose dashes are its hierarchy
    private string CgroupParent => settings.SystemdCgroup ? $"kubepods-pod{_uid}.slice" : $"/kubepods/pod{_uid}";

    public async Task RunAsync()
    {
        try
        {
            await report.Step("runtime", RuntimeAsync);
            await report.Step("pod", PodAsync);
            if (_podId == "") return;
            await report.Step("limits", LimitsAsync);
            await report.Step("exec", ExecAsync);
            await report.Step("peer", PeerAsync);
            await report.Step("exited", ExitedAsync);
            await report.Step("oom", OomAsync);
            await report.Step("oom of a child", OomChildAsync);
            // hugepage_limits never reach the runtime where the hugetlb controller is missing (containerd drops
            // them, or refuses itself with tolerate_missing_hugetlb_controller = false); the unified map does
            await report.Step("bad hugetlb", () => RefusedAsync("hugetlb", c => c.Linux.Resources.Unified["hugetlb.2MB.max"] = (2 * MiB).ToString(), "hugetlb"));
            // containerd reads a Localhost seccomp profile and puts it in the spec as it is
            await report.Step("bad seccomp", () => RefusedAsync("badseccomp", c => c.Linux.SecurityContext.Seccomp = new SecurityProfile
            {
                ProfileType = SecurityProfile.Types.ProfileType.Localhost,
                LocalhostRef = WriteProfile("cri-check-bad-action.json", """{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_NO_SUCH_ACTION"}]}"""),
            }, "SCMP_ACT_NO_SUCH_ACTION"));
            await report.Step("unknown syscall", UnknownSyscallAsync);
            // containerd 1.6 checks a Localhost AppArmor profile itself (is AppArmor on, is the profile loaded) and
            // refuses at CreateContainer (cnr's own refusal of a profile that is not loaded: check-student-vm.sh)
            if (File.Exists("/sys/module/apparmor/parameters/enabled") && File.ReadAllText("/sys/module/apparmor/parameters/enabled").Trim() == "Y")
                await report.Step("bad apparmor", () => RefusedAsync("badapparmor", c => c.Linux.SecurityContext.Apparmor = new SecurityProfile
                {
                    ProfileType = SecurityProfile.Types.ProfileType.Localhost,
                    LocalhostRef = "cri-check-not-loaded",
                }, "cri-check-not-loaded"));
            else
                report.Skip("bad apparmor", "AppArmor is not enabled on this node (containerd refuses the profile itself)");
            await report.Step("teardown", TeardownAsync);
        }
        finally
        {
            if (_podId != "") await ForceRemovePodAsync();
        }
    }

    private async Task RuntimeAsync()
    {
        var v = await runtime.VersionAsync(new VersionRequest { Version = "v1" }, deadline: Deadline);
        report.Equal("Version runtime_api_version", "v1", v.RuntimeApiVersion);
        report.Equal("Version runtime_name", "containerd", v.RuntimeName);
        var status = await runtime.StatusAsync(new StatusRequest(), deadline: Deadline);
        foreach (var c in new[] { "RuntimeReady", "NetworkReady" })
        {
            var cond = status.Status.Conditions.FirstOrDefault(x => x.Type == c);
            report.Expect($"Status {c}", cond?.Status == true, cond is null ? "no such condition" : $"{cond.Status} {cond.Reason} {cond.Message}");
        }
        var list = await images.ListImagesAsync(new ListImagesRequest(), deadline: Deadline);
        var tags = list.Images.SelectMany(i => i.RepoTags).ToList();
        foreach (var want in new[] { settings.PauseImage, settings.BusyboxImage })
            report.Expect($"ListImages has {want}", tags.Any(t => t.EndsWith(want, StringComparison.Ordinal)), string.Join(' ', tags));
    }

    private async Task PodAsync()
    {
        Directory.CreateDirectory(LogDir);
        _pod = new PodSandboxConfig
        {
            Metadata = new PodSandboxMetadata { Name = "cri-check", Uid = _uid, Namespace = "default", Attempt = 1 },
            Hostname = "cri-pod",
            LogDirectory = LogDir,
            DnsConfig = new DNSConfig { Servers = { "10.88.0.53" }, Searches = { "cri.test" } },
            Labels = { ["app"] = "cri-check" },
            Linux = new LinuxPodSandboxConfig
            {
                CgroupParent = CgroupParent,
                // shareProcessNamespace: true
                SecurityContext = new LinuxSandboxSecurityContext { NamespaceOptions = new NamespaceOption { Pid = NamespaceMode.Pod } },
            },
        };
        var sw = Stopwatch.StartNew();
        var run = await runtime.RunPodSandboxAsync(new RunPodSandboxRequest { Config = _pod, RuntimeHandler = settings.Handler }, deadline: Deadline);
        Report.Time("RunPodSandbox", sw.Elapsed);
        _podId = run.PodSandboxId;
        report.Expect("RunPodSandbox", _podId != "", _podId);

        var st = await runtime.PodSandboxStatusAsync(new PodSandboxStatusRequest { PodSandboxId = _podId, Verbose = true }, deadline: Deadline);
        var s = st.Status;
        report.Equal("PodSandboxStatus state", PodSandboxState.SandboxReady, s.State);
        report.Equal("PodSandboxStatus metadata", $"cri-check/{_uid}/default/1", $"{s.Metadata.Name}/{s.Metadata.Uid}/{s.Metadata.Namespace}/{s.Metadata.Attempt}");
        report.Equal("PodSandboxStatus runtime_handler", settings.Handler, s.RuntimeHandler);
        report.Equal("PodSandboxStatus label", "cri-check", s.Labels.GetValueOrDefault("app"));
        report.Equal("PodSandboxStatus pid namespace mode", NamespaceMode.Pod, s.Linux?.Namespaces?.Options?.Pid);
        report.Expect("PodSandboxStatus CNI address", !string.IsNullOrEmpty(s.Network?.Ip), $"ip {s.Network?.Ip}");

        var info = VerboseInfo.Parse(st.Info);
        _sandboxPid = info.Pid;
        report.Equal("sandbox spec hostname", "cri-pod", info.At("hostname")?.GetString());
        report.Equal("sandbox spec log directory", LogDir, info.At("annotations", "io.kubernetes.cri.sandbox-log-directory")?.GetString());
        var cgroupsPath = info.At("linux", "cgroupsPath")?.GetString() ?? "";
        report.Expect("sandbox spec cgroupsPath under the pod's parent", cgroupsPath.StartsWith(CgroupParent, StringComparison.Ordinal), cgroupsPath);
        ExpectCnrState(_podId, "running", "sandbox");
        var cgroup = Node.CgroupOf(_sandboxPid);
        report.Expect("sandbox cgroup", cgroup.Contains(_podId, StringComparison.Ordinal) && cgroup.Contains(_uid, StringComparison.Ordinal), cgroup);
    }

    private async Task LimitsAsync()
    {
        var id = await StartAsync("main", ["sleep"], ["3600"], c =>
        {
            c.WorkingDir = "/bin";
            c.Envs.Add(new KeyValue { Key = "FOO", Value = "bar" });
            c.Linux.Resources = new LinuxContainerResources
            {
                CpuShares = 512, CpuQuota = 50000, CpuPeriod = 100000, MemoryLimitInBytes = 64 * MiB, OomScoreAdj = 500,
            };
        });
        var st = await runtime.ContainerStatusAsync(new ContainerStatusRequest { ContainerId = id, Verbose = true }, deadline: Deadline);
        report.Equal("ContainerStatus state", ContainerState.ContainerRunning, st.Status.State);
        report.Equal("ContainerStatus metadata name", "main", st.Status.Metadata.Name);
        report.Equal("ContainerStatus label", "cri-check", st.Status.Labels.GetValueOrDefault("app"));
        report.Equal("ContainerStatus log_path", Path.Combine(LogDir, "main.log"), st.Status.LogPath);
        var info = VerboseInfo.Parse(st.Info);
        var args = info.At("process", "args")!.Value.EnumerateArray().Select(a => a.GetString()).ToList();
        report.Equal("container spec args", "sleep 3600", string.Join(' ', args));
        report.Equal("container spec cwd", "/bin", info.At("process", "cwd")?.GetString());
        report.Expect("container spec env", info.At("process", "env")!.Value.EnumerateArray().Any(e => e.GetString() == "FOO=bar"), "FOO=bar");
        report.Equal("container spec cpu.shares", 512L, info.At("linux", "resources", "cpu", "shares")?.GetInt64());
        report.Equal("container spec memory.limit", 64 * MiB, info.At("linux", "resources", "memory", "limit")?.GetInt64());
        ExpectCnrState(id, "running", "main");

        var pid = _pids[id];
        var cg = Node.CgroupOf(pid);
        report.Expect("main cgroup is the container's", cg.Contains(id, StringComparison.Ordinal), cg);
        if (settings.SystemdCgroup)
        {
            // where runc's systemd driver puts it, as a scope unit systemd runs
            report.Equal("main cgroup is the pod slice's scope", $"/sys/fs/cgroup/kubepods.slice/kubepods-pod{_uid}.slice/cri-containerd-{id}.scope", cg);
            report.Equal("main scope unit", "active", Node.SystemctlIsActive($"cri-containerd-{id}.scope"));
        }
        report.Equal("cgroup cpu.weight (shares 512)", "20", Node.ReadCgroupFile(cg, "cpu.weight"));
        report.Equal("cgroup cpu.max", "50000 100000", Node.ReadCgroupFile(cg, "cpu.max"));
        report.Equal("cgroup memory.max", (64 * MiB).ToString(), Node.ReadCgroupFile(cg, "memory.max"));
        report.Equal("oom_score_adj", "500", File.ReadAllText($"/proc/{pid}/oom_score_adj").Trim());
        // what the runtime's own process ignored or blocked must not reach the container's (an ignored signal
        // survives execve): with SIGPIPE ignored a pipeline's writer never dies, SIGTERM ignored never stops
        var status = File.ReadAllLines($"/proc/{pid}/status");
        foreach (var field in new[] { "SigIgn", "SigBlk" })
            report.Equal($"container process {field}", "0000000000000000", status.Single(l => l.StartsWith(field + ":", StringComparison.Ordinal)).Split('\t')[1]);

        var sw = Stopwatch.StartNew();
        await runtime.UpdateContainerResourcesAsync(new UpdateContainerResourcesRequest
        {
            ContainerId = id,
            Linux = new LinuxContainerResources { CpuShares = 1024, CpuQuota = 20000, CpuPeriod = 100000, MemoryLimitInBytes = 96 * MiB },
        }, deadline: Deadline);
        Report.Time("UpdateContainerResources", sw.Elapsed);
        report.Equal("updated cpu.weight (shares 1024)", "39", Node.ReadCgroupFile(cg, "cpu.weight"));
        report.Equal("updated cpu.max", "20000 100000", Node.ReadCgroupFile(cg, "cpu.max"));
        report.Equal("updated memory.max", (96 * MiB).ToString(), Node.ReadCgroupFile(cg, "memory.max"));

        var list = await runtime.ListContainersAsync(new ListContainersRequest { Filter = new ContainerFilter { PodSandboxId = _podId } }, deadline: Deadline);
        var mine = list.Containers.FirstOrDefault(c => c.Id == id);
        report.Expect("ListContainers in the pod", mine is { State: ContainerState.ContainerRunning } && mine.Metadata.Name == "main",
            string.Join(", ", list.Containers.Select(c => $"{c.Metadata.Name} {c.State}")));

        var stats = (await runtime.ContainerStatsAsync(new ContainerStatsRequest { ContainerId = id }, deadline: Deadline)).Stats;
        report.Equal("ContainerStats attributes id", id, stats.Attributes.Id);
        report.Expect("ContainerStats cpu", stats.Cpu?.UsageCoreNanoSeconds?.Value > 0, $"usage_core_nano_seconds {stats.Cpu?.UsageCoreNanoSeconds?.Value}");
        report.Expect("ContainerStats memory", stats.Memory?.WorkingSetBytes?.Value > 0, $"working_set_bytes {stats.Memory?.WorkingSetBytes?.Value}");
    }

    private async Task ExecAsync()
    {
        var id = _containers["main"];
        var sw = Stopwatch.StartNew();
        var r = await runtime.ExecSyncAsync(new ExecSyncRequest
        {
            ContainerId = id, Cmd = { "sh", "-c", "echo out; echo err >&2; echo $FOO; pwd; exit 3" }, Timeout = 120,
        }, deadline: Deadline);
        Report.Time("ExecSync", sw.Elapsed);
        report.Equal("ExecSync stdout", "out\nbar\n/bin\n", r.Stdout.ToStringUtf8());
        report.Equal("ExecSync stderr", "err\n", r.Stderr.ToStringUtf8());
        report.Equal("ExecSync exit code", 3, r.ExitCode);

        var exec = await runtime.ExecAsync(new ExecRequest { ContainerId = id, Cmd = { "sh" }, Tty = true, Stdin = true, Stdout = true }, deadline: Deadline);
        report.Expect("Exec streaming URL", exec.Url.StartsWith("http://", StringComparison.Ordinal), exec.Url);
        using var cts = new CancellationTokenSource(CallLimit);
        var (output, code) = await ExecStream.RunAsync(exec.Url, 100, 30, "stty size; tty; exit 5\n", cts.Token);
        var shown = output.Replace("\r", "\\r").Replace("\n", "\\n");
        report.Expect("tty Exec is on a pty", output.Contains("/dev/pts/", StringComparison.Ordinal), shown);
        report.Expect("tty Exec got the terminal size", output.Contains("30 100", StringComparison.Ordinal), shown);
        report.Equal("tty Exec exit code", 5, code);
    }

    private async Task PeerAsync()
    {
        var id = await StartAsync("peer", ["sleep"], ["3601"], _ => { });
        var (main, peer) = (_pids[_containers["main"]], _pids[id]);
        foreach (var ns in new[] { "net", "ipc", "uts", "pid" })
        {
            var (a, b, s) = (Node.NamespaceOf(main, ns), Node.NamespaceOf(peer, ns), Node.NamespaceOf(_sandboxPid, ns));
            report.Expect($"pod shares the {ns} namespace", a == b && b == s && a != "", $"main {a}, peer {b}, sandbox {s}");
        }
        report.Expect("containers have their own mount namespaces", Node.NamespaceOf(main, "mnt") != Node.NamespaceOf(peer, "mnt"), Node.NamespaceOf(peer, "mnt"));
        var r = await runtime.ExecSyncAsync(new ExecSyncRequest { ContainerId = id, Cmd = { "sh", "-c", "hostname; cat /etc/resolv.conf; ps" }, Timeout = 120 }, deadline: Deadline);
        var output = r.Stdout.ToStringUtf8();
        report.Expect("peer has the pod's hostname", output.StartsWith("cri-pod\n", StringComparison.Ordinal), output.Split('\n')[0]);
        report.Expect("peer has the pod's DNS config", output.Contains("search cri.test", StringComparison.Ordinal) && output.Contains("nameserver 10.88.0.53", StringComparison.Ordinal), output);
        report.Expect("peer sees main's process (shareProcessNamespace)", output.Contains("sleep 3600", StringComparison.Ordinal) && output.Contains("/pause", StringComparison.Ordinal), output);
    }

    private async Task ExitedAsync()
    {
        var id = await StartAsync("logger", ["sh"], ["-c", "echo hello-from-cri; echo oops >&2; exit 7"], _ => { });
        var s = await WaitExitedAsync(id);
        report.Equal("exited container state", ContainerState.ContainerExited, s.State);
        report.Equal("exited container exit code", 7, s.ExitCode);
        report.Equal("exited container reason", "Error", s.Reason);
        // containerd records started_at when StartContainer returns, which a quick process may not outlive
        report.Expect("exited container started_at, finished_at", s.FinishedAt > 0 && s.StartedAt > 0, $"started {s.StartedAt} finished {s.FinishedAt}");
        var log = File.ReadAllText(Path.Combine(LogDir, "logger.log"));
        report.Expect("container log (CRI format)", log.Contains(" stdout F hello-from-cri\n", StringComparison.Ordinal) && log.Contains(" stderr F oops\n", StringComparison.Ordinal), log);
        ExpectNothingLeft(id, "exited container");
    }

    private async Task OomAsync()
    {
        // the shim watches memory.events for OOM kills from the end of StartContainer: the allocation waits
        // for that, or an OOM kill in between would be reported as a plain exit
        var id = await StartAsync("oom", ["sh"], ["-c", "while [ ! -e /tmp/go ]; do usleep 50000; done; exec dd if=/dev/zero of=/dev/null bs=256M count=1"],
            c => c.Linux.Resources = new LinuxContainerResources { MemoryLimitInBytes = 32 * MiB });
        // the pod's cgroup outlives the container's, and its memory.events count the kills below it
        var podCgroup = Path.GetDirectoryName(Node.CgroupOf(_sandboxPid))!;
        var killsBefore = Node.OomKills(podCgroup);
        await runtime.ExecSyncAsync(new ExecSyncRequest { ContainerId = id, Cmd = { "touch", "/tmp/go" }, Timeout = 120 }, deadline: Deadline);
        var s = await WaitExitedAsync(id);
        report.Equal("OOM container exit code", 137, s.ExitCode);
        report.Expect("OOM kill in the pod's memory.events", Node.OomKills(podCgroup) > killsBefore, $"{podCgroup}/memory.events oom_kill {killsBefore} -> {Node.OomKills(podCgroup)}");
        // Under systemd the scope's cgroup goes as its last process dies (systemd trims an emptied scope, its
        // delegated subtree included), and containerd 1.6's runc shim reads the scope's memory.events only
        // after the kernel's notification: in the slow guest systemd is first, the shim publishes no TaskOOM,
        // and the CRI says Error. runc 1.1.5 loses that race too (check-cri.sh with CRI_RUNC=1).
        if (settings.SystemdCgroup && s.Reason == "Error")
            report.Skip("OOM container reason", "Error, not OOMKilled: systemd removed the emptied scope before containerd 1.6's shim read its memory.events (a race runc 1.1.5 loses too)");
        else
            report.Equal("OOM container reason", "OOMKilled", s.Reason);
    }

    /// <summary>An OOM kill of one of a container's processes is the container's business: the others go on (under
    /// systemd too, whose default OOMPolicy=stop would stop the scope), and the CRI reports OOMKilled when the
    /// container ends.</summary>
    private async Task OomChildAsync()
    {
        var id = await StartAsync("oomchild", ["sh"], ["-c", "while [ ! -e /tmp/go ]; do usleep 50000; done; dd if=/dev/zero of=/dev/null bs=256M count=1; exec sleep 3602"],
            c => c.Linux.Resources = new LinuxContainerResources { MemoryLimitInBytes = 32 * MiB });
        var pid = _pids[id];
        var podCgroup = Path.GetDirectoryName(Node.CgroupOf(_sandboxPid))!;
        var killsBefore = Node.OomKills(podCgroup);
        await runtime.ExecSyncAsync(new ExecSyncRequest { ContainerId = id, Cmd = { "touch", "/tmp/go" }, Timeout = 120 }, deadline: Deadline);
        // the init's shell goes on to `exec sleep` once dd is killed, unless something kills the init too. An empty
        // cmdline is not the end: /proc/PID/cmdline reads empty while the process is in execve (seen once: the loop
        // stopped on it, and the container was running `sleep 3602` just after); only a process gone is.
        var until = DateTime.UtcNow + CallLimit;
        string command;
        while (!(command = Node.CommandLine(pid)).StartsWith("sleep", StringComparison.Ordinal) && Directory.Exists($"/proc/{pid}")
               && DateTime.UtcNow < until)
            await Task.Delay(100);
        report.Expect("OOM kill of a child in the pod's memory.events", Node.OomKills(podCgroup) > killsBefore, $"{podCgroup}/memory.events oom_kill {killsBefore} -> {Node.OomKills(podCgroup)}");
        report.Equal("the container's init goes on after its child's OOM kill", "sleep 3602", command);
        var st = (await runtime.ContainerStatusAsync(new ContainerStatusRequest { ContainerId = id }, deadline: Deadline)).Status;
        report.Equal("after the child's OOM kill the container", ContainerState.ContainerRunning, st.State);
        await runtime.StopContainerAsync(new StopContainerRequest { ContainerId = id, Timeout = 0 }, deadline: Deadline);
        var s = await WaitExitedAsync(id);
        report.Equal("container with an OOM-killed child: reason", "OOMKilled", s.Reason);
    }

    /// <summary>A syscall name the node's libseccomp does not know is skipped, as runc skips it (profiles list
    /// syscalls newer than some nodes): the container starts, and the rest of the rule is enforced.</summary>
    private async Task UnknownSyscallAsync()
    {
        var id = await StartAsync("newsyscall", ["sleep"], ["3600"], c => c.Linux.SecurityContext.Seccomp = new SecurityProfile
        {
            ProfileType = SecurityProfile.Types.ProfileType.Localhost,
            LocalhostRef = WriteProfile("cri-check-unknown-syscall.json",
                """{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["cri_check_no_such_syscall","mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO"}]}"""),
        });
        var st = (await runtime.ContainerStatusAsync(new ContainerStatusRequest { ContainerId = id }, deadline: Deadline)).Status;
        report.Equal("unknown syscall: the container runs", ContainerState.ContainerRunning, st.State);
        var r = await runtime.ExecSyncAsync(new ExecSyncRequest { ContainerId = id, Cmd = { "mkdir", "/tmp/denied" }, Timeout = 120 }, deadline: Deadline);
        report.Expect("unknown syscall: the rule's known syscalls are denied", r.ExitCode != 0 && r.Stderr.ToStringUtf8().Contains("Operation not permitted", StringComparison.Ordinal),
            $"mkdir exit {r.ExitCode}: {r.Stderr.ToStringUtf8().Trim()}");
        await runtime.StopContainerAsync(new StopContainerRequest { ContainerId = id, Timeout = 0 }, deadline: Deadline);
        await runtime.RemoveContainerAsync(new RemoveContainerRequest { ContainerId = id }, deadline: Deadline);
        _containers.Remove("newsyscall");
        ExpectNothingLeft(id, "unknown syscall container");
    }

    /// <summary>A container that must be refused: the CRI error is one line naming <paramref name="says"/> (cnr's,
    /// at StartContainer, or containerd's own at CreateContainer), and nothing of it is left on the node.</summary>
    private async Task RefusedAsync(string name, Action<ContainerConfig> configure, string says)
    {
        var config = ContainerConfig(name, ["sleep"], ["3600"]);
        configure(config);
        var before = IsCnr ? node.CnrList().Count : 0;
        string id = "", error = "";
        try
        {
            id = (await runtime.CreateContainerAsync(new CreateContainerRequest { PodSandboxId = _podId, Config = config, SandboxConfig = _pod }, deadline: Deadline)).ContainerId;
            _containers[name] = id;
            await runtime.StartContainerAsync(new StartContainerRequest { ContainerId = id }, deadline: Deadline);
        }
        catch (RpcException e)
        {
            error = e.Status.Detail;
        }
        Console.WriteLine($"     {name}: {error}");
        report.Expect($"{name} refused naming {says}", error.Contains(says, StringComparison.OrdinalIgnoreCase), error == "" ? "StartContainer succeeded" : error);
        report.Expect($"{name} error is one line", !error.Contains('\n'), error);
        if (id != "")
        {
            ExpectNothingLeft(id, name);
            await runtime.RemoveContainerAsync(new RemoveContainerRequest { ContainerId = id }, deadline: Deadline);
            _containers.Remove(name);
        }
        else
        {
            var list = await runtime.ListContainersAsync(new ListContainersRequest { Filter = new ContainerFilter { PodSandboxId = _podId } }, deadline: Deadline);
            report.Expect($"{name}: no container", list.Containers.All(c => c.Metadata.Name != name), string.Join(", ", list.Containers.Select(c => c.Metadata.Name)));
            if (IsCnr) report.Equal($"{name}: no cnr state", before, node.CnrList().Count);
        }
    }

    private async Task TeardownAsync()
    {
        // a kubelet's grace period: SIGTERM, SIGKILL only after it (30 s, its default)
        foreach (var name in new[] { "main", "peer" })
        {
            var sw = Stopwatch.StartNew();
            await runtime.StopContainerAsync(new StopContainerRequest { ContainerId = _containers[name], Timeout = 30 }, deadline: Deadline);
            Report.Time($"StopContainer {name}", sw.Elapsed);
            var st = (await runtime.ContainerStatusAsync(new ContainerStatusRequest { ContainerId = _containers[name] }, deadline: Deadline)).Status;
            report.Equal($"stopped {name} state", ContainerState.ContainerExited, st.State);
            report.Equal($"stopped {name} by SIGTERM (exit code)", 128 + 15, st.ExitCode);
        }
        foreach (var (name, id) in _containers)
        {
            await runtime.RemoveContainerAsync(new RemoveContainerRequest { ContainerId = id }, deadline: Deadline);
            ExpectNothingLeft(id, name);
        }
        var stop = Stopwatch.StartNew();
        await runtime.StopPodSandboxAsync(new StopPodSandboxRequest { PodSandboxId = _podId }, deadline: Deadline);
        await runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = _podId }, deadline: Deadline);
        Report.Time("StopPodSandbox+RemovePodSandbox", stop.Elapsed);
        var podId = _podId;
        _podId = "";
        ExpectNothingLeft(podId, "sandbox");
        report.Expect("sandbox pause process gone", !Node.Alive(_sandboxPid), $"pid {_sandboxPid}");
        var shims = Node.ProcessesNamed(podId);
        report.Expect("no shim or other process names the pod", shims.Count == 0, string.Join(' ', shims));
        try
        {
            await runtime.PodSandboxStatusAsync(new PodSandboxStatusRequest { PodSandboxId = podId }, deadline: Deadline);
            report.Expect("removed pod is gone", false, "PodSandboxStatus still answers");
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.NotFound)
        {
            report.Expect("removed pod is gone", true, "PodSandboxStatus: NotFound");
        }
    }

    private ContainerConfig ContainerConfig(string name, string[] command, string[] args) => new()
    {
        Metadata = new ContainerMetadata { Name = name },
        Image = new ImageSpec { Image = settings.BusyboxImage },
        Command = { command },
        Args = { args },
        LogPath = name + ".log",
        Labels = { ["app"] = "cri-check" },
        Linux = new LinuxContainerConfig
        {
            Resources = new LinuxContainerResources(),
            SecurityContext = new LinuxContainerSecurityContext { NamespaceOptions = new NamespaceOption { Pid = NamespaceMode.Pod } },
        },
    };

    private async Task<string> StartAsync(string name, string[] command, string[] args, Action<ContainerConfig> configure)
    {
        var config = ContainerConfig(name, command, args);
        configure(config);
        var sw = Stopwatch.StartNew();
        var created = await runtime.CreateContainerAsync(new CreateContainerRequest { PodSandboxId = _podId, Config = config, SandboxConfig = _pod }, deadline: Deadline);
        Report.Time($"CreateContainer {name}", sw.Elapsed);
        var id = created.ContainerId;
        _containers[name] = id;
        sw.Restart();
        await runtime.StartContainerAsync(new StartContainerRequest { ContainerId = id }, deadline: Deadline);
        Report.Time($"StartContainer {name}", sw.Elapsed);
        var st = await runtime.ContainerStatusAsync(new ContainerStatusRequest { ContainerId = id, Verbose = true }, deadline: Deadline);
        _pids[id] = VerboseInfo.Parse(st.Info).Pid;
        return id;
    }

    private async Task<ContainerStatus> WaitExitedAsync(string id)
    {
        var until = DateTime.UtcNow + CallLimit;
        while (true)
        {
            var s = (await runtime.ContainerStatusAsync(new ContainerStatusRequest { ContainerId = id }, deadline: Deadline)).Status;
            if (s.State == ContainerState.ContainerExited) return s;
            if (DateTime.UtcNow > until) throw new TimeoutException($"{s.Metadata.Name} still {s.State} after {CallLimit.TotalSeconds} s");
            await Task.Delay(250);
        }
    }

    // another handler (runc, for the side-by-side figures) keeps a state cnr does not read
    private bool IsCnr => settings.Handler == "cnr";

    private void ExpectCnrState(string id, string status, string what)
    {
        if (!IsCnr) return;
        var list = node.CnrList();
        report.Equal($"{what} in cnr list", status, list.GetValueOrDefault(id, "(absent)"));
    }

    /// <summary>No cnr state, no cgroup, no process of the container (or pod) is left.</summary>
    private void ExpectNothingLeft(string id, string what)
    {
        if (IsCnr) report.Expect($"{what}: no cnr state", !node.CnrList().ContainsKey(id), id);
        if (settings.SystemdCgroup)
            report.Expect($"{what}: no scope unit", Node.SystemctlIsActive($"cri-containerd-{id}.scope") is "inactive" or "unknown", $"cri-containerd-{id}.scope");
        var cgroups = Node.CgroupsNamed(id);
        report.Expect($"{what}: no cgroup", cgroups.Count == 0, cgroups.Count == 0 ? id : string.Join(' ', cgroups));
        var procs = Node.ProcessesInCgroupsNamed(id);
        if (_pids.TryGetValue(id, out var pid) && Node.Alive(pid)) procs.Add(pid);
        report.Expect($"{what}: no process", procs.Count == 0, procs.Count == 0 ? id : "pids " + string.Join(' ', procs));
    }

    /// <summary>A Localhost seccomp profile for containerd to read.</summary>
    private static string WriteProfile(string name, string json)
    {
        var path = Path.Combine(Path.GetTempPath(), name);
        File.WriteAllText(path, json);
        return path;
    }

    /// <summary>After a failure: the pod and whatever it still holds go, so that the guest's containerd can stop.</summary>
    private async Task ForceRemovePodAsync()
    {
        try
        {
            await runtime.StopPodSandboxAsync(new StopPodSandboxRequest { PodSandboxId = _podId }, deadline: Deadline);
            await runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = _podId }, deadline: Deadline);
        }
        catch (RpcException e)
        {
            Console.WriteLine($"cleanup: {Report.OneLine(e)}");
        }
    }
}
