namespace Cnr.Cgroups;

/// <summary>Where this host's cgroup v2 hierarchy is mounted, and what it offers. Unified hosts (every
/// current distribution) have it at /sys/fs/cgroup with all controllers; hybrid hosts have v1 controllers at
/// /sys/fs/cgroup and a controller-less cgroup2 at /sys/fs/cgroup/unified, which still gives cgroup.freeze,
/// cgroup.kill and the eBPF device controller.</summary>
public sealed class CgroupHierarchy
{
    public string Root { get; }
    public IReadOnlySet<string> Controllers { get; }

    /// <summary>For messages: "cgroup v2 at /sys/fs/cgroup", or what a hybrid host has.</summary>
    public string Mode { get; }

    private CgroupHierarchy(string root, IReadOnlySet<string> controllers, string mode)
    {
        Root = root;
        Controllers = controllers;
        Mode = mode;
    }

    /// <summary>The host's cgroup2 mount (the one at /sys/fs/cgroup first), or null with the reason.</summary>
    public static CgroupHierarchy? Find(out string reason)
    {
        var mounts = ReadMounts();
        // A later mount on the same point hides an earlier one (mountinfo lists them in mount order).
        var visible = new Dictionary<string, string>();
        foreach (var (point, type) in mounts) visible[point] = type;
        var v2 = mounts.Select(m => m.Point).Distinct().Where(p => visible[p] == "cgroup2").ToList();
        var v1 = mounts.Any(m => m.Type == "cgroup");
        var root = v2.Contains("/sys/fs/cgroup") ? "/sys/fs/cgroup" : v2.FirstOrDefault();
        if (root is null)
        {
            reason = v1 ? "cgroup v1 only: no cgroup2 hierarchy is mounted" : "no cgroup2 hierarchy is mounted";
            return null;
        }
        string text;
        try { text = File.ReadAllText(Path.Combine(root, "cgroup.controllers")); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            reason = $"the cgroup2 hierarchy at {root} is not readable here";
            return null;
        }
        var controllers = text.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet();
        var has = controllers.Count == 0 ? "without controllers" : "with controllers " + string.Join(' ', controllers.Order());
        reason = v1 ? $"hybrid cgroups: v1 controllers at /sys/fs/cgroup, cgroup2 at {root} {has}" : $"cgroup2 at {root} {has}";
        return new CgroupHierarchy(root, controllers, reason);
    }

    private static List<(string Point, string Type)> ReadMounts()
    {
        // mountinfo: id parent maj:min root mountpoint opts [optional...] - fstype source superopts
        var list = new List<(string, string)>();
        foreach (var line in File.ReadLines("/proc/self/mountinfo"))
        {
            var f = line.Split(' ');
            var dash = Array.IndexOf(f, "-");
            if (dash > 4 && dash + 1 < f.Length) list.Add((f[4].Replace("\\040", " "), f[dash + 1]));
        }
        return list;
    }
}
