using Cnr.Linux;

namespace Cnr.Cgroups;

/// <summary>Where this host's cgroup v2 hierarchy is mounted, and what it offers. Unified hosts (every
/// current distribution) have it at /sys/fs/cgroup with all controllers; hybrid hosts have v1 controllers at
/// /sys/fs/cgroup and a controller-less cgroup2 at /sys/fs/cgroup/unified, which still gives cgroup.freeze,
/// cgroup.kill and the eBPF device controller.</summary>
public sealed class CgroupHierarchy
{
    private const int W_OK = 2;

    public string Root { get; }
    public IReadOnlySet<string> Controllers { get; }

    /// <summary>For messages: "cgroup v2 at /sys/fs/cgroup", or what a hybrid host has.</summary>
    public string Mode { get; }

    internal CgroupHierarchy(string root, IReadOnlySet<string> controllers, string mode)
    {
        Root = root;
        Controllers = controllers;
        Mode = mode;
    }

    /// <summary>The host's cgroup2 mount (the one at /sys/fs/cgroup first), or null with the reason.</summary>
    public static CgroupHierarchy? Find(out string reason)
    {
        // One look per process: the driver's choice and the manager both ask (a parent never changes its mount
        // namespace, being multi-threaded).
        var found = _found ??= (Look(out var why), why);
        reason = found.Reason;
        return found.Hierarchy;
    }

    private static (CgroupHierarchy? Hierarchy, string Reason)? _found;

    private static CgroupHierarchy? Look(out string reason)
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

    /// <summary>This process's own cgroup, from the hierarchy root ("" for the root itself): /proc/self/cgroup's
    /// "0::" line.</summary>
    public static string OwnCgroup()
    {
        foreach (var line in (ProcFs.Read("self/cgroup") ?? "").Split('\n'))
            if (line.StartsWith("0::", StringComparison.Ordinal)) return line[3..].TrimEnd('/');
        return "";
    }

    /// <summary>Why a caller without root cannot make <paramref name="path"/> and start a process in it, or
    /// null when it can: it needs write access to the nearest directory of the path that exists (to mkdir
    /// below it, or to its cgroup.procs when it is the path), and, as the kernel demands of any move between
    /// cgroups (a clone3 into one included), to cgroup.procs of the common ancestor of its own cgroup and
    /// that one. This is what a delegated subtree gives its owner (systemd's Delegate=yes).</summary>
    public string? WhyNotWritable(string path, string own)
    {
        var existing = path;
        while (existing.Length > 0 && !Directory.Exists(Root + existing)) existing = existing[..existing.LastIndexOf('/')];
        var need = existing == path ? Root + path + "/cgroup.procs" : Root + existing;
        if (Libc.access(need, W_OK) != 0) return $"uid {Libc.geteuid()} may not write {need}";
        var procs = Root + CommonAncestor(path, own) + "/cgroup.procs";
        return Libc.access(procs, W_OK) != 0 ? $"uid {Libc.geteuid()} may not write {procs}, which moving a process from cnr's cgroup into {Root + path} takes" : null;
    }

    /// <summary>The deepest cgroup both paths are in ("" for the root).</summary>
    internal static string CommonAncestor(string a, string b)
        => string.Concat(a.Split('/', StringSplitOptions.RemoveEmptyEntries).Zip(b.Split('/', StringSplitOptions.RemoveEmptyEntries))
            .TakeWhile(p => p.First == p.Second).Select(p => "/" + p.First));

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
