using System.Runtime.InteropServices;
using System.Text;
using Cnr.Capabilities;
using Cnr.Diagnostics;
using Cnr.Linux;
using Cnr.Spec;

namespace Cnr.Process;

/// <summary>What init does to itself so that the process it execs has the attributes config.json asks for:
/// resource limits, scheduling, user and groups, capabilities, umask, no_new_privs, open fds.
/// Capabilities, keepcaps, no_new_privs, the scheduling policy and the I/O priority belong to a thread, not to
/// the process: every method here must run on the thread that will call <see cref="Exec"/>, and none starts one.</summary>
public static class ProcessAttributes
{
    private const int EPERM = 1, EBADF = 9, EINVAL = 22, EROFS = 30, ENOSYS = 38;
    private const uint DefaultUmask = 0b000_010_010; // 0022: group and others lose write
    private const string DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    /// <summary>The attributes that need privileges init gives up later (raising a hard limit, lowering
    /// oom_score_adj, a real-time policy): process.rlimits, oomScoreAdj, scheduler, ioPriority.</summary>
    public static void ApplyEarly(Spec.Process process)
    {
        for (int i = 0; i < (process.Rlimits?.Count ?? 0); i++)
            SetRlimit(process.Rlimits![i], i);
        if (process.OomScoreAdj is int adj)
            SetOomScoreAdj(adj);
        if (process.Scheduler is { } scheduler)
            SetScheduler(scheduler);
        if (process.IoPriority is { } ioPriority)
            SetIoPriority(ioPriority);
    }

    /// <summary>Becomes process.user with process.capabilities, in runc's order (finalizeNamespace): drop the
    /// bounding set while still privileged; keep the permitted set across the uid change (PR_SET_KEEPCAPS);
    /// groups, gid, uid; then set effective/permitted/inheritable and the ambient set exactly. Then the umask,
    /// last because it must not apply to the files init itself creates while preparing the rootfs.</summary>
    public static void ApplyIdentity(Spec.Process process)
    {
        int lastCap = CapabilityTable.Last;
        var caps = CapabilitySets.From(process.Capabilities, lastCap, Log.Warn);

        DropBoundingSet(caps.Bounding, lastCap);
        Prctl(Libc.PR_SET_KEEPCAPS, 1, "PR_SET_KEEPCAPS", "1");
        SetUser(process.User, process.Terminal);
        Prctl(Libc.PR_SET_KEEPCAPS, 0, "PR_SET_KEEPCAPS", "0");
        SetCapabilities(caps);
        SetAmbient(caps.Ambient);
        SetUmask(process.User.Umask ?? DefaultUmask);
    }

    /// <summary>process.noNewPrivileges: execve can no longer grant privileges (setuid bits, file capabilities).
    /// Separate because seccomp ordering depends on it: an unprivileged filter needs it set first.</summary>
    public static void SetNoNewPrivileges()
    {
        if (Steps.On) Steps.Report("no_new_privs", "prctl(PR_SET_NO_NEW_PRIVS, 1)", "setpriv --no-new-privs");
        Prctl(Libc.PR_SET_NO_NEW_PRIVS, 1, "PR_SET_NO_NEW_PRIVS", "1");
    }

    /// <summary>process.args[0] found the way execvp (and runc, with Go's exec.LookPath) finds it: as given when it
    /// contains a '/', else in the PATH of process.env, else in the standard PATH. Runs after pivot_root, so
    /// the search is inside the container.</summary>
    public static string ResolveExecutable(Spec.Process process)
    {
        if (process.Args is not [{ Length: > 0 } file, ..])
            throw new SpecException("process.args", "is empty", "name the program to run, e.g. [\"sh\"]");

        if (file.Contains('/'))
        {
            if (Libc.access(file, Libc.X_OK) != 0)
                throw new FileNotFoundException($"exec: \"{file}\": {Describe(Errno.Last)}", file);
            if (Directory.Exists(file))
                throw new FileNotFoundException($"exec: \"{file}\": is a directory", file);
            return file;
        }

        foreach (var dir in SearchPath(process.Env).Split(':'))
        {
            var candidate = Path.Join(dir.Length == 0 ? "." : dir, file);
            if (Libc.access(candidate, Libc.X_OK) == 0 && !Directory.Exists(candidate))
            {
                if (Steps.On) Steps.Report("exec", $"{file} → {candidate} (PATH lookup)", $"command -v {file}");
                return candidate;
            }
        }
        throw new FileNotFoundException($"exec: \"{file}\": executable file not found in $PATH", file);
    }

