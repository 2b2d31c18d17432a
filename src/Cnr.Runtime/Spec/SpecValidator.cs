using Cnr.Capabilities;
using Cnr.Linux;
using Cnr.Plan;
using Cnr.Namespaces;
using Cnr.Process;

namespace Cnr.Spec;

/// <summary>Checks a config.json before anything is created, so that a mistake is reported as the JSON path,
/// what is wrong and how to fix it, rather than as a failed system call halfway through container set-up.
/// The rules follow runc's libcontainer/configs/validate. linux.seccomp and linux.resources are checked by
/// their own mechanisms (Seccomp/, Cgroups/), which know what the kernel accepts.</summary>
public static class SpecValidator
{
    private const string NamespaceTypes = "pid, network, mount, ipc, uts, user, cgroup, time";

    public static void Validate(RuntimeSpec spec, string bundleDir)
    {
        OciVersion(spec.OciVersion);
        Root(spec.Root, bundleDir);
        if (spec.Process is { } process) Process(process);
        var ns = Namespaces(spec.Linux?.Namespaces);
        if (!string.IsNullOrEmpty(spec.Hostname) && !ns.Has("uts"))
            throw new SpecException("hostname", "needs a UTS namespace", "add {\"type\": \"uts\"} to linux.namespaces, or remove hostname");
        if (!string.IsNullOrEmpty(spec.Domainname) && !ns.Has("uts"))
            throw new SpecException("domainname", "needs a UTS namespace", "add {\"type\": \"uts\"} to linux.namespaces, or remove domainname");
        Mounts(spec.Mounts);
        if (spec.Hooks is { } hooks) Hooks(hooks);
        if (spec.Linux is { } linux) Linux(linux, ns);
    }

    private static void OciVersion(string? version)
    {
        if (string.IsNullOrEmpty(version))
            throw new SpecException("ociVersion", "missing", "set it to \"1.2.0\"");
        if (!version.StartsWith("1.", StringComparison.Ordinal))
            throw new SpecException("ociVersion", $"{SpecException.Show(version)} is not supported", "cnr runs runtime-spec 1.x configs; set it to \"1.2.0\"");
    }

    private static void Root(Root? root, string bundleDir)
    {
        if (root is null)
            throw new SpecException("root", "missing", "add \"root\": {\"path\": \"rootfs\"}");
        if (string.IsNullOrEmpty(root.Path))
            throw new SpecException("root.path", "missing", "give the rootfs directory, e.g. \"rootfs\"");
        var rootfs = Path.GetFullPath(Path.Combine(bundleDir, root.Path));
        if (!Directory.Exists(rootfs))
            throw File.Exists(rootfs)
                ? new SpecException("root.path", $"{SpecException.ShortenPath(rootfs)} is not a directory", "point it at the container's root filesystem directory")
                : new SpecException("root.path", $"rootfs directory {SpecException.ShortenPath(rootfs)} does not exist", MissingRootfsHint(rootfs));
    }

    /// <summary>`make bundles` builds the rootfs of this repository's bundles (bundles/NAME, beside
    /// make-busybox-rootfs.sh), and nothing else: any other bundle needs a root filesystem of its own.</summary>
    private static string MissingRootfsHint(string rootfs)
    {
        var parent = Path.GetDirectoryName(Path.GetDirectoryName(rootfs));
        return parent is not null && File.Exists(Path.Combine(parent, "make-busybox-rootfs.sh"))
            ? $"build it with `make bundles` in {Path.GetDirectoryName(parent)}"
            : "unpack a root filesystem there (`mkdir -p DIR && tar -C DIR -xf ROOTFS.tar`), or make a new bundle with `cnr bundle create DIR --from IMAGE`";
    }

