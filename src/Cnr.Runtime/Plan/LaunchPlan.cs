using Cnr.Capabilities;
using Cnr.Lsm;
using Cnr.Rootfs;
using Cnr.Seccomp;

namespace Cnr.Plan;

/// <summary>What `cnr init` executes, compiled once in the parent (<see cref="PlanCompiler"/>) from the validated
/// config.json: nothing in it is a string the kernel wants as a number, and nothing in it can be a config error
/// any more. It crosses the sync socket in <see cref="PlanWriter"/>'s binary form; the init never reads the
/// bundle, so a bundle changed after validation cannot change what runs.</summary>
public sealed class LaunchPlan
{
    public bool Exec { get; set; }                 // join a running container (cnr exec) instead of creating one
    public string ContainerId { get; set; } = "";  // for messages and the hooks' state
    public string Bundle { get; set; } = "";       // the init's working directory: relative bind sources resolve there
    public int FifoFd { get; set; } = -1;          // O_PATH fd of the exec fifo (create only)
    public bool ReportSteps { get; set; }
    public int PreserveFds { get; set; }
    /// <summary>The container's filesystem; null for exec, which enters the one that exists.</summary>
    public RootfsPlan? Rootfs { get; set; }
    public string? Hostname { get; set; }
    public string? Domainname { get; set; }
    public bool LoopbackUp { get; set; }           // a network namespace of its own: lo up, as runc
    public Sysctl[] Sysctls { get; set; } = [];
    public ProcessPlan Process { get; set; } = new();
    public CompiledFilter? Seccomp { get; set; }   // linux.seccomp as BPF (the init never opens libseccomp)
    public ExecLabels? Lsm { get; set; }           // decided by the parent from the host's LSMs (null: none)
    /// <summary>prestart/createRuntime hooks exist: the init asks the parent to run them once its namespaces do.</summary>
    public bool RuntimeHooks { get; set; }
    public HookPlan[] CreateContainerHooks { get; set; } = [];
    public HookPlan[] StartContainerHooks { get; set; } = [];
    /// <summary>The state JSON those hooks get on stdin, rendered by the parent (null when there are none).</summary>
    public HookState? CreateContainerState { get; set; }
    public HookState? StartContainerState { get; set; }
}

/// <summary>The rootfs steps, in the order the init runs them (<see cref="RootfsSetup"/>).</summary>
public sealed class RootfsPlan
{
    public string Path { get; set; } = "";         // absolute host path of root.path
    public bool Readonly { get; set; }
    public bool NoPivot { get; set; }
    /// <summary>No {"type": "mount"}: the mounts land in the caller's mount namespace (runc's way), on a bind of the
    /// rootfs onto itself that `delete` detaches; the init chroots.</summary>
    public bool SharedMountNamespace { get; set; }
    /// <summary>linux.rootfsPropagation as MS_* flags; 0: not configured (the default, a slave of the host).</summary>
    public ulong Propagation { get; set; }
    public MountStep[] Mounts { get; set; } = [];
    /// <summary>False when mounts bind /dev from elsewhere: such a /dev already has its devices (runc's rule).</summary>
    public bool MakeDevices { get; set; }
    public DeviceNode[] Devices { get; set; } = [];
    /// <summary>/dev/core points at /proc/kcore only when there is a /proc.</summary>
    public bool ProcMounted { get; set; }
    /// <summary>process.terminal: a plain /dev/console for the pty slave to be bound on.</summary>
    public bool Console { get; set; }
    /// <summary>A /dev mount asked to be read-only: mounted writable first, made read-only last.</summary>
    public bool ReadonlyDev { get; set; }
    public string[] MaskedPaths { get; set; } = [];
    public string[] ReadonlyPaths { get; set; } = [];
}

public enum MountKind : byte { Filesystem, Bind, Cgroup }

