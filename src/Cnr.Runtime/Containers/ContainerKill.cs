using Cnr.Linux;
using Cnr.State;

namespace Cnr.Containers;

/// <summary>`kill [--all] ID [SIGNAL]`.</summary>
public static class ContainerKill
{
    public static void Kill(ContainerStore store, string id, int signal, bool all)
    {
        using var c = Container.Load(store, id);
        if (all)
        {
            // runc signals whatever the cgroup still holds, whatever the init's status
            foreach (var pid in ContainerProcesses.Pids(c))
                Sys.TryKill(pid, signal);
            return;
        }
        if (!c.CanKill) throw new InvalidOperationException("container not running");
        var errno = Sys.TryKill(c.Record.Pid, signal);
        if (errno != 0) throw new SyscallException("kill", errno, $"{c.Record.Pid} (container {c.Id})");
    }
}

/// <summary>The processes of a container: its cgroup's, or where that lists none (a container without a
/// cgroup, or a systemd scope whose path a killed create never recorded), those in its pid namespace.</summary>
public static class ContainerProcesses
{
    public static IReadOnlyList<int> Pids(Container c)
    {
        var record = c.Record;
        if (c.Cgroup.Pids() is { Count: > 0 } inCgroup) return inCgroup;
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
