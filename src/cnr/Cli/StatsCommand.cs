using System.CommandLine;
using System.Text.Json;
using Cnr.Cgroups;

namespace Cnr.Cli;

/// <summary>`cnr stats ID`: the container's cgroup statistics once, as one line of runc's `events --stats`
/// ({"type":"stats","id":…,"data":{cpu, memory, pids, blkio, hugetlb}}).</summary>
internal static class StatsCommand
{
    public static Command Create()
    {
        var id = CommonOptions.Id();
        var cmd = new Command("stats", "display the container's resource usage (cgroup v2 statistics) as JSON") { id };
        Verbs.SetAction(cmd, r =>
        {
            var store = CommonOptions.Store(r);
            var (record, lk) = store.Open(r.GetValue(id)!);
            using (lk)
            {
                if (record.CgroupPath is not { Length: > 0 } path)
                    throw new CgroupException($"container {record.Id} has no cgroup (this host has no cgroup2)");
                var ev = new CgroupEvent { Type = "stats", Id = record.Id, Data = CgroupManager.Load(path).Stats() };
                Console.WriteLine(JsonSerializer.Serialize(ev, StatsJson.Default.CgroupEvent));
            }
            return 0;
        });
        return cmd;
    }
}
