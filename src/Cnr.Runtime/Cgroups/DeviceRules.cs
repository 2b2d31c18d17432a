using Cnr.Spec;

namespace Cnr.Cgroups;

/// <summary>One device cgroup rule. <paramref name="Type"/>: 'a' (all), 'b' (block) or 'c' (char);
/// major/minor -1 = any; <paramref name="Access"/>: letters of "rwm".</summary>
public readonly record struct DeviceRule(char Type, long Major, long Minor, string Access, bool Allow)
{
    public override string ToString()
        => $"{(Allow ? "allow" : "deny")} {Type} {(Major < 0 ? "*" : Major)}:{(Minor < 0 ? "*" : Minor)} {Access}";
}

/// <summary>The rules a container's device program enforces, in config order (the last matching rule wins).</summary>
public static class DeviceRules
{
    /// <summary>What every container may use whatever its config says, appended after the config's rules
    /// as runc does (libcontainer/specconv AllowedDevices): mknod of anything (access is what is checked),
    /// the standard /dev nodes, /dev/console, /dev/ptmx, /dev/pts/*, /dev/net/tun.</summary>
    public static IReadOnlyList<DeviceRule> Default => [.. Defaults.Select(d => d.Rule)];

    /// <summary><see cref="Default"/> with the node each standard rule is for: runc drops the rule of a node that
    /// linux.devices redefines (the config's node may be another device).</summary>
    private static readonly (string? Path, DeviceRule Rule)[] Defaults =
    [
        (null, new('c', -1, -1, "m", true)),
        (null, new('b', -1, -1, "m", true)),
        ("/dev/null", new('c', 1, 3, "rwm", true)),
        ("/dev/random", new('c', 1, 8, "rwm", true)),
        ("/dev/full", new('c', 1, 7, "rwm", true)),
        ("/dev/tty", new('c', 5, 0, "rwm", true)),
        ("/dev/zero", new('c', 1, 5, "rwm", true)),
        ("/dev/urandom", new('c', 1, 9, "rwm", true)),
        (null, new('c', 5, 1, "rwm", true)),    // /dev/console
        (null, new('c', 136, -1, "rwm", true)), // /dev/pts/*
        (null, new('c', 5, 2, "rwm", true)),    // /dev/ptmx
        (null, new('c', 10, 200, "rwm", true)), // /dev/net/tun
    ];

    /// <summary>linux.resources.devices, then <see cref="Default"/>. A linux.devices entry only creates its node:
    /// whether the container may use it is up to linux.resources.devices (runc's rule).</summary>
    public static List<DeviceRule> For(Spec.Linux? linux)
    {
        var rules = new List<DeviceRule>();
        var devices = linux?.Resources?.Devices ?? [];
        for (int i = 0; i < devices.Count; i++)
        {
            var d = devices[i];
            Check(d, $"linux.resources.devices[{i}]");
            rules.Add(new(d.Type is { Length: > 0 } t ? t[0] : 'a', d.Major ?? -1, d.Minor ?? -1,
                d.Access is { Length: > 0 } a ? a : "rwm", d.Allow));
        }
        var redefined = (linux?.Devices ?? []).Select(d => d.Path).ToHashSet();
        rules.AddRange(Defaults.Where(d => d.Path is null || !redefined.Contains(d.Path)).Select(d => d.Rule));
        return rules;
    }

    public static void Check(LinuxDeviceCgroup d, string path)
    {
        if (d.Type is { Length: > 0 } t && t is not ("a" or "b" or "c"))
            throw new CgroupException($"{path}.type: {SpecException.Show(t)} is not a device type (a, b or c)");
        if (d.Access is { Length: > 0 } a && a.Any(ch => ch is not ('r' or 'w' or 'm')))
            throw new CgroupException($"{path}.access: {SpecException.Show(a)} is not a device access (letters of \"rwm\")");
        if (d.Major is < -1 or > int.MaxValue)
            throw new CgroupException($"{path}.major: {d.Major} is not a device major number (omit it for any)");
        if (d.Minor is < -1 or > int.MaxValue)
            throw new CgroupException($"{path}.minor: {d.Minor} is not a device minor number (omit it for any)");
    }
}
