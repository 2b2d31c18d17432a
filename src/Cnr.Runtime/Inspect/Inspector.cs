using System.Globalization;
using Cnr.Capabilities;
using Cnr.Network;
using Cnr.Spec;
using Cnr.State;

namespace Cnr.Inspect;

/// <summary>Gathers a <see cref="ContainerView"/> by reading the files the kernel publishes about the
/// container's init: nothing is entered, nothing is changed, and a file that is missing (an older kernel,
/// a controller not mounted) leaves its figure out rather than failing the whole view.</summary>
public static class Inspector
{
    /// <param name="config">the container's config (from the state dir)</param>
    /// <param name="networks">the CNI results recorded for the container (file, record)</param>
    public static ContainerView Read(ContainerRecord record, RuntimeSpec config, IReadOnlyList<(string Path, CniRecord Record)> networks)
    {
        var proc = $"/proc/{record.Pid}";
        var status = ReadStatus($"{proc}/status");
        var nspid = Ints(status.GetValueOrDefault("NSpid"));
        var mounts = ReadMountInfo($"{proc}/mountinfo");
        return new ContainerView
        {
            Id = record.Id,
            HostPid = nspid.Count > 0 ? nspid[0] : record.Pid,
            ContainerPid = nspid.Count > 0 ? nspid[^1] : record.Pid,
            NsPids = nspid,
            Namespaces = ReadNamespaces(proc),
            HostUids = [.. Ints(status.GetValueOrDefault("Uid")).Select(i => (uint)i)],
            HostGids = [.. Ints(status.GetValueOrDefault("Gid")).Select(i => (uint)i)],
            UidMap = Lines($"{proc}/uid_map"),
            GidMap = Lines($"{proc}/gid_map"),
            Cgroup = ReadCgroup(proc, record.CgroupPath),
            Capabilities = new CapabilitySets
            {
                Effective = Caps(status, "CapEff"),
                Permitted = Caps(status, "CapPrm"),
                Bounding = Caps(status, "CapBnd"),
                Inheritable = Caps(status, "CapInh"),
                Ambient = Caps(status, "CapAmb"),
            },
            NoNewPrivs = status.GetValueOrDefault("NoNewPrivs") == "1",
            SeccompMode = int.TryParse(status.GetValueOrDefault("Seccomp"), out var mode) ? mode : 0,
            SeccompFilters = int.TryParse(status.GetValueOrDefault("Seccomp_filters"), out var n) ? n : null,
            LsmLabel = ReadLabel($"{proc}/attr/current"),
            // /proc/sys/kernel/hostname answers for the *reader's* UTS namespace, even read through the
            // container's /proc (measured), and joining the namespace is not for a verb that only looks.
            Hostname = config.Hostname,
            Root = mounts.LastOrDefault(m => m.MountPoint == "/"),
            Mounts = mounts,
            // The first two lines of net/dev are its header; each other is "NAME: counters…".
            NetDevices = [.. Lines($"{proc}/net/dev").Skip(2).Select(l => l.Split(':')[0].Trim())],
            Networks = [.. networks.Select(n => new NetworkView
            {
                Network = n.Record.NetworkName,
                ResultFile = n.Path,
                Interfaces = Interfaces([.. n.Record.Interfaces()]),
                Addresses = [.. n.Record.Addresses().Select(a => new NetworkAddressView { Address = a.Address, Gateway = a.Gateway, Interface = a.Interface })],
            })],
        };
    }

    private static List<NetworkInterfaceView> Interfaces(List<(string Name, string? Sandbox, string Mac)> list)
        => [.. list.Select((x, i) => new NetworkInterfaceView
        {
            Name = x.Name, Mac = x.Mac, Sandbox = x.Sandbox,
            Role = x.Sandbox is not null ? "container" : i + 1 < list.Count && list[i + 1].Sandbox is not null ? "veth host end" : "host",
        })];

