using System.Diagnostics;
using Cnr.IntegrationTests.Harness;
using Proc = System.Diagnostics.Process;
using Cnr.Cgroups;
using Cnr.Spec;
using Xunit;

namespace Cnr.IntegrationTests.Cgroups;

/// <summary>CgroupManager on the real kernel, with processes started here (never this test process) moved
/// into a cgroup under /cnr-test/. Each test's process waits for a line on stdin, so that it is inside the
/// cgroup before it does anything.</summary>
[Trait("Category", "CgroupV2")]
public sealed class CgroupManagerTests : IDisposable
{
    private readonly List<Proc> _started = [];
    private readonly List<CgroupManager> _cgroups = [];

    private CgroupManager Cgroup(LinuxResources? resources = null, List<LinuxDevice>? devices = null)
    {
        var id = "m-" + Guid.NewGuid().ToString("N")[..12];
        var m = CgroupManager.For(id, new Cnr.Spec.Linux { CgroupsPath = "/cnr-test/" + id, Resources = resources, Devices = devices });
        _cgroups.Add(m);
        m.Create();
        return m;
    }

    /// <summary>bash -c SCRIPT, in the cgroup, started by `go`.</summary>
    private (Proc P, Action Go) Start(CgroupManager m, string script)
    {
        var psi = new ProcessStartInfo("/bin/bash") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add("read _; " + script);
        var p = Proc.Start(psi)!;
        _started.Add(p);
        m.AddProcess(p.Id);
        return (p, () => { p.StandardInput.WriteLine(); p.StandardInput.Flush(); });
    }

    private static (int Code, string Out, string Err) Finish(Proc p, int seconds = 60)
    {
        var o = p.StandardOutput.ReadToEndAsync();
        var e = p.StandardError.ReadToEndAsync();
        Assert.True(p.WaitForExit(seconds * 1000), "process did not finish");
        return (p.ExitCode, o.Result, e.Result);
    }

    private static string Read(CgroupManager m, string file) => File.ReadAllText(Path.Combine(m.FullPath, file)).Trim();

    public void Dispose()
    {
        foreach (var m in _cgroups) try { m.Destroy(); } catch { }
        foreach (var p in _started) { try { if (!p.HasExited) p.Kill(); } catch { } p.Dispose(); }
    }

    [CgroupV2Fact]
    public void Create_AddProcess_Destroy_RemovesTheCgroupAndItsParent()
    {
        var m = Cgroup();
        Assert.StartsWith("/cnr-test/m-", m.Path);
        Assert.True(Directory.Exists(m.FullPath));
        var (p, _) = Start(m, "sleep 100");
        Assert.Equal([p.Id], m.Pids());
        m.Destroy();
        Assert.True(p.WaitForExit(10_000), "the process survived Destroy");
        Assert.False(Directory.Exists(m.FullPath));
    }

    [CgroupV2Fact]
    public void FreezeThaw_StopsAndResumesTheProcesses()
    {
        var m = Cgroup();
        var counter = Path.Combine(Path.GetTempPath(), "cnr-count-" + Guid.NewGuid().ToString("N"));
        var (p, go) = Start(m, $"i=0; while :; do i=$((i+1)); echo $i > {counter}; sleep 0.05; done");
        go();
        string Count() => File.Exists(counter) ? File.ReadAllText(counter) : "";
        Wait.Until(() => Count() is not ("" or "1\n"), "the counter to start");
        m.Freeze();
        Assert.True(m.IsFrozen);
        var frozenAt = Count();
        Thread.Sleep(500); // that nothing happens has no event to wait for: ten of the counter's 50 ms steps
        Assert.Equal(frozenAt, Count());
        m.Thaw();
        Assert.False(m.IsFrozen);
        Wait.Until(() => Count() != frozenAt, "the counter to move again after Thaw");
        File.Delete(counter);
    }

