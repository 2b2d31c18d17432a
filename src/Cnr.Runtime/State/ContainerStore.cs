using System.Text.Json;
using Cnr.Linux;
using Cnr.Spec;

namespace Cnr.State;

/// <summary>The container state directories under `--root` (default /run/cnr): ROOT/ID/state.json and
/// ROOT/ID/exec.fifo while the container is created but not started. Every verb takes the container's lock
/// (flock on its directory) so that concurrent cnr calls on one id are serialised.</summary>
public sealed class ContainerStore(string root)
{
    public const string FifoName = "exec.fifo";
    public string Root { get; } = Path.GetFullPath(root);

    public string DirOf(string id) => Path.Combine(Root, id);

    /// <summary>Claims the id: an exclusive mkdir, so that two creates of one id cannot both win.</summary>
    public ContainerLock Create(string id)
    {
        ContainerId.Validate(id);
        Directory.CreateDirectory(Root);
        var dir = DirOf(id);
        if (Libc.mkdir(dir, 0b111_000_000) < 0)
        {
            if (Errno.Last == 17) throw new ContainerExistsException(id);
            throw new SyscallException("mkdir", Errno.Last, dir);
        }
        return ContainerLock.Take(dir);
    }

    public bool Exists(string id) => Directory.Exists(DirOf(id)) && File.Exists(Path.Combine(DirOf(id), "state.json"));

    /// <summary>Opens an existing container, locked; "container X does not exist" otherwise (runc's wording).</summary>
    public (ContainerRecord Record, ContainerLock Lock) Open(string id)
    {
        ContainerId.Validate(id);
        var dir = DirOf(id);
        if (!Directory.Exists(dir)) throw new ContainerNotFoundException(id);
        var lk = ContainerLock.Take(dir);
        try
        {
            var path = Path.Combine(dir, "state.json");
            if (!File.Exists(path)) throw new ContainerNotFoundException(id);
            var record = JsonSerializer.Deserialize(File.ReadAllBytes(path), StateJson.Default.ContainerRecord)
                         ?? throw new InvalidDataException($"{path}: empty state file");
            return (record, lk);
        }
        catch
        {
            lk.Dispose();
            throw;
        }
    }

    public void Save(ContainerRecord record)
    {
        var path = Path.Combine(DirOf(record.Id), "state.json");
        var tmp = path + ".tmp";
        File.WriteAllBytes(tmp, JsonSerializer.SerializeToUtf8Bytes(record, StateJson.Default.ContainerRecord));
        File.Move(tmp, path, overwrite: true);
    }

    public IEnumerable<string> Ids()
        => Directory.Exists(Root)
            ? Directory.EnumerateDirectories(Root).Select(d => Path.GetFileName(d)!).Where(n => File.Exists(Path.Combine(Root, n, "state.json")))
            : [];

    /// <summary>A directory without state.json is what a create that crashed half-way leaves: `delete --force`
    /// removes it (and the exec fifo in it).</summary>
    public bool RemoveIncomplete(string id)
    {
        ContainerId.Validate(id);
        var dir = DirOf(id);
        if (!Directory.Exists(dir) || File.Exists(Path.Combine(dir, "state.json"))) return false;
        using (ContainerLock.Take(dir)) Directory.Delete(dir, recursive: true);
        return true;
    }

    public void Remove(string id)
    {
        var dir = DirOf(id);
        if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
    }

    public string FifoPath(string id) => Path.Combine(DirOf(id), FifoName);

    /// <summary>created / running / paused / stopped, from the kernel: the init's pid must be alive with the
    /// start time recorded at create (pid reuse), the exec fifo present means not yet started.</summary>
    public string StatusOf(ContainerRecord r, Func<ContainerRecord, bool>? isFrozen = null)
    {
        if (!IsAlive(r.Pid, r.InitStartTime)) return "stopped";
        if (File.Exists(FifoPath(r.Id))) return "created";
        if (isFrozen?.Invoke(r) == true) return "paused";
        return "running";
    }

    public ContainerState ToState(ContainerRecord r, string status) => new()
    {
        OciVersion = r.Config.OciVersion,
        Id = r.Id,
        Status = status,
        Pid = status == "stopped" ? 0 : r.Pid,
        Bundle = r.Bundle,
        Annotations = r.Config.Annotations,
    };

    public static bool IsAlive(int pid, ulong startTime)
    {
        if (pid <= 0) return false;
        var stat = ProcStat.Read(pid);
        return stat is not null && stat.Value.State != 'Z' && stat.Value.StartTime == startTime;
    }
}

public sealed class ContainerExistsException(string id) : Exception($"container with id exists: {id}");
public sealed class ContainerNotFoundException(string id) : Exception($"container {id} does not exist");

/// <summary>flock(LOCK_EX) on the container's directory, held for one verb.</summary>
public sealed class ContainerLock : IDisposable
{
    private readonly SafeFd _fd;
    private ContainerLock(SafeFd fd) => _fd = fd;

    public static ContainerLock Take(string dir)
    {
        var fd = SafeFd.Check(Libc.open(dir, Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_CLOEXEC, 0), "open", dir);
        Errno.Check(Libc.flock(fd.Fd, 2 /* LOCK_EX */), "flock", dir);
        return new ContainerLock(fd);
    }

    public void Dispose() => _fd.Dispose();
}

/// <summary>The fields of /proc/PID/stat that cnr needs.</summary>
public readonly record struct ProcStat(char State, ulong StartTime)
{
    public static ProcStat? Read(int pid)
    {
        string text;
        try { text = File.ReadAllText($"/proc/{pid}/stat"); }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
        // comm may contain spaces and parentheses: fields resume after the last ')'.
        int close = text.LastIndexOf(')');
        var fields = text[(close + 2)..].Split(' ');
        return new ProcStat(fields[0][0], ulong.Parse(fields[19]));
    }
}
