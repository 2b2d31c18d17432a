using Cnr.Cgroups;
using Cnr.Linux;
using Cnr.Process;
using Cnr.Spec;
using Cnr.State;

namespace Cnr.Containers;

/// <summary>A container as one verb sees it: its record from the store, its status from the kernel, and the
/// rules of what may be done to it in that status (runc's state machine). A verb loads it, checks, acts:
/// one file per verb (ContainerStart.cs, ContainerDelete.cs…). <see cref="Load"/> holds the container's lock
/// until disposed; <see cref="Read"/> takes none (for `state` and `list`, which must never wait).</summary>
public sealed class Container : IDisposable
{
    public ContainerStore Store { get; }
    public ContainerRecord Record { get; }
    public string Id => Record.Id;
    public ContainerStatus Status { get; }
    private ContainerLock? _lock;

    /// <summary>The init this cnr started and still holds the sync socket of (create, run); null for a
    /// container loaded from the store.</summary>
    internal InitProcess? Init { get; init; }
    /// <summary>The pty master, when the terminal stays with cnr (a foreground run).</summary>
    internal SafeFd? TerminalMaster { get; set; }

    internal Container(ContainerStore store, ContainerRecord record, ContainerStatus status, ContainerLock? lk = null)
        => (Store, Record, Status, _lock) = (store, record, status, lk);

    /// <summary>The container, locked: "container X does not exist" (runc's words) when it does not.</summary>
    public static Container Load(ContainerStore store, string id, TimeSpan? lockWait = null)
    {
        var (record, lk) = store.Open(id, lockWait);
        try { return new Container(store, record, StatusOf(store, record), lk); }
        catch
        {
            lk.Dispose();
            throw;
        }
    }

    /// <summary>The container without its lock (see <see cref="ContainerStore.Read"/>).</summary>
    public static Container Read(ContainerStore store, string id)
    {
        var record = store.Read(id);
        return new Container(store, record, StatusOf(store, record));
    }

    /// <summary>From the kernel, in runc's order: the init must be alive with the start time recorded at create
    /// (pid reuse); a record still marked creating is in creation; a frozen cgroup is paused (a created
    /// container too: runc pauses one); the exec fifo present means not yet started.</summary>
    private static ContainerStatus StatusOf(ContainerStore store, ContainerRecord r)
        => !ContainerStore.IsAlive(r.Pid, r.InitStartTime) ? ContainerStatus.Stopped
            : r.Creating ? ContainerStatus.Creating
            : CgroupOf(r).IsFrozen ? ContainerStatus.Paused
            : File.Exists(store.FifoPath(r.Id)) ? ContainerStatus.Created
            : ContainerStatus.Running;

    // runc's libcontainer/container_linux.go and the verbs in its main package, status by status.
    public bool CanStart => Status is ContainerStatus.Created;
    /// <summary>Whatever still has its init, which a stuck create's may be too (`kill --all` checks nothing).</summary>
    public bool CanKill => Status is not ContainerStatus.Stopped;
    /// <summary>Without --force: a created container is killed first, as runc does; a live one only with --force.</summary>
    public bool CanDelete => Status is ContainerStatus.Stopped or ContainerStatus.Created;
    public bool CanPause => Status is ContainerStatus.Running or ContainerStatus.Created;
    public bool CanResume => Status is ContainerStatus.Paused;
    /// <summary>A paused container only with --ignore-paused: the process runs once the container is resumed.</summary>
    public bool CanExec(bool ignorePaused)
        => Status is ContainerStatus.Created or ContainerStatus.Running || (ignorePaused && Status is ContainerStatus.Paused);

    /// <summary>Its cgroup, whichever driver made it (none when it has none).</summary>
    public ICgroupManager Cgroup => CgroupOf(Record);

    private static ICgroupManager CgroupOf(ContainerRecord r) => CgroupDriver.Load(r.CgroupPath, r.SystemdUnit);

    /// <summary>The validated config, parsed on first use (see <see cref="ContainerStore.LoadConfig"/>).</summary>
    public RuntimeSpec Config => Store.LoadConfig(Record);

    /// <summary>The runtime-spec state in <paramref name="status"/>: what the hooks and a seccomp agent receive.</summary>
    public ContainerState State(ContainerStatus status) => new()
    {
        OciVersion = Record.OciVersion,
        Id = Record.Id,
        Status = status.Name(),
        Pid = status is ContainerStatus.Stopped ? 0 : Record.Pid,
        Bundle = Record.Bundle,
        Annotations = Record.Annotations,
    };

    /// <summary>Lets other cnr calls at the container while this one goes on waiting (a foreground `run`).</summary>
    public void Unlock()
    {
        _lock?.Dispose();
        _lock = null;
    }

    public void Dispose()
    {
        Unlock();
        Init?.Dispose();
    }
}
