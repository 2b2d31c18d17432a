using System.Text;
using System.Text.Json;
using Cnr.Capabilities;
using Cnr.Devices;
using Cnr.Diagnostics;
using Cnr.Lsm;
using Cnr.Process;
using Cnr.Rootfs;
using Cnr.Spec;
using Cnr.State;
using static Cnr.Linux.Libc;

namespace Cnr.Plan;

/// <summary>A validated config.json turned into the <see cref="LaunchPlan"/> the init executes: every name the
/// kernel wants as a number is looked up here (capabilities, rlimits, scheduler, ioprio, mount options,
/// device types), so that the init has nothing left to interpret and no config error left to find.
/// <see cref="SpecPlan.Compile(string, string)"/> is its entry point for `create`, <see cref="Process"/> for `exec`.</summary>
public static class PlanCompiler
{
    /// <summary>SCHED_* in their kernel order (the index is the policy number).</summary>
    public static readonly string[] SchedPolicies =
        ["SCHED_OTHER", "SCHED_FIFO", "SCHED_RR", "SCHED_BATCH", "SCHED_ISO", "SCHED_IDLE", "SCHED_DEADLINE"];

    /// <summary>Bit n of sched_attr.sched_flags is SchedFlags[n] (linux/sched.h).</summary>
    public static readonly string[] SchedFlags =
    [
        "SCHED_FLAG_RESET_ON_FORK", "SCHED_FLAG_RECLAIM", "SCHED_FLAG_DL_OVERRUN", "SCHED_FLAG_KEEP_POLICY",
        "SCHED_FLAG_KEEP_PARAMS", "SCHED_FLAG_UTIL_CLAMP_MIN", "SCHED_FLAG_UTIL_CLAMP_MAX",
    ];

    /// <summary>IOPRIO_CLASS_* (index + 1 is the class number).</summary>
    public static readonly string[] IoPriorityClasses = ["IOPRIO_CLASS_RT", "IOPRIO_CLASS_BE", "IOPRIO_CLASS_IDLE"];

    private const uint DefaultUmask = 0b000_010_010; // 0022: group and others lose write

    /// <summary>The container's plan (create), from a spec <see cref="SpecValidator"/> has accepted. The fields
    /// that depend on the command line (fifo, --no-pivot, --preserve-fds, steps) are the caller's to set.</summary>
    public static LaunchPlan Container(RuntimeSpec spec, string bundle, string containerId)
    {
        var process = spec.Process!;
        var hooks = spec.Hooks;
        return new LaunchPlan
        {
            ContainerId = containerId,
            Bundle = bundle,
            Rootfs = Rootfs(spec, bundle),
            Hostname = spec.Hostname is { Length: > 0 } h ? h : null,
            Domainname = spec.Domainname is { Length: > 0 } d ? d : null,
            // runc adds a "loopback" network to every container with a new network namespace
            LoopbackUp = (spec.Linux?.Namespaces ?? []).Exists(n => n.Type == "network" && string.IsNullOrEmpty(n.Path)),
            Sysctls = [.. (spec.Linux?.Sysctl ?? []).Select(kv => new Sysctl(kv.Key, SysctlPath(kv.Key), kv.Value))],
            Process = Process(process, spec.Linux?.Personality),
            Lsm = HostLsm.Plan(process),
            RuntimeHooks = hooks?.Prestart?.Count > 0 || hooks?.CreateRuntime?.Count > 0,
            CreateContainerHooks = Hooks(hooks?.CreateContainer),
            StartContainerHooks = Hooks(hooks?.StartContainer),
            CreateContainerState = hooks?.CreateContainer?.Count > 0 ? State(spec, containerId, bundle, ContainerStatus.Creating) : null,
            StartContainerState = hooks?.StartContainer?.Count > 0 ? State(spec, containerId, bundle, ContainerStatus.Running) : null,
        };
    }

