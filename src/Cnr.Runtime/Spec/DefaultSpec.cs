using Cnr.Linux;

namespace Cnr.Spec;

/// <summary>The config `cnr spec` writes: the same defaults as `runc spec` (libcontainer/specconv Example and
/// ToRootless), so that a lab written for runc works unchanged. Safe by default: three capabilities,
/// no_new_privs, read-only root, new namespaces (all but user and time), and the /proc and /sys paths that leak host
/// information masked or read-only.</summary>
public static class DefaultSpec
{
    public const string RootfsDirectory = "rootfs";

    public static RuntimeSpec Create(bool rootless = false)
    {
        string[] caps = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"];
        var spec = new RuntimeSpec
        {
            OciVersion = "1.2.0",
            Root = new Root { Path = RootfsDirectory, Readonly = true },
            Process = new Process
            {
                Terminal = true,
                User = new User { Uid = 0, Gid = 0 },
                Args = ["sh"],
                Env = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
                Cwd = "/",
                NoNewPrivileges = true,
                Capabilities = new LinuxCapabilities { Bounding = [.. caps], Effective = [.. caps], Permitted = [.. caps] },
                Rlimits = [new PosixRlimit { Type = "RLIMIT_NOFILE", Hard = 1024, Soft = 1024 }],
            },
            Hostname = "cnr",
            Mounts =
            [
                new Mount { Destination = "/proc", Type = "proc", Source = "proc" },
                new Mount { Destination = "/dev", Type = "tmpfs", Source = "tmpfs", Options = ["nosuid", "strictatime", "mode=755", "size=65536k"] },
                new Mount { Destination = "/dev/pts", Type = "devpts", Source = "devpts", Options = ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"] },
                new Mount { Destination = "/dev/shm", Type = "tmpfs", Source = "shm", Options = ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"] },
                new Mount { Destination = "/dev/mqueue", Type = "mqueue", Source = "mqueue", Options = ["nosuid", "noexec", "nodev"] },
                new Mount { Destination = "/sys", Type = "sysfs", Source = "sysfs", Options = ["nosuid", "noexec", "nodev", "ro"] },
                new Mount { Destination = "/sys/fs/cgroup", Type = "cgroup", Source = "cgroup", Options = ["nosuid", "noexec", "nodev", "relatime", "ro"] },
            ],
            Linux = new Linux
            {
                Resources = new LinuxResources { Devices = [new LinuxDeviceCgroup { Allow = false, Access = "rwm" }] },
                // runc adds the cgroup namespace only on a pure cgroup v2 host; cnr always does, so that the
                // same config behaves the same on every machine.
                Namespaces = [.. new[] { "pid", "network", "ipc", "uts", "mount", "cgroup" }.Select(t => new LinuxNamespace { Type = t })],
                MaskedPaths =
                [
                    "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
                    "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi",
                ],
                ReadonlyPaths = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"],
            },
        };
        if (rootless) ToRootless(spec, Libc.geteuid(), Libc.getegid());
        return spec;
    }

    /// <summary>What `runc spec --rootless` changes: a user namespace mapping container root to the caller,
    /// no network namespace (an unprivileged user could not configure it), /sys bind-mounted from the host
    /// (sysfs cannot be mounted without owning the network namespace), no uid=/gid= mount options (those ids
    /// are not mapped), and no cgroup resources (an unprivileged user cannot write them).</summary>
    internal static void ToRootless(RuntimeSpec spec, uint uid, uint gid)
    {
        var linux = spec.Linux!;
        linux.Namespaces = [.. linux.Namespaces!.Where(n => n.Type is not ("network" or "user")), new LinuxNamespace { Type = "user" }];
        linux.UidMappings = [new LinuxIdMapping { ContainerID = 0, HostID = uid, Size = 1 }];
        linux.GidMappings = [new LinuxIdMapping { ContainerID = 0, HostID = gid, Size = 1 }];
        spec.Mounts = [.. spec.Mounts!.Select(m => Path.TrimEndingDirectorySeparator(m.Destination) == "/sys"
            ? new Mount { Destination = "/sys", Type = "none", Source = "/sys", Options = ["rbind", "nosuid", "noexec", "nodev", "ro"] }
            : WithoutIdOptions(m))];
        linux.Resources = null;
    }

    private static Mount WithoutIdOptions(Mount m)
    {
        m.Options = m.Options?.Where(o => !o.StartsWith("uid=", StringComparison.Ordinal) && !o.StartsWith("gid=", StringComparison.Ordinal)).ToList();
        return m;
    }
}
