using Cnr.IntegrationTests.Harness;
using Xunit;

namespace Cnr.IntegrationTests.Cgroups;

/// <summary>`--systemd-cgroup` where systemd is not PID 1 (this dev host, most CI containers): one line saying
/// to drop the flag, and nothing left. With systemd the driver is tested in the student VM
/// (tests/vm/check-systemd-cgroup.sh, a part of check-student-vm.sh).</summary>
public class SystemdCgroupTests
{
    /// <summary>A root fact for hosts without systemd running.</summary>
    public sealed class NoSystemdFactAttribute : FactAttribute
    {
        public NoSystemdFactAttribute()
        {
            if (new RootFactAttribute().Skip is { } reason) Skip = reason;
            else if (Directory.Exists("/run/systemd/system")) Skip = "systemd runs on this host (/run/systemd/system): the driver itself is tested in the student VM (tests/vm/check-student-vm.sh)";
        }
    }

    private static void AssertNothingLeft(TestBundle b, string unit)
    {
        Assert.False(Directory.Exists(Path.Combine(b.StateRoot, b.Id)), "state dir left behind");
        foreach (var root in new[] { "/sys/fs/cgroup", "/sys/fs/cgroup/unified" })
        {
            Assert.False(Directory.Exists($"{root}/system.slice/{unit}"), $"{root}/system.slice/{unit} left behind");
            Assert.False(Directory.Exists($"{root}/cnr/{b.Id}"), $"{root}/cnr/{b.Id} left behind");
        }
    }

    [NoSystemdFact]
    public void Run_WithoutSystemd_SaysToDropTheFlag_AndLeavesNothing()
    {
        using var b = new TestBundle("sysd").WithArgs("true");
        b.Spec.Linux!.CgroupsPath = null;  // runc's default under --systemd-cgroup: ":cnr:ID"
        b.Spec.Linux.Resources = new Cnr.Spec.LinuxResources { Pids = new Cnr.Spec.LinuxPids { Limit = 10 } };
        b.Write();
        var r = b.Cnr("--systemd-cgroup", "run", "--bundle", b.Dir, b.Id);
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("systemd is not running on this host (no /run/systemd/system); drop --systemd-cgroup", r.Stderr);
        Assert.Single(r.Stderr.Trim().Split('\n'));
        AssertNothingLeft(b, $"cnr-{b.Id}.scope");
    }

    [RootTheory]
    [InlineData("foo")]
    [InlineData("a:b")]
    [InlineData("system:cnr:x")]
    public void Run_MalformedSystemdCgroupsPath_OneLine_AndLeavesNothing(string cgroupsPath)
    {
        using var b = new TestBundle("sysdp").WithArgs("true");
        b.Spec.Linux!.CgroupsPath = cgroupsPath;
        b.Write();
        var r = b.Cnr("--systemd-cgroup", "run", "--bundle", b.Dir, b.Id);
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains($"linux.cgroupsPath: \"{cgroupsPath}\"", r.Stderr);
        Assert.Single(r.Stderr.Trim().Split('\n'));
        AssertNothingLeft(b, "cnr-x.scope");
    }

    [RootFact]
    public void Features_ReportsSystemd()
    {
        var r = Harness.Cnr.Run(["features"]);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("\"systemd\":true", r.Stdout.Replace(" ", ""));
    }
}
