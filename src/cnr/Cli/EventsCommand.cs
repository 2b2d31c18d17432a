using System.CommandLine;
using System.Text.Json;
using Cnr.Cgroups;
using Cnr.Containers;
using Cnr.State;

namespace Cnr.Cli;

/// <summary>`cnr events [--stats] [--interval 5s] ID`: runc's event stream — with --stats one stats object and
/// exit; otherwise a stats object every interval and an "oom" event when memory.events counts a kill, until
/// the container stops.</summary>
internal static class EventsCommand
{
    public static Command Create()
    {
        var id = CommonOptions.Id();
        var stats = new Option<bool>("--stats") { Description = "display the container's stats then exit" };
        var interval = new Option<string>("--interval") { Description = "the interval between stats (e.g. 5s, 500ms)", DefaultValueFactory = _ => "5s" };
        var cmd = new Command("events", "display container events such as OOM notifications, cpu, memory and IO usage statistics") { id, stats, interval };
        Verbs.SetAction(cmd, r =>
        {
            var store = CommonOptions.Store(r);
            var every = ParseDuration(r.GetValue(interval)!);
            var containerId = r.GetValue(id)!;
            using var c = Container.Load(store, containerId);
            // Locked only to load: events runs until the container is gone, which a `delete` makes it.
            c.Unlock();
            var (record, cgroup) = (c.Record, c.Cgroup);
            if (r.GetValue(stats))
            {
                Print(new CgroupEvent { Type = "stats", Id = record.Id, Data = cgroup.Stats() });
                return 0;
            }
            bool oomSeen = cgroup.OomKilled;
            // Until the container is gone: its init ended, or a `delete` removed its state or its cgroup (whose
            // figures would otherwise read as zeros) — watched between the stats, not only once an interval.
            bool Present() => ContainerStore.IsAlive(record.Pid, record.InitStartTime) && store.Exists(containerId) && Directory.Exists(cgroup.FullPath);
            while (Present())
            {
                if (!oomSeen && cgroup.OomKilled) { oomSeen = true; Print(new CgroupEvent { Type = "oom", Id = record.Id }); }
                Print(new CgroupEvent { Type = "stats", Id = record.Id, Data = cgroup.Stats() });
                for (var until = Environment.TickCount64 + (long)every.TotalMilliseconds; Environment.TickCount64 < until && Present();)
                    Thread.Sleep((int)Math.Clamp(until - Environment.TickCount64, 1, 100));
            }
            return 0;
        });
        return cmd;
    }

    private static void Print(CgroupEvent e) => Console.WriteLine(JsonSerializer.Serialize(e, StatsJson.Default.CgroupEvent));

    internal static TimeSpan ParseDuration(string s)
    {
        double n;
        if (s.EndsWith("ms") && double.TryParse(s[..^2], out n)) return TimeSpan.FromMilliseconds(n);
        if (s.EndsWith('s') && double.TryParse(s[..^1], out n)) return TimeSpan.FromSeconds(n);
        if (s.EndsWith('m') && double.TryParse(s[..^1], out n)) return TimeSpan.FromMinutes(n);
        throw new UsageException($"--interval: \"{s}\" is not a duration (e.g. 5s, 500ms, 1m)");
    }
}
