using Cnr.Cgroups;
using Cnr.IntegrationTests.Harness;
using Cnr.Spec;
using Xunit;

namespace Cnr.IntegrationTests.Cgroups;

/// <summary>What a user sees when a container has linux.resources: real containers run by the cnr binary,
/// each in /cnr-test/ID. The controller tests need a pure cgroup v2 kernel: tests/vm/run-cgroup-tests.sh.</summary>
[Trait("Category", "CgroupV2")]
public sealed class CgroupResourcesTests
{
    private static TestBundle Bundle(string name, LinuxResources resources, string script)
    {
        var b = new TestBundle(name).WithArgs("sh", "-c", script);
        b.Spec.Linux ??= new Cnr.Spec.Linux();
        // keep the default spec's device rules (deny all) unless the test sets its own
        resources.Devices ??= b.Spec.Linux.Resources?.Devices;
        b.Spec.Linux.Resources = resources;
        b.Spec.Linux.CgroupsPath = "/cnr-test/" + b.Id;
        return b;
    }

    /// <summary>Starts the bundle detached (its output to /dev/null) and returns its cgroup directory on the host.</summary>
    private static string RunDetached(TestBundle b)
    {
        b.Write();
        var r = b.Cnr("run", "--detach", "--bundle", b.Dir, b.Id);
        Assert.True(r.ExitCode == 0, r.ToString());
        return CgroupHierarchy.Find(out _)!.Root + b.Spec.Linux!.CgroupsPath;
    }

    [CgroupV2Fact("memory", NeedsCnr = true)]
    public void Run_WithMemoryLimit_OomKillsProcessOverLimit()
    {
        // dd allocates its block size and fills it: 64 MiB against a 16 MiB limit (swap included)
        using var b = Bundle("oom", new LinuxResources { Memory = new LinuxMemory { Limit = 16 << 20, Swap = 16 << 20 } },
            "exec dd if=/dev/zero of=/dev/null bs=67108864 count=1");
        var r = b.Run(timeout: TimeSpan.FromMinutes(3));
        Assert.True(r.ExitCode == 137, r.ToString());  // SIGKILL from the OOM killer
    }

    [CgroupV2Fact("memory", NeedsCnr = true)]
    public void Run_WithMemoryLimit_ProcessUnderLimitSucceeds()
    {
        using var b = Bundle("nooom", new LinuxResources { Memory = new LinuxMemory { Limit = 16 << 20, Swap = 16 << 20 } },
            "dd if=/dev/zero of=/dev/null bs=2097152 count=1 && echo survived");
        var r = b.Run(timeout: TimeSpan.FromMinutes(3));
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("survived", r.Stdout.Trim());
    }

    [CgroupV2Fact("pids", NeedsCnr = true)]
    public void Run_WithPidsLimit_ForkLoopCannotFork()
    {
        using var b = Bundle("pids", new LinuxResources { Pids = new LinuxPids { Limit = 5 } },
            "for i in $(seq 20); do sleep 1 & done; wait; echo done");
        var r = b.Run(timeout: TimeSpan.FromMinutes(2));
        Assert.Contains("can't fork", r.Stderr);
        Assert.Contains("Resource temporarily unavailable", r.Stderr);
    }

    [CgroupV2Fact("cpu", NeedsCnr = true)]
    public void Run_WithCpuQuota_IsThrottled()
    {
        using var b = Bundle("cpu", new LinuxResources { Cpu = new LinuxCpu { Quota = 10000, Period = 100000 } },
            "exec >/dev/null 2>&1; timeout 1 sh -c 'while :; do :; done'; sleep 100");
        var dir = RunDetached(b);
        Assert.Equal("10000 100000", File.ReadAllText(Path.Combine(dir, "cpu.max")).Trim());
        Wait.Until(() => File.ReadAllLines(Path.Combine(dir, "cpu.stat")).Any(l => l.StartsWith("nr_throttled ") && l != "nr_throttled 0"),
            "cpu.stat nr_throttled > 0");
    }

