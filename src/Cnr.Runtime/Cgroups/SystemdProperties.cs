using Cnr.Spec;

namespace Cnr.Cgroups;

/// <summary>One entry of DeviceAllow: a device node path or a "char-"/"block-" pattern, and letters of "rwm".</summary>
public readonly record struct SystemdDeviceAllow(string Path, string Access);

/// <summary>One property of a systemd unit: Value is a ulong (D-Bus "t"), bool ("b"), string ("s"), uint[]
/// ("au"), byte[] ("ay") or SystemdDeviceAllow[] ("a(ss)").</summary>
public sealed record SystemdProperty(string Name, object Value)
{
    public bool Equals(SystemdProperty? other) => other is not null && Name == other.Name && ValueText == other.ValueText;
    public override int GetHashCode() => HashCode.Combine(Name, ValueText);
    private string ValueText => Value switch
    {
        byte[] b => "ay:" + Convert.ToHexString(b),
        uint[] u => "au:" + string.Join(',', u),
        SystemdDeviceAllow[] d => "a(ss):" + string.Join(',', d.Select(e => $"{e.Path} {e.Access}")),
        _ => Value.GetType().Name + ":" + Value,
    };
    public override string ToString() => $"{Name}={ValueText}";
}

/// <summary>linux.resources → the properties systemd owns for a scope, with runc's conversions
/// (libcontainer/cgroups/systemd/v2.go genV2ResourcesProperties). Pure, so every rule is unit-tested. What
/// systemd has no property for is written to the unit's cgroup files (<see cref="ResourceMapping"/>).</summary>
public static class SystemdProperties
{
    /// <summary>systemd's "infinity" for the uint64 limits.</summary>
    public const ulong Infinity = ulong.MaxValue;

    /// <summary>The properties of a new scope: placement, delegation, the first process, accounting, limits,
    /// the device policy.</summary>
    public static List<SystemdProperty> ForNewScope(string containerId, string slice, int pid, Spec.Linux? linux)
    {
        var p = new List<SystemdProperty>
        {
            new("Description", $"cnr container {containerId}"),
            new("Slice", slice),
            // the container's own cgroups below the scope are cnr's (and the container's) to manage
            new("Delegate", true),
            new("PIDs", new[] { (uint)pid }),
            // a scope must not be ordered after units (such as sysinit.target) that may still be starting
            new("DefaultDependencies", false),
            new("MemoryAccounting", true),
            new("CPUAccounting", true),
            new("IOAccounting", true),
            new("TasksAccounting", true),
        };
        if (linux?.Resources is { } resources) p.AddRange(ForResources(resources));
        p.AddRange(ForDevices(DeviceRules.For(linux)));
        return p;
    }

    /// <summary>The limits alone (create, and SetUnitProperties for `cnr update`).</summary>
    public static List<SystemdProperty> ForResources(LinuxResources r)
    {
        ResourceMapping.Validate(r);
        var p = new List<SystemdProperty>();
        if (r.Memory is { } m)
        {
            long limit = m.Limit ?? 0, swap = m.Swap ?? 0;
            if (Limit(limit) is { } max) p.Add(new("MemoryMax", max));
            if (Limit(m.Reservation ?? 0) is { } low) p.Add(new("MemoryLow", low));
            long swapV2 = ResourceMapping.SwapToV2(swap, limit);
            // swap == limit means no swap at all: say so to systemd too, or a later re-realize of the unit
            // would put back its default (infinity) over the file cnr wrote
            if (swapV2 != 0 || swap > 0) p.Add(new("MemorySwapMax", swapV2 == -1 ? Infinity : (ulong)swapV2));
        }
        if (r.Pids is { Limit: { } pids })
            p.Add(new("TasksMax", pids > 0 ? (ulong)pids : Infinity));
        if (r.Cpu is { } c)
        {
            if (c.Shares is { } shares && shares != 0) p.Add(new("CPUWeight", ResourceMapping.CpuSharesToWeight(shares)));
            long quota = c.Quota ?? 0; ulong period = c.Period ?? 0;
            if (period != 0) p.Add(new("CPUQuotaPeriodUSec", period));
            if (quota != 0 || period != 0) p.Add(new("CPUQuotaPerSecUSec", QuotaPerSecond(quota, period)));
            if (c.Cpus is { Length: > 0 } cpus) p.Add(new("AllowedCPUs", ListToBits(cpus, "linux.resources.cpu.cpus")));
            if (c.Mems is { Length: > 0 } mems) p.Add(new("AllowedMemoryNodes", ListToBits(mems, "linux.resources.cpu.mems")));
        }
        if (r.BlockIO is { Weight: { } w } && w != 0) p.Add(new("IOWeight", ResourceMapping.BlkioToIoWeight(w)));
        // last, so that a raw value wins over the converted one, as in the files (ResourceMapping.Map)
        foreach (var (key, value) in r.Unified ?? []) p.AddRange(ForUnified(key, value));
        return p;
    }