    /// <summary>Makes every fd from 3 up close-on-exec except <paramref name="keep"/> (the `--preserve-fds` ones),
    /// which are made to survive exec: no fd of the host or of cnr reaches the container's process.
    /// Marks rather than closes, so init keeps working with its own fds until execve.</summary>
    public static void MarkFdsCloseOnExec(ReadOnlySpan<int> keep)
    {
        var kept = keep.ToArray();
        Array.Sort(kept);
        foreach (int fd in kept)
            if (fd >= 3)
                Errno.Check(Libc.fcntl(fd, Libc.F_SETFD, 0), "fcntl(F_SETFD, 0)", $"fd {fd} (preserved)");

        var ranges = Gaps(kept);
        if (Steps.On)
            Steps.Report("fds", string.Join("; ", ranges.Select(r => $"close_range({r.First}, {(r.Last == uint.MaxValue ? "~0U" : r.Last)}, CLOSE_RANGE_CLOEXEC)")));
        foreach (var (first, last) in ranges)
        {
            if (Libc.syscall(Libc.SYS_close_range, (nint)first, (nint)last, (nint)Libc.CLOSE_RANGE_CLOEXEC, 0, 0, 0) == 0)
                continue;
            int errno = Errno.Last;
            // ENOSYS before Linux 5.9, EINVAL for CLOSE_RANGE_CLOEXEC before 5.11.
            if (errno is not (ENOSYS or EINVAL))
                throw new SyscallException("close_range", errno, $"{first}..{last} CLOSE_RANGE_CLOEXEC");
            MarkByWalkingProcSelfFd(kept);
            return;
        }
    }

