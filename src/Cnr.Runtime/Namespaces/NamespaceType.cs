namespace Cnr.Namespaces;

/// <summary>The OCI namespace types with their clone flag and their name under /proc/PID/ns.</summary>
public sealed record NamespaceType(string Type, ulong CloneFlag, string ProcName, string UnshareOption)
{
    public const ulong CLONE_NEWTIME = 0x80, CLONE_NEWNS = 0x20000, CLONE_NEWCGROUP = 0x02000000,
        CLONE_NEWUTS = 0x04000000, CLONE_NEWIPC = 0x08000000, CLONE_NEWUSER = 0x10000000,
        CLONE_NEWPID = 0x20000000, CLONE_NEWNET = 0x40000000;

    // In the order they are joined: user first, so that the joins after it happen with its capabilities.
    public static readonly IReadOnlyList<NamespaceType> All =
    [
        new("user", CLONE_NEWUSER, "user", "--user"),
        new("pid", CLONE_NEWPID, "pid", "--pid --fork"),
        new("network", CLONE_NEWNET, "net", "--net"),
        new("ipc", CLONE_NEWIPC, "ipc", "--ipc"),
        new("uts", CLONE_NEWUTS, "uts", "--uts"),
        new("mount", CLONE_NEWNS, "mnt", "--mount"),
        new("cgroup", CLONE_NEWCGROUP, "cgroup", "--cgroup"),
        new("time", CLONE_NEWTIME, "time", "--time"),
    ];

    /// <summary>nsenter's option that joins a namespace of this type (--mount for "mnt", else the /proc name).</summary>
    public string NsenterOption => "--" + (ProcName == "mnt" ? "mount" : ProcName);

    public static NamespaceType? Find(string type) => All.FirstOrDefault(n => n.Type == type);

    public static string ValidNames => string.Join(", ", All.Select(n => n.Type));

    public static string FlagNames(ulong flags)
    {
        var names = new List<string>();
        foreach (var n in All)
            if ((flags & n.CloneFlag) != 0)
                names.Add("CLONE_NEW" + n.ProcName.ToUpperInvariant() switch { "MNT" => "NS", var s => s });
        return names.Count == 0 ? "0" : string.Join("|", names);
    }
}
