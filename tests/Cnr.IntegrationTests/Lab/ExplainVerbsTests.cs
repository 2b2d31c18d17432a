using Cnr.Cgroups;
using Cnr.IntegrationTests.Cgroups;
using Cnr.IntegrationTests.Harness;
using Xunit;

namespace Cnr.IntegrationTests.Lab;

/// <summary>The views of the verbs after `run`: what `exec`, `pause`, `resume`, `kill` and `delete` do to the
/// kernel, with --explain (the call and its shell equivalent) and --debug (the call, logged).</summary>
public sealed class ExplainVerbsTests
{
    [RootFact]
    public void Exec_WithExplain_ShowsNsenterIntoTheInitsNamespaces_NotAnEmptyUnshare()
    {
        using var b = TestBundle.Started("xv-exec");
        int pid = b.State().GetProperty("pid").GetInt32();
        var r = b.Cnr("exec", "--explain", b.Id, "true");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Matches($@"(?m)^\[clone\] clone3?\(.*setns\(""/proc/{pid}/ns/mnt"", CLONE_NEWNS\)", r.Stderr);
        Assert.Matches($@"(?m)^ +≈ nsenter --target {pid} --pid --net --ipc --uts --mount( --cgroup)?$", r.Stderr);
        Assert.DoesNotMatch(@"(?m)≈ unshare\s*$", r.Stderr);

        r = b.Cnr("--debug", "exec", b.Id, "true");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains($"setns(\\\"/proc/{pid}/ns/pid\\\", CLONE_NEWPID)", r.Stderr);  // logfmt escapes the quotes
    }

    [CgroupV2Fact(NeedsCnr = true)]
    public void PauseResumeKillDelete_ShowTheirCgroupWrites_SignalAndRmdir()
    {
        using var b = TestBundle.Started("xv-verbs");
        int pid = b.State().GetProperty("pid").GetInt32();
        var cgroup = CgroupHierarchy.Find(out _)!.Root + b.Spec.Linux!.CgroupsPath;

        var r = b.Cnr("--debug", "pause", b.Id);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains($"msg=\"cgroup: write {cgroup}/cgroup.freeze = 1\"", r.Stderr);

        r = b.Cnr("resume", "--explain", b.Id);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains($"[cgroup] write {cgroup}/cgroup.freeze = 0\n", r.Stderr);
        Assert.Contains($"≈ echo 0 > {cgroup}/cgroup.freeze\n", r.Stderr);

        r = b.Cnr("kill", "--explain", b.Id, "KILL");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains($"[signal] kill({pid}, SIGKILL)\n", r.Stderr);
        Assert.Contains($"≈ kill -KILL {pid}\n", r.Stderr);
        b.WaitForStatus("stopped");

        r = b.Cnr("--debug", "delete", b.Id);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains($"msg=\"cgroup: rmdir {cgroup}\"", r.Stderr);
        Assert.False(Directory.Exists(cgroup), $"{cgroup} is still there");
    }

    [CgroupV2Fact("pids", NeedsCnr = true)]
    [Trait("Category", "CgroupV2")]
    public void Update_WithExplain_ShowsTheWriteOfTheLimit()
    {
        using var b = TestBundle.Started("xv-upd");
        var cgroup = CgroupHierarchy.Find(out _)!.Root + b.Spec.Linux!.CgroupsPath;
        var r = b.Cnr("update", "--explain", "--pids-limit", "50", b.Id);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains($"[cgroup] write {cgroup}/pids.max = 50\n", r.Stderr);
        Assert.Contains($"≈ echo 50 > {cgroup}/pids.max\n", r.Stderr);
        Assert.Equal("50", File.ReadAllText(Path.Combine(cgroup, "pids.max")).Trim());
    }

    [RootFact]
    public void DeleteForce_WithExplain_ShowsTheSigkillOfTheInit()
    {
        using var b = TestBundle.Started("xv-delf");
        int pid = b.State().GetProperty("pid").GetInt32();
        var r = b.Cnr("delete", "--force", "--explain", b.Id);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains($"[signal] kill({pid}, SIGKILL)\n", r.Stderr);
        Assert.Contains($"≈ kill -KILL {pid}\n", r.Stderr);
    }

    [RootFact]
    public void Kill_WithoutAView_PrintsNothing()
    {
        using var b = TestBundle.Started("xv-quiet");
        var r = b.Cnr("kill", b.Id, "0");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("", r.Stderr);
    }
}