    [CgroupV2Fact]
    public void Devices_DefaultDenyAll_AllowsStandardDevicesOnly()
    {
        var m = Cgroup(new LinuxResources { Devices = [new LinuxDeviceCgroup { Allow = false, Access = "rwm" }] });
        var (p, go) = Start(m, "head -c1 /dev/zero >/dev/null && echo zero-ok; : < /dev/kmsg && echo kmsg-ok");
        go();
        var (code, o, e) = Finish(p);
        Assert.Contains("zero-ok", o);
        Assert.DoesNotContain("kmsg-ok", o);
        Assert.Contains("/dev/kmsg: Operation not permitted", e);
    }

    [CgroupV2Fact]
    public void Devices_AllowedByConfig_CanBeOpened_AndUpdateReplacesTheProgram()
    {
        var allowKmsg = new LinuxDeviceCgroup { Allow = true, Type = "c", Major = 1, Minor = 11, Access = "r" };
        var deny = new LinuxDeviceCgroup { Allow = false, Access = "rwm" };
        var m = Cgroup(new LinuxResources { Devices = [deny, allowKmsg] });
        var (p, go) = Start(m, ": < /dev/kmsg && echo kmsg-ok");
        go();
        Assert.Contains("kmsg-ok", Finish(p).Out);

        m.SetResources(new LinuxResources { Devices = [deny] });
        var (p2, go2) = Start(m, ": < /dev/kmsg && echo kmsg-ok");
        go2();
        Assert.Contains("Operation not permitted", Finish(p2).Err);
    }

    [CgroupV2Fact("memory", "pids", "cpu")]
    public void Create_WritesTheV2Files()
    {
        var m = Cgroup(new LinuxResources
        {
            Memory = new LinuxMemory { Limit = 64 << 20, Reservation = 16 << 20 },
            Cpu = new LinuxCpu { Shares = 512, Quota = 20000, Period = 100000 },
            Pids = new LinuxPids { Limit = 42 },
        });
        Assert.Equal("67108864", Read(m, "memory.max"));
        Assert.Equal("16777216", Read(m, "memory.low"));
        Assert.Equal("20000 100000", Read(m, "cpu.max"));
        Assert.Equal(ResourceMapping.CpuSharesToWeight(512).ToString(), Read(m, "cpu.weight"));
        Assert.Equal("42", Read(m, "pids.max"));

        m.SetResources(new LinuxResources { Pids = new LinuxPids { Limit = -1 }, Memory = new LinuxMemory { Limit = 128 << 20 } });
        Assert.Equal("max", Read(m, "pids.max"));
        Assert.Equal("134217728", Read(m, "memory.max"));
    }

    [CgroupV2Fact("memory")]
    public void Memory_OverTheLimit_IsOomKilled_UnderItIsNot()
    {
        var m = Cgroup(new LinuxResources { Memory = new LinuxMemory { Limit = 16 << 20, Swap = 16 << 20 } });
        // dd allocates its block size and fills it
        var (small, go) = Start(m, "dd if=/dev/zero of=/dev/null bs=2097152 count=1 2>/dev/null && echo ok");
        go();
        var r = Finish(small);
        Assert.Equal(0, r.Code);
        Assert.Equal("ok", r.Out.Trim());
        Assert.False(m.OomKilled);

        var (big, go2) = Start(m, "exec dd if=/dev/zero of=/dev/null bs=33554432 count=1");
        go2();
        Assert.NotEqual(0, Finish(big).Code);
        Assert.True(m.OomKilled);
        Assert.Equal(16UL << 20, m.Stats().Memory.Usage.Limit);
    }

    [CgroupV2Fact("memory")]
    public void Unified_WritesRawKeys_AndAnUnknownKeyIsOneClearError()
    {
        var m = Cgroup(new LinuxResources { Unified = new() { ["memory.high"] = "33554432" } });
        Assert.Equal("33554432", Read(m, "memory.high"));
        var e = Assert.Throws<CgroupException>(() => m.SetResources(new LinuxResources { Unified = new() { ["memory.bogus"] = "1" } }));
        Assert.StartsWith($"linux.resources.unified[\"memory.bogus\"]: {m.FullPath} has no memory.bogus", e.Message);
    }

