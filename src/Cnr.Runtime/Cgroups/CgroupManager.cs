using System.Diagnostics;
using System.Globalization;
using Cnr.Diagnostics;
using Cnr.Linux;
using Cnr.Namespaces;
using Cnr.Spec;

namespace Cnr.Cgroups;

/// <summary>A container's cgroup in the cgroup v2 hierarchy (the only cgroup version cnr supports): where it
/// goes, creating it with its resources and device program, moving the init in, freeze/thaw, stats, removal.
/// Where there is no cgroup to make (no cgroup2, or rootless without a writable one) the container gets a
/// <see cref="NoCgroup"/> instead (<see cref="CgroupDriver.For"/>).</summary>
public sealed class CgroupManager : ICgroupManager
{
    /// <summary>The runtime-defined parent for containers without an absolute linux.cgroupsPath.</summary>
    public const string DefaultParent = "/cnr";

    /// <summary>Marks the directories cnr created (on cgroupfs, which keeps trusted.* xattrs in the kernel),
    /// so that a later `cnr delete` removes parents it made, once empty, and never anyone else's.</summary>
    private const string CreatedXattr = "trusted.cnr.created";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private static readonly string[] StatsControllers = ["cpu", "io", "memory", "pids"];

    private readonly CgroupHierarchy _hierarchy;
    private readonly Spec.Linux? _linux;
    /// <summary>exec: the container's init, whose cgroup a new process joins where the container's own cgroup
    /// takes no processes (see <see cref="ForExec"/>); 0 otherwise.</summary>
    private int _initPid;

    /// <summary>The cgroup relative to the hierarchy root, e.g. /cnr/mybox.</summary>
    public string Path { get; }

    /// <summary>The cgroup directory, e.g. /sys/fs/cgroup/cnr/mybox.</summary>
    public string FullPath { get; }

    private CgroupManager(CgroupHierarchy hierarchy, string path, Spec.Linux? linux)
    {
        _hierarchy = hierarchy;
        _linux = linux;
        Path = path;
        FullPath = hierarchy.Root + path;
    }

    /// <summary>The manager for linux.cgroupsPath on this host's hierarchy; throws when there is none.
    /// <paramref name="inspectExisting"/>: false for systemd's scope, whose existing unit is refused by the
    /// systemd driver itself (one line), not warned about as a non-empty cgroup first.</summary>
    public static CgroupManager For(string containerId, Spec.Linux? linux, bool inspectExisting = true)
    {
        var path = ResolvePath(containerId, linux?.CgroupsPath);
        Validate(linux?.Resources);
        var hierarchy = CgroupHierarchy.Find(out var mode);
        if (hierarchy is null)
            throw linux?.Resources is { } r && ResourceMapping.Map(r, ioBfq: false) is [var first, ..]
                ? MissingController(first, mode)
                : new CgroupException($"the container's cgroup cannot be made: {mode}");
        return For(hierarchy, path, linux, inspectExisting);
    }

    /// <summary>The manager for <paramref name="path"/> (from the hierarchy root), the controllers the
    /// resources need checked now, before anything exists.</summary>
    internal static CgroupManager For(CgroupHierarchy hierarchy, string path, Spec.Linux? linux, bool inspectExisting = true)
    {
        Validate(linux?.Resources);
        var manager = new CgroupManager(hierarchy, path, linux);
        manager.NeededControllers(linux?.Resources);  // fail now, before anything exists
        if (inspectExisting) manager.CheckExisting();
        return manager;
    }

    /// <summary>An existing cgroup at the container's path, as runc inspects it: one with processes is used
    /// with a warning; a frozen one (or one below a frozen parent) is refused, as its init would never run.</summary>
    private void CheckExisting()
    {
        var dir = FullPath;
        while (!Directory.Exists(dir) && dir.Length > _hierarchy.Root.Length) dir = System.IO.Path.GetDirectoryName(dir)!;
        if (CgroupStats.ReadKeyed(dir, "cgroup.events").GetValueOrDefault("frozen") == 1 || CgroupStats.TryRead(dir, "cgroup.freeze")?.Trim() == "1")
            throw new CgroupException($"container's cgroup unexpectedly frozen: {dir} (thaw it with `echo 0 > {dir}/cgroup.freeze`, or choose another linux.cgroupsPath)");
        if (dir == FullPath && Pids() is { Count: > 0 } pids)
            Log.Warn($"container's cgroup is not empty: {pids.Count} process(es) found in {FullPath}");
    }

