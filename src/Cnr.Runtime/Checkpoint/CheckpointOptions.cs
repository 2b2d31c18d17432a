using Cnr.Checkpoint.Rpc;

namespace Cnr.Checkpoint;

/// <summary>What `checkpoint` and `restore` share, with runc's flag names.</summary>
public class CriuFlags
{
    /// <summary>--image-path: runc's default is ./checkpoint.</summary>
    public string ImagePath { get; init; } = "checkpoint";
    /// <summary>--work-path: CRIU's log and work files; the image directory when not given.</summary>
    public string? WorkPath { get; init; }
    public bool TcpEstablished { get; init; }
    public bool ExtUnixSk { get; init; }
    public bool ShellJob { get; init; }
    public bool FileLocks { get; init; }
    public bool LazyPages { get; init; }
    /// <summary>--manage-cgroups-mode, parsed (<see cref="ParseCgroupsMode"/>); null leaves CRIU's default (soft).</summary>
    public string? ManageCgroupsMode { get; init; }
    /// <summary>--empty-ns: the namespaces CRIU creates empty rather than restoring (runc knows "network").</summary>
    public string? EmptyNs { get; init; }

    /// <summary>runc's four words for CRIU's cgroup modes.</summary>
    internal static criu_cg_mode ParseCgroupsMode(string mode) => mode switch
    {
        "soft" => criu_cg_mode.Soft,
        "full" => criu_cg_mode.Full,
        "strict" => criu_cg_mode.Strict,
        "ignore" => criu_cg_mode.Ignore,
        _ => throw new ArgumentException($"--manage-cgroups-mode {mode}: not a mode (soft, full, strict or ignore)"),
    };

    internal static uint ParseEmptyNs(string? ns) => ns switch
    {
        null or "" => 0,
        "network" => 0x40000000, // CLONE_NEWNET
        _ => throw new ArgumentException($"--empty-ns {ns}: only \"network\" can be left empty (as runc)"),
    };

    /// <summary>Refuses bad values before anything is touched.</summary>
    public void Validate()
    {
        if (ManageCgroupsMode is not null) ParseCgroupsMode(ManageCgroupsMode);
        ParseEmptyNs(EmptyNs);
    }

    internal void Apply(criu_opts opts)
    {
        opts.ShellJob = ShellJob;
        opts.TcpEstablished = TcpEstablished;
        opts.ExtUnixSk = ExtUnixSk;
        opts.FileLocks = FileLocks;
        opts.LazyPages = LazyPages;
        opts.EmptyNs = ParseEmptyNs(EmptyNs);
        opts.ManageCgroups = true;
        if (ManageCgroupsMode is not null) opts.ManageCgroupsMode = ParseCgroupsMode(ManageCgroupsMode);
        opts.NotifyScripts = true;
        opts.OrphanPtsMaster = true;
        opts.LogLevel = 4;
    }
}

public sealed class CheckpointOptions : CriuFlags
{
    /// <summary>--parent-path: the previous (pre-dump) images, relative to the image directory.</summary>
    public string? ParentPath { get; init; }
    public bool LeaveRunning { get; init; }
    public bool PreDump { get; init; }
    public bool AutoDedup { get; init; }
}

public sealed class RestoreOptions : CriuFlags
{
    public required string Id { get; init; }
    public required string StateRoot { get; init; }
    public string Bundle { get; init; } = ".";
    public bool Detach { get; init; }
    public string? PidFile { get; init; }
    public string? ConsoleSocket { get; init; }
    public bool NoSubreaper { get; init; }
    public bool NoPivot { get; init; }
    public bool SystemdCgroup { get; init; }
}