/// <summary>mounts[<see cref="Index"/>], its options already sorted into what each kernel call takes.</summary>
/// <param name="Source">as the config gives it (a bind source may be relative to the bundle); for a filesystem,
/// the source or, when empty, the type</param>
/// <param name="Destination">lexically clean and absolute (<see cref="InRoot.Clean"/>)</param>
public sealed record MountStep(int Index, MountKind Kind, string Source, string Destination, string Type, ParsedMountOptions Options)
{
    /// <summary>A bind's source as a detached mount the parent cloned (open_tree) in the container's mount
    /// namespace, for an init in a user namespace that cannot reach the path itself; -1: the init mounts
    /// <see cref="Source"/>; <see cref="FromParent"/> in the plan as sent: it follows as a BindSource message.</summary>
    public int SourceFd { get; set; } = -1;

    /// <summary><see cref="SourceFd"/> in the plan the parent sends: the fd comes after it (SyncMessage.BindSource).</summary>
    public const int FromParent = -2;
}

/// <summary>A device node of the container's /dev.</summary>
/// <param name="Mode">S_IFCHR/S_IFBLK/S_IFIFO with the permission bits</param>
public sealed record DeviceNode(string Path, uint Mode, uint Major, uint Minor, uint Uid, uint Gid)
{
    /// <summary>"c", "b" or "p", as mknod(1) and the messages write it.</summary>
    public string TypeLetter => (Mode & Linux.Libc.S_IFMT) switch { Linux.Libc.S_IFBLK => "b", Linux.Libc.S_IFIFO => "p", _ => "c" };
}

/// <summary>linux.sysctl[Key]: <see cref="ProcPath"/> is the file under /proc ("sys/net/ipv4/ip_forward").</summary>
public sealed record Sysctl(string Key, string ProcPath, string Value);

/// <summary>The process the init becomes: the attributes in kernel units.</summary>
public sealed class ProcessPlan
{
    public string[] Args { get; set; } = [];
    public string[] Env { get; set; } = [];
    public string Cwd { get; set; } = "/";
    public bool Terminal { get; set; }
    public uint ConsoleHeight { get; set; }        // 0 × 0: no process.consoleSize
    public uint ConsoleWidth { get; set; }
    public uint Uid { get; set; }
    public uint Gid { get; set; }
    public uint[] AdditionalGids { get; set; } = [];
    public uint Umask { get; set; }
    public CapabilitySets Capabilities { get; set; }
    public Rlimit[] Rlimits { get; set; } = [];
    public bool NoNewPrivileges { get; set; }
    public int? OomScoreAdj { get; set; }
    public SchedulerPlan? Scheduler { get; set; }
    /// <summary>IOPRIO_PRIO_VALUE(class, level) for ioprio_set.</summary>
    public int? IoPriority { get; set; }
    /// <summary>linux.personality as personality(2)'s persona (PER_LINUX, PER_LINUX32); null: not configured.</summary>
    public uint? Personality { get; set; }
    /// <summary>process.execCPUAffinity of an exec as sched_setaffinity masks (64 CPUs a word): the parent clones the
    /// process on <see cref="CpuAffinityInitial"/>, the process moves to <see cref="CpuAffinityFinal"/> once it is in
    /// the container's cgroup. Null: left as the kernel makes it. Not for a container's init (the spec's rule).</summary>
    public ulong[]? CpuAffinityInitial { get; set; }
    public ulong[]? CpuAffinityFinal { get; set; }
}

/// <summary>process.rlimits[i]: <see cref="Resource"/> is RLIMIT_* as a number.</summary>
public readonly record struct Rlimit(int Resource, ulong Soft, ulong Hard);

/// <summary>process.scheduler as the fields of struct sched_attr (policy SCHED_*, flags SCHED_FLAG_* bits).</summary>
public readonly record struct SchedulerPlan(uint Policy, ulong Flags, int Nice, uint Priority, ulong Runtime, ulong Deadline, ulong Period);

/// <summary>A hook run by the init (createContainer, startContainer). <see cref="Env"/> null: the init's own.</summary>
public sealed record HookPlan(string Path, string[] Args, string[]? Env, int Timeout);

/// <summary>The OCI state JSON a hook reads, rendered by the parent around the one value only the init knows:
/// its pid as the container sees it (runc's getpid() in the init). stdin = Head + pid + Tail.</summary>
public sealed record HookState(byte[] Head, byte[] Tail);
