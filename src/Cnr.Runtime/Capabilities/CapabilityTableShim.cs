// TEMPORARY: stand-ins for types the spec helper is writing (Capabilities/CapabilityTable.cs,
// Process/RlimitTable.cs, Spec/SpecException.cs), with the same names and the subset of their API that
// ProcessAttributes uses. Delete this file when main has the real ones.

namespace Cnr.Capabilities
{
    public static class CapabilityTable
    {
        private static readonly string[] Names =
        [
            "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
            "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
            "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE",
            "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT",
            "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
            "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG",
            "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
        ];

        public static IEnumerable<string> AllNames => Names;

        private static int _last = -1;

        public static int Last
        {
            get
            {
                if (_last < 0)
                {
                    try { _last = int.Parse(File.ReadAllText("/proc/sys/kernel/cap_last_cap").AsSpan().Trim()); }
                    catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException) { _last = Names.Length - 1; }
                }
                return _last;
            }
        }

        public static bool TryParse(string name, out int cap)
        {
            cap = Array.IndexOf(Names, name);
            return cap >= 0;
        }

        public static string Name(int cap) => (uint)cap < (uint)Names.Length ? Names[cap] : cap.ToString();

        public static IEnumerable<string> Decode(ulong mask)
        {
            for (int cap = 0; cap < 64; cap++)
                if ((mask & (1UL << cap)) != 0)
                    yield return Name(cap);
        }
    }
}

namespace Cnr.Process
{
    public static class RlimitTable
    {
        private static readonly string[] Names =
        [
            "RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_DATA", "RLIMIT_STACK", "RLIMIT_CORE", "RLIMIT_RSS", "RLIMIT_NPROC",
            "RLIMIT_NOFILE", "RLIMIT_MEMLOCK", "RLIMIT_AS", "RLIMIT_LOCKS", "RLIMIT_SIGPENDING", "RLIMIT_MSGQUEUE",
            "RLIMIT_NICE", "RLIMIT_RTPRIO", "RLIMIT_RTTIME",
        ];

        public static IReadOnlyList<string> All => Names;

        public static bool TryParse(string name, out int resource)
        {
            resource = Array.IndexOf(Names, name);
            return resource >= 0;
        }

        public static string Name(int resource) => (uint)resource < (uint)Names.Length ? Names[resource] : resource.ToString();
    }
}

namespace Cnr.Spec
{
    public sealed class SpecException : Exception
    {
        public string? JsonPath { get; }
        public SpecException(string message) : base(message) { }
        public SpecException(string jsonPath, string problem, string fix) : base($"{jsonPath}: {problem} ({fix})") => JsonPath = jsonPath;
    }
}
