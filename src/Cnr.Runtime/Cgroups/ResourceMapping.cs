using System.Globalization;
using System.Text.RegularExpressions;
using Cnr.Diagnostics;
using Cnr.Spec;

namespace Cnr.Cgroups;

/// <summary>linux.resources → cgroup v2 interface files, with runc's conversions (libcontainer/cgroups/fs2 and
/// ConvertCPUSharesToCgroupV2Value / ConvertMemorySwapToCgroupV2Value / ConvertBlkIOToIOWeightValue).
/// Pure: no file is touched here, so every rule is unit-tested. Device rules are not files: see
/// <see cref="DeviceFilter"/>.</summary>
public static partial class ResourceMapping
{
    /// <summary>Range and format checks that need no kernel, so a bad config fails before anything exists.</summary>
    public static void Validate(LinuxResources? r)
    {
        if (r is null) return;
        if (r.Memory is { } m)
        {
            foreach (var (name, v) in new[] { ("limit", m.Limit), ("reservation", m.Reservation), ("swap", m.Swap) })
                if (v < -1)
                    throw Bad($"memory.{name}", $"{v} is not a byte count (use a positive number, or -1 for no limit)");
            SwapToV2(m.Swap ?? 0, m.Limit ?? 0);
        }
        if (r.Cpu is { } c)
        {
            if (c.Shares is { } s && s != 0 && s is < 2 or > 262144)
                throw Bad("cpu.shares", $"{s} is out of range (2–262144; 1024 is the default weight)");
            if (c.Quota is { } q && q != 0 && q != -1 && q < 1000)
                throw Bad("cpu.quota", $"{q} is out of range (at least 1000 µs, or -1 for no limit)");
            if (c.Period is { } p && p != 0 && p is < 1000 or > 1_000_000)
                throw Bad("cpu.period", $"{p} is out of range (1000–1000000 µs)");
            if (c.Idle is { } idle && idle is not (0 or 1))
                throw Bad("cpu.idle", $"{idle} must be 0 or 1");
            if (c.RealtimeRuntime is { } rt && rt != 0)
                throw Bad("cpu.realtimeRuntime", "real-time CPU bandwidth does not exist in cgroup v2; remove it");
            if (c.RealtimePeriod is { } rp && rp != 0)
                throw Bad("cpu.realtimePeriod", "real-time CPU bandwidth does not exist in cgroup v2; remove it");
            if (c.Cpus is { Length: > 0 } cpus && !CpuList().IsMatch(cpus))
                throw Bad("cpu.cpus", $"{SpecException.Show(cpus)} is not a CPU list (like \"0-3,6\")");
            if (c.Mems is { Length: > 0 } mems && !CpuList().IsMatch(mems))
                throw Bad("cpu.mems", $"{SpecException.Show(mems)} is not a memory node list (like \"0-1\")");
        }
        if (r.BlockIO is { } io)
        {
            if (io.Weight is { } w && w != 0 && w is < 10 or > 1000)
                throw Bad("blockIO.weight", $"{w} is out of range (10–1000)");
            for (int i = 0; i < (io.WeightDevice?.Count ?? 0); i++)
            {
                var d = io.WeightDevice![i];
                CheckDevice($"blockIO.weightDevice[{i}]", d.Major, d.Minor);
                if (d.Weight is { } dw && dw is < 10 or > 1000)
                    throw Bad($"blockIO.weightDevice[{i}].weight", $"{dw} is out of range (10–1000)");
            }
            foreach (var (name, list) in Throttles(io))
                for (int i = 0; i < list.Count; i++)
                    CheckDevice($"blockIO.{name}[{i}]", list[i].Major, list[i].Minor);
        }
        for (int i = 0; i < (r.HugepageLimits?.Count ?? 0); i++)
            if (!PageSize().IsMatch(r.HugepageLimits![i].PageSize))
                throw Bad($"hugepageLimits[{i}].pageSize", $"{SpecException.Show(r.HugepageLimits[i].PageSize)} is not a page size (like \"2MB\" or \"1GB\")");
        foreach (var (dev, _) in r.Rdma ?? [])
            if (dev.Length == 0 || dev.Any(char.IsWhiteSpace))
                throw Bad($"rdma[{SpecException.Show(dev)}]", "is not an RDMA device name");
        foreach (var (key, value) in r.Unified ?? [])
        {
            if (key.Contains('/') || key.Contains("..") || !key.Contains('.') || key.StartsWith('.'))
                throw Bad($"unified[{SpecException.Show(key)}]", "is not a cgroup v2 interface file name (like \"memory.high\")");
            if (value.Contains('\0'))
                throw Bad($"unified[{SpecException.Show(key)}]", "the value contains a NUL byte");
        }
        for (int i = 0; i < (r.Devices?.Count ?? 0); i++)
            DeviceRules.Check(r.Devices![i], $"linux.resources.devices[{i}]");
    }