    /// <summary>process.*: also what `exec` checks of the process it is given (<see cref="PlanCompiler.Process"/>
    /// maps, this judges).</summary>
    public static void Process(Process process)
    {
        if (process.Args is not { Count: > 0 })
            throw new SpecException("process.args", "empty", "give the command to run, e.g. [\"sh\"]");
        if (string.IsNullOrEmpty(process.Args[0]))
            throw new SpecException("process.args[0]", "empty", "give the program to run, e.g. \"sh\"");
        if (string.IsNullOrEmpty(process.Cwd))
            throw new SpecException("process.cwd", "empty", "give an absolute path, e.g. \"/\"");
        RequireAbsolute("process.cwd", process.Cwd);
        if (process.Env is { } env)
            for (int i = 0; i < env.Count; i++)
                if (env[i].IndexOf('=') <= 0)
                    throw new SpecException($"process.env[{i}]", $"{SpecException.Show(env[i])} is not NAME=value", "e.g. \"TERM=xterm\"");
        if (process.Capabilities is { } caps)
        {
            CapabilitySet("bounding", caps.Bounding);
            CapabilitySet("effective", caps.Effective);
            CapabilitySet("inheritable", caps.Inheritable);
            CapabilitySet("permitted", caps.Permitted);
            CapabilitySet("ambient", caps.Ambient);
        }
        // The kernel's range for /proc/PID/oom_score_adj (OOM_SCORE_ADJ_MIN..MAX); the init would only learn EINVAL.
        if (process.OomScoreAdj is < -1000 or > 1000)
            throw new SpecException("process.oomScoreAdj", $"{process.OomScoreAdj} is out of range", "-1000 (never OOM-killed) to 1000 (killed first)");
        if (process.Rlimits is { } rlimits) Rlimits(rlimits);
        if (process.ExecCPUAffinity is { } affinity)
        {
            if (affinity.Initial is { Length: > 0 } initial) PlanCompiler.CpuMask(initial, "process.execCPUAffinity.initial");
            if (affinity.Final is { Length: > 0 } final) PlanCompiler.CpuMask(final, "process.execCPUAffinity.final");
        }
        if (process.Scheduler is { } scheduler) Scheduler(scheduler);
        if (process.IoPriority is { } io)
        {
            if (Array.IndexOf(PlanCompiler.IoPriorityClasses, io.Class) < 0)
                throw new SpecException("process.ioPriority.class", $"{SpecException.Show(io.Class)} is not an I/O priority class", string.Join(", ", PlanCompiler.IoPriorityClasses));
            if (io.Priority is < 0 or > 7)
                throw new SpecException("process.ioPriority.priority", $"{io.Priority} is out of range", "0 (highest) to 7 (lowest)");
        }
    }

    private static void CapabilitySet(string set, List<string>? names)
    {
        if (names is null) return;
        for (int i = 0; i < names.Count; i++)
            // Exact spelling: the lenient forms TryParse also takes are for the command line only.
            if (!CapabilityTable.TryParse(names[i], out int cap) || CapabilityTable.Name(cap) != names[i])
                throw new SpecException($"process.capabilities.{set}[{i}]", $"{SpecException.Show(names[i])} is not a capability", "see capabilities(7); names like CAP_NET_ADMIN");
    }

    private static void Rlimits(List<PosixRlimit> rlimits)
    {
        var seen = 0;
        for (int i = 0; i < rlimits.Count; i++)
        {
            var r = rlimits[i];
            if (!RlimitTable.TryParse(r.Type, out int resource))
                throw new SpecException($"process.rlimits[{i}].type", $"{SpecException.Show(r.Type)} is not a resource limit", string.Join(", ", RlimitTable.All));
            if ((seen & (1 << resource)) != 0)
                throw new SpecException($"process.rlimits[{i}].type", $"{SpecException.Shorten(r.Type)} is given twice", "keep one entry per type");
            seen |= 1 << resource;
            if (r.Soft > r.Hard)
                throw new SpecException($"process.rlimits[{i}]", $"soft limit {r.Soft} is above hard limit {r.Hard}", "make soft at most hard");
        }
    }

    // sched_setattr(2)'s rules, as runc checks them.
    private static void Scheduler(Scheduler s)
    {
        if (Array.IndexOf(PlanCompiler.SchedPolicies, s.Policy) < 0)
            throw new SpecException("process.scheduler.policy", s.Policy.Length == 0 ? "missing" : $"{SpecException.Show(s.Policy)} is not a scheduling policy",
                string.Join(", ", PlanCompiler.SchedPolicies));
        if (s.Nice is < -20 or > 19)
            throw new SpecException("process.scheduler.nice", $"{s.Nice} is out of range", "-20 to 19");
        if (s.Priority is not (null or 0) && s.Policy is not ("SCHED_FIFO" or "SCHED_RR"))
            throw new SpecException("process.scheduler.priority", $"given for {s.Policy}", "only SCHED_FIFO and SCHED_RR have a priority");
        if ((s.Runtime is not (null or 0) || s.Deadline is not (null or 0) || s.Period is not (null or 0)) && s.Policy != "SCHED_DEADLINE")
            throw new SpecException("process.scheduler", $"runtime/deadline/period given for {s.Policy}", "only SCHED_DEADLINE uses them");
    }

