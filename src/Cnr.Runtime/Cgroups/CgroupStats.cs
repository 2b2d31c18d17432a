using System.Globalization;
using System.Text.Json.Serialization;

namespace Cnr.Cgroups;

// The shape of runc's `events --stats` data (libcontainer's types.Stats), so tools that parse runc's output
// parse cnr's. Units as runc reports them: CPU times in nanoseconds, memory in bytes.

public sealed class CgroupStats
{
    [JsonPropertyName("cpu")] public CpuStats Cpu { get; set; } = new();
    [JsonPropertyName("memory")] public MemoryStats Memory { get; set; } = new();
    [JsonPropertyName("pids")] public PidsStats Pids { get; set; } = new();
    [JsonPropertyName("blkio")] public BlkioStats Blkio { get; set; } = new();
    [JsonPropertyName("hugetlb")] public Dictionary<string, HugetlbStats> Hugetlb { get; set; } = new();

    /// <summary>Reads the stats of the cgroup at <paramref name="dir"/>; files of controllers that are not
    /// enabled there are simply absent and leave their section zero.</summary>
    public static CgroupStats Read(string dir)
    {
        var s = new CgroupStats();
        var cpu = ReadKeyed(dir, "cpu.stat");
        s.Cpu.Usage.Total = Get(cpu, "usage_usec") * 1000;
        s.Cpu.Usage.User = Get(cpu, "user_usec") * 1000;
        s.Cpu.Usage.Kernel = Get(cpu, "system_usec") * 1000;
        s.Cpu.Throttling.Periods = Get(cpu, "nr_periods");
        s.Cpu.Throttling.ThrottledPeriods = Get(cpu, "nr_throttled");
        s.Cpu.Throttling.ThrottledTime = Get(cpu, "throttled_usec") * 1000;

        var raw = ReadKeyed(dir, "memory.stat");
        if (raw.Count > 0)
        {
            s.Memory.Raw = raw;
            s.Memory.Cache = Get(raw, "file");
            s.Memory.Usage = new MemoryEntry
            {
                Usage = ReadNumber(dir, "memory.current"),
                Limit = ReadNumber(dir, "memory.max"),
                Max = ReadNumber(dir, "memory.peak"),
                Failcnt = Get(ReadKeyed(dir, "memory.events"), "max"),
            };
            // cgroup v1 reported swap as memory+swap; runc keeps that meaning on v2
            var swapLimit = ReadNumber(dir, "memory.swap.max");
            s.Memory.Swap = new MemoryEntry
            {
                Usage = ReadNumber(dir, "memory.swap.current") + s.Memory.Usage.Usage,
                Limit = swapLimit == ulong.MaxValue ? swapLimit : swapLimit + s.Memory.Usage.Limit,
                Max = ReadNumber(dir, "memory.swap.peak"),
                Failcnt = Get(ReadKeyed(dir, "memory.swap.events"), "max"),
            };
        }

        s.Pids.Current = ReadNumber(dir, "pids.current");
        var pidsMax = ReadNumber(dir, "pids.max");
        s.Pids.Limit = pidsMax == ulong.MaxValue ? 0 : pidsMax;  // runc: 0 = no limit

        if (TryRead(dir, "io.stat") is { } io)
            foreach (var line in io.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                var mm = f[0].Split(':');
                if (mm.Length != 2 || !ulong.TryParse(mm[0], out var major) || !ulong.TryParse(mm[1], out var minor)) continue;
                foreach (var kv in f.Skip(1))
                {
                    var eq = kv.IndexOf('=');
                    if (eq < 0 || !ulong.TryParse(kv[(eq + 1)..], out var v)) continue;
                    var (list, op) = kv[..eq] switch
                    {
                        "rbytes" => (s.Blkio.IoServiceBytesRecursive, "Read"),
                        "wbytes" => (s.Blkio.IoServiceBytesRecursive, "Write"),
                        "rios" => (s.Blkio.IoServicedRecursive, "Read"),
                        "wios" => (s.Blkio.IoServicedRecursive, "Write"),
                        _ => (null, ""),
                    };
                    list?.Add(new BlkioEntry { Major = major, Minor = minor, Op = op, Value = v });
                }
            }

        if (Directory.Exists(dir))
            foreach (var f in Directory.EnumerateFiles(dir, "hugetlb.*.current"))
            {
                var size = Path.GetFileName(f)["hugetlb.".Length..^".current".Length];
                if (size.Contains('.')) continue;  // hugetlb.2MB.rsvd.current: reservations, not usage
                s.Hugetlb[size] = new HugetlbStats
                {
                    Usage = ReadNumber(dir, $"hugetlb.{size}.current"),
                    Max = ReadNumber(dir, $"hugetlb.{size}.max"),
                    Failcnt = Get(ReadKeyed(dir, $"hugetlb.{size}.events"), "max"),
                };
            }
        return s;
    }

