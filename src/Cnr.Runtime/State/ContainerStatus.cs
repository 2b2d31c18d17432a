namespace Cnr.State;

/// <summary>Where a container is in its life. Never stored: <see cref="Containers.Container.Load"/> asks the kernel.</summary>
public enum ContainerStatus { Creating, Created, Running, Paused, Stopped }

/// <summary>The runtime-spec's status strings: the one place an enum value becomes text (state JSON, `list`,
/// the state hooks and the seccomp agent receive).</summary>
public static class ContainerStatusNames
{
    public static string Name(this ContainerStatus status) => status switch
    {
        ContainerStatus.Creating => "creating",
        ContainerStatus.Created => "created",
        ContainerStatus.Running => "running",
        ContainerStatus.Paused => "paused",
        _ => "stopped",
    };
}
