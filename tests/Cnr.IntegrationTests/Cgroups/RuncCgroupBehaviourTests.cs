using Cnr.Cgroups;
using Cnr.IntegrationTests.Harness;
using Cnr.Spec;
using Xunit;

namespace Cnr.IntegrationTests.Cgroups;

/// <summary>What runc 1.1.5 does on a pure cgroup v2 host (each checked against it in the UML guest): exec into
/// a container that moved its init below its cgroup, exec --cgroup, create into an existing cgroup, update of
/// half of cpu.max, events ending with the container. Needs a pure cgroup v2 kernel: tests/vm/run-cgroup-tests.sh.</summary>
[Trait("Category", "CgroupV2")]
public sealed class RuncCgroupBehaviourTests
{
    private static string Root => CgroupHierarchy.Find(out _)!.Root;

    private static TestBundle Sleeper(string name)
    {
        var b = new TestBundle(name).WithArgs("sleep", "1000");
        b.Write();
        var r = b.CnrDetached("run", "--detach", "--bundle", b.Dir, b.Id);
        Assert.True(r.ExitCode == 0, r.ToString());
        return b;
    }

    private static int InitPid(TestBundle b)
    {
        var state = b.Cnr("state", b.Id);
        Assert.True(state.ExitCode == 0, state.ToString());
        return System.Text.Json.JsonDocument.Parse(state.Stdout).RootElement.GetProperty("pid").GetInt32();
    }

    [CgroupV2Fact("memory", NeedsCnr = true)]
    public void Exec_AfterTheInitMovedBelowAndEnabledMemory_JoinsTheInitsCgroup()
    {
        using var b = Sleeper("cg-sub");
        var cg = Root + b.Spec.Linux!.CgroupsPath;
        // what a container with a writable cgroupfs does for itself: its init into a leaf, +memory below it
        Directory.CreateDirectory(Path.Combine(cg, "init"));
        File.WriteAllText(Path.Combine(cg, "init", "cgroup.procs"), InitPid(b).ToString());
        File.WriteAllText(Path.Combine(cg, "cgroup.subtree_control"), "+memory");

        var r = b.Cnr("exec", b.Id, "cat", "/proc/self/cgroup");
        Assert.True(r.ExitCode == 0, r.ToString());
        // as the container's cgroup namespace shows it: "0::/init" (before: write …/cgroup.procs: EBUSY)
        Assert.EndsWith("/init", r.Stdout.Trim());
    }

    [CgroupV2Fact(NeedsCnr = true)]
    public void Exec_WithCgroup_RunsInThatSubCgroup_AndRefusesOneOutsideOrMissing()
    {
        using var b = Sleeper("cg-flag");
        var cgroupsPath = b.Spec.Linux!.CgroupsPath!;
        Directory.CreateDirectory(Path.Combine(Root + cgroupsPath, "side"));

        var r = b.Cnr("exec", "--cgroup", "side", b.Id, "cat", "/proc/self/cgroup");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.EndsWith("/side", r.Stdout.Trim());

        var outside = b.Cnr("exec", "--cgroup", "../..", b.Id, "true");
        Assert.Equal(255, outside.ExitCode);
        Assert.Contains("outside the container's cgroup", outside.Stderr);

        var missing = b.Cnr("exec", "--cgroup", "nope", b.Id, "true");
        Assert.Equal(255, missing.ExitCode);
        Assert.Contains("does not exist", missing.Stderr);
    }

    [CgroupV2Fact(NeedsCnr = true)]
    public void Create_InAFrozenCgroup_IsRefusedInOneLine_AndLeavesNoContainer()
    {
        using var b = new TestBundle("cg-frz").WithArgs("true");
        var cg = Root + b.Spec.Linux!.CgroupsPath;
        Directory.CreateDirectory(cg);
        try
        {
            File.WriteAllText(Path.Combine(cg, "cgroup.freeze"), "1");
            b.Write();
            // before: the init was cloned into the frozen cgroup and create waited for it forever
            var r = Detached.Run(["--root", b.StateRoot, "create", "--bundle", b.Dir, b.Id], timeout: TimeSpan.FromSeconds(60));
            Assert.True(r.ExitCode != 0, r.ToString());
            Assert.Contains("container's cgroup unexpectedly frozen", r.Stderr);
            Assert.False(Directory.Exists(Path.Combine(b.StateRoot, b.Id)), "the state dir was left behind");
            Assert.Empty(File.ReadAllText(Path.Combine(cg, "cgroup.procs")).Trim());
        }
        finally
        {
            File.WriteAllText(Path.Combine(cg, "cgroup.freeze"), "0");
            Directory.Delete(cg);
        }
    }

    [CgroupV2Fact(NeedsCnr = true)]
    public void Create_InACgroupWithProcesses_WarnsAsRunc()
    {
        using var b = new TestBundle("cg-busy").WithArgs("true");
        var cg = Root + b.Spec.Linux!.CgroupsPath;
        Directory.CreateDirectory(cg);
        using var other = System.Diagnostics.Process.Start("sleep", "1000")!;
        try
        {
            File.WriteAllText(Path.Combine(cg, "cgroup.procs"), other.Id.ToString());
            b.Write();
            var r = Detached.Run(["--root", b.StateRoot, "create", "--bundle", b.Dir, b.Id]);
            Assert.True(r.ExitCode == 0, r.ToString());
            Assert.Contains("container's cgroup is not empty: 1 process(es) found", r.Stderr);
        }
        finally
        {
            other.Kill();
            other.WaitForExit();
        }
    }

    [CgroupV2Fact("cpu", NeedsCnr = true)]
    public void Update_CpuPeriodOrQuotaAlone_KeepsTheOtherHalf()
    {
        var b = new TestBundle("cg-cpu").WithArgs("sleep", "1000");
        using var _ = b;
        b.Spec.Linux!.Resources = new LinuxResources { Cpu = new LinuxCpu { Quota = 50000, Period = 100000 }, Devices = b.Spec.Linux.Resources?.Devices };
        b.Write();
        Assert.Equal(0, b.CnrDetached("run", "--detach", "--bundle", b.Dir, b.Id).ExitCode);
        var cpuMax = Path.Combine(Root + b.Spec.Linux.CgroupsPath, "cpu.max");

        var r = b.Cnr("update", "--cpu-period", "200000", b.Id);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("50000 200000", File.ReadAllText(cpuMax).Trim());  // before: "max 200000"

        r = b.Cnr("update", "--cpu-quota", "30000", b.Id);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("30000 200000", File.ReadAllText(cpuMax).Trim());
    }

    [CgroupV2Fact(NeedsCnr = true)]
    public void Events_EndsWhenTheContainerIsDeleted()
    {
        using var b = Sleeper("cg-ev");
        // a long interval: events must notice the delete between two samples, not at the next one
        using var events = Background.Start(["--root", b.StateRoot, "events", "--interval", "10m", b.Id]);
        events.WaitForStdout("\"type\":\"stats\"");
        var d = b.Cnr("delete", "--force", b.Id);
        Assert.True(d.ExitCode == 0, d.ToString());
        var r = events.WaitForExit(TimeSpan.FromSeconds(30));
        Assert.Equal(0, r.ExitCode);
    }
}
