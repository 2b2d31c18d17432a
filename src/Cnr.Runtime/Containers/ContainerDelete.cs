using Cnr.Diagnostics;
using Cnr.Hooks;
using Cnr.Linux;
using Cnr.Rootfs;
using Cnr.State;

namespace Cnr.Containers;

/// <summary>`delete`: a stopped (or created) container is removed; a running one only with --force, after
/// SIGKILL. What goes: remaining processes, the cgroup, poststop hooks, the state directory.</summary>
public static class ContainerDelete
{
    public static void Delete(ContainerStore store, string id, bool force)
    {
        // --force must finish: a lock held longer than this is broken (see ContainerLock.Take).
        TimeSpan? lockWait = force ? TimeSpan.FromSeconds(2) : null;
        Container c;
        try { c = Container.Load(store, id, lockWait); }
        catch (ContainerNotFoundException)
        {
            // A directory without state.json: a create killed right after it claimed the id.
            if (store.RemoveIncomplete(id, lockWait) || force) return;
            throw;
        }
        using (c)
        {
            if (!c.CanDelete && !force)
                throw new InvalidOperationException($"cannot delete container {c.Id} that is not stopped: {c.Status.Name()}");
            if (c.Status is not ContainerStatus.Stopped)
            {
                Sys.TryKill(c.Record.Pid, 9);
                WaitGone(c.Record);
            }
            // What a killed `create` or `exec` may have left outside the init's pid namespace, where the container
            // has no cgroup to list them (Destroy kills those of its cgroup).
            if (force)
                foreach (var pid in ContainerProcesses.Pids(c)) Sys.TryKill(pid, 9);
            Destroy(c);
        }
    }

    /// <summary>Removes every trace; safe to call for a container whose create crashed half-way.</summary>
    public static void Destroy(Container c)
    {
        // A systemd unit is stopped even when create was killed before its cgroup path was recorded.
        try { c.Cgroup.Destroy(); }
        catch (Exception e) { Log.Warn($"removing cgroup {(c.Record.CgroupPath is { Length: > 0 } cg ? cg : c.Record.SystemdUnit)}: {e.Message}"); }
        if (c.Record.RootfsMountId is { } mountId) RootfsSetup.Unmount(c.Record.Rootfs, mountId);
        HookRunner.RunWarnOnly("poststop", c.Store.PoststopHooks(c.Record), c.State(ContainerStatus.Stopped));
        c.Store.Remove(c.Id);
    }

    /// <summary>The init may not be our child (detached): poll until it is gone or a zombie.</summary>
    internal static void WaitGone(ContainerRecord record, int timeoutMs = 10_000)
    {
        for (int waited = 0; waited < timeoutMs; waited += 5)
        {
            if (Libc.waitpid(record.Pid, out _, Libc.WNOHANG) == record.Pid) return;
            if (!ContainerStore.IsAlive(record.Pid, record.InitStartTime)) return;
            Thread.Sleep(5);
        }
    }
}