    /// <summary>A linux.resources.unified entry → the property systemd has for that file, with runc's
    /// conversions (unifiedResToSystemdProps); none for the files systemd does not own (the value is still
    /// written to the file). A value systemd would need parsed and that does not parse is the config's error.</summary>
    public static IEnumerable<SystemdProperty> ForUnified(string key, string value)
    {
        var field = $"linux.resources.unified[\"{key}\"]";
        var v = value.Trim();  // the kernel takes whitespace around a value, and so does runc
        switch (key)
        {
            case "memory.max" or "memory.high" or "memory.low" or "memory.min" or "memory.swap.max":
            {
                var name = key switch
                {
                    "memory.max" => "MemoryMax", "memory.high" => "MemoryHigh", "memory.low" => "MemoryLow",
                    "memory.min" => "MemoryMin", _ => "MemorySwapMax",
                };
                yield return new(name, MaxOrNumber(v, field, "a byte count"));
                break;
            }
            case "pids.max":
                yield return new("TasksMax", MaxOrNumber(v, field, "a number of tasks"));
                break;
            case "cpu.weight":
                if (!ulong.TryParse(v, out var weight) || weight is < 1 or > 10000)
                    throw new CgroupException($"{field}: {SpecException.Show(value)} is not a CPU weight (1–10000)");
                yield return new("CPUWeight", weight);
                break;
            case "cpu.max":
            {
                // "QUOTA [PERIOD]", QUOTA "max" for none; the period is the kernel's 100 ms when left out
                var f = v.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                long quota = 0; ulong period = 100_000;
                if (f.Length is < 1 or > 2 || (f[0] != "max" && (!long.TryParse(f[0], out quota) || quota <= 0))
                    || (f.Length == 2 && (!ulong.TryParse(f[1], out period) || period == 0)))
                    throw new CgroupException($"{field}: {SpecException.Show(value)} is not \"QUOTA PERIOD\" in µs (like \"50000 100000\", or \"max 100000\")");
                yield return new("CPUQuotaPeriodUSec", period);
                yield return new("CPUQuotaPerSecUSec", QuotaPerSecond(quota, period));
                break;
            }
            case "cpuset.cpus":
                yield return new("AllowedCPUs", ListToBits(CheckList(v, field), field));
                break;
            case "cpuset.mems":
                yield return new("AllowedMemoryNodes", ListToBits(CheckList(v, field), field));
                break;
        }
    }

    private static ulong MaxOrNumber(string v, string field, string what)
    {
        if (v == "max") return Infinity;
        if (ulong.TryParse(v, out var n)) return n;
        throw new CgroupException($"{field}: {SpecException.Show(v)} is not {what} or \"max\"");
    }

    private static string CheckList(string v, string field)
        => v.Length > 0 && v.All(c => char.IsAsciiDigit(c) || c is ',' or '-') && !v.Split(',').Any(p => p.Split('-') is not ([{ Length: > 0 }] or [{ Length: > 0 }, { Length: > 0 }]))
            ? v : throw new CgroupException($"{field}: {SpecException.Show(v)} is not a list (like \"0-3,6\")");

