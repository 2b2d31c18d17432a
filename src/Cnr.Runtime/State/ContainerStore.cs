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
    /// <summary>Where `restore` binds the rootfs for CRIU while it runs.</summary>
    public const string CriuRootName = "criu-root";
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
            if (Errno.Last == Error.EEXIST) throw new ContainerExistsException(id);
            throw new SyscallException("mkdir", Errno.Last, dir);
        }
        return ContainerLock.Take(dir);
    }

    public bool Exists(string id) => Directory.Exists(DirOf(id)) && File.Exists(Path.Combine(DirOf(id), "state.json"));

    /// <summary>Opens an existing container, locked; "container X does not exist" otherwise (runc's wording).
    /// With <paramref name="lockWait"/>, a lock held longer than that is broken (one warning): `delete --force`
    /// must finish even if a stuck cnr holds it.</summary>
    public (ContainerRecord Record, ContainerLock Lock) Open(string id, TimeSpan? lockWait = null)
    {
        ContainerId.Validate(id);
        var dir = DirOf(id);
        if (!Directory.Exists(dir)) throw new ContainerNotFoundException(id);
        var lk = ContainerLock.Take(dir, lockWait);
        try
        {
            var record = ReadRecord(id) ?? throw new ContainerNotFoundException(id);
            return (record, lk);
        }
        catch
        {
            lk.Dispose();
            throw;
        }
    }

    /// <summary>The record without taking the lock, for `state` and `list`: state.json is only ever replaced
    /// whole (rename), and a reader must not wait for a `create` that holds the lock (or hang on a stuck one).
    /// A directory without state.json (a create killed right after claiming the id) reads as an empty
    /// record in creation, so that `list` shows it and `delete --force` can be found for it.</summary>
    public ContainerRecord Read(string id)
    {
        ContainerId.Validate(id);
        if (!Directory.Exists(DirOf(id))) throw new ContainerNotFoundException(id);
        return ReadRecord(id) ?? new ContainerRecord { Id = id, Creating = true };
    }

    private ContainerRecord? ReadRecord(string id)
    {
        var path = Path.Combine(DirOf(id), "state.json");
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (FileNotFoundException) { return null; }
        catch (DirectoryNotFoundException) { throw new ContainerNotFoundException(id); }
        return ContainerRecord.Parse(bytes, path);
    }

    public void Save(ContainerRecord record) => Replace(Path.Combine(DirOf(record.Id), "state.json"), record.ToJson());

    /// <summary>Keeps the validated config.json bytes beside the record, before the record names them: a
    /// record is never without its config, whenever a `create` is killed.</summary>
    public void SaveConfig(ContainerRecord record, byte[] json) => Replace(ConfigPath(record.Id), json);

    /// <summary>The config after `update` changed its resources.</summary>
    public void SaveConfig(ContainerRecord record, RuntimeSpec spec)
    {
        SaveConfig(record, JsonSerializer.SerializeToUtf8Bytes(spec, SpecJson.Default.RuntimeSpec));
        record.LoadedConfig = spec;
    }

    /// <summary>The container's config, parsed on first use: only the verbs that need more than the record
    /// (exec, update, inspect, hooks) pay for it.</summary>
    public RuntimeSpec LoadConfig(ContainerRecord record)
        => record.LoadedConfig ??= SpecLoader.ParseSaved(File.ReadAllBytes(ConfigPath(record.Id)), ConfigPath(record.Id));

    public IReadOnlyList<Hook>? PoststartHooks(ContainerRecord record)
        => record.HasPoststartHooks ? LoadConfig(record).Hooks?.Poststart : null;

    public IReadOnlyList<Hook>? PoststopHooks(ContainerRecord record)
        => record.HasPoststopHooks ? LoadConfig(record).Hooks?.Poststop : null;

    private string ConfigPath(string id) => Path.Combine(DirOf(id), SpecLoader.ConfigFile);

    /// <summary>Written whole or not at all (rename): readers take no lock. open(O_TRUNC) and write(2), not
    /// File.WriteAllBytes: .NET locks the file (flock) and truncates it with ftruncate after opening, and on ext4 a
    /// truncated file is flushed to disk when it is closed (auto_da_alloc): three of those per `create` where
    /// /run is not a tmpfs.</summary>
    private static unsafe void Replace(string path, byte[] bytes)
    {
        var tmp = path + ".tmp";
        using (var fd = SafeFd.Check(Libc.open(tmp, Libc.O_WRONLY | Libc.O_CREAT | Libc.O_TRUNC | Libc.O_NOFOLLOW | Libc.O_CLOEXEC,
                   0b110_110_110), "open", tmp))
        fixed (byte* p = bytes)
        {
            for (int done = 0; done < bytes.Length;)
                done += (int)Errno.Check((long)Libc.write(fd, p + done, bytes.Length - done), "write", tmp);
        }
        File.Move(tmp, path, overwrite: true);
    }

    public IEnumerable<string> Ids()
        => Directory.Exists(Root)
            ? Directory.EnumerateDirectories(Root).Select(d => Path.GetFileName(d)!).Where(n => File.Exists(Path.Combine(Root, n, "state.json")))
            : [];

    /// <summary>Every claimed id, with or without state.json yet (see <see cref="Read"/>).</summary>
    public IEnumerable<string> AllIds()
        => Directory.Exists(Root) ? Directory.EnumerateDirectories(Root).Select(d => Path.GetFileName(d)!).Where(ContainerId.IsValid) : [];

    /// <summary>A directory without state.json is what a create that crashed half-way leaves: `delete --force`
    /// removes it (and the exec fifo in it).</summary>
    public bool RemoveIncomplete(string id, TimeSpan? lockWait = null)
    {
        ContainerId.Validate(id);
        var dir = DirOf(id);
        if (!Directory.Exists(dir) || File.Exists(Path.Combine(dir, "state.json"))) return false;
        using (ContainerLock.Take(dir, lockWait)) Directory.Delete(dir, recursive: true);
        return true;
    }

    public void Remove(string id)
    {
        var dir = DirOf(id);
        if (!Directory.Exists(dir)) return;
        // A `restore` killed while the rootfs was bound at CRIU's root here: detached first, or the recursive
        // delete would empty the bundle's rootfs.
        Libc.umount2(Path.Combine(dir, CriuRootName), Libc.MNT_DETACH);
        Directory.Delete(dir, recursive: true);
    }

    public string FifoPath(string id) => Path.Combine(DirOf(id), FifoName);

    /// <summary>Whether <paramref name="pid"/> is the process recorded: alive, not a zombie, and with the start
    /// time recorded at create (pid reuse).</summary>
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

    /// <summary>Waits for the lock: forever, or at most <paramref name="wait"/>, after which the caller goes on
    /// without it (one warning).</summary>
    public static ContainerLock Take(string dir, TimeSpan? wait = null)
    {
        const int LOCK_EX = 2, LOCK_NB = 4;
        var fd = SafeFd.Check(Libc.open(dir, Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_CLOEXEC, 0), "open", dir);
        if (wait is null)
        {
            Errno.Check(Libc.flock(fd, LOCK_EX), "flock", dir);
            return new ContainerLock(fd);
        }
        var deadline = Environment.TickCount64 + (long)wait.Value.TotalMilliseconds;
        while (Libc.flock(fd, LOCK_EX | LOCK_NB) < 0)
        {
            var errno = Errno.Last;
            if (errno is not (Error.EAGAIN or Error.EINTR)) { fd.Dispose(); throw new SyscallException("flock", errno, dir); }
            if (Environment.TickCount64 > deadline)
            {
                Diagnostics.Log.Warn($"{dir} is still locked by another cnr after {wait.Value.TotalSeconds:0.#} s: going on without the lock");
                break;
            }
            Thread.Sleep(20);
        }
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
