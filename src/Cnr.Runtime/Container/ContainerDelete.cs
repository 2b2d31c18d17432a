using Cnr.Diagnostics;
using Cnr.Hooks;
using Cnr.Linux;
using Cnr.Rootfs;
using Cnr.State;

namespace Cnr.Container;

/// <summary>`delete`: a stopped (or created) container is removed; a running one only with --force, after
/// SIGKILL. What goes: remaining processes, the cgroup, poststop hooks, the state directory.</summary>
public static class ContainerDelete
{
    public static void Delete(ContainerStore store, ContainerRecord record, bool force)
    {
        var status = store.StatusOf(record, IsFrozen);
        if (status is "running" or "paused" or "creating" && !force)
            throw new InvalidOperationException($"cannot delete container {record.Id} that is not stopped: {status}");
        if (status != "stopped")
        {
            Libc.kill(record.Pid, 9);
            WaitGone(record);
        }
        // What a killed `create` or `exec` may have left outside the init's pid namespace, where the container
        // has no cgroup to list them (Destroy kills those of its cgroup).
        if (force)
            foreach (var pid in ContainerProcesses.Pids(record)) Libc.kill(pid, 9);
        Destroy(store, record);
    }

    /// <summary>Removes every trace; safe to call for a container whose create crashed half-way.</summary>
    public static void Destroy(ContainerStore store, ContainerRecord record)
    {
        // A systemd unit is stopped even when create was killed before its cgroup path was recorded.
        try { ContainerPause.CgroupOf(record).Destroy(); }
        catch (Exception e) { Log.Warn($"removing cgroup {(record.CgroupPath is { Length: > 0 } cg ? cg : record.SystemdUnit)}: {e.Message}"); }
        if (record.RootfsMountId is { } mountId) RootfsSetup.Unmount(record.Rootfs, mountId);
        HookRunner.RunWarnOnly("poststop", store.PoststopHooks(record), store.ToState(record, "stopped"));
        store.Remove(record.Id);
    }

    public static bool IsFrozen(ContainerRecord r) => ContainerPause.CgroupOf(r).IsFrozen;

    /// <summary>The init may not be our child (detached): poll until it is gone or a zombie.</summary>
    public static void WaitGone(ContainerRecord record, int timeoutMs = 10_000)
    {
        for (int waited = 0; waited < timeoutMs; waited += 5)
        {
            if (Libc.waitpid(record.Pid, out _, Libc.WNOHANG) == record.Pid) return;
            if (!ContainerStore.IsAlive(record.Pid, record.InitStartTime)) return;
            Thread.Sleep(5);
        }
    }
}