    /// <summary>The files to write, in the order runc writes them. <paramref name="ioBfq"/>: the cgroup has
    /// io.bfq.weight (BFQ scheduler), which takes blockIO weights as they are; otherwise io.weight takes them
    /// converted to its 1–10000 range.</summary>
    public static List<CgroupWrite> Map(LinuxResources r, bool ioBfq)
    {
        Validate(r);
        var w = new List<CgroupWrite>();
        if (r.Memory is { } m)
        {
            long limit = m.Limit ?? 0, swap = m.Swap ?? 0;
            long swapV2 = SwapToV2(swap, limit);
            var swapStr = NumToStr(swapV2);
            if (swapStr is null && swap > 0) swapStr = "0";  // swap == limit: no swap at all
            if (swapStr is not null)
                w.Add(new("memory.swap.max", swapStr, "linux.resources.memory.swap", Optional: swapStr is "max" or "0"));
            if (NumToStr(limit) is { } max) w.Add(new("memory.max", max, "linux.resources.memory.limit"));
            if (NumToStr(m.Reservation ?? 0) is { } low) w.Add(new("memory.low", low, "linux.resources.memory.reservation"));
        }
        if (r.Cpu is { } c)
        {
            if (c.Idle is { } idle) w.Add(new("cpu.idle", idle.ToString(CultureInfo.InvariantCulture), "linux.resources.cpu.idle"));
            if (c.Shares is { } shares && shares != 0)
                w.Add(new("cpu.weight", CpuSharesToWeight(shares).ToString(CultureInfo.InvariantCulture), "linux.resources.cpu.shares"));
            else if (c.Shares == 0)
                Log.Debug("linux.resources.cpu.shares: 0 means unset (as in runc): cpu.weight is left at its default");
            long quota = c.Quota ?? 0; ulong period = c.Period ?? 0;
            if (quota != 0 || period != 0)
            {
                var max = quota > 0 ? quota.ToString(CultureInfo.InvariantCulture) : "max";
                if (period != 0) max += " " + period.ToString(CultureInfo.InvariantCulture);
                w.Add(new("cpu.max", max, quota != 0 ? "linux.resources.cpu.quota" : "linux.resources.cpu.period"));
            }
            // after cpu.max: the kernel refuses a burst larger than the quota in force
            if (c.Burst is { } burst) w.Add(new("cpu.max.burst", burst.ToString(CultureInfo.InvariantCulture), "linux.resources.cpu.burst"));
            if (c.Cpus is { Length: > 0 } cpus) w.Add(new("cpuset.cpus", cpus, "linux.resources.cpu.cpus"));
            if (c.Mems is { Length: > 0 } mems) w.Add(new("cpuset.mems", mems, "linux.resources.cpu.mems"));
        }
        if (r.Pids is { Limit: { } pids })
            w.Add(new("pids.max", pids > 0 ? pids.ToString(CultureInfo.InvariantCulture) : "max", "linux.resources.pids.limit"));
        if (r.BlockIO is { } io)
        {
            var weightFile = ioBfq ? "io.bfq.weight" : "io.weight";
            if (io.Weight is { } weight && weight != 0)
                w.Add(new(weightFile, (ioBfq ? weight : BlkioToIoWeight(weight)).ToString(CultureInfo.InvariantCulture), "linux.resources.blockIO.weight"));
            for (int i = 0; i < (io.WeightDevice?.Count ?? 0); i++)
                if (io.WeightDevice![i] is { Weight: { } dw } d)
                    w.Add(new(weightFile, $"{d.Major}:{d.Minor} {(ioBfq ? dw : BlkioToIoWeight(dw))}", $"linux.resources.blockIO.weightDevice[{i}]"));
            foreach (var (name, list) in Throttles(io))
            {
                var key = name switch
                {
                    "throttleReadBpsDevice" => "rbps", "throttleWriteBpsDevice" => "wbps",
                    "throttleReadIOPSDevice" => "riops", _ => "wiops",
                };
                for (int i = 0; i < list.Count; i++)
                    w.Add(new("io.max", $"{list[i].Major}:{list[i].Minor} {key}={list[i].Rate}", $"linux.resources.blockIO.{name}[{i}]"));
            }
        }
        for (int i = 0; i < (r.HugepageLimits?.Count ?? 0); i++)
        {
            var h = r.HugepageLimits![i];
            w.Add(new($"hugetlb.{h.PageSize}.max", h.Limit.ToString(CultureInfo.InvariantCulture), $"linux.resources.hugepageLimits[{i}]"));
        }
        foreach (var (dev, rdma) in r.Rdma ?? [])
        {
            var parts = new List<string> { dev };
            if (rdma.HcaHandles is { } hh) parts.Add($"hca_handle={hh}");
            if (rdma.HcaObjects is { } ho) parts.Add($"hca_object={ho}");
            if (parts.Count > 1) w.Add(new("rdma.max", string.Join(' ', parts), $"linux.resources.rdma[\"{dev}\"]"));
        }
        // last, so that a raw value wins over the converted one (as in runc)
        foreach (var (key, value) in r.Unified ?? [])
            w.Add(new(key, value, $"linux.resources.unified[\"{key}\"]"));
        return w;
    }