    private static void Mounts(List<Mount>? mounts)
    {
        if (mounts is null) return;
        for (int i = 0; i < mounts.Count; i++)
        {
            var m = mounts[i];
            if (string.IsNullOrEmpty(m.Destination))
                throw new SpecException($"mounts[{i}].destination", "missing", "give an absolute path inside the container, e.g. \"/data\"");
            RequireAbsolute($"mounts[{i}].destination", m.Destination);
            if (m.UidMappings is { Count: > 0 } || m.GidMappings is { Count: > 0 } || m.Options?.Any(o => o is "idmap" or "ridmap") == true)
                throw new SpecException($"mounts[{i}]", "id-mapped mounts (\"idmap\", uidMappings, gidMappings) are not supported by cnr", "remove them and chown the source instead");
            bool bind = m.Type == "bind";
            if (m.Options is not { } options)
            {
                if (bind && string.IsNullOrEmpty(m.Source))
                    throw new SpecException($"mounts[{i}].source", "missing", "a bind mount needs the path to mount, e.g. \"/srv/data\"");
                continue;
            }
            for (int j = 0; j < options.Count; j++)
            {
                var o = options[j];
                // Commas are let through: runc joins data options with them, and SELinux contexts contain them.
                // Whitespace is not: "nosuid, nodev" would reach the filesystem as one data option.
                if (o.Length == 0 || o.Any(char.IsWhiteSpace))
                    throw new SpecException($"mounts[{i}].options[{j}]", $"{SpecException.Show(o)} is not a mount option",
                        "one option per string, without spaces, e.g. [\"nosuid\", \"mode=755\"]");
                bind |= o is "bind" or "rbind";
            }
            if (bind && string.IsNullOrEmpty(m.Source))
                throw new SpecException($"mounts[{i}].source", "missing", "a bind mount needs the path to mount, e.g. \"/srv/data\"");
        }
    }

    private static void Hooks(Hooks hooks)
    {
        // The hooks whose failure aborts `create` and whose path resolves on the host are checked now, before
        // anything exists, rather than after the container's namespaces and cgroup were made (runc finds a
        // missing one only when it runs it). startContainer's path resolves inside the container, where the
        // parent does not look; poststart/poststop failures are only warnings (runtime-spec).
        HookList("prestart", hooks.Prestart, onHost: true);
        HookList("createRuntime", hooks.CreateRuntime, onHost: true);
        HookList("createContainer", hooks.CreateContainer, onHost: true);
        HookList("startContainer", hooks.StartContainer, onHost: false);
        HookList("poststart", hooks.Poststart, onHost: false);
        HookList("poststop", hooks.Poststop, onHost: false);
    }

    private static void HookList(string name, List<Hook>? hooks, bool onHost)
    {
        if (hooks is null) return;
        for (int i = 0; i < hooks.Count; i++)
        {
            var path = $"hooks.{name}[{i}].path";
            if (string.IsNullOrEmpty(hooks[i].Path))
                throw new SpecException(path, "missing", "give the absolute path of the program to run");
            RequireAbsolute(path, hooks[i].Path);
            if (onHost) RequireProgram(path, hooks[i].Path);
            if (hooks[i].Timeout is <= 0)
                throw new SpecException($"hooks.{name}[{i}].timeout", $"{hooks[i].Timeout} is not a timeout", "give seconds, greater than 0, or leave it out");
        }
    }

    /// <summary>What execve needs of a hook's program: a regular file (symlinks followed) with an execute bit.</summary>
    private static void RequireProgram(string path, string program)
    {
        if (Libc.StatMode(SafeFd.AtCwd, program, 0, out uint mode) < 0)
        {
            var errno = Errno.Last;
            throw new SpecException(path, $"\"{SpecException.ShortenPath(program)}\": {Errno.Name(errno)} ({Errno.Describe(errno)})",
                errno is Error.ENOENT or Error.ENOTDIR ? "install the hook there, or fix the path" : "check the path and its permissions");
        }
        if ((mode & Libc.S_IFMT) != Libc.S_IFREG)
            throw new SpecException(path, $"\"{SpecException.ShortenPath(program)}\" is not a regular file", "give the path of the hook's program");
        if ((mode & 0b001_001_001) == 0)
            throw new SpecException(path, $"\"{SpecException.ShortenPath(program)}\" is not executable", $"chmod +x {SpecException.ShortenPath(program)}");
    }

