using Cnr.Linux;
using Cnr.Spec;

namespace Cnr.Namespaces;

/// <summary>The uid_map and gid_map of a container's new user namespace, written by the parent while the init
/// waits. Root writes them itself. Anyone else may write only a map of their own id (with setgroups denied,
/// as the kernel demands); other ranges — what Podman writes from /etc/subuid and /etc/subgid — go through
/// the setuid newuidmap/newgidmap of Debian's `uidmap` package, which check them against those files.</summary>
public static class IdMaps
{
    /// <summary>The kernel's limit on the lines of one map (since Linux 4.15).</summary>
    public const int MaxLines = 340;

    private const string Package = "uidmap";

    /// <summary>What the kernel would refuse, and a missing newuidmap/newgidmap, before anything exists.</summary>
    public static void Validate(Spec.Linux linux, uint euid, uint egid)
    {
        Validate("linux.uidMappings", linux.UidMappings);
        Validate("linux.gidMappings", linux.GidMappings);
        if (euid == 0) return;
        foreach (var (name, helper, maps, own) in Helpers(linux, euid, egid))
            if (FindHelper(helper) is null)
                throw new SpecException(name, $"{Show(maps)} maps more than your own id {own}, which takes {helper}, and it is not installed",
                    $"install the package {Package} (apt-get install {Package}), or map only your own id: [{{\"containerID\": 0, \"hostID\": {own}, \"size\": 1}}]");
    }

    /// <summary>One map: sizes above 0, no range past 2^32, neither the container's nor the host's ranges
    /// overlapping, at most <see cref="MaxLines"/> lines.</summary>
    public static void Validate(string name, IReadOnlyList<LinuxIdMapping>? maps)
    {
        if (maps is null) return;
        if (maps.Count > MaxLines)
            throw new SpecException(name, $"has {maps.Count} ranges; the kernel takes at most {MaxLines}", "merge adjacent ranges");
        for (int i = 0; i < maps.Count; i++)
        {
            var m = maps[i];
            if (m.Size == 0) throw new SpecException($"{name}[{i}].size", "is 0", "map at least one id");
            if ((ulong)m.ContainerID + m.Size > 1UL << 32 || (ulong)m.HostID + m.Size > 1UL << 32)
                throw new SpecException($"{name}[{i}]", $"{Show(m)} runs past the last id (4294967295)", "make the range smaller");
            for (int j = 0; j < i; j++)
            {
                if (Overlap(maps[j].ContainerID, maps[j].Size, m.ContainerID, m.Size))
                    throw new SpecException($"{name}[{i}]", $"{Show(m)}: its container ids overlap those of [{j}] ({Show(maps[j])})", "give each container id one host id");
                if (Overlap(maps[j].HostID, maps[j].Size, m.HostID, m.Size))
                    throw new SpecException($"{name}[{i}]", $"{Show(m)}: its host ids overlap those of [{j}] ({Show(maps[j])})", "map each host id once");
            }
        }
    }

    /// <summary>Writes the maps of the init <paramref name="pid"/>, which waits in its new user namespace.</summary>
    public static void Write(int pid, Spec.Linux? linux)
    {
        uint euid = Libc.geteuid(), egid = Libc.getegid();
        var helpers = euid == 0 || linux is null ? [] : Helpers(linux, euid, egid).ToList();
        // An unprivileged writer of gid_map must first give up setgroups; newgidmap, being privileged, need not,
        // and leaving setgroups allowed lets process.user.additionalGids work.
        if (euid != 0 && !helpers.Any(h => h.Helper == "newgidmap")) Sys.WriteIdMapFile(pid, "setgroups", "deny");
        foreach (var (file, name, helper, maps) in new[] { ("uid_map", "linux.uidMappings", "newuidmap", linux?.UidMappings), ("gid_map", "linux.gidMappings", "newgidmap", linux?.GidMappings) })
        {
            if (helpers.Any(h => h.Helper == helper)) RunHelper(FindHelper(helper)!, pid, name, maps!);
            else Sys.WriteIdMapFile(pid, file, Format(maps));
        }
    }

    /// <summary>The map file's text: "containerID hostID size" lines.</summary>
    public static string Format(IReadOnlyList<LinuxIdMapping>? maps)
        => string.Concat((maps ?? []).Select(m => $"{m.ContainerID} {m.HostID} {m.Size}\n"));

    /// <summary>True when <paramref name="maps"/> maps just the caller's own id, which the caller may write itself.</summary>
    public static bool OwnIdOnly(IReadOnlyList<LinuxIdMapping>? maps, uint own)
        => maps is null or [] || maps is [{ Size: 1 } only] && only.HostID == own;

    /// <summary>The maps of a non-root caller that need newuidmap/newgidmap.</summary>
    private static IEnumerable<(string Name, string Helper, IReadOnlyList<LinuxIdMapping> Maps, uint Own)> Helpers(Spec.Linux linux, uint euid, uint egid)
    {
        if (!OwnIdOnly(linux.UidMappings, euid)) yield return ("linux.uidMappings", "newuidmap", linux.UidMappings!, euid);
        if (!OwnIdOnly(linux.GidMappings, egid)) yield return ("linux.gidMappings", "newgidmap", linux.GidMappings!, egid);
    }

    /// <summary>A helper program on $PATH (as runc looks it up), or in /usr/bin where PATH is bare (newuidmap, criu).</summary>
    internal static string? FindHelper(string name)
        => (Environment.GetEnvironmentVariable("PATH") is { Length: > 0 } path ? path : "/usr/bin:/bin")
            .Split(':', StringSplitOptions.RemoveEmptyEntries).Select(d => Path.Combine(d, name))
            .FirstOrDefault(p => File.Exists(p) && Libc.access(p, Libc.X_OK) == 0);

    private static void RunHelper(string helper, int pid, string name, IReadOnlyList<LinuxIdMapping> maps)
    {
        var result = Sys.RunIdMapHelper(helper, pid, maps);
        if (result.Status != 0)
        {
            var stderr = result.Stderr.Trim().Replace('\n', ' ');
            var file = helper.EndsWith("newuidmap", StringComparison.Ordinal) ? "/etc/subuid" : "/etc/subgid";
            throw new SpecException(name, $"{helper} refused {Show(maps)}: {(stderr.Length > 0 ? stderr : $"exit status {result.Status}")}",
                $"the host ranges must be yours in {file} (a line \"USER:FIRST:COUNT\"), and the container's ids must not overlap");
        }
    }

    private static bool Overlap(uint a, uint aSize, uint b, uint bSize) => (ulong)a < (ulong)b + bSize && (ulong)b < (ulong)a + aSize;

    private static string Show(LinuxIdMapping m) => $"{{containerID {m.ContainerID}, hostID {m.HostID}, size {m.Size}}}";

    private static string Show(IReadOnlyList<LinuxIdMapping> maps) => string.Join(", ", maps.Select(Show));
}