    /// <summary>cgroup v1 cpu.shares [2, 262144] → cgroup v2 cpu.weight [1, 10000], linearly (runc).</summary>
    public static ulong CpuSharesToWeight(ulong shares) => shares == 0 ? 0 : 1 + (shares - 2) * 9999 / 262142;

    /// <summary>blkio.weight [10, 1000] → io.weight [1, 10000], linearly (runc).</summary>
    public static ulong BlkioToIoWeight(ushort weight) => weight == 0 ? 0 : 1 + ((ulong)weight - 10) * 9999 / 990;

    /// <summary>The spec's swap is memory+swap (cgroup v1 memsw); v2's memory.swap.max is swap alone.
    /// 0 = unset, -1 = unlimited.</summary>
    public static long SwapToV2(long swap, long limit)
    {
        if (limit == -1 && swap == 0) return -1;  // unlimited memory, swap unset: unlimited swap too
        if (swap is -1 or 0) return swap;
        if (limit is -1 or 0)
            throw Bad("memory.swap", $"{swap} limits memory+swap, which needs memory.limit too (set linux.resources.memory.limit, or swap to -1)");
        if (limit > swap)
            throw Bad("memory.swap", $"{swap} is memory+swap and must be at least memory.limit ({limit})");
        return swap - limit;
    }

    private static string? NumToStr(long v) => v switch
    {
        0 => null,
        -1 => "max",
        _ => v.ToString(CultureInfo.InvariantCulture),
    };

    private static IEnumerable<(string Name, List<LinuxThrottleDevice> List)> Throttles(LinuxBlockIO io)
    {
        if (io.ThrottleReadBpsDevice is { } a) yield return ("throttleReadBpsDevice", a);
        if (io.ThrottleWriteBpsDevice is { } b) yield return ("throttleWriteBpsDevice", b);
        if (io.ThrottleReadIOPSDevice is { } c) yield return ("throttleReadIOPSDevice", c);
        if (io.ThrottleWriteIOPSDevice is { } d) yield return ("throttleWriteIOPSDevice", d);
    }

    private static void CheckDevice(string path, long major, long minor)
    {
        if (major < 0 || minor < 0)
            throw Bad(path, $"{major}:{minor} is not a block device number (major:minor, both >= 0)");
    }

    private static CgroupException Bad(string path, string what) => new($"linux.resources.{path}: {what}");

    [GeneratedRegex(@"^\d+(-\d+)?(,\d+(-\d+)?)*$")] private static partial Regex CpuList();
    [GeneratedRegex(@"^\d+[KMG]B$")] private static partial Regex PageSize();
}
