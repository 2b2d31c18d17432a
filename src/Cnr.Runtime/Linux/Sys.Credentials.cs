using Cnr.Capabilities;
using Cnr.Diagnostics;

namespace Cnr.Linux;

/// <summary>The init becoming process.user with process.capabilities: stdio given to the user, groups, gid, uid,
/// the capability sets, keepcaps and no_new_privs. Credentials and capabilities belong to a thread: these act on
/// the calling thread only (see <see cref="Cnr.Process.ProcessAttributes"/> for why that is the one to change).</summary>
public static partial class Sys
{
    /// <summary>fchown(2) of stdio fd <paramref name="n"/> to the container's user. An owner with no mapping here
    /// (EINVAL, EPERM) or a read-only /dev (EROFS) leaves it as it is, as runc's fixStdioPermissions does.</summary>
    public static void FchownStdio(int n, SafeFd fd, uint uid, uint gid)
    {
        if (Steps.On) Steps.Report("user", $"fchown({n}, {uid}, {gid})", null);
        if (Libc.fchown(fd, uid, gid) != 0 && Errno.Last is var errno and not (Error.EINVAL or Error.EPERM or Error.EROFS))
            throw new SyscallException("fchown", errno, $"fd {n} to uid {uid}");
    }

    /// <summary>setgroups(2), the raw system call: this thread only (glibc's wrapper would signal every thread).</summary>
    public static unsafe void SetGroups(uint[] groups)
    {
        if (Steps.On) Steps.Report("user", $"setgroups([{string.Join(", ", groups)}])", null);
        fixed (uint* p = groups)
            Errno.Check(Libc.syscall(Libc.SYS_setgroups, groups.Length, (nint)p, 0, 0, 0, 0), "setgroups", $"[{string.Join(", ", groups)}]");
    }

    /// <summary>setresgid(2), the raw system call, as <see cref="SetGroups"/>.</summary>
    public static void SetResGid(uint gid)
    {
        if (Steps.On) Steps.Report("user", $"setresgid({gid}, {gid}, {gid})", null);
        if (Libc.syscall(Libc.SYS_setresgid, (nint)gid, (nint)gid, (nint)gid, 0, 0, 0) != 0)
            throw IdError("setresgid", gid, "gid", "linux.gidMappings");
    }

    /// <summary>setresuid(2), the raw system call, as <see cref="SetGroups"/>. Last of the three: its step carries the
    /// shell line, setpriv(1), which changes groups, gid and uid at once (<paramref name="gid"/> and
    /// <paramref name="groups"/> are only for that line).</summary>
    public static void SetResUid(uint uid, uint gid, uint[] groups)
    {
        if (Steps.On)
            Steps.Report("user", $"setresuid({uid}, {uid}, {uid})",
                $"setpriv --reuid {uid} --regid {gid} " + (groups.Length == 0 ? "--clear-groups" : "--groups " + string.Join(",", groups)));
        if (Libc.syscall(Libc.SYS_setresuid, (nint)uid, (nint)uid, (nint)uid, 0, 0, 0) != 0)
            throw IdError("setresuid", uid, "uid", "linux.uidMappings");
    }

    /// <summary>EINVAL from set*id means the id has no mapping in this user namespace: say so.</summary>
    private static SyscallException IdError(string call, uint id, string kind, string mappings)
    {
        var errno = Errno.Last;
        return new SyscallException(call, errno, errno == Error.EINVAL ? $"to {kind} {id} (not mapped in {mappings}?)" : $"to {kind} {id}");
    }

    /// <summary>prctl(PR_CAPBSET_DROP) for every capability up to <paramref name="lastCap"/> that is outside
    /// <paramref name="bounding"/> and still in this thread's bounding set (PR_CAPBSET_READ), one step for all.</summary>
    public static void DropBoundingSet(ulong bounding, int lastCap)
    {
        var dropped = new List<int>();
        for (int cap = 0; cap <= lastCap; cap++)
            // Only what is still there: dropping needs CAP_SETPCAP even when the capability is already gone.
            if ((bounding & (1UL << cap)) == 0 && Errno.Check(Libc.prctl(Libc.PR_CAPBSET_READ, (nuint)cap, 0, 0, 0), "prctl(PR_CAPBSET_READ)", $"`{CapabilityTable.Name(cap)}`") == 1)
                dropped.Add(cap);
        if (Steps.On)
            Steps.Report("capabilities",
                $"prctl(PR_CAPBSET_DROP, …) — bounding set {CapNames(bounding)}; dropped {dropped.Count}: {string.Join(", ", dropped.Select(CapabilityTable.Name))}",
                dropped.Count == 0 ? null : $"setpriv --bounding-set=-all{string.Concat(CapabilitySets.Decode(bounding).Select(n => ",+" + SetprivName(n)))} --");
        foreach (int cap in dropped)
            Errno.Check(Libc.prctl(Libc.PR_CAPBSET_DROP, (nuint)cap, 0, 0, 0), "prctl(PR_CAPBSET_DROP)", $"`{CapabilityTable.Name(cap)}`");
    }

