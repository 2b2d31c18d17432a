using Cnr.Spec;

namespace Cnr.Cgroups;

/// <summary>One property of a systemd unit: Value is a ulong (D-Bus "t"), bool ("b"), string ("s"), uint[]
/// ("au") or byte[] ("ay").</summary>
public sealed record SystemdProperty(string Name, object Value)
{
    public bool Equals(SystemdProperty? other) => other is not null && Name == other.Name && ValueText == other.ValueText;
    public override int GetHashCode() => HashCode.Combine(Name, ValueText);
    private string ValueText => Value switch
    {
        byte[] b => "ay:" + Convert.ToHexString(b),
        uint[] u => "au:" + string.Join(',', u),
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

    /// <summary>The properties of a new scope: placement, delegation, the first process, accounting, limits.</summary>
    public static List<SystemdProperty> ForNewScope(string containerId, string slice, int pid, LinuxResources? resources)
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
        if (resources is not null) p.AddRange(ForResources(resources));
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
        return p;
    }

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
