using Cnr.Linux;
using Cnr.State;

namespace Cnr.Container;

/// <summary>`kill [--all] ID [SIGNAL]`.</summary>
public static class ContainerKill
{
    public static void Kill(ContainerStore store, ContainerRecord record, int signal, bool all)
    {
        var status = store.StatusOf(record);
        if (status == "stopped" && !all) throw new InvalidOperationException("container not running");
        if (all)
        {
            foreach (var pid in ContainerProcesses.Pids(record))
                Libc.kill(pid, signal);
            return;
        }
        Errno.Check(Libc.kill(record.Pid, signal), "kill", $"{record.Pid} (container {record.Id})");
    }
}

/// <summary>The processes of a container: its cgroup's, or where that lists none (a container without a
/// cgroup, or a systemd scope whose path a killed create never recorded), those in its pid namespace.</summary>
public static class ContainerProcesses
{
    public static IReadOnlyList<int> Pids(ContainerRecord record)
    {
        if (ContainerPause.CgroupOf(record).Pids() is { Count: > 0 } inCgroup) return inCgroup;
        if (!ContainerStore.IsAlive(record.Pid, record.InitStartTime)) return [];
        if (!record.NewPidNamespace) return [record.Pid];
        string ns;
        try { ns = new FileInfo($"/proc/{record.Pid}/ns/pid").LinkTarget ?? ""; }
        catch (IOException) { return []; }
        var pids = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out int pid)) continue;
            try { if (new FileInfo($"{dir}/ns/pid").LinkTarget == ns) pids.Add(pid); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
        return pids;
    }
}
