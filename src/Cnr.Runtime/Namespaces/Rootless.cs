using Cnr.Linux;

namespace Cnr.Namespaces;

/// <summary>Whether cnr runs rootless, as runc decides it: its euid is not 0, or it is root only of a user
/// namespace below the host's. Rootless Podman runs its runtime the second way, as uid 0 of the namespace it
/// made from /etc/subuid: there the host's cgroups, its system bus and the host-wide privileges are not cnr's
/// although geteuid() says 0.</summary>
public static class Rootless
{
    private static (bool InUserNs, uint HostUid)? _self;

    /// <summary>Not root, or root of a user namespace that is not the host's.</summary>
    public static bool Is => Libc.geteuid() != 0 || Self.InUserNs;

    /// <summary>The uid the host's daemons see for this process (systemd, the D-Bus daemon: SO_PEERCRED):
    /// the euid mapped out through this user namespace's uid_map.</summary>
    public static uint HostUid => Self.HostUid;

    private static (bool InUserNs, uint HostUid) Self => _self ??= Parse(ProcFs.Read("self/uid_map"), Libc.geteuid());

    /// <summary>From the text of uid_map ("inside outside count" lines): the host's own user namespace maps every
    /// id to itself in one line; the host uid is where the line holding <paramref name="euid"/> maps it.
    /// An unreadable map counts as the host's (nothing else is known).</summary>
    internal static (bool InUserNs, uint HostUid) Parse(string? uidMap, uint euid)
    {
        var lines = (uidMap ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(f => f.Length == 3 && f.All(x => uint.TryParse(x, out _)))
            .Select(f => (Inside: uint.Parse(f[0]), Outside: uint.Parse(f[1]), Count: uint.Parse(f[2])))
            .ToList();
        if (lines.Count == 0 || lines is [(0, 0, uint.MaxValue)]) return (false, euid);
        foreach (var (inside, outside, count) in lines)
            if (euid >= inside && euid - inside < count) return (true, outside + (euid - inside));
        return (true, euid);
    }
}