    [CgroupV2Fact("io", NeedsCnr = true, NeedsBlockDevice = true)]
    public void Run_WithBlockIOThrottle_LandsInIoMax()
    {
        var dev = CgroupV2FactAttribute.BlockDevice!;
        var mm = dev.Split(':').Select(long.Parse).ToArray();
        using var b = Bundle("io", new LinuxResources
        {
            BlockIO = new LinuxBlockIO { ThrottleWriteBpsDevice = [new LinuxThrottleDevice { Major = mm[0], Minor = mm[1], Rate = 2097152 }] },
        }, "exec >/dev/null 2>&1; sleep 100");
        var dir = RunDetached(b);
        Assert.Contains($"{dev} rbps=max wbps=2097152", File.ReadAllText(Path.Combine(dir, "io.max")));
    }

    [CgroupV2Fact(NeedsCnr = true)]
    public void Run_WithDevicesDenied_MknodWorksButOpeningTheNodeIsNotPermitted()
    {
        using var b = Bundle("dev", new LinuxResources(),
            "mknod /dev/sda b 8 0 && echo mknod-ok; head -c1 /dev/sda; head -c1 /dev/zero | wc -c");
        foreach (var set in new[] { b.Spec.Process!.Capabilities!.Bounding, b.Spec.Process.Capabilities.Effective, b.Spec.Process.Capabilities.Permitted })
            set!.Add("CAP_MKNOD");
        var r = b.Run();
        Assert.Contains("mknod-ok", r.Stdout);
        Assert.Contains("/dev/sda: Operation not permitted", r.Stderr);
        Assert.EndsWith("1", r.Stdout.Trim());  // /dev/zero is one of the devices every container gets
    }

    /// <summary>runc's rule: linux.devices makes the node, only linux.resources.devices lets the container use
    /// it; under the default spec's deny-all, a listed /dev/kmsg exists but cannot be opened.</summary>
    [CgroupV2Fact(NeedsCnr = true)]
    public void Run_WithListedDeviceButDenyAll_NodeExistsButCannotBeOpened()
    {
        using var b = Bundle("devls", new LinuxResources(), "test -c /dev/kmsg && echo node-ok; : < /dev/kmsg && echo open-ok");
        b.Spec.Linux!.Devices = [new LinuxDevice { Path = "/dev/kmsg", Type = "c", Major = 1, Minor = 11, FileMode = 0x1a4 }];
        foreach (var set in new[] { b.Spec.Process!.Capabilities!.Bounding, b.Spec.Process.Capabilities.Effective, b.Spec.Process.Capabilities.Permitted })
            set!.Add("CAP_SYSLOG"); // with kernel.dmesg_restrict=1, opening kmsg also needs it: test only the device rule
        var r = b.Run();
        Assert.True(r.Stdout.Contains("node-ok"), r.ToString());
        Assert.DoesNotContain("open-ok", r.Stdout);
        Assert.Contains("/dev/kmsg: Operation not permitted", r.Stderr);
    }

    [CgroupV2Fact(NeedsCnr = true)]
    public void Run_WithDeviceAllowed_OpeningTheNodeIsPermitted()
    {
        using var b = Bundle("devok", new LinuxResources
        {
            Devices = [new LinuxDeviceCgroup { Allow = false, Access = "rwm" }, new LinuxDeviceCgroup { Allow = true, Type = "c", Major = 1, Minor = 11, Access = "r" }],
        }, "mknod /dev/kmsg2 c 1 11 && : < /dev/kmsg2 && echo open-ok");
        foreach (var set in new[] { b.Spec.Process!.Capabilities!.Bounding, b.Spec.Process.Capabilities.Effective, b.Spec.Process.Capabilities.Permitted })
        {
            set!.Add("CAP_MKNOD");
            set.Add("CAP_SYSLOG"); // with kernel.dmesg_restrict=1, opening kmsg also needs it: test only the device rule
        }
        var r = b.Run();
        Assert.True(r.Stdout.Contains("open-ok"), r.ToString());
    }

