using Cnr.State;

namespace Cnr.Containers;

/// <summary>`pause`/`resume` through the cgroup v2 freezer.</summary>
public static class ContainerPause
{
    public static void Pause(ContainerStore store, string id)
    {
        using var c = Container.Load(store, id);
        if (!c.CanPause) throw new InvalidOperationException($"container not running: {c.Status.Name()}");
        c.Cgroup.Freeze();
    }

    public static void Resume(ContainerStore store, string id)
    {
        using var c = Container.Load(store, id);
        if (!c.CanResume) throw new InvalidOperationException($"container not paused: {c.Status.Name()}");
        c.Cgroup.Thaw();
    }
}
