using Cnr.Linux;
using Cnr.Spec;

namespace Cnr.Cgroups;

/// <summary>A container's cgroup, whoever makes it: cnr itself on cgroupfs (<see cref="CgroupManager"/>), or
/// systemd as a transient scope unit (<see cref="SystemdCgroup"/>). The verbs never ask which.</summary>
public interface ICgroupManager
{
    /// <summary>The cgroup directory once it exists; empty when there is none.</summary>
    string FullPath { get; }
    /// <summary>Makes the cgroup before the init exists, when the manager can (cgroupfs).</summary>
    void Create();
    /// <summary>For clone3(CLONE_INTO_CGROUP); null when the init must be moved in instead.</summary>
    SafeFd? OpenDirectory();
    bool Contains(int pid);
    /// <summary>Puts the init (stopped before it runs anything) into the cgroup.</summary>
    void AddProcess(int pid);
    void SetResources(LinuxResources resources);
    void Freeze();
    void Thaw();
    bool IsFrozen { get; }
    IReadOnlyList<int> Pids();
    CgroupStats Stats();
    bool OomKilled { get; }
    /// <summary>Kills what is left and removes the cgroup (and the unit).</summary>
    void Destroy();
}

/// <summary>Which manager a container gets (create) or has (the record's cgroup path and systemd unit).</summary>
public static class CgroupDriver
{
    public static ICgroupManager For(string containerId, Spec.Linux? linux, bool systemd)
        => systemd ? SystemdCgroup.For(containerId, linux) : CgroupManager.For(containerId, linux);

    public static ICgroupManager Load(string fullPath, string? systemdUnit)
        => systemdUnit is { Length: > 0 } unit ? SystemdCgroup.Load(unit, fullPath) : CgroupManager.Load(fullPath);
}