    [CgroupV2Fact("memory")]
    public void Memory_CheckBeforeUpdate_RefusesALimitBelowUsage()
    {
        var m = Cgroup(new LinuxResources { Memory = new LinuxMemory { Limit = 64 << 20 } });
        // dd fills its 2 MB buffer, then blocks on the full pipe, holding it
        var (_, go) = Start(m, "dd if=/dev/zero bs=2000000 count=1 2>/dev/null | sleep 100");
        go();
        Wait.Until(() => ulong.Parse(Read(m, "memory.current")) > 1 << 20, "the process to use memory");
        var e = Assert.Throws<CgroupException>(() => m.SetResources(new LinuxResources { Memory = new LinuxMemory { Limit = 65536, CheckBeforeUpdate = true } }));
        Assert.StartsWith("linux.resources.memory.limit: 65536 is below the current memory usage", e.Message);
        Assert.Equal((64 << 20).ToString(), Read(m, "memory.max"));
    }

    [CgroupV2Fact("pids")]
    public void Pids_Max_StopsAForkLoop()
    {
        var m = Cgroup(new LinuxResources { Pids = new LinuxPids { Limit = 5 } });
        // sh (dash), not bash: bash retries a failed fork for seconds
        var (p, go) = Start(m, "exec sh -c 'for i in $(seq 20); do sleep 1 & done 2>/dev/null; wait'");
        go();
        Finish(p);
        Assert.Matches(@"^max [1-9]", Read(m, "pids.events"));
        Assert.Equal(5UL, m.Stats().Pids.Limit);
    }

    [CgroupV2Fact("cpu")]
    public void Cpu_Max_Throttles()
    {
        var m = Cgroup(new LinuxResources { Cpu = new LinuxCpu { Quota = 10000, Period = 100000 } });
        var (p, go) = Start(m, "timeout 1 bash -c 'while :; do :; done'; true");
        go();
        Finish(p);
        var s = m.Stats();
        Assert.True(s.Cpu.Throttling.ThrottledPeriods > 0, $"nr_throttled = {s.Cpu.Throttling.ThrottledPeriods}");
        // at most one quota (10 ms) per enforcement period that had work, plus the one in progress
        Assert.InRange(s.Cpu.Usage.Total, 1UL, (s.Cpu.Throttling.Periods + 2) * 10_000_000UL);
    }

    [CgroupV2Fact("io", NeedsBlockDevice = true)]
    public void Io_MaxAndWeight_LandInTheFiles()
    {
        var dev = CgroupV2FactAttribute.BlockDevice!;
        var mm = dev.Split(':').Select(long.Parse).ToArray();
        var m = Cgroup(new LinuxResources
        {
            BlockIO = new LinuxBlockIO { ThrottleReadBpsDevice = [new LinuxThrottleDevice { Major = mm[0], Minor = mm[1], Rate = 1048576 }] },
        });
        Assert.Contains($"{dev} rbps=1048576", Read(m, "io.max"));
    }

    [CgroupV2Fact(Lacking = "hugetlb")]
    public void MissingController_IsOneClearError()
    {
        var e = Assert.Throws<CgroupException>(() => CgroupManager.For("x", new Cnr.Spec.Linux
        {
            CgroupsPath = "/cnr-test/never",
            Resources = new LinuxResources { HugepageLimits = [new LinuxHugepageLimit { PageSize = "2MB", Limit = 1 }] },
        }));
        Assert.StartsWith("linux.resources.hugepageLimits[0]: the hugetlb controller is not available in cgroup v2 on this host (", e.Message);
        Assert.EndsWith("cnr supports cgroup v2 only", e.Message);
        Assert.False(Directory.Exists(CgroupHierarchy.Find(out _)!.Root + "/cnr-test/never"));
    }
}
