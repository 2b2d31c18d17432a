using Cnr.Cgroups;
using Xunit;

namespace Cnr.IntegrationTests.Harness;

/// <summary>A test that fails midway leaves nothing: <see cref="TestBundle.Dispose"/> deletes what it left in
/// its `--root` and removes the empty cgroups its configs named, and only those.</summary>
public sealed class TestBundleDisposeTests
{
    private static string CgroupRoot => CgroupHierarchy.Find(out var mode)?.Root ?? throw new InvalidOperationException(mode);

    [RootFact]
    public void Dispose_AfterATestThatStoppedMidway_LeavesNoContainerNoStateAndNoCgroup()
    {
        var b = new TestBundle("dm").WithArgs("sleep", "100");
        try
        {
            // two containers left running, one under an id of the test's own choosing with its own cgroupsPath,
            // and a cgroup below the first that is no container's (as `exec --cgroup sub` makes)
            var r1 = b.Create();
            Assert.True(r1.ExitCode == 0, r1.ToString());
            var other = $"{b.Id[..20]}-2";
            var otherDir = Path.Combine(b.Dir, other);
            Directory.CreateDirectory(otherDir);
            b.Spec.Linux!.CgroupsPath = $"/cnr-test/{other}";
            b.Write(otherDir);
            var r2 = b.CnrDetached("create", "--bundle", otherDir, other);
            Assert.True(r2.ExitCode == 0, r2.ToString());
            Assert.Equal(0, b.Cnr("start", other).ExitCode);
            var pids = new[] { b.State().GetProperty("pid").GetInt32(), b.State(other).GetProperty("pid").GetInt32() };
            Directory.CreateDirectory($"{CgroupRoot}/cnr-test/{b.Id}/sub");
            // a cgroup cnr no longer knows of: the container was removed some other way
            Directory.CreateDirectory($"{CgroupRoot}/cnr-test/{b.Id}-gone");
            b.Spec.Linux.CgroupsPath = $"/cnr-test/{b.Id}-gone";
            b.Write();

            b.Dispose();

            foreach (var pid in pids) Wait.Until(() => !Host.IsAlive(pid), $"pid {pid} to end");
            foreach (var path in new[] { b.Id, other, b.Id + "-gone" })
                Assert.False(Directory.Exists($"{CgroupRoot}/cnr-test/{path}"), $"cgroup /cnr-test/{path} left behind");
            HostCgroups.AssertNoneLeft(b);
            Assert.False(Directory.Exists(b.Dir), "bundle and state left behind");
        }
        finally { b.Dispose(); }
    }

    [RootFact]
    public void Dispose_RemovesOnlyEmptyCgroupsUnderCnrTest_ThatTheTestNamed()
    {
        var outside = $"/cnr-test-dispose-{Guid.NewGuid():N}"[..30];
        var b = new TestBundle("dk");
        var busy = $"{CgroupRoot}/cnr-test/{b.Id}-busy";
        using var sleeper = System.Diagnostics.Process.Start("sleep", "100");
        try
        {
            Directory.CreateDirectory(CgroupRoot + outside);
            Directory.CreateDirectory(busy);
            File.WriteAllText(busy + "/cgroup.procs", sleeper.Id.ToString());
            foreach (var path in new[] { outside, $"/cnr-test/{b.Id}-busy" })
            {
                b.Spec.Linux!.CgroupsPath = path;
                b.Write();
            }
            b.Dispose();
            Assert.True(Directory.Exists(CgroupRoot + outside), "a cgroup outside /cnr-test/ was removed");
            Assert.True(Directory.Exists(busy), "a cgroup with a process was removed");
        }
        finally
        {
            sleeper.Kill();
            sleeper.WaitForExit();
            if (Directory.Exists(busy))
            {
                Wait.Until(() => File.ReadAllText(busy + "/cgroup.procs").Trim().Length == 0, "the sleeper to leave its cgroup");
                Directory.Delete(busy);
            }
            if (Directory.Exists(CgroupRoot + outside)) Directory.Delete(CgroupRoot + outside);
        }
    }
}