    private static void Linux(Linux linux, NamespaceSet ns)
    {
        IdMappings(linux, ns);
        if (linux.TimeOffsets is { Count: > 0 } offsets)
        {
            if (!ns.Has("time"))
                throw new SpecException("linux.timeOffsets", "given, but there is no time namespace", "add {\"type\": \"time\"} to linux.namespaces, or remove timeOffsets");
            foreach (var clock in offsets.Keys)
                if (clock is not ("monotonic" or "boottime"))
                    throw new SpecException($"linux.timeOffsets[{SpecException.Show(clock)}]", $"{SpecException.Show(clock)} is not a clock that a time namespace offsets", "monotonic, boottime");
        }
        if (linux.Sysctl is { } sysctl)
            foreach (var key in sysctl.Keys)
                Sysctl(key, ns);
        PathList("linux.maskedPaths", linux.MaskedPaths, ns);
        PathList("linux.readonlyPaths", linux.ReadonlyPaths, ns);
        if (linux.Devices is { } devices)
            for (int i = 0; i < devices.Count; i++)
            {
                if (string.IsNullOrEmpty(devices[i].Path))
                    throw new SpecException($"linux.devices[{i}].path", "missing", "give the device's path inside the container, e.g. \"/dev/fuse\"");
                RequireAbsolute($"linux.devices[{i}].path", devices[i].Path);
                DevicePath(i, devices[i].Path);
                if (devices[i].Type is not ("c" or "b" or "u" or "p"))
                    throw new SpecException($"linux.devices[{i}].type", $"{SpecException.Show(devices[i].Type)} is not a device type", "c (character), b (block), u (unbuffered character), p (FIFO)");
            }
        if (linux.RootfsPropagation is { Length: > 0 } propagation
            && propagation is not ("private" or "rprivate" or "slave" or "rslave" or "shared" or "rshared" or "unbindable" or "runbindable"))
            throw new SpecException("linux.rootfsPropagation", $"{SpecException.Show(propagation)} is not a propagation type", "private, rprivate, slave, rslave, shared, rshared, unbindable, runbindable");
        if (linux.Personality is { } personality && personality.Domain is not ("LINUX" or "LINUX32"))
            throw new SpecException("linux.personality.domain", $"{SpecException.Show(personality.Domain)} is not an execution domain", "LINUX, LINUX32");
    }

    private static void IdMappings(Linux linux, NamespaceSet ns)
    {
        bool mapped = linux.UidMappings is { Count: > 0 } || linux.GidMappings is { Count: > 0 };
        if (!ns.Has("user"))
        {
            if (mapped)
                throw new SpecException(linux.UidMappings is { Count: > 0 } ? "linux.uidMappings" : "linux.gidMappings", "given, but there is no user namespace",
                    "add {\"type\": \"user\"} to linux.namespaces, or remove the mappings");
            return;
        }
        // A new user namespace without mappings would leave every id unmapped (nobody), root included.
        if (!ns.Joined("user"))
            foreach (var (name, mappings) in new[] { ("linux.uidMappings", linux.UidMappings), ("linux.gidMappings", linux.GidMappings) })
                if (mappings is not { Count: > 0 })
                    throw new SpecException(name, "missing: a new user namespace needs uid and gid mappings",
                        "map container root to a host id, e.g. [{\"containerID\": 0, \"hostID\": 1000, \"size\": 1}]");
        IdMaps.Validate(linux, Libc.geteuid(), Libc.getegid());
    }