    /// <summary>prctl(PR_SET_KEEPCAPS): the permitted set survives the uid change in between. Not a step of its own:
    /// setpriv(1), the uid step's shell line, keeps them itself.</summary>
    public static void SetKeepCaps(bool keep) => SetPrctlFlag(Libc.PR_SET_KEEPCAPS, keep ? 1u : 0u, "PR_SET_KEEPCAPS", keep ? "1" : "0");

    /// <summary>prctl(PR_SET_NO_NEW_PRIVS, 1), process.noNewPrivileges: execve can no longer grant privileges (setuid
    /// bits, file capabilities). Apart from the identity because seccomp ordering depends on it: an unprivileged
    /// filter needs it set first.</summary>
    public static void SetNoNewPrivs()
    {
        if (Steps.On) Steps.Report("no_new_privs", "prctl(PR_SET_NO_NEW_PRIVS, 1)", "setpriv --no-new-privs");
        SetPrctlFlag(Libc.PR_SET_NO_NEW_PRIVS, 1, "PR_SET_NO_NEW_PRIVS", "1");
    }

    private static void SetPrctlFlag(int option, nuint value, string optionName, string valueText)
        => Errno.Check(Libc.prctl(option, value, 0, 0, 0), $"prctl({optionName}, {valueText})");

    /// <summary>capset(2): effective, permitted and inheritable exactly as <paramref name="caps"/> says.</summary>
    public static unsafe void Capset(CapabilitySets caps)
    {
        if (Steps.On)
            Steps.Report("capabilities",
                $"capset(effective={CapNames(caps.Effective)}, permitted={CapNames(caps.Permitted)}, inheritable={CapNames(caps.Inheritable)})",
                $"capsh --caps=\"{CapText(caps)}\" --");
        var header = new Libc.CapUserHeader { Version = Libc._LINUX_CAPABILITY_VERSION_3 };
        var data = stackalloc Libc.CapUserData[2];
        data[0] = new Libc.CapUserData { Effective = (uint)caps.Effective, Permitted = (uint)caps.Permitted, Inheritable = (uint)caps.Inheritable };
        data[1] = new Libc.CapUserData { Effective = (uint)(caps.Effective >> 32), Permitted = (uint)(caps.Permitted >> 32), Inheritable = (uint)(caps.Inheritable >> 32) };
        Errno.Check(Libc.capset(&header, data), "capset",
            $"effective {caps.Effective:x16} permitted {caps.Permitted:x16} inheritable {caps.Inheritable:x16}");
    }

    /// <summary>The ambient set exactly <paramref name="ambient"/>: prctl(PR_CAP_AMBIENT_CLEAR_ALL), then
    /// PR_CAP_AMBIENT_RAISE each one, one step for all. A capability that cannot be raised (it must be permitted
    /// and inheritable too) is a warning, not an error, as in runc.</summary>
    public static void SetAmbient(ulong ambient)
    {
        if (Steps.On)
            Steps.Report("capabilities", $"prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL); PR_CAP_AMBIENT_RAISE {CapNames(ambient)}",
                ambient == 0 ? null : $"setpriv --ambient-caps=-all{string.Concat(CapabilitySets.Decode(ambient).Select(n => ",+" + SetprivName(n)))} --");
        if (Libc.prctl(Libc.PR_CAP_AMBIENT, Libc.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0)
        {
            // Kernels before 4.3 have no ambient set: nothing to clear, and nothing can be raised.
            if (ambient != 0) Log.Warn($"process.capabilities.ambient: not supported by this kernel: {Errno.Name(Errno.Last)}");
            return;
        }
        for (int cap = 0; cap < 64; cap++)
            if ((ambient & (1UL << cap)) != 0 && Libc.prctl(Libc.PR_CAP_AMBIENT, Libc.PR_CAP_AMBIENT_RAISE, (nuint)cap, 0, 0) != 0)
                Log.Warn($"process.capabilities.ambient: cannot raise {CapabilityTable.Name(cap)}: {Errno.Name(Errno.Last)} (an ambient capability must also be permitted and inheritable)");
    }

    private static string CapNames(ulong mask) => mask == 0 ? "(none)" : string.Join(",", CapabilitySets.Decode(mask));

    /// <summary>A capability as setpriv(1) names it: "kill" for CAP_KILL.</summary>
    private static string SetprivName(string name) => name.StartsWith("CAP_", StringComparison.Ordinal) ? name[4..].ToLowerInvariant() : name;

    /// <summary>The sets in cap_from_text(3) form, as capsh --caps takes them: "cap_kill,cap_chown+eip cap_net_raw+p".</summary>
    internal static string CapText(CapabilitySets caps)
    {
        var groups = new SortedDictionary<string, List<string>>(StringComparer.Ordinal);
        for (int cap = 0; cap < 64; cap++)
        {
            ulong bit = 1UL << cap;
            var flags = ((caps.Effective & bit) != 0 ? "e" : "") + ((caps.Inheritable & bit) != 0 ? "i" : "") + ((caps.Permitted & bit) != 0 ? "p" : "");
            if (flags.Length == 0) continue;
            if (!groups.TryGetValue(flags, out var list)) groups[flags] = list = [];
            list.Add(CapabilityTable.Name(cap).ToLowerInvariant());
        }
        return groups.Count == 0 ? "=" : string.Join(" ", groups.Select(g => string.Join(",", g.Value) + "+" + g.Key));
    }
}
