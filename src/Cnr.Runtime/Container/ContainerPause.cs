using Cnr.Cgroups;
using Cnr.State;

namespace Cnr.Container;

/// <summary>`pause`/`resume` through the cgroup v2 freezer.</summary>
public static class ContainerPause
{
    public static void Pause(ContainerStore store, ContainerRecord record)
    {
        var status = store.StatusOf(record, ContainerDelete.IsFrozen);
        if (status != "running") throw new InvalidOperationException($"container not running: {status}");
        CgroupOf(record).Freeze();
    }

    public static void Resume(ContainerStore store, ContainerRecord record)
    {
        var status = store.StatusOf(record, ContainerDelete.IsFrozen);
        if (status != "paused") throw new InvalidOperationException($"container not paused: {status}");
        CgroupOf(record).Thaw();
    }

    public static ICgroupManager CgroupOf(ContainerRecord record) => CgroupDriver.Load(record.CgroupPath, record.SystemdUnit);
}
