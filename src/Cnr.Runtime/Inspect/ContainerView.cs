using System.Text.Json.Serialization;

namespace Cnr.Inspect;

/// <summary>The kernel's view of one running container, read from /proc and the cgroup filesystem, each
/// figure next to the host's where the two can differ. What `cnr inspect` prints.</summary>
public sealed class ContainerView
{
    public string Id { get; init; } = "";
    /// <summary>The init's pid as the host sees it (the first NSpid field).</summary>
    public int HostPid { get; init; }
    /// <summary>The same process's pid inside its own pid namespace (the last NSpid field): 1 for a new one.</summary>
    public int ContainerPid { get; init; }
    public List<int> NsPids { get; init; } = [];
    public List<NamespaceView> Namespaces { get; init; } = [];
    /// <summary>The Uid:/Gid: lines of /proc/PID/status (real, effective, saved, filesystem), host ids.</summary>
    public List<uint> HostUids { get; init; } = [];
    public List<uint> HostGids { get; init; } = [];
    /// <summary>/proc/PID/uid_map lines: "inside outside count".</summary>
    public List<string> UidMap { get; init; } = [];
    public List<string> GidMap { get; init; } = [];
    public CgroupView Cgroup { get; init; } = new();
    public CapabilitySets Capabilities { get; init; } = new();
    public bool NoNewPrivs { get; init; }
    /// <summary>0 disabled, 1 strict, 2 filter (the Seccomp: line).</summary>
    public int SeccompMode { get; init; }
    public int? SeccompFilters { get; init; }
    /// <summary>/proc/PID/attr/current: the LSM label the init runs under ("PROFILE (enforce)" with AppArmor);
    /// null where no LSM answers.</summary>
    public string? LsmLabel { get; init; }
    /// <summary>The hostname init set, from the recorded config: the kernel shows a UTS namespace's name only
    /// to a process inside it.</summary>
    public string? Hostname { get; init; }
    /// <summary>The mount the container sees as "/" (the last one stacked there).</summary>
    public MountView? Root { get; init; }
    public List<MountView> Mounts { get; init; } = [];
    /// <summary>The network interfaces of the container's network namespace (/proc/PID/net/dev): only "lo"
    /// in a namespace nothing was added to.</summary>
    public List<string> NetDevices { get; init; } = [];
    /// <summary>The networks a `cnr hook cni add` hook gave the container, from the result it recorded.</summary>
    public List<NetworkView> Networks { get; init; } = [];
}

/// <summary>One CNI network's result: the container's interface and address, and the host's end of the pair.</summary>
public sealed class NetworkView
{
    public string Network { get; init; } = "";
    /// <summary>The record `cnr hook cni add` wrote (libcni's cache format), for a student to `cat` too.</summary>
    public string ResultFile { get; init; } = "";
    /// <summary>The result's interfaces: those in the container's namespace (Sandbox set) and the host's.</summary>
    public List<NetworkInterfaceView> Interfaces { get; init; } = [];
    public List<NetworkAddressView> Addresses { get; init; } = [];
}

public sealed class NetworkInterfaceView
{
    public string Name { get; init; } = "";
    public string Mac { get; init; } = "";
    /// <summary>The network namespace the interface is in; null for the host's side (the bridge, the veth's host end).</summary>
    public string? Sandbox { get; init; }
    /// <summary>"container", "veth host end" (a host interface the plugin lists just before the container's: its
    /// peer, as bridge and ptp order them), or "host" (the bridge).</summary>
    public string Role { get; init; } = "";
}

public sealed class NetworkAddressView
{
    public string Address { get; init; } = "";
    public string? Gateway { get; init; }
    public string? Interface { get; init; }
}

/// <summary>One /proc/PID/ns entry next to the host's (/proc/self/ns of cnr): the same inode means shared.</summary>
public sealed class NamespaceView
{
    public string Type { get; init; } = "";
    public string? Container { get; init; }
    public string? Host { get; init; }
    public bool Shared { get; init; }
}

public sealed class CgroupView
{
    /// <summary>The lines of /proc/PID/cgroup ("0::/cnr/ID" on cgroup v2).</summary>
    public List<string> Membership { get; init; } = [];
    /// <summary>memory, pids and cpu with their limits, from whichever hierarchy holds each controller.</summary>
    public List<ResourceFigure> Figures { get; init; } = [];
    /// <summary>Those of memory, pids and cpu without a figure: their controller is not in the container's cgroup.</summary>
    public List<string> Unavailable { get; init; } = [];
    /// <summary>The host's cgroup mode, which says why (e.g. cgroup2 without controllers on a hybrid host).</summary>
    public string? UnavailableWhy { get; init; }
}

/// <summary>One live figure and its limit, as the cgroup files write them ("max" = no limit).</summary>
public sealed class ResourceFigure
{
    public string Resource { get; init; } = "";
    public string Current { get; init; } = "";
    public string Limit { get; init; } = "";
    /// <summary>The files the two were read from, for a student to `cat` too.</summary>
    public string CurrentFile { get; init; } = "";
    public string LimitFile { get; init; } = "";
}

/// <summary>Capability sets from /proc/PID/status, decoded to names.</summary>
public sealed class CapabilitySets
{
    public List<string> Effective { get; init; } = [];
    public List<string> Permitted { get; init; } = [];
    public List<string> Bounding { get; init; } = [];
    public List<string> Inheritable { get; init; } = [];
    public List<string> Ambient { get; init; } = [];
}

/// <summary>One /proc/PID/mountinfo line, the mount point as the container sees it.</summary>
public sealed class MountView
{
    public string MountPoint { get; init; } = "";
    public string FsType { get; init; } = "";
    public string Source { get; init; } = "";
    /// <summary>The directory of the source filesystem mounted there: for a bind mount, the host path.</summary>
    public string FsRoot { get; init; } = "";
    public string Options { get; init; } = "";
    public string SuperOptions { get; init; } = "";
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, WriteIndented = true)]
[JsonSerializable(typeof(ContainerView))]
public sealed partial class InspectJson : JsonSerializerContext;