    /// <summary>The device rules (<see cref="DeviceRules.For"/>) → DevicePolicy and DeviceAllow, as runc's systemd
    /// driver sets them: with those, the device program systemd attaches to the scope (when it realizes the
    /// unit, and again on a daemon-reload) allows what cnr's allows. cnr's own program (<see cref="DeviceFilter"/>)
    /// is what enforces the rules; systemd's list can only allow, and both programs must allow an access, so
    /// where a rule cannot be said in systemd's terms (a deny after an allow, "*:MINOR") its list is the wider
    /// one, never the narrower (runc's list goes deny-all there, breaking the container's devices on the next
    /// re-realize). DeviceAllow=[] first empties the list a running unit has (an update appends otherwise).</summary>
    public static List<SystemdProperty> ForDevices(IReadOnlyList<DeviceRule> rules)
    {
        // cnr's program never looks past the last rule that matches every access to every device
        int last = -1;
        for (int i = rules.Count - 1; i >= 0 && last < 0; i--)
            if (rules[i] is { Type: 'a', Major: < 0, Minor: < 0 } r && DeviceFilter.AccessBits(r.Access) == 7) last = i;
        if (last >= 0 && rules[last].Allow)
            return [new("DevicePolicy", "auto"), new("DeviceAllow", Array.Empty<SystemdDeviceAllow>())];
        var allow = new List<(string Path, uint Access)>();
        for (int i = last + 1; i < rules.Count; i++)
        {
            var r = rules[i];
            if (!r.Allow) continue;
            foreach (var type in r.Type == 'a' ? "cb" : r.Type.ToString())
            {
                var kind = type == 'c' ? "char" : "block";
                var path = r.Major < 0 ? $"{kind}-*"                   // systemd has no "*:MINOR": all of the type
                    : r.Minor < 0 ? $"{kind}-{r.Major}"                // systemd >= 240 takes a major number
                    : $"/dev/{kind}/{r.Major}:{r.Minor}";              // parsed, not looked up: the node need not exist
                int at = allow.FindIndex(e => e.Path == path);
                if (at < 0) allow.Add((path, DeviceFilter.AccessBits(r.Access)));
                else allow[at] = (path, allow[at].Access | DeviceFilter.AccessBits(r.Access));
            }
        }
        return
        [
            new("DevicePolicy", "strict"),
            new("DeviceAllow", Array.Empty<SystemdDeviceAllow>()),
            new("DeviceAllow", allow.Select(e => new SystemdDeviceAllow(e.Path, AccessLetters(e.Access))).ToArray()),
        ];
    }

    private static string AccessLetters(uint bits) => ((bits & 2) != 0 ? "r" : "") + ((bits & 4) != 0 ? "w" : "") + ((bits & 1) != 0 ? "m" : "");

    private static ulong? Limit(long v) => v switch { 0 => null, -1 => Infinity, _ => (ulong)v };

    /// <summary>cpu.quota per cpu.period (µs) → CPU time per second (µs), which systemd keeps to a whole
    /// 10 ms: rounded up, as runc does, so the container never gets less than asked. No quota → infinity.</summary>
    public static ulong QuotaPerSecond(long quota, ulong period)
    {
        if (quota <= 0) return Infinity;
        if (period == 0) period = 100_000;  // the kernel's default period
        ulong perSec = (ulong)quota * 1_000_000 / period;
        if (perSec % 10_000 != 0) perSec = (perSec / 10_000 + 1) * 10_000;
        return perSec;
    }

    /// <summary>"0-3,6" → the bitmask systemd takes for AllowedCPUs/AllowedMemoryNodes: byte i holds
    /// CPUs 8i..8i+7, lowest bit first (runc's RangeToBits).</summary>
    public static byte[] ListToBits(string list, string field)
    {
        var bits = new List<byte>();
        foreach (var part in list.Split(','))
        {
            var ends = part.Split('-');
            int from = int.Parse(ends[0]), to = ends.Length > 1 ? int.Parse(ends[1]) : from;
            if (to < from) throw new CgroupException($"{field}: \"{list}\": the range {part} goes backwards");
            if (to >= 8192) throw new CgroupException($"{field}: \"{list}\": {to} is beyond the 8192 CPUs/nodes systemd takes");
            for (int i = from; i <= to; i++)
            {
                while (bits.Count <= i / 8) bits.Add(0);
                bits[i / 8] |= (byte)(1 << (i % 8));
            }
        }
        return bits.ToArray();
    }
}
