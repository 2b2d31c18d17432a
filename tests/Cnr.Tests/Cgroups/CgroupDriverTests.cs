using Cnr.Cgroups;
using Cnr.Spec;
using Xunit;
using SpecLinux = Cnr.Spec.Linux;

namespace Cnr.Tests.Cgroups;

/// <summary>Which manager a container gets, from what the host has (a cgroup2 hierarchy or none; root or not).
/// A hierarchy root in a scratch directory stands in for /sys/fs/cgroup: nothing is made by the choice.</summary>
public sealed class CgroupDriverTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("cnr-driver-").FullName;
    private CgroupHierarchy Hierarchy() => new(_root, new HashSet<string> { "cpu", "memory", "pids" }, "test hierarchy");
    private static readonly SpecLinux PidsLimit = new() { Resources = new LinuxResources { Pids = new LinuxPids { Limit = 10 } } };

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void Root_WithAHierarchy_GetsCnrsCgroup()
    {
        var m = CgroupDriver.Choose("box", null, Hierarchy(), "test", rootlessOwn: null);
        Assert.Equal(_root + "/cnr/box", Assert.IsType<CgroupManager>(m).FullPath);
    }

    [Fact]
    public void NoHierarchy_NoLimits_GetsNoCgroup()
    {
        var m = CgroupDriver.Choose("box", null, null, "no cgroup2 hierarchy is mounted", rootlessOwn: null);
        Assert.IsType<NoCgroup>(m);
        Assert.Equal("", m.FullPath);
    }

    [Fact]
    public void NoHierarchy_WithALimit_IsRefusedNamingIt()
    {
        var e = Assert.Throws<CgroupException>(() => CgroupDriver.Choose("box", PidsLimit, null, "no cgroup2 hierarchy is mounted", rootlessOwn: "/user"));
        Assert.StartsWith("linux.resources.pids:", e.Message);
    }

    [Fact]
    public void Rootless_WithoutCgroupsPath_GoesBelowItsOwnCgroup()
    {
        Directory.CreateDirectory(_root + "/user.slice/me");
        File.WriteAllText(_root + "/user.slice/me/cgroup.procs", "");
        // root may write anything: the writable case (the unwritable one runs as a real user, in the integration tests)
        var m = CgroupDriver.Choose("box", null, Hierarchy(), "test", rootlessOwn: "/user.slice/me");
        Assert.Equal(_root + "/user.slice/me/box", Assert.IsType<CgroupManager>(m).FullPath);
    }

    [Fact]
    public void Rootless_WithCgroupsPath_GoesWhereItSays()
    {
        Directory.CreateDirectory(_root + "/deleg");
        File.WriteAllText(_root + "/cgroup.procs", "");
        var m = CgroupDriver.Choose("box", new SpecLinux { CgroupsPath = "/deleg/box" }, Hierarchy(), "test", rootlessOwn: "/user.slice/me");
        Assert.Equal(_root + "/deleg/box", m.FullPath);
    }

    [Fact]
    public void Rootless_NoCgroupProcsToWrite_GetsNoCgroup_AndALimitIsRefusedWithTheFix()
    {
        // no cgroup.procs in the common ancestor of the caller's cgroup and the container's: no move in
        Directory.CreateDirectory(_root + "/user.slice/me");
        Assert.IsType<NoCgroup>(CgroupDriver.Choose("box", null, Hierarchy(), "test", rootlessOwn: "/user.slice/me"));
        var e = Assert.Throws<CgroupException>(() => CgroupDriver.Choose("box", new SpecLinux { CgroupsPath = "/other/box", Resources = PidsLimit.Resources }, Hierarchy(), "test", rootlessOwn: "/user.slice/me"));
        Assert.StartsWith("linux.resources.pids: a rootless container", e.Message);
        Assert.Contains("--systemd-cgroup", e.Message);
        Assert.Contains($"{_root}/cgroup.procs", e.Message);
    }

    [Theory]
    [InlineData("/a/b/c", "/a/b/d", "/a/b")]
    [InlineData("/a/b", "/a/b/c", "/a/b")]
    [InlineData("/x", "/a", "")]
    [InlineData("/ab/c", "/a/c", "")]
    public void CommonAncestor_IsByWholeNames(string a, string b, string expected)
        => Assert.Equal(expected, CgroupHierarchy.CommonAncestor(a, b));

    [Fact]
    public void NoCgroup_SaysWhyForWhatNeedsACgroup()
    {
        var none = new NoCgroup("rootless, and uid 1000 may not write /sys/fs/cgroup/cgroup.procs");
        Assert.Contains("uid 1000 may not write", Assert.Throws<CgroupException>(none.Freeze).Message);
        Assert.StartsWith("stats needs the container's cgroup", Assert.Throws<CgroupException>(() => none.Stats()).Message);
        Assert.Empty(none.Pids());
        none.Destroy();
    }
}