    public static void Validate(LinuxResources? resources) => ResourceMapping.Validate(resources);

    /// <summary>The manager of an existing cgroup, from the path recorded in the container's state.</summary>
    public static CgroupManager Load(string fullPath, Spec.Linux? linux = null)
    {
        var hierarchy = CgroupHierarchy.Find(out var mode) ?? throw new CgroupException($"cgroup {fullPath}: {mode}");
        if (!fullPath.StartsWith(hierarchy.Root + "/", StringComparison.Ordinal))
            throw new CgroupException($"cgroup {fullPath} is not under the cgroup2 hierarchy at {hierarchy.Root}");
        return new CgroupManager(hierarchy, fullPath[hierarchy.Root.Length..], linux);
    }

    /// <summary>linux.cgroupsPath → a path from the hierarchy root: absolute as given, relative under
    /// <see cref="DefaultParent"/>, systemd's "slice:prefix:name" as systemd would place it, none →
    /// /cnr/ID. Never relative to the caller's own cgroup.</summary>
    public static string ResolvePath(string containerId, string? cgroupsPath)
    {
        string path;
        if (string.IsNullOrEmpty(cgroupsPath)) path = $"{DefaultParent}/{containerId}";
        else if (!cgroupsPath.StartsWith('/') && cgroupsPath.Split(':') is [var slice, var prefix, var name])
            path = SystemdCgroupsPath.SlicePath(slice, cgroupsPath) + "/" + (prefix.Length > 0 ? $"{prefix}-{name}.scope" : name);
        else if (cgroupsPath.StartsWith('/')) path = cgroupsPath;
        else path = $"{DefaultParent}/{cgroupsPath}";
        var parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0 || parts.Any(p => p is "." or ".."))
            throw new CgroupException($"linux.cgroupsPath: {SpecException.Show(cgroupsPath)} must name a cgroup below the root, without \".\" or \"..\"");
        return "/" + string.Join('/', parts);
    }

    /// <summary>mkdir -p the cgroup, enable controllers in every ancestor, apply the resources and the device
    /// program. On failure removes the directories it made.</summary>
    public void Create()
    {
        var resources = _linux?.Resources ?? new LinuxResources();
        var needed = NeededControllers(resources);
        var created = new List<string>();
        try
        {
            // ENOENT: a `cnr delete` of a sibling removed a shared parent (like /cnr) under us: walk again
            for (int attempt = 1; !MakeDirs(needed, created); attempt++)
                if (attempt == 3) throw new SyscallException("mkdir", Error.ENOENT, FullPath);
            Apply();
        }
        catch
        {
            for (int i = created.Count - 1; i >= 0; i--) Libc.rmdir(created[i]);
            throw;
        }
    }

    /// <summary>Writes the resources and attaches the device program, to a cgroup that exists (made here, or
    /// by systemd as a scope).</summary>
    public void Apply()
    {
        ApplyFiles(_linux?.Resources ?? new LinuxResources());
        if (MayAttachDeviceProgram) DeviceFilter.Apply(FullPath, DeviceRules.For(_linux));
    }

    /// <summary>Loading a cgroup device program takes CAP_BPF/CAP_SYS_ADMIN on the host, which a rootless
    /// caller lacks; its container needs none (runc skips it too): in a user namespace no device node can be
    /// made, and the host's nodes bound in stay as their permissions let the caller use them anyway.</summary>
    private static bool MayAttachDeviceProgram => !Rootless.Is;

    /// <summary>The controllers the resources write to, each with its first write (for messages); throws
    /// naming the JSON path when this hierarchy lacks one.</summary>
    private Dictionary<string, CgroupWrite> NeededControllers(LinuxResources? resources)
    {
        var needed = new Dictionary<string, CgroupWrite>();
        if (resources is null) return needed;
        foreach (var w in ResourceMapping.Map(resources, ioBfq: false))
            if (w.Controller != "cgroup" && !needed.ContainsKey(w.Controller))
            {
                if (!_hierarchy.Controllers.Contains(w.Controller)) throw MissingController(w, _hierarchy.Mode);
                needed[w.Controller] = w;
            }
        return needed;
    }

    /// <summary>Moves a process (the container's init, before it runs anything) into the cgroup.</summary>
    private bool IsPopulated => CgroupStats.ReadKeyed(FullPath, "cgroup.events").GetValueOrDefault("populated") != 0;

    /// <summary>An O_PATH fd of the cgroup directory, for clone3(CLONE_INTO_CGROUP): the child starts in its
    /// cgroup instead of being moved there, which would cost an RCU grace period (see native/).</summary>
    public SafeFd? OpenDirectory()
    {
        var fd = Libc.open(FullPath, Libc.O_PATH | Libc.O_DIRECTORY | Libc.O_CLOEXEC, 0);
        return fd.IsInvalid ? null : fd;
    }

    /// <summary>Whether the process already is in this cgroup (cloned into it).</summary>
    public bool Contains(int pid)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/cgroup"))
                if (line.StartsWith("0::")) return _hierarchy.Root + line[3..].TrimEnd('/') == FullPath.TrimEnd('/');
        }
        catch (IOException) { }
        return false;
    }

    public void AddProcess(int pid)
    {
        var text = pid.ToString(CultureInfo.InvariantCulture);
        var rc = Sys.TryWriteCgroupFile(System.IO.Path.Combine(FullPath, "cgroup.procs"), text);
        // EBUSY: the container enabled controllers below its cgroup and moved its init down ("no internal
        // processes"): an exec'd process goes where the init is now, as runc does.
        if (rc == Error.EBUSY && _initPid > 0 && InitCgroup() is { } initDir)
        {
            rc = Sys.TryWriteCgroupFile(System.IO.Path.Combine(initDir, "cgroup.procs"), text, $"the init's cgroup: {FullPath} takes no processes");
            if (rc != 0) throw new SyscallException("write", rc, $"{initDir}/cgroup.procs (the init's cgroup, as {FullPath} takes no processes)");
            return;
        }
        if (rc != 0) throw new SyscallException("write", rc, $"{FullPath}/cgroup.procs (the container's process)");
    }

    /// <summary>exec: the cgroup a new process of the container joins. With <paramref name="sub"/> (exec
    /// --cgroup) that cgroup below the container's, which must exist and stay inside it; without, the
    /// container's cgroup, or the init's current one where the container's takes no processes.</summary>
    public CgroupManager ForExec(int initPid, string? sub)
    {
        if (sub is null) return new CgroupManager(_hierarchy, Path, _linux) { _initPid = initPid };
        var parts = new List<string>();
        foreach (var part in sub.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            if (part == "..")
            {
                if (parts.Count == 0) throw new CgroupException($"--cgroup {sub}: the path leads outside the container's cgroup {FullPath}; give a cgroup below it");
                parts.RemoveAt(parts.Count - 1);
            }
            else if (part != ".") parts.Add(part);
        }
        var path = parts.Count == 0 ? Path : Path + "/" + string.Join('/', parts);
        if (!Directory.Exists(_hierarchy.Root + path))
            throw new CgroupException($"--cgroup {sub}: {_hierarchy.Root + path} does not exist; give an existing cgroup below the container's {FullPath}");
        return new CgroupManager(_hierarchy, path, _linux);
    }

    /// <summary>The init's current cgroup directory, from its /proc/PID/cgroup in the runtime's own procfs;
    /// null unless it is the container's cgroup or below it (the init's word never takes a process elsewhere).</summary>
    private string? InitCgroup()
    {
        foreach (var line in (ProcFs.Read($"{_initPid}/cgroup") ?? "").Split('\n'))
            if (line.StartsWith("0::", StringComparison.Ordinal))
            {
                var rel = line[3..].TrimEnd('/');
                if (rel.Split('/').Any(p => p is "." or "..")) return null;
                var dir = _hierarchy.Root + rel;
                return dir == FullPath || dir.StartsWith(FullPath + "/", StringComparison.Ordinal) ? dir : null;
            }
        return null;
    }

    /// <summary>Applies linux.resources (create, and `cnr update`). The device program is replaced only when
    /// the resources carry device rules.</summary>
    public void SetResources(LinuxResources resources)
    {
        ApplyFiles(resources);
        if (resources.Devices is not null && MayAttachDeviceProgram)
            DeviceFilter.Apply(FullPath, DeviceRules.For(new Spec.Linux { Resources = resources, Devices = _linux?.Devices }));
    }

    private void ApplyFiles(LinuxResources resources)
    {
        var bfq = File.Exists(System.IO.Path.Combine(FullPath, "io.bfq.weight"));
        var writes = ResourceMapping.Map(resources, bfq);
        if (resources.Memory is { CheckBeforeUpdate: true } && writes.FirstOrDefault(w => w.File == "memory.max") is { File: not null } max
            && ulong.TryParse(max.Value, out var limit)
            && ulong.TryParse(CgroupStats.TryRead(FullPath, "memory.current")?.Trim(), out var usage) && limit < usage)
            throw new CgroupException($"linux.resources.memory.limit: {limit} is below the current memory usage {usage} (memory.checkBeforeUpdate is set)");
        foreach (var w in writes)
        {
            if (w.Controller != "cgroup" && !File.Exists(System.IO.Path.Combine(FullPath, w.File)))
            {
                if (w.Optional) continue;
                if (!_hierarchy.Controllers.Contains(w.Controller)) throw MissingController(w, _hierarchy.Mode);
                throw new CgroupException($"{w.Source}: {FullPath} has no {w.File} (controllers enabled here: " +
                    $"{CgroupStats.TryRead(FullPath, "cgroup.controllers")?.Trim()}); check the name and that this kernel supports it");
            }
            WriteFile(w.File, w.Value, $"{w.Source} = {w.Value}");
        }
    }

    public void Freeze() => SetFrozen(true);
    public void Thaw() => SetFrozen(false);

    public bool IsFrozen => CgroupStats.ReadKeyed(FullPath, "cgroup.events").GetValueOrDefault("frozen") == 1;

    private void SetFrozen(bool frozen)
    {
        if (!File.Exists(System.IO.Path.Combine(FullPath, "cgroup.freeze")))
            throw new CgroupException($"{FullPath}/cgroup.freeze does not exist: the cgroup v2 freezer needs Linux 5.2 or later");
        WriteFile("cgroup.freeze", frozen ? "1" : "0", frozen ? "pause" : "resume");
        // the write returns at once; tasks stop (or resume) asynchronously, and cgroup.events says when
        if (!WaitFor(() => IsFrozen == frozen))
            throw new CgroupException($"{FullPath}: cgroup.events did not report \"frozen {(frozen ? 1 : 0)}\" within {Timeout.TotalSeconds:0} s");
    }

    public IReadOnlyList<int> Pids()
        => (CgroupStats.TryRead(FullPath, "cgroup.procs") ?? "")
            .Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToList();

    public CgroupStats Stats() => CgroupStats.Read(FullPath);

    /// <summary>The controllers this cgroup has (its cgroup.controllers): <see cref="Stats"/> reads 0 for the
    /// figures of the others, which are not there to read.</summary>
    public IReadOnlySet<string> Controllers()
        => (CgroupStats.TryRead(FullPath, "cgroup.controllers") ?? "")
            .Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet();

    /// <summary>The kernel's OOM killer killed a process of this cgroup (memory.events oom_kill).</summary>
    public bool OomKilled => CgroupStats.ReadKeyed(FullPath, "memory.events").GetValueOrDefault("oom_kill") > 0;

    /// <summary>Kills what is left, removes the cgroup (and any child cgroups the container made), then the
    /// now-empty parents that cnr created.</summary>
    public void Destroy()
    {
        if (Directory.Exists(FullPath))
        {
            // cgroup.kill takes the kernel's threadgroup lock for writing (an RCU grace period, ~10-30 ms):
            // skip it when the container's last process is already gone, the usual case after `run`.
            if (!IsPopulated) { }
            else if (File.Exists(System.IO.Path.Combine(FullPath, "cgroup.kill")))
                WriteFile("cgroup.kill", "1", "kill every process of the container");
            else
                KillEach();
            if (!WaitFor(() => CgroupStats.ReadKeyed(FullPath, "cgroup.events").GetValueOrDefault("populated") == 0))
                throw new CgroupException($"{FullPath}: processes {string.Join(' ', Pids())} are still there after SIGKILL");
            RemoveTree(FullPath);
        }
        for (var dir = System.IO.Path.GetDirectoryName(FullPath)!; dir.Length > _hierarchy.Root.Length && IsOurs(dir); dir = System.IO.Path.GetDirectoryName(dir)!)
            if (Sys.TryRemoveCgroup(dir) != 0) break;  // not empty: another container's parent too
    }

    private void KillEach()
    {
        // no cgroup.kill (before Linux 5.14): freeze so nothing forks between the listing and the kill
        var freezable = File.Exists(System.IO.Path.Combine(FullPath, "cgroup.freeze"));
        if (freezable) WriteFile("cgroup.freeze", "1", "stop the container before killing it");
        foreach (var pid in Pids()) Sys.KillCgroupProcess(pid);
        if (freezable) WriteFile("cgroup.freeze", "0", "let the killed processes die");
    }

    private static void RemoveTree(string dir)
    {
        foreach (var child in Directory.GetDirectories(dir)) RemoveTree(child);
        var sw = Stopwatch.StartNew();
        // EBUSY right after the last process exits: the kernel frees the cgroup's css asynchronously
        Error errno;
        while ((errno = Sys.TryRemoveCgroup(dir)) != 0)
        {
            if (errno == Error.ENOENT) return;
            if (errno != Error.EBUSY || sw.Elapsed > Timeout) throw new SyscallException("rmdir", errno, dir);
            Thread.Sleep(10);
        }
    }

    private void EnableControllers(string dir, Dictionary<string, CgroupWrite> needed)
    {
        // the needed ones, and those `stats` reads where offered; not everything the parent offers (runc's
        // way), which on a hybrid host would switch on controllers for the whole shared unified tree.
        // Only a needed one failing is an error.
        var offered = (CgroupStats.TryRead(dir, "cgroup.controllers") ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var enabled = (CgroupStats.TryRead(dir, "cgroup.subtree_control") ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var toEnable = offered.Except(enabled).Where(c => needed.ContainsKey(c) || StatsControllers.Contains(c)).ToList();
        // The kernel lets the threaded controllers (cpu, pids) into a cgroup that has processes of its own, which
        // makes it a thread root: no process can then move into a new cgroup below it (EOPNOTSUPP). Such a
        // parent (a rootless caller's own cgroup: rootless Podman's podman-PID.scope) gets no controller from cnr.
        if (toEnable.Count > 0 && dir != _hierarchy.Root && !string.IsNullOrWhiteSpace(CgroupStats.TryRead(dir, "cgroup.procs")))
        {
            if (toEnable.FirstOrDefault(needed.ContainsKey) is { } c) throw HasProcesses(needed[c].Source, c, dir);
            return;
        }
        foreach (var c in toEnable)
        {
            var file = System.IO.Path.Combine(dir, "cgroup.subtree_control");
            var rc = Sys.TryWriteCgroupFile(file, "+" + c);
            if (rc == 0 || !needed.TryGetValue(c, out var w)) continue;
            if (rc == Error.EBUSY) throw HasProcesses(w.Source, c, dir);
            throw new SyscallException("write", rc, $"{file} (+{c}, for {w.Source})");
        }
    }

    private static CgroupException HasProcesses(string source, string controller, string dir)
        => new($"{source}: cannot enable the {controller} controller in {dir}/cgroup.subtree_control: {dir} has processes of its own, " +
            "and cgroup v2 puts controllers only where there are none (\"no internal processes\"); choose a linux.cgroupsPath whose parent holds no processes");

    /// <summary>mkdir -p with controllers enabled on the way, each new directory marked as cnr's and added to
    /// <paramref name="created"/>; false when a parent vanished meanwhile.</summary>
    private unsafe bool MakeDirs(Dictionary<string, CgroupWrite> needed, List<string> created)
    {
        var dir = _hierarchy.Root;
        foreach (var part in Path.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            EnableControllers(dir, needed);
            dir += "/" + part;
            var errno = Sys.TryMakeCgroup(dir);
            if (errno == Error.EEXIST) continue;
            if (errno == Error.ENOENT) return false;
            if (errno != 0) throw new SyscallException("mkdir", errno, dir);
            created.Add(dir);
            byte one = (byte)'1';
            Libc.setxattr(dir, CreatedXattr, &one, 1, 0);  // best effort: without it, parents are left in place
        }
        return true;
    }

    private static unsafe bool IsOurs(string dir)
    {
        byte b;
        return Libc.getxattr(dir, CreatedXattr, &b, 1) == 1;
    }

    private void WriteFile(string file, string value, string why) => Sys.WriteCgroupFile(System.IO.Path.Combine(FullPath, file), value, why);

    private static bool WaitFor(Func<bool> done)
    {
        var sw = Stopwatch.StartNew();
        for (int delay = 1; !done(); delay = Math.Min(delay * 2, 50))
        {
            if (sw.Elapsed > Timeout) return false;
            Thread.Sleep(delay);
        }
        return true;
    }

    internal static CgroupException MissingController(CgroupWrite w, string mode)
        => new($"{Section(w)}: the {w.Controller} controller is not available in cgroup v2 on this host ({mode}); cnr supports cgroup v2 only");

    /// <summary>The part of linux.resources a write comes from, for messages: "linux.resources.memory".</summary>
    internal static string Section(CgroupWrite w)
        => w.Source.StartsWith("linux.resources.unified", StringComparison.Ordinal) ? w.Source : string.Join('.', w.Source.Split('.').Take(3));
}
