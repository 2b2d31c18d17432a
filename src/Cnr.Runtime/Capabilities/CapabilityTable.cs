using Cnr.Linux;

namespace Cnr.Capabilities;

/// <summary>Linux capability names (as config.json writes them, "CAP_NET_ADMIN") and their numbers
/// (linux/capability.h). A plain array: a lookup is a short scan, with nothing to build at start-up.</summary>
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

    public static IReadOnlyList<string> AllNames => Names;

    /// <summary>The highest capability this table names (CAP_CHECKPOINT_RESTORE).</summary>
    public static int LastKnown => Names.Length - 1;

    private static int _last = -1;

    /// <summary>The highest capability the running kernel knows; capabilities above it cannot be raised or
    /// dropped. Asked of the kernel itself (<see cref="ProbeLast"/>), never read from
    /// /proc/sys/kernel/cap_last_cap: in the init that path is the container's, and an image saying "-1" there
    /// would keep every capability in the bounding set. The first use caches it, so the init asks before
    /// its seccomp filter can forbid prctl.</summary>
    public static int Last => _last >= 0 ? _last : _last = ProbeLast(cap => Libc.prctl(Libc.PR_CAPBSET_READ, (nuint)cap, 0, 0, 0) >= 0 ? 0 : Errno.Last);

    /// <summary>The highest capability for which <paramref name="read"/> (PR_CAPBSET_READ: 0, or an errno) does
    /// not answer EINVAL, found by bisection over 0..63. Any other error is thrown: guessing low would keep
    /// capabilities.</summary>
    internal static int ProbeLast(Func<int, Error> read)
    {
        int Known(int cap) => read(cap) switch
        {
            0 => 1,
            Error.EINVAL => 0,
            var errno => throw new SyscallException("prctl(PR_CAPBSET_READ)", errno, cap.ToString()),
        };
        if (Known(0) == 0) throw new SyscallException("prctl(PR_CAPBSET_READ)", Error.EINVAL, "0: the kernel knows no capability");
        int low = 0, high = 63; // low is known; the answer is in [low, high]
        while (low < high)
        {
            int mid = (low + high + 1) / 2;
            if (Known(mid) == 1) low = mid; else high = mid - 1;
        }
        return low;
    }

    /// <summary>Parses a capability name: "CAP_NET_ADMIN" as config.json writes it; for the command line
    /// (`exec --cap`) also any case and without the CAP_ prefix ("net_admin").</summary>
    public static bool TryParse(string name, out int cap)
    {
        var bare = name.StartsWith("CAP_", StringComparison.OrdinalIgnoreCase) ? name.AsSpan(4) : name.AsSpan();
        for (cap = 0; cap < Names.Length; cap++)
            if (bare.Equals(Names[cap].AsSpan(4), StringComparison.OrdinalIgnoreCase))
                return true;
        cap = -1;
        return false;
    }

    /// <summary>"CAP_KILL" for 5; capabilities newer than this table are named by number, as capsh does.</summary>
    public static string Name(int cap) => (uint)cap < (uint)Names.Length ? Names[cap] : cap.ToString();

    /// <summary>The names of the capabilities set in a mask (the CapEff:/CapBnd: lines of /proc/PID/status).</summary>
    public static IEnumerable<string> Decode(ulong mask)
    {
        for (int cap = 0; cap < 64; cap++)
            if ((mask & (1UL << cap)) != 0)
                yield return Name(cap);
    }
}