    /// <summary>An attr file's label without its terminator; null where no LSM answers (EINVAL) or it is empty.</summary>
    private static string? ReadLabel(string path)
    {
        try { return File.ReadAllText(path).TrimEnd('\0', '\n') is { Length: > 0 } label ? label : null; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }

    /// <summary>The container's namespaces against cnr's own, the host's as far as cnr runs on the host.</summary>
    private static List<NamespaceView> ReadNamespaces(string proc)
    {
        var list = new List<NamespaceView>();
        string[] names;
        try { names = [.. Directory.EnumerateFileSystemEntries($"{proc}/ns").Select(p => Path.GetFileName(p)!).Order(StringComparer.Ordinal)]; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return list; }
        foreach (var name in names)
        {
            var container = LinkOf($"{proc}/ns/{name}");
            var host = LinkOf($"/proc/self/ns/{name}");
            list.Add(new NamespaceView { Type = name, Container = container, Host = host, Shared = container is not null && container == host });
        }
        return list;
    }

    /// <summary>memory, pids and cpu figures from the container's cgroup v2 directory: the one cnr recorded,
    /// else the "0::" line of /proc/PID/cgroup under the host's cgroup2 mount. cnr manages cgroup v2 only;
    /// on a hybrid host the v1 hierarchies still list the process, at its caller's cgroups.</summary>
    private static CgroupView ReadCgroup(string proc, string? recordedPath)
    {
        var membership = Lines($"{proc}/cgroup");
        var dirs = new List<string>();
        if (recordedPath is not null) dirs.Add(recordedPath);
        var v2Mounts = ReadMountInfo("/proc/self/mountinfo").Where(m => m.FsType == "cgroup2").Select(m => m.MountPoint).ToList();
        foreach (var line in membership.Where(l => l.StartsWith("0::", StringComparison.Ordinal)))
            dirs.AddRange(v2Mounts.Select(m => m + line[3..]));

        var figures = new List<ResourceFigure>();
        foreach (var (resource, current, limit) in Resources)
        {
            var figure = dirs.Distinct().Select(dir => Figure(resource, Path.Combine(dir, current), Path.Combine(dir, limit))).FirstOrDefault(f => f is not null);
            if (figure is not null) figures.Add(figure);
        }
        var unavailable = Resources.Select(r => r.Resource).Where(r => figures.All(f => f.Resource != r)).ToList();
        string? why = null;
        if (unavailable.Count > 0) Cgroups.CgroupHierarchy.Find(out why);
        return new CgroupView { Membership = membership, Figures = figures, Unavailable = unavailable, UnavailableWhy = why };
    }

    private static readonly (string Resource, string Current, string Limit)[] Resources =
    [
        ("memory", "memory.current", "memory.max"),
        ("pids", "pids.current", "pids.max"),
        ("cpu", "cpu.stat", "cpu.max"),
    ];

    private static ResourceFigure? Figure(string resource, string currentFile, string limitFile)
    {
        var current = FirstLine(currentFile);
        var limit = FirstLine(limitFile);
        if (current is null || limit is null) return null;
        // cpu.stat is several "key value" lines: the figure is usage_usec.
        if (resource == "cpu")
            current = Lines(currentFile).FirstOrDefault(l => l.StartsWith("usage_usec ", StringComparison.Ordinal)) ?? current;
        return new ResourceFigure { Resource = resource, Current = current, Limit = limit, CurrentFile = currentFile, LimitFile = limitFile };
    }

    /// <summary>Parses mountinfo: "ID PARENT MAJ:MIN ROOT POINT OPTIONS [OPTIONAL…] - TYPE SOURCE SUPER".</summary>
    public static List<MountView> ReadMountInfo(string path) => ParseMountInfo(Lines(path));

    /// <summary>mountinfo's lines (<see cref="ReadMountInfo"/>), however they were read.</summary>
    public static List<MountView> ParseMountInfo(IEnumerable<string> lines)
    {
        var list = new List<MountView>();
        foreach (var line in lines)
        {
            var f = line.Split(' ');
            int dash = Array.IndexOf(f, "-", 6);
            if (f.Length < 6 || dash < 0 || dash + 3 > f.Length) continue;
            list.Add(new MountView
            {
                FsRoot = Unescape(f[3]),
                MountPoint = Unescape(f[4]),
                Options = f[5],
                FsType = f[dash + 1],
                Source = Unescape(f[dash + 2]),
                SuperOptions = dash + 3 < f.Length ? f[dash + 3] : "",
            });
        }
        return list;
    }

    /// <summary>mountinfo writes space, tab, newline and backslash as \040-style octal escapes.</summary>
    private static string Unescape(string s)
    {
        if (!s.Contains('\\')) return s;
        var sb = new System.Text.StringBuilder(s.Length);
        for (int i = 0; i < s.Length; i++)
        {
            if (s[i] == '\\' && i + 3 < s.Length && s.AsSpan(i + 1, 3).IndexOfAnyExceptInRange('0', '7') < 0)
            {
                sb.Append((char)Convert.ToInt32(s.Substring(i + 1, 3), 8));
                i += 3;
            }
            else sb.Append(s[i]);
        }
        return sb.ToString();
    }

    private static Dictionary<string, string> ReadStatus(string path)
    {
        var d = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in Lines(path))
        {
            int colon = line.IndexOf(':');
            if (colon > 0) d[line[..colon]] = line[(colon + 1)..].Trim();
        }
        return d;
    }

    private static List<string> Caps(Dictionary<string, string> status, string key)
        => status.TryGetValue(key, out var hex) && ulong.TryParse(hex, NumberStyles.HexNumber, null, out var mask)
            ? [.. CapabilityTable.Decode(mask)]
            : [];

    private static List<int> Ints(string? fields)
        => fields is null ? [] : [.. fields.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Select(s => int.TryParse(s, out var i) ? i : -1).Where(i => i >= 0)];

    private static string? LinkOf(string path)
    {
        try { return new FileInfo(path).LinkTarget; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }

    private static string? FirstLine(string path) => Lines(path) is [var first, ..] ? first : null;

    /// <summary>The non-empty lines of a file; none when it cannot be read (a process that just exited,
    /// a controller that is not there).</summary>
    private static List<string> Lines(string path)
    {
        try
        {
            return [.. File.ReadAllText(path).Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(l => string.Join(' ', l.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)))
                .Where(l => l.Length > 0)];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return []; }
    }
}