    // /proc/sys is not namespaced as a whole: only keys that belong to a namespace the container owns are
    // safe to write, and the rest would change the host (runc's list).
    private static void Sysctl(string key, NamespaceSet ns)
    {
        var path = $"linux.sysctl[{SpecException.Show(key)}]";
        var name = DotSeparated(key);
        if (name is "kernel.msgmax" or "kernel.msgmnb" or "kernel.msgmni" or "kernel.sem" or "kernel.shmall" or "kernel.shmmax"
            or "kernel.shmmni" or "kernel.shm_rmid_forced" || name.StartsWith("fs.mqueue.", StringComparison.Ordinal))
        {
            if (!ns.Has("ipc"))
                throw new SpecException(path, "is not allowed in the host's IPC namespace", "add {\"type\": \"ipc\"} to linux.namespaces");
            return;
        }
        if (name.StartsWith("net.", StringComparison.Ordinal))
        {
            if (!ns.Has("network"))
                throw new SpecException(path, "is not allowed in the host's network namespace", "add {\"type\": \"network\"} to linux.namespaces");
            return;
        }
        if (ns.Has("uts") && name == "kernel.domainname") return;
        if (ns.Has("uts") && name == "kernel.hostname")
            throw new SpecException(path, "conflicts with the hostname field", "set \"hostname\" instead");
        throw new SpecException(path, "is not in a namespace of the container, so setting it would change the host",
            "only kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.* (with ipc), net.* (with network), kernel.domainname (with uts)");
    }

    // sysctl.d(5): '/' may separate the components, and then '.' is part of a name ("net/ipv4/conf/eth0.100/rp_filter").
    private static string DotSeparated(string key)
    {
        int first = key.AsSpan().IndexOfAny('.', '/');
        if (first < 0 || key[first] == '.') return key;
        return string.Create(key.Length, key, (span, k) =>
        {
            for (int i = 0; i < k.Length; i++) span[i] = k[i] switch { '/' => '.', '.' => '/', var c => c };
        });
    }

    private static void PathList(string name, List<string>? paths, NamespaceSet ns)
    {
        if (paths is not { Count: > 0 }) return;
        if (!ns.Has("mount"))
            throw new SpecException(name, "needs a mount namespace", "add {\"type\": \"mount\"} to linux.namespaces");
        for (int i = 0; i < paths.Count; i++)
            RequireAbsolute($"{name}[{i}]", paths[i]);
    }

    // runc's rule: a device node anywhere else (/dev/../etc/x) would be a way to plant one in the image's files.
    private static void DevicePath(int index, string path)
    {
        if (!Rootfs.InRoot.Clean(path).StartsWith("/dev/", StringComparison.Ordinal))
            throw new SpecException($"linux.devices[{index}].path", $"\"{path}\" is not under /dev", "give a path in /dev, e.g. \"/dev/fuse\"");
    }

    private static void RequireAbsolute(string path, string value)
    {
        if (!value.StartsWith('/'))
            throw new SpecException(path, $"{SpecException.Show(value)} is not an absolute path", $"start it with /, e.g. {SpecException.Show("/" + value)}");
    }

    private static NamespaceSet Namespaces(List<LinuxNamespace>? namespaces)
    {
        var set = new NamespaceSet();
        if (namespaces is null) return set;
        for (int i = 0; i < namespaces.Count; i++)
        {
            var n = namespaces[i];
            int bit = NamespaceSet.Bit(n.Type);
            if (bit == 0)
                throw new SpecException($"linux.namespaces[{i}].type", $"{SpecException.Show(n.Type)} is not a namespace type", NamespaceTypes);
            if ((set.Present & bit) != 0)
                throw new SpecException($"linux.namespaces[{i}].type", $"{SpecException.Show(n.Type)} is listed twice", "keep one entry per type");
            set.Present |= bit;
            if (string.IsNullOrEmpty(n.Path)) continue;
            set.JoinedMask |= bit;
            RequireAbsolute($"linux.namespaces[{i}].path", n.Path);
            if (!System.IO.Path.Exists(n.Path))
                throw new SpecException($"linux.namespaces[{i}].path", $"{SpecException.ShortenPath(n.Path)} does not exist",
                    $"give an existing namespace file, e.g. /proc/PID/ns/{NamespaceSet.ProcName(n.Type)}, or leave path out to create a new namespace");
        }
        return set;
    }

    /// <summary>The namespace types a config lists, and which of them join an existing namespace (path set).</summary>
    private struct NamespaceSet
    {
        public int Present, JoinedMask;

        public readonly bool Has(string type) => (Present & Bit(type)) != 0;
        public readonly bool Joined(string type) => (JoinedMask & Bit(type)) != 0;

        public static int Bit(string type) => type switch
        {
            "pid" => 1, "network" => 2, "mount" => 4, "ipc" => 8, "uts" => 16, "user" => 32, "cgroup" => 64, "time" => 128,
            _ => 0,
        };

        public static string ProcName(string type) => type switch { "network" => "net", "mount" => "mnt", _ => type };
    }
}
