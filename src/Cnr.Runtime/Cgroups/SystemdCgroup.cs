using Cnr.Linux;
using Cnr.Namespaces;
using Cnr.Spec;

namespace Cnr.Cgroups;

/// <summary>The systemd cgroup driver (`--systemd-cgroup`), as runc's: the container's cgroup is a transient
/// scope unit that systemd makes with the init in it (StartTransientUnit, Delegate=yes) and the limits
/// systemd owns as unit properties; what systemd has no property for is written to the scope's cgroup
/// files, and everything after that (freeze, stats, pids, kill) works on those files as on cgroupfs.
/// The scope can only be made with a process in it, so the init is not cloned into its cgroup: it is
/// handed to systemd between its Ready and Go, before it runs anything.</summary>
public sealed class SystemdCgroup : ICgroupManager
{
    private readonly string _containerId;
    private readonly SystemdCgroupsPath? _path;
    private readonly Spec.Linux? _linux;
    private readonly bool _userInstance;
    private SystemdBus? _bus;
    private bool _started;
    private CgroupManager? _files;

    public string Unit { get; }
    public string FullPath => _files?.FullPath ?? "";

    private SystemdCgroup(string containerId, string unit, SystemdCgroupsPath? path, Spec.Linux? linux, SystemdBus? bus, CgroupManager? files)
    {
        _containerId = containerId;
        Unit = unit;
        _path = path;
        _linux = linux;
        _userInstance = Rootless.Is;
        _bus = bus;
        _files = files;
    }

    /// <summary>Checks everything that can be checked before the container exists: the cgroupsPath, the
    /// resources, that systemd runs here and answers on the bus.</summary>
    public static SystemdCgroup For(string containerId, Spec.Linux? linux)
    {
        bool user = Rootless.Is;
        var path = SystemdCgroupsPath.Parse(containerId, linux?.CgroupsPath, user);
        ResourceMapping.Validate(linux?.Resources);
        if (linux?.Resources is { } r) SystemdProperties.ForResources(r);
        if (!Directory.Exists("/run/systemd/system"))
            throw new CgroupException("--systemd-cgroup: systemd is not running on this host (no /run/systemd/system); drop --systemd-cgroup and cnr manages the container's cgroup itself");
        // the controllers the resources need, checked as for cgroupfs, at the place systemd will put the scope
        CgroupManager.For(containerId, new Spec.Linux { CgroupsPath = SystemdCgroupsPath.SlicePath(path.Slice) + "/" + path.Unit, Resources = linux?.Resources }, inspectExisting: false);
        var bus = SystemdBus.Connect(user);
        return new SystemdCgroup(containerId, path.Unit, path, linux, bus, null);
    }

    /// <summary>The scope of an existing container, from its record.</summary>
    public static SystemdCgroup Load(string unit, string fullPath)
        => new("", unit, null, null, null, fullPath.Length > 0 && Directory.Exists(fullPath) ? CgroupManager.Load(fullPath) : null);

    /// <summary>Nothing to make before the init exists: the scope is made with it (AddProcess).</summary>
    public void Create() { }

    public SafeFd? OpenDirectory() => null;

    public bool Contains(int pid) => _files?.Contains(pid) ?? false;

    /// <summary>StartTransientUnit with the init's pid, then the files systemd does not own.</summary>
    public void AddProcess(int pid)
    {
        var bus = Bus();
        var properties = SystemdProperties.ForNewScope(_containerId, _path!.Slice, pid, _linux);
        try { Sys.StartTransientUnit(bus, Unit, _path.Slice, properties); }
        // still UnitExists after a failed unit of that name was reset: a live one, someone's
        catch (SystemdException e) when (e.ErrorName == SystemdException.UnitExists)
        {
            throw new CgroupException($"linux.cgroupsPath: the systemd unit {Unit} already exists (another container or service runs in it); give this container another name in \"{_path.Slice}:{_path.Prefix}:NAME\"");
        }
        catch (SystemdException e)
        {
            throw new CgroupException($"--systemd-cgroup: systemd refused the unit {Unit}: {e.Message}");
        }
        _started = true;
        var hierarchy = CgroupHierarchy.Find(out var mode) ?? throw new CgroupException($"--systemd-cgroup: {mode}");
        _files = CgroupManager.Load(hierarchy.Root + bus.ControlGroup(Unit), _linux);
        _files.Apply();
        // the connection is not needed while the container runs (a foreground `run` may last long)
        _bus = null;
        bus.Dispose();
    }

    /// <summary>The limits systemd owns go to the unit (SetUnitProperties), then every file as on cgroupfs,
    /// which is what runc does too.</summary>
    public void SetResources(LinuxResources resources)
    {
        var properties = SystemdProperties.ForResources(resources);
        // as the files: a new device list replaces the old one (CgroupManager.SetResources)
        if (resources.Devices is not null) properties.AddRange(SystemdProperties.ForDevices(DeviceRules.For(new Spec.Linux { Resources = resources })));
        try { Sys.SetUnitProperties(Bus(), Unit, properties); }
        catch (SystemdException e) { throw new CgroupException($"--systemd-cgroup: systemd refused the properties of {Unit}: {e.Message}"); }
        Files().SetResources(resources);
    }

    public void Freeze() => Files().Freeze();
    public void Thaw() => Files().Thaw();
    public bool IsFrozen => _files?.IsFrozen ?? false;
    public IReadOnlyList<int> Pids() => _files?.Pids() ?? [];
    public CgroupStats Stats() => _files?.Stats() ?? new CgroupStats();
    public bool OomKilled => _files?.OomKilled ?? false;

    /// <summary>Kills what is left through the cgroup (a scope's stop would SIGTERM and wait), then stops
    /// and forgets the unit. Before the unit was made (a failed create) there is nothing of ours to stop:
    /// a unit of that name is someone else's.</summary>
    public void Destroy()
    {
        if (_path is not null && !_started) return;
        _files?.Destroy();
        Sys.StopUnit(Bus(), Unit);
    }

    private SystemdBus Bus() => _bus ??= SystemdBus.Connect(_userInstance);

    private CgroupManager Files() => _files ?? throw new CgroupException($"the cgroup of the systemd unit {Unit} does not exist (the container is gone)");
}
