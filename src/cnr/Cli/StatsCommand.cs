using System.CommandLine;
using System.Text.Json;
using Cnr.Cgroups;
using Cnr.State;

namespace Cnr.Cli;

/// <summary>`cnr stats [--no-stream] [--format table|json] [ID…]`: a `docker stats`-like live table (CPU %,
/// memory used/limit, pids, block I/O) of the given containers, or of every running one under --root, so that
/// students can watch their limits bite. `--format json` prints runc's `events --stats` objects.</summary>
internal static class StatsCommand
{
    public static Command Create()
    {
        var ids = new Argument<string[]>("container-id") { Arity = ArgumentArity.ZeroOrMore, Description = "containers to watch (default: all running)" };
        var noStream = new Option<bool>("--no-stream") { Description = "print one sample and exit" };
        var format = new Option<string>("--format", "-f") { Description = "table or json", DefaultValueFactory = _ => "table" };
        var cmd = new Command("stats", "display a live stream of the containers' resource usage (cgroup v2)") { ids, noStream, format };
        Verbs.SetAction(cmd, r =>
        {
            var store = CommonOptions.Store(r);
            var fmt = r.GetValue(format);
            if (fmt is not ("table" or "json")) throw new UsageException($"--format: \"{fmt}\" is not a format (table, json)");
            var wanted = r.GetValue(ids) is { Length: > 0 } given ? given : null;
            var targets = new List<(ContainerRecord Record, CgroupManager Cgroup)>();
            foreach (var id in wanted ?? store.Ids().Order(StringComparer.Ordinal).ToArray())
            {
                var (rec, lk) = store.Open(id);
                using (lk)
                {
                    if (rec.CgroupPath is not { Length: > 0 } path)
                    {
                        if (wanted is null) continue;
                        throw new CgroupException($"container {rec.Id} has no cgroup: {NoCgroup.Recorded}");
                    }
                    if (wanted is null && !ContainerStore.IsAlive(rec.Pid, rec.InitStartTime)) continue;
                    targets.Add((rec, CgroupManager.Load(path)));
                }
            }
            bool once = r.GetValue(noStream) || fmt == "json" || Console.IsOutputRedirected;
            var previous = new Dictionary<string, (ulong CpuNs, DateTime At)>();
            if (once && fmt == "table")
            {
                // CPU % is a rate: one sample now, the row half a second later.
                foreach (var (rec, cg) in targets) previous[rec.Id] = (cg.Stats().Cpu.Usage.Total, DateTime.UtcNow);
                Thread.Sleep(500);
            }
            while (true)
            {
                var rows = new List<string[]> { new[] { "ID", "CPU %", "MEM USAGE / LIMIT", "MEM %", "PIDS", "BLOCK I/O" } };
                var missing = new HashSet<string>();
                foreach (var (rec, cg) in targets)
                {
                    var s = cg.Stats();
                    if (fmt == "json")
                    {
                        Console.WriteLine(JsonSerializer.Serialize(new CgroupEvent { Type = "stats", Id = rec.Id, Data = s }, StatsJson.Default.CgroupEvent));
                        continue;
                    }
                    var now = DateTime.UtcNow;
                    string cpu = "--";
                    if (previous.TryGetValue(rec.Id, out var prev))
                        cpu = $"{(s.Cpu.Usage.Total - prev.CpuNs) / ((now - prev.At).TotalMilliseconds * 1e6) * 100:0.00}%";
                    previous[rec.Id] = (s.Cpu.Usage.Total, now);
                    // Without a controller its files are absent and Stats() reads 0: say n/a, and why below.
                    var has = cg.Controllers();
                    missing.UnionWith(TableControllers.Where(c => !has.Contains(c)));
                    ulong limit = s.Memory.Usage.Limit is 0 or ulong.MaxValue ? HostMemory() : s.Memory.Usage.Limit;
                    ulong read = s.Blkio.IoServiceBytesRecursive.Where(e => e.Op == "Read").Aggregate(0UL, (a, e) => a + e.Value);
                    ulong written = s.Blkio.IoServiceBytesRecursive.Where(e => e.Op == "Write").Aggregate(0UL, (a, e) => a + e.Value);
                    bool memory = has.Contains("memory");
                    rows.Add([
                        rec.Id, cpu,
                        memory ? $"{Size(s.Memory.Usage.Usage)} / {Size(limit)}" : NotAvailable,
                        !memory ? NotAvailable : limit == 0 ? "--" : $"{100.0 * s.Memory.Usage.Usage / limit:0.00}%",
                        !has.Contains("pids") ? NotAvailable : s.Pids.Limit == 0 ? s.Pids.Current.ToString() : $"{s.Pids.Current} / {s.Pids.Limit}",
                        has.Contains("io") ? $"{Size(read)} / {Size(written)}" : NotAvailable,
                    ]);
                }
                if (fmt == "table")
                {
                    if (!once) Console.Write("\u001b[H\u001b[2J");
                    Table.Print(rows);
                    if (missing.Count > 0)
                    {
                        CgroupHierarchy.Find(out var mode);
                        Console.WriteLine($"{NotAvailable}: no {string.Join(", ", TableControllers.Where(missing.Contains))} controller in the container's cgroup ({mode})");
                    }
                }
                if (once) return 0;
                Thread.Sleep(1000);
            }
        });
        return cmd;
    }

    private const string NotAvailable = "n/a";

    /// <summary>The controllers behind the table's columns; CPU usage (cpu.stat) needs none.</summary>
    private static readonly string[] TableControllers = ["memory", "pids", "io"];

    private static string Size(ulong bytes) => bytes switch
    {
        >= 1UL << 30 => $"{bytes / (double)(1UL << 30):0.##}GiB",
        >= 1UL << 20 => $"{bytes / (double)(1UL << 20):0.##}MiB",
        >= 1UL << 10 => $"{bytes / 1024.0:0.##}KiB",
        _ => $"{bytes}B",
    };

    private static ulong HostMemory()
    {
        foreach (var line in File.ReadLines("/proc/meminfo"))
            if (line.StartsWith("MemTotal:") && ulong.TryParse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], out var kb))
                return kb * 1024;
        return 0;
    }
}