    /// <summary>A cgroupsPath below a cgroup that has processes of its own (a rootless caller's own cgroup, as
    /// under rootless Podman with cgroupfs): cnr enables no controller there. The kernel would let the threaded
    /// ones (cpu, pids) in, making that cgroup a thread root below which no process can be moved (EOPNOTSUPP).
    /// A limit that needs one is refused in one line.</summary>
    [CgroupV2Fact("pids", NeedsCnr = true)]
    public void Run_BelowACgroupWithProcesses_RunsWithoutEnablingControllersThere()
    {
        var root = CgroupHierarchy.Find(out _)!.Root;
        var busy = $"/cnr-test/busy-{Guid.NewGuid():N}"[..26];
        Directory.CreateDirectory(root + busy);
        File.WriteAllText(root + "/cnr-test/cgroup.subtree_control", "+pids");
        using var sleeper = System.Diagnostics.Process.Start("sleep", "1000");
        try
        {
            File.WriteAllText(root + busy + "/cgroup.procs", sleeper.Id.ToString());
            using var b = new TestBundle("busy").WithArgs("echo", "ran");
            b.Spec.Linux!.CgroupsPath = busy + "/ctr";
            b.Spec.Linux.Resources = new LinuxResources { Devices = b.Spec.Linux.Resources?.Devices };
            var r = b.Run();
            Assert.True(r.ExitCode == 0 && r.Stdout == "ran\n", r.ToString());
            Assert.Equal("", File.ReadAllText(root + busy + "/cgroup.subtree_control").Trim());

            b.Spec.Linux.Resources.Pids = new LinuxPids { Limit = 10 };
            r = b.Run();
            Assert.NotEqual(0, r.ExitCode);
            var line = Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.Contains("linux.resources.pids", line);
            Assert.Contains("has processes of its own", line);
            Assert.False(Directory.Exists(root + busy + "/ctr"), "the refused container left its cgroup");
        }
        finally
        {
            sleeper.Kill();
            sleeper.WaitForExit();
            Wait.Until(() => File.ReadAllText(root + busy + "/cgroup.procs").Trim().Length == 0, "the sleeper to leave its cgroup");
            Directory.Delete(root + busy);
        }
    }

    [CgroupV2Fact(NeedsCnr = true)]
    public void Run_WithCgroupNamespace_SeesItsOwnCgroupAsTheRoot()
    {
        // the init must be in its cgroup before the cgroup namespace is made, or the namespace's root is
        // the caller's cgroup and /sys/fs/cgroup inside shows the caller's tree
        using var b = Bundle("cgns", new LinuxResources(), "grep ^0:: /proc/self/cgroup");
        var r = b.Run();
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("0::/", r.Stdout.Trim());
    }

    [CgroupV2Fact(NeedsCnr = true)]
    public void PauseResume_StopsAndResumesTheContainer()
    {
        using var b = Bundle("pause", new LinuxResources(),
            "exec >/dev/null 2>&1; i=0; while :; do i=$((i+1)); echo $i > /count; sleep 0.05; done").CopyRootfs();
        RunDetached(b);
        var count = Path.Combine(b.Dir, "rootfs", "count");
        string Count() => File.Exists(count) ? File.ReadAllText(count) : "";
        Wait.Until(() => Count().Length > 0, "the counter to start");

        var p = b.Cnr("pause", b.Id);
        Assert.True(p.ExitCode == 0, p.ToString());
        Assert.Contains("\"status\": \"paused\"", b.Cnr("state", b.Id).Stdout);
        var frozenAt = Count();
        Thread.Sleep(500); // that nothing happens has no event to wait for: ten of the counter's steps
        Assert.Equal(frozenAt, Count());

        var q = b.Cnr("resume", b.Id);
        Assert.True(q.ExitCode == 0, q.ToString());
        Assert.Contains("\"status\": \"running\"", b.Cnr("state", b.Id).Stdout);
        Wait.Until(() => Count() != frozenAt, "the counter to move after resume");
    }
}
