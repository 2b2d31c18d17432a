namespace Cnr.Containers;

/// <summary>The flags of `cnr create` / `cnr run` that reach the library.</summary>
public sealed class CreateOptions
{
    public required string Id { get; init; }
    public required string Bundle { get; init; }
    public required string StateRoot { get; init; }
    public string? PidFile { get; init; }
    public string? ConsoleSocket { get; init; }
    public bool NoPivot { get; init; }
    public int PreserveFds { get; init; }
    /// <summary>--systemd-cgroup: the cgroup is a transient systemd scope (linux.cgroupsPath "slice:prefix:name").</summary>
    public bool SystemdCgroup { get; init; }
    /// <summary>`run` in the foreground: the pty master stays with cnr, which copies it to its own stdio.</summary>
    public bool Foreground { get; init; }
}