    /// <summary>process.* in kernel units. Capabilities the running kernel does not know are left out (one
    /// warning, as runc); ambient capabilities that are not also permitted and inheritable cannot be raised
    /// and are left out quietly, as runc does with its own default spec (which lists three of them).</summary>
    /// <param name="personality">the container's linux.personality: its init and every exec run under it, as runc's</param>
    /// <param name="exec">an exec: process.execCPUAffinity applies (the spec leaves the container's init out)</param>
    public static ProcessPlan Process(Spec.Process p, LinuxPersonality? personality = null, bool exec = false)
    {
        // `create` validated it with the whole config; `exec` brings its own (--process, flags): judged the same way.
        SpecValidator.Process(p);
        var caps = CapabilitySets.From(p.Capabilities);
        ulong raisable = caps.Ambient & caps.Permitted & caps.Inheritable;
        if (raisable != caps.Ambient)
            Log.Debug($"process.capabilities.ambient: not raising {string.Join(", ", CapabilitySets.Decode(caps.Ambient & ~raisable))}: an ambient capability must also be permitted and inheritable");
        return new ProcessPlan
        {
            Args = [.. p.Args ?? []],
            Env = [.. p.Env ?? []],
            Cwd = p.Cwd,
            Terminal = p.Terminal,
            ConsoleHeight = p.ConsoleSize?.Height ?? 0,
            ConsoleWidth = p.ConsoleSize?.Width ?? 0,
            Uid = p.User.Uid,
            Gid = p.User.Gid,
            AdditionalGids = [.. p.User.AdditionalGids ?? []],
            Umask = p.User.Umask ?? DefaultUmask,
            Capabilities = caps with { Ambient = raisable },
            Rlimits = [.. (p.Rlimits ?? []).Select((r, i) => new Rlimit(Rlimit(r.Type, i), r.Soft, r.Hard))],
            NoNewPrivileges = p.NoNewPrivileges,
            OomScoreAdj = p.OomScoreAdj,
            Scheduler = p.Scheduler is { } s ? Scheduler(s) : null,
            IoPriority = p.IoPriority is { } io ? IoPriorityValue(io) : null,
            Personality = personality is null ? null : personality.Domain == "LINUX32" ? PER_LINUX32 : PER_LINUX,
            CpuAffinityInitial = exec && p.ExecCPUAffinity?.Initial is { Length: > 0 } initial ? CpuMask(initial, "process.execCPUAffinity.initial") : null,
            CpuAffinityFinal = exec && p.ExecCPUAffinity?.Final is { Length: > 0 } final ? CpuMask(final, "process.execCPUAffinity.final") : null,
        };
    }

    private const uint PER_LINUX = 0, PER_LINUX32 = 0x0008;
    /// <summary>The highest CPU number a list may name: the kernel's NR_CPUS limit on x86_64 and arm64.</summary>
    private const int MaxCpu = 8191;

    /// <summary>A CPU list ("0-3,7", as cpuset.cpus and taskset -c write them) as a sched_setaffinity mask.</summary>
    public static ulong[] CpuMask(string list, string field)
    {
        var mask = new ulong[1];
        foreach (var part in list.Split(','))
        {
            int dash = part.IndexOf('-');
            if (!TryCpu(dash < 0 ? part : part[..dash], out int first) || !TryCpu(dash < 0 ? part : part[(dash + 1)..], out int last) || last < first)
                throw new SpecException(field, $"{SpecException.Show(list)} is not a CPU list", $"CPU numbers 0-{MaxCpu} and ranges, e.g. \"0-3,7\"");
            if (last / 64 >= mask.Length) Array.Resize(ref mask, last / 64 + 1);
            for (int cpu = first; cpu <= last; cpu++) mask[cpu / 64] |= 1UL << (cpu % 64);
        }
        return mask;

        static bool TryCpu(string s, out int cpu)
            => int.TryParse(s, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out cpu) && cpu <= MaxCpu;
    }

    private static int Rlimit(string type, int index)
        => RlimitTable.TryParse(type, out int resource) ? resource
            : throw new SpecException($"process.rlimits[{index}].type", $"{SpecException.Show(type)} is not a resource limit", string.Join(", ", RlimitTable.All));

    /// <summary>process.scheduler as struct sched_attr's fields.</summary>
    public static SchedulerPlan Scheduler(Scheduler s)
    {
        int policy = Array.IndexOf(SchedPolicies, s.Policy);
        if (policy < 0)
            throw new SpecException("process.scheduler.policy", s.Policy.Length == 0 ? "missing" : $"{SpecException.Show(s.Policy)} is not a scheduling policy",
                string.Join(", ", SchedPolicies));
        ulong flags = 0;
        for (int i = 0; i < (s.Flags?.Count ?? 0); i++)
        {
            int bit = Array.IndexOf(SchedFlags, s.Flags![i]);
            if (bit < 0)
                throw new SpecException($"process.scheduler.flags[{i}]", $"{SpecException.Show(s.Flags[i])} is not a scheduler flag", string.Join(", ", SchedFlags));
            flags |= 1UL << bit;
        }
        return new SchedulerPlan((uint)policy, flags, s.Nice ?? 0, (uint)(s.Priority ?? 0), s.Runtime ?? 0, s.Deadline ?? 0, s.Period ?? 0);
    }

    /// <summary>process.ioPriority as the kernel's IOPRIO_PRIO_VALUE(class, level).</summary>
    public static int IoPriorityValue(IoPriority io)
    {
        int ioClass = Array.IndexOf(IoPriorityClasses, io.Class) + 1;
        if (ioClass == 0)
            throw new SpecException("process.ioPriority.class", $"{SpecException.Show(io.Class)} is not an I/O priority class", string.Join(", ", IoPriorityClasses));
        return ioClass << IOPRIO_CLASS_SHIFT | io.Priority;
    }

