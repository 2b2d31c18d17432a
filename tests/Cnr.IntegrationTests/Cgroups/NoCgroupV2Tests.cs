using Cnr.IntegrationTests.Harness;
using Xunit;

namespace Cnr.IntegrationTests.Cgroups;

/// <summary>A host without a usable cgroup2 (here: hidden by a tmpfs in a mount namespace of the test's own):
/// a config without limits still runs, with one warning; a limit is refused in one line.</summary>
public class NoCgroupV2Tests
{
    private static CnrResult InNamespaceWithoutCgroup2(TestBundle b)
    {
        b.Write();
        var script = "for d in /sys/fs/cgroup/unified /sys/fs/cgroup; do "
                     + "[ \"$(stat -f -c %T $d 2>/dev/null)\" = cgroup2fs ] && mount -t tmpfs -o size=4k tmpfs $d; done; "
                     + $"exec {Repo.CnrBinary} --root {b.StateRoot} run --bundle {b.Dir} {b.Id}";
        return Harness.Cnr.Exec("unshare", ["-m", "--propagation", "private", "sh", "-c", script]);
    }

    [RootFact]
    public void Run_WithoutCgroupV2_RunsWithAWarning()
    {
        using var b = new TestBundle("nocg").WithArgs("echo", "ran");
        var r = InNamespaceWithoutCgroup2(b);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("ran\n", r.Stdout);
        Assert.Contains("no cgroup2", r.Stderr);
    }

    [RootFact]
    public void Run_WithoutCgroupV2_RefusesALimitInOneLine()
    {
        using var b = new TestBundle("nocgl").WithArgs("true");
        b.Spec.Linux!.Resources = new Cnr.Spec.LinuxResources { Pids = new Cnr.Spec.LinuxPids { Limit = 10 } };
        var r = InNamespaceWithoutCgroup2(b);
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("linux.resources.pids", r.Stderr);
        Assert.False(Directory.Exists(Path.Combine(b.StateRoot, b.Id)), "state dir left behind");
    }
}
