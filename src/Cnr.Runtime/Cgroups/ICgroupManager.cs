using Cnr.Diagnostics;
using Cnr.Linux;
using Cnr.Namespaces;
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
    /// <summary>systemd's with --systemd-cgroup; else cnr's own cgroup on cgroupfs where it can make one;
    /// else, when the config asks for no limit, none (as runc and crun do rootless): a rootless caller
    /// without a writable (delegated) cgroup, or a host without cgroup2. A rootless container goes below the
    /// caller's own cgroup unless linux.cgroupsPath says where.</summary>
    public static ICgroupManager For(string containerId, Spec.Linux? linux, bool systemd)
    {
        if (systemd) return SystemdCgroup.For(containerId, linux);
        var hierarchy = CgroupHierarchy.Find(out var mode);
        return Choose(containerId, linux, hierarchy, mode, Rootless.Is ? CgroupHierarchy.OwnCgroup() : null);
    }

    /// <summary>The choice, from what the host has: <paramref name="hierarchy"/> (null: none, for
    /// <paramref name="mode"/>), and for a caller other than root its own cgroup (<paramref name="rootlessOwn"/>).</summary>
    internal static ICgroupManager Choose(string containerId, Spec.Linux? linux, CgroupHierarchy? hierarchy, string mode, string? rootlessOwn)
    {
        ResourceMapping.Validate(linux?.Resources);
        string why;
        if (hierarchy is null) why = $"no cgroup2 on this host ({mode})";
        else
        {
            var path = rootlessOwn is not null && string.IsNullOrEmpty(linux?.CgroupsPath)
                ? rootlessOwn + "/" + containerId
                : CgroupManager.ResolvePath(containerId, linux?.CgroupsPath);
            if ((rootlessOwn is null ? null : hierarchy.WhyNotWritable(path, rootlessOwn)) is not { } notWritable)
                return CgroupManager.For(hierarchy, path, linux);
            why = $"rootless, and {notWritable}";
        }
        if (linux?.Resources is { } r && ResourceMapping.Map(r, ioBfq: false) is [var first, ..])
            throw hierarchy is null ? CgroupManager.MissingController(first, mode)
                : new CgroupException($"{CgroupManager.Section(first)}: a rootless container can have limits only in a cgroup delegated to its user, and here {why}; " +
                    "run it with --systemd-cgroup from a systemd user session (systemd --user delegates one), or remove the limits from linux.resources");
        if (rootlessOwn is not null) Log.Debug($"the container gets no cgroup ({why}): no limits, and pause, update and stats are not available");
        else Log.Warn($"{why}: the container gets no cgroup, no device restrictions and no freezer");
        return new NoCgroup(why);
    }

    /// <summary>The manager of an existing container from its record: systemd's scope, its cgroupfs cgroup, or
    /// none when it was created without one.</summary>
    public static ICgroupManager Load(string? fullPath, string? systemdUnit)
        => systemdUnit is { Length: > 0 } unit ? SystemdCgroup.Load(unit, fullPath ?? "")
            : fullPath is { Length: > 0 } path ? CgroupManager.Load(path)
            : new NoCgroup(NoCgroup.Recorded);
}