    internal static string? TryRead(string dir, string file)
    {
        try { return File.ReadAllText(Path.Combine(dir, file)); }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException) { return null; }
    }

    /// <summary>A flat-keyed file ("key value" lines: cpu.stat, memory.stat, memory.events…).</summary>
    internal static Dictionary<string, ulong> ReadKeyed(string dir, string file)
    {
        var d = new Dictionary<string, ulong>();
        foreach (var line in (TryRead(dir, file) ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var sp = line.IndexOf(' ');
            if (sp > 0 && ulong.TryParse(line[(sp + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var v))
                d[line[..sp]] = v;
        }
        return d;
    }

    /// <summary>A single-value file; "max" is ulong.MaxValue, a missing file 0.</summary>
    private static ulong ReadNumber(string dir, string file)
    {
        var t = TryRead(dir, file)?.Trim();
        return t == "max" ? ulong.MaxValue : ulong.TryParse(t, out var v) ? v : 0;
    }

    private static ulong Get(Dictionary<string, ulong> d, string key) => d.GetValueOrDefault(key);
}

public sealed class CpuStats
{
    [JsonPropertyName("usage")] public CpuUsage Usage { get; set; } = new();
    [JsonPropertyName("throttling")] public Throttling Throttling { get; set; } = new();
}

public sealed class CpuUsage
{
    [JsonPropertyName("total")] public ulong Total { get; set; }
    [JsonPropertyName("kernel")] public ulong Kernel { get; set; }
    [JsonPropertyName("user")] public ulong User { get; set; }
}

public sealed class Throttling
{
    [JsonPropertyName("periods")] public ulong Periods { get; set; }
    [JsonPropertyName("throttledPeriods")] public ulong ThrottledPeriods { get; set; }
    [JsonPropertyName("throttledTime")] public ulong ThrottledTime { get; set; }
}

public sealed class MemoryStats
{
    [JsonPropertyName("cache")] public ulong Cache { get; set; }
    [JsonPropertyName("usage")] public MemoryEntry Usage { get; set; } = new();
    [JsonPropertyName("swap")] public MemoryEntry Swap { get; set; } = new();
    [JsonPropertyName("raw")] public Dictionary<string, ulong>? Raw { get; set; }
}

public sealed class MemoryEntry
{
    [JsonPropertyName("limit")] public ulong Limit { get; set; }
    [JsonPropertyName("usage")] public ulong Usage { get; set; }
    [JsonPropertyName("max")] public ulong Max { get; set; }
    [JsonPropertyName("failcnt")] public ulong Failcnt { get; set; }
}

public sealed class PidsStats
{
    [JsonPropertyName("current")] public ulong Current { get; set; }
    [JsonPropertyName("limit")] public ulong Limit { get; set; }
}

public sealed class BlkioStats
{
    [JsonPropertyName("ioServiceBytesRecursive")] public List<BlkioEntry> IoServiceBytesRecursive { get; set; } = [];
    [JsonPropertyName("ioServicedRecursive")] public List<BlkioEntry> IoServicedRecursive { get; set; } = [];
}

public sealed class BlkioEntry
{
    [JsonPropertyName("major")] public ulong Major { get; set; }
    [JsonPropertyName("minor")] public ulong Minor { get; set; }
    [JsonPropertyName("op")] public string Op { get; set; } = "";
    [JsonPropertyName("value")] public ulong Value { get; set; }
}

public sealed class HugetlbStats
{
    [JsonPropertyName("usage")] public ulong Usage { get; set; }
    [JsonPropertyName("max")] public ulong Max { get; set; }
    [JsonPropertyName("failcnt")] public ulong Failcnt { get; set; }
}

/// <summary>One line of `cnr events`: {"type":"stats","id":…,"data":{…}} or {"type":"oom","id":…}, as runc.</summary>
public sealed class CgroupEvent
{
    [JsonPropertyName("type")] public string Type { get; set; } = "stats";
    [JsonPropertyName("id")] public string Id { get; set; } = "";
    [JsonPropertyName("data")] public CgroupStats? Data { get; set; }
}

/// <summary>Source-generated JSON for the stats (compact: `events` prints one object per line).</summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(CgroupEvent))]
[JsonSerializable(typeof(CgroupStats))]
public sealed partial class StatsJson : JsonSerializerContext;