    /// <summary>The file under /proc for a sysctl key. sysctl.d(5): '/' may separate the components, and then
    /// '.' is part of a name ("net/ipv4/conf/eth0.100/rp_filter").</summary>
    internal static string SysctlPath(string key)
    {
        int first = key.AsSpan().IndexOfAny('.', '/');
        return "sys/" + (first >= 0 && key[first] == '/' ? key : key.Replace('.', '/'));
    }

    private static RootfsPlan Rootfs(RuntimeSpec spec, string bundle)
    {
        // linux.mountLabel goes into the data of the mounts that take it, so it is part of what is compiled.
        HostLsm.ApplyMountLabel(spec);
        var mounts = spec.Mounts ?? [];
        var steps = new MountStep[mounts.Count];
        for (int i = 0; i < mounts.Count; i++) steps[i] = Mount(mounts[i], i);
        // A /dev bound from the host already has its devices (runc's rule).
        bool makeDevices = !Array.Exists(steps, s => s.Destination == "/dev" && s.Kind == MountKind.Bind);
        return new RootfsPlan
        {
            Path = System.IO.Path.GetFullPath(spec.Root!.Path, bundle),
            Readonly = spec.Root.Readonly,
            SharedMountNamespace = !(spec.Linux?.Namespaces ?? []).Exists(n => n.Type == "mount"),
            Propagation = spec.Linux?.RootfsPropagation is { Length: > 0 } word ? MountOptions.Propagation(word)!.Value : 0,
            Mounts = steps,
            MakeDevices = makeDevices,
            Devices = makeDevices ? [.. DeviceNodes.All(spec.Linux?.Devices).Select(Device)] : [],
            ProcMounted = mounts.Exists(m => m.Type == "proc"),
            Console = spec.Process?.Terminal == true,
            ReadonlyDev = Array.Exists(steps, s => s.Destination == "/dev" && SpecMounts.IsReadonlyDev(s)),
            MaskedPaths = [.. (spec.Linux?.MaskedPaths ?? []).Select(InRoot.Clean)],
            ReadonlyPaths = [.. (spec.Linux?.ReadonlyPaths ?? []).Select(InRoot.Clean)],
        };
    }

    private static MountStep Mount(Spec.Mount m, int index)
    {
        var o = MountOptions.Parse(m.Options);
        string type = m.Type ?? "";
        string dest = InRoot.Clean(m.Destination);
        if (o.IsBind || type == "bind")
            return new MountStep(index, MountKind.Bind, m.Source!, dest, type, o with { Flags = o.Flags | MS_BIND });
        string source = string.IsNullOrEmpty(m.Source) ? type : m.Source;
        return new MountStep(index, type is "cgroup" or "cgroup2" ? MountKind.Cgroup : MountKind.Filesystem, source, dest, type, o);
    }

    private static DeviceNode Device(LinuxDevice d)
    {
        uint type = d.Type switch { "b" => S_IFBLK, "p" => S_IFIFO, _ => S_IFCHR }; // "c" or "u": the validator allows no other
        return new DeviceNode(InRoot.Clean(d.Path), type | ((d.FileMode ?? 0x1b6) & 0xfff), (uint)d.Major, (uint)d.Minor, d.Uid ?? 0, d.Gid ?? 0);
    }

    private static HookPlan[] Hooks(List<Hook>? hooks) => [.. (hooks ?? []).Select(HookPlan)];

    /// <summary>args[0] is the hook's argv[0] (runc; dockerd's libnetwork-setkey depends on it), the path without args.</summary>
    public static HookPlan HookPlan(Hook h) => new(h.Path, h.Args is { Count: > 0 } a ? [.. a] : [h.Path], h.Env?.ToArray(), h.Timeout ?? 0);

    /// <summary>The state JSON with the pid cut out: rendered with a placeholder pid, split around it.</summary>
    private static HookState State(RuntimeSpec spec, string id, string bundle, ContainerStatus status)
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(new ContainerState
        {
            OciVersion = spec.OciVersion, Id = id, Status = status.Name(), Pid = 0, Bundle = bundle, Annotations = spec.Annotations,
        }, SpecJson.Default.ContainerState);
        // The pid comes before bundle and annotations, and id is a validated container id: the first
        // `"pid": 0` is the field (in a string value the quotes would be escaped).
        var marker = "\"pid\": 0"u8;
        int at = json.AsSpan().IndexOf(marker) + marker.Length - 1;
        if (at < marker.Length - 1) throw new InvalidOperationException("the hooks' state JSON has no \"pid\" field");
        return new HookState(json[..at], json[(at + 1)..]);
    }
}
