using Cnr.Linux;
using Cnr.Spec;

namespace Cnr.Cgroups;

/// <summary>The manager of a container that runs without a cgroup (crun's "disabled" manager): a rootless
/// caller with no cgroup it may write, or a host without cgroup2, and a config that asks for no limit. It
/// makes nothing and removes nothing; what only a cgroup can do (limits, the freezer, stats) fails in one line
/// that says why.</summary>
public sealed class NoCgroup(string why) : ICgroupManager
{
    /// <summary>For the record of an existing container: its create decided, and said why in --debug.</summary>
    public const string Recorded = "it was created without one: a rootless caller without a writable cgroup, or a host without cgroup2";

    public string FullPath => "";
    public void Create() { }
    public SafeFd? OpenDirectory() => null;
    /// <summary>There is nowhere to move the init: it stays where cnr is.</summary>
    public bool Contains(int pid) => true;
    public void AddProcess(int pid) { }
    public void SetResources(LinuxResources resources) => throw Missing("linux.resources (update)");
    public void Freeze() => throw Missing("pause (the cgroup v2 freezer)");
    public void Thaw() => throw Missing("resume (the cgroup v2 freezer)");
    public bool IsFrozen => false;
    /// <summary>None known here: the caller falls back to the init's pid namespace.</summary>
    public IReadOnlyList<int> Pids() => [];
    public CgroupStats Stats() => throw Missing("stats");
    public bool OomKilled => false;
    public void Destroy() { }

    private CgroupException Missing(string what) => new($"{what} needs the container's cgroup, and the container has none: {why}");
}