    /// <summary>execve(path, args, env). Returns only by throwing: on success the process image is replaced
    /// (and with it every other thread of this one).</summary>
    public static unsafe void Exec(string path, IReadOnlyList<string> args, IReadOnlyList<string> env)
    {
        if (Steps.On)
            Steps.Report("exec", $"execve(\"{path}\", [{string.Join(", ", args.Select(a => "\"" + a + "\""))}], [{env.Count} variables])",
                "exec env -i " + string.Join(' ', env.Concat(args).Select(ShellQuote)));
        byte* pathZ = Utf8Z(path);
        byte** argv = Utf8ZArray(args);
        byte** envp = Utf8ZArray(env);
        Libc.execve(pathZ, argv, envp);
        int errno = Errno.Last;
        NativeMemory.Free(pathZ);
        FreeArray(argv, args.Count);
        FreeArray(envp, env.Count);
        throw new SyscallException("execve", errno, $"`{path}`");
    }

    private static unsafe void SetRlimit(PosixRlimit rlimit, int index)
    {
        if (!RlimitTable.TryParse(rlimit.Type, out int resource))
            throw new SpecException($"process.rlimits[{index}].type", $"\"{rlimit.Type}\" is not a resource limit",
                "one of " + string.Join(", ", RlimitTable.All));
        if (Steps.On)
            Steps.Report("rlimit", $"prlimit(0, {rlimit.Type}, {{soft {Limit(rlimit.Soft)}, hard {Limit(rlimit.Hard)}}})",
                $"prlimit --pid $$ --{rlimit.Type["RLIMIT_".Length..].ToLowerInvariant()}={Limit(rlimit.Soft)}:{Limit(rlimit.Hard)}");
        var limit = new Libc.Rlimit { Cur = rlimit.Soft, Max = rlimit.Hard };
        Errno.Check(Libc.prlimit(0, resource, &limit, null), "prlimit",
            $"`{rlimit.Type}` to soft {Limit(rlimit.Soft)} hard {Limit(rlimit.Hard)}");
    }

    private static string Limit(ulong value) => value == Libc.RLIM_INFINITY ? "unlimited" : value.ToString();

    private static void SetOomScoreAdj(int adj)
    {
        if (Steps.On) Steps.Report("oom_score_adj", $"write /proc/self/oom_score_adj {adj}", $"echo {adj} > /proc/self/oom_score_adj");
        ProcFs.Write("self/oom_score_adj", adj.ToString());
    }

    private static unsafe void SetScheduler(Scheduler scheduler)
    {
        var attr = SchedAttr(scheduler);
        if (Steps.On)
            Steps.Report("scheduler", $"sched_setattr(0, {{policy {scheduler.Policy}, nice {attr.Nice}, priority {attr.Priority}, flags 0x{attr.Flags:x}}}, 0)",
                SchedulerShell(scheduler, attr));
        if (Libc.syscall(Libc.SYS_sched_setattr, 0, (nint)(&attr), 0, 0, 0, 0) < 0)
            throw new SyscallException("sched_setattr", Errno.Last,
                $"`{scheduler.Policy}` nice {attr.Nice} priority {attr.Priority} runtime {attr.Runtime} deadline {attr.Deadline} period {attr.Period}");
    }

    private static readonly string[] SchedPolicies =
        ["SCHED_OTHER", "SCHED_FIFO", "SCHED_RR", "SCHED_BATCH", "SCHED_ISO", "SCHED_IDLE", "SCHED_DEADLINE"];

    private static readonly string[] SchedFlags =
    [
        "SCHED_FLAG_RESET_ON_FORK", "SCHED_FLAG_RECLAIM", "SCHED_FLAG_DL_OVERRUN", "SCHED_FLAG_KEEP_POLICY",
        "SCHED_FLAG_KEEP_PARAMS", "SCHED_FLAG_UTIL_CLAMP_MIN", "SCHED_FLAG_UTIL_CLAMP_MAX",
    ];

    /// <summary>process.scheduler as struct sched_attr (bit n of flags is SchedFlags[n], linux/sched.h).</summary>
    internal static unsafe Libc.SchedAttr SchedAttr(Scheduler scheduler)
    {
        int policy = Array.IndexOf(SchedPolicies, scheduler.Policy);
        if (policy < 0)
            throw new SpecException("process.scheduler.policy", $"\"{scheduler.Policy}\" is not a scheduling policy",
                "one of " + string.Join(", ", SchedPolicies));
        ulong flags = 0;
        for (int i = 0; i < (scheduler.Flags?.Count ?? 0); i++)
        {
            int bit = Array.IndexOf(SchedFlags, scheduler.Flags![i]);
            if (bit < 0)
                throw new SpecException($"process.scheduler.flags[{i}]", $"\"{scheduler.Flags[i]}\" is not a scheduler flag",
                    "one of " + string.Join(", ", SchedFlags));
            flags |= 1UL << bit;
        }
        if (scheduler.Nice is < -20 or > 19)
            throw new SpecException("process.scheduler.nice", $"{scheduler.Nice} is out of range", "-20 to 19");
        return new Libc.SchedAttr
        {
            Size = (uint)sizeof(Libc.SchedAttr),
            Policy = (uint)policy,
            Flags = flags,
            Nice = scheduler.Nice ?? 0,
            Priority = (uint)(scheduler.Priority ?? 0),
            Runtime = scheduler.Runtime ?? 0,
            Deadline = scheduler.Deadline ?? 0,
            Period = scheduler.Period ?? 0,
        };
    }

    private static string SchedulerShell(Scheduler scheduler, Libc.SchedAttr attr)
    {
        var sb = new StringBuilder("chrt --").Append(scheduler.Policy["SCHED_".Length..].ToLowerInvariant());
        if ((attr.Flags & 1) != 0) sb.Append(" --reset-on-fork");
        if (attr.Runtime != 0) sb.Append(" --sched-runtime ").Append(attr.Runtime);
        if (attr.Deadline != 0) sb.Append(" --sched-deadline ").Append(attr.Deadline);
        if (attr.Period != 0) sb.Append(" --sched-period ").Append(attr.Period);
        sb.Append(" -p ").Append(attr.Priority).Append(" $$");
        if (attr.Nice != 0) sb.Append("; renice -n ").Append(attr.Nice).Append(" -p $$");
        return sb.ToString();
    }

    private static readonly string[] IoPriorityClasses = ["IOPRIO_CLASS_RT", "IOPRIO_CLASS_BE", "IOPRIO_CLASS_IDLE"];

    /// <summary>process.ioPriority as the kernel's IOPRIO_PRIO_VALUE(class, level).</summary>
    internal static int IoPriorityValue(IoPriority ioPriority)
    {
        int ioClass = Array.IndexOf(IoPriorityClasses, ioPriority.Class) + 1;
        if (ioClass == 0)
            throw new SpecException("process.ioPriority.class", $"\"{ioPriority.Class}\" is not an I/O priority class",
                "one of " + string.Join(", ", IoPriorityClasses));
        if (ioPriority.Priority is < 0 or > 7)
            throw new SpecException("process.ioPriority.priority", $"{ioPriority.Priority} is out of range", "0 (highest) to 7");
        return ioClass << Libc.IOPRIO_CLASS_SHIFT | ioPriority.Priority;
    }

    private static void SetIoPriority(IoPriority ioPriority)
    {
        int value = IoPriorityValue(ioPriority);
        if (Steps.On)
            Steps.Report("ioprio", $"ioprio_set(IOPRIO_WHO_PROCESS, 0, IOPRIO_PRIO_VALUE({ioPriority.Class}, {ioPriority.Priority}))",
                $"ionice -c {value >> Libc.IOPRIO_CLASS_SHIFT} -n {ioPriority.Priority} -p $$");
        if (Libc.syscall(Libc.SYS_ioprio_set, Libc.IOPRIO_WHO_PROCESS, 0, value, 0, 0, 0) < 0)
            throw new SyscallException("ioprio_set", Errno.Last, $"`{ioPriority.Class}` priority {ioPriority.Priority}");
    }

    private static void DropBoundingSet(ulong bounding, int lastCap)
    {
        var dropped = new List<int>();
        for (int cap = 0; cap <= lastCap; cap++)
            // Only what is still there: dropping needs CAP_SETPCAP even when the capability is already gone.
            if ((bounding & (1UL << cap)) == 0 && Errno.Check(Libc.prctl(Libc.PR_CAPBSET_READ, (nuint)cap, 0, 0, 0), "prctl(PR_CAPBSET_READ)", $"`{CapabilityTable.Name(cap)}`") == 1)
                dropped.Add(cap);
        if (Steps.On)
            Steps.Report("capabilities",
                $"prctl(PR_CAPBSET_DROP, …) — bounding set {Names(bounding)}; dropped {dropped.Count}: {string.Join(", ", dropped.Select(CapabilityTable.Name))}",
                dropped.Count == 0 ? null : $"setpriv --bounding-set=-all{string.Concat(CapabilitySets.Decode(bounding).Select(n => ",+" + SetprivName(n)))} --");
        foreach (int cap in dropped)
            Errno.Check(Libc.prctl(Libc.PR_CAPBSET_DROP, (nuint)cap, 0, 0, 0), "prctl(PR_CAPBSET_DROP)", $"`{CapabilityTable.Name(cap)}`");
    }

    private static unsafe void SetUser(User user, bool terminal)
    {
        GiveStdioTo(user.Uid, terminal);
        var groups = user.AdditionalGids ?? [];
        if (SetgroupsDenied())
        {
            if (groups.Count > 0)
                throw new SpecException("process.user.additionalGids", "cannot be set: setgroups is denied in this user namespace",
                    "remove additionalGids, or map the groups with a user namespace that allows setgroups");
        }
        else
        {
            if (Steps.On) Steps.Report("user", $"setgroups([{string.Join(", ", groups)}])", null);
            var list = groups.ToArray();
            fixed (uint* p = list)
                Errno.Check(Libc.setgroups(list.Length, p), "setgroups", $"[{string.Join(", ", groups)}]");
        }

        if (Steps.On)
        {
            Steps.Report("user", $"setresgid({user.Gid}, {user.Gid}, {user.Gid})", null);
            Steps.Report("user", $"setresuid({user.Uid}, {user.Uid}, {user.Uid})",
                $"setpriv --reuid {user.Uid} --regid {user.Gid} " + (groups.Count == 0 ? "--clear-groups" : "--groups " + string.Join(",", groups)));
        }
        if (Libc.setresgid(user.Gid, user.Gid, user.Gid) != 0)
            throw IdError("setresgid", user.Gid, "gid", "linux.gidMappings");
        if (Libc.setresuid(user.Uid, user.Uid, user.Uid) != 0)
            throw IdError("setresuid", user.Uid, "uid", "linux.uidMappings");
    }

    /// <summary>runc's fixStdioPermissions: stdio comes from outside, owned by the host's root; the process can use
    /// the open fds but, as another user, not reopen them (/dev/stdout, /proc/self/fd/1), so they
    /// become the user's. Unlike runc, only pipes, sockets and the container's own terminal: a file or a host
    /// terminal passed as stdio is the host's, and giving it to a container uid would be a leak. An owner with no
    /// mapping here (EINVAL, EPERM) or a read-only /dev (EROFS) leaves it as it is, as in runc.</summary>
    private static void GiveStdioTo(uint uid, bool terminal)
    {
        for (int fd = 0; fd <= 2; fd++)
        {
            if (Libc.StatX(fd, "", 0, out var st) != 0)
            {
                if (Errno.Last is EBADF) continue; // closed: nothing to give
                throw new SyscallException("statx", Errno.Last, $"fd {fd}");
            }
            bool ours = (st.Mode & Libc.S_IFMT) switch
            {
                Libc.S_IFIFO or Libc.S_IFSOCK => true,
                Libc.S_IFCHR => terminal && (st.RdevMajor, st.RdevMinor) != (1, 3), // not /dev/null
                _ => false,
            };
            if (!ours || st.Uid == uid) continue;
            if (Steps.On) Steps.Report("user", $"fchown({fd}, {uid}, {st.Gid})", null);
            if (Libc.fchown(fd, uid, st.Gid) != 0 && Errno.Last is int errno and not (EINVAL or EPERM or EROFS))
                throw new SyscallException("fchown", errno, $"fd {fd} to uid {uid}");
        }
    }

    /// <summary>EINVAL from set*id means the id has no mapping in this user namespace: say so.</summary>
    private static SyscallException IdError(string call, uint id, string kind, string mappings)
    {
        int errno = Errno.Last;
        return new SyscallException(call, errno, errno == EINVAL ? $"to {kind} {id} (not mapped in {mappings}?)" : $"to {kind} {id}");
    }

    /// <summary>A user namespace whose /proc/self/setgroups says "deny" (an unprivileged one) forbids setgroups
    /// for good; runc then leaves the groups alone unless the config asks for some.</summary>
    private static bool SetgroupsDenied()
    {
        try { return ProcFs.Read("self/setgroups")?.Trim() == "deny"; }
        catch (Exception e) when (e is SyscallException or InvalidOperationException) { return false; }
    }

    private static unsafe void SetCapabilities(CapabilitySets caps)
    {
        if (Steps.On)
            Steps.Report("capabilities",
                $"capset(effective={Names(caps.Effective)}, permitted={Names(caps.Permitted)}, inheritable={Names(caps.Inheritable)})",
                $"capsh --caps=\"{CapText(caps)}\" --");
        var header = new Libc.CapUserHeader { Version = Libc._LINUX_CAPABILITY_VERSION_3 };
        var data = stackalloc Libc.CapUserData[2];
        data[0] = new Libc.CapUserData { Effective = (uint)caps.Effective, Permitted = (uint)caps.Permitted, Inheritable = (uint)caps.Inheritable };
        data[1] = new Libc.CapUserData { Effective = (uint)(caps.Effective >> 32), Permitted = (uint)(caps.Permitted >> 32), Inheritable = (uint)(caps.Inheritable >> 32) };
        Errno.Check(Libc.capset(&header, data), "capset",
            $"effective {caps.Effective:x16} permitted {caps.Permitted:x16} inheritable {caps.Inheritable:x16}");
    }

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

    /// <summary>Exactly process.capabilities.ambient. A capability that cannot be raised (it must be permitted and
    /// inheritable too) is a warning, not an error, as in runc.</summary>
    private static void SetAmbient(ulong ambient)
    {
        if (Steps.On)
            Steps.Report("capabilities", $"prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL); PR_CAP_AMBIENT_RAISE {Names(ambient)}",
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

    private static void SetUmask(uint mask)
    {
        if (Steps.On) Steps.Report("umask", $"umask(0{Convert.ToString(mask, 8)})", $"umask {Convert.ToString(mask, 8).PadLeft(4, '0')}");
        Libc.umask(mask);
    }

    private static void Prctl(int option, nuint value, string optionName, string valueText)
        => Errno.Check(Libc.prctl(option, value, 0, 0, 0), $"prctl({optionName}, {valueText})");

    private static string Names(ulong mask) => mask == 0 ? "(none)" : string.Join(",", CapabilitySets.Decode(mask));

    /// <summary>The last PATH= of process.env wins, as it does when init sets them one by one (runc).</summary>
    internal static string SearchPath(IReadOnlyList<string>? env)
    {
        string? path = null;
        foreach (var entry in env ?? [])
            if (entry.StartsWith("PATH=", StringComparison.Ordinal))
                path = entry["PATH=".Length..];
        return path ?? DefaultPath;
    }

    /// <summary>The fd ranges from 3 up that are not in <paramref name="kept"/> (sorted), for close_range.</summary>
    internal static List<(uint First, uint Last)> Gaps(int[] kept)
    {
        var ranges = new List<(uint, uint)>();
        uint from = 3;
        foreach (int fd in kept)
        {
            if (fd < from) continue;
            if (fd > from) ranges.Add((from, (uint)fd - 1));
            from = (uint)fd + 1;
        }
        ranges.Add((from, uint.MaxValue));
        return ranges;
    }

    private static void MarkByWalkingProcSelfFd(int[] kept)
    {
        // Collect first: the listing has an fd of its own, which may be gone by the time it is marked (EBADF).
        var open = ProcFs.OpenFds();
        foreach (int fd in open)
            if (fd >= 3 && Array.BinarySearch(kept, fd) < 0 && Libc.fcntl(fd, Libc.F_SETFD, Libc.FD_CLOEXEC) != 0 && Errno.Last is int errno and not EBADF)
                throw new SyscallException("fcntl(F_SETFD, FD_CLOEXEC)", errno, $"fd {fd}");
    }

    private static string Describe(int errno)
    {
        var text = Errno.Describe(errno);
        return text.Length == 0 ? text : char.ToLowerInvariant(text[0]) + text[1..];
    }

    private static string ShellQuote(string arg)
        => arg.Length > 0 && arg.All(c => char.IsAsciiLetterOrDigit(c) || "_-./=:,+@%".Contains(c)) ? arg : "'" + arg.Replace("'", "'\\''") + "'";

    private static unsafe byte* Utf8Z(string s)
    {
        int n = Encoding.UTF8.GetByteCount(s);
        var p = (byte*)NativeMemory.Alloc((nuint)n + 1);
        Encoding.UTF8.GetBytes(s, new Span<byte>(p, n));
        p[n] = 0;
        return p;
    }

    private static unsafe byte** Utf8ZArray(IReadOnlyList<string> items)
    {
        var array = (byte**)NativeMemory.Alloc((nuint)(items.Count + 1), (nuint)sizeof(byte*));
        for (int i = 0; i < items.Count; i++) array[i] = Utf8Z(items[i]);
        array[items.Count] = null;
        return array;
    }

    private static unsafe void FreeArray(byte** array, int count)
    {
        for (int i = 0; i < count; i++) NativeMemory.Free(array[i]);
        NativeMemory.Free(array);
    }
}
