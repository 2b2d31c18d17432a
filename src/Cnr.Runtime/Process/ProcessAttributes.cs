using System.Text;
using Cnr.Capabilities;
using Cnr.Diagnostics;
using Cnr.Linux;
using Cnr.Plan;

namespace Cnr.Process;

/// <summary>What init does to itself so that the process it execs has the attributes config.json asks for:
/// resource limits, scheduling, user and groups, capabilities, umask, no_new_privs, open fds.
/// Capabilities, keepcaps, no_new_privs, the scheduling policy and the I/O priority belong to a thread, not to
/// the process: every method here must run on the thread that will call <see cref="Exec"/>, and none starts one.</summary>
public static class ProcessAttributes
{
    private const string DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    /// <summary>The attributes that need privileges init gives up later (raising a hard limit, lowering
    /// oom_score_adj, a real-time policy): process.rlimits, oomScoreAdj, scheduler, ioPriority.</summary>
    public static void ApplyEarly(ProcessPlan process)
    {
        foreach (var rlimit in process.Rlimits)
            SetRlimit(rlimit);
        if (process.OomScoreAdj is int adj)
            SetOomScoreAdj(adj);
        if (process.Scheduler is { } scheduler)
            SetScheduler(scheduler);
        if (process.IoPriority is { } ioPriority)
            SetIoPriority(ioPriority);
        if (process.Personality is { } persona)
            SetPersonality(persona);
        if (process.CpuAffinityFinal is { } cpus)
            SetAffinity(cpus, "process.execCPUAffinity.final");
    }

    /// <summary>Becomes process.user with process.capabilities, in runc's order (finalizeNamespace): drop the
    /// bounding set while still privileged; keep the permitted set across the uid change (PR_SET_KEEPCAPS);
    /// groups, gid, uid; then set effective/permitted/inheritable and the ambient set exactly. Then the umask,
    /// last because it must not apply to the files init itself creates while preparing the rootfs.</summary>
    public static void ApplyIdentity(ProcessPlan process)
    {
        var caps = process.Capabilities;
        DropBoundingSet(caps.Bounding, CapabilityTable.Last);
        Prctl(Libc.PR_SET_KEEPCAPS, 1, "PR_SET_KEEPCAPS", "1");
        SetUser(process);
        Prctl(Libc.PR_SET_KEEPCAPS, 0, "PR_SET_KEEPCAPS", "0");
        SetCapabilities(caps);
        SetAmbient(caps.Ambient);
        SetUmask(process.Umask);
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
    public static string ResolveExecutable(ProcessPlan process)
    {
        // process.args[0] is there and not empty: the validator (create) and ContainerExec (exec) say so.
        string file = process.Args[0];
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
                Errno.Check(Libc.fcntl(SafeFd.Borrow(fd), Libc.F_SETFD, 0), "fcntl(F_SETFD, 0)", $"fd {fd} (preserved)");

        var ranges = Gaps(kept);
        if (Steps.On)
            Steps.Report("fds", string.Join("; ", ranges.Select(r => $"close_range({r.First}, {(r.Last == uint.MaxValue ? "~0U" : r.Last)}, CLOSE_RANGE_CLOEXEC)")));
        foreach (var (first, last) in ranges)
        {
            if (Libc.syscall(Libc.SYS_close_range, (nint)first, (nint)last, (nint)Libc.CLOSE_RANGE_CLOEXEC, 0, 0, 0) == 0)
                continue;
            var errno = Errno.Last;
            // ENOSYS before Linux 5.9, EINVAL for CLOSE_RANGE_CLOEXEC before 5.11.
            if (errno is not (Error.ENOSYS or Error.EINVAL))
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
        using var strings = new NativeStrings();
        byte* pathZ = strings.Get(path);
        byte** argv = strings.Array(args);
        byte** envp = strings.Array(env);
        RestoreIgnoredSignals();
        Libc.execve(pathZ, argv, envp);
        throw new SyscallException("execve", Errno.Last, $"`{path}`");
    }

    /// <summary>Puts the signals this process ignores back to their default, as the container's process gets them
    /// under runc: an ignored signal survives execve, and the .NET runtime ignores SIGPIPE (a pipeline's writer
    /// would get EPIPE instead of dying). Handlers need nothing: execve resets them. Right before execve, because
    /// until then the init itself relies on EPIPE (a hook that does not read its stdin); best effort, because a
    /// seccomp filter loaded earlier may refuse rt_sigaction.</summary>
    private static unsafe void RestoreIgnoredSignals()
    {
        const int SIGKILL = 9, SIGSTOP = 19, LastSignal = 64;
        const ulong SIG_IGN = 1;
        // struct kernel_sigaction: handler, flags, restorer, mask; all zero is SIG_DFL with an empty mask
        ulong* old = stackalloc ulong[4];
        ulong* dfl = stackalloc ulong[4] { 0, 0, 0, 0 };
        for (int sig = 1; sig <= LastSignal; sig++)
        {
            if (sig is SIGKILL or SIGSTOP) continue;
            if (Libc.syscall(Libc.SYS_rt_sigaction, sig, 0, (nint)old, sizeof(ulong), 0, 0) == 0 && old[0] == SIG_IGN)
                Libc.syscall(Libc.SYS_rt_sigaction, sig, (nint)dfl, 0, sizeof(ulong), 0, 0);
        }
    }

    private static unsafe void SetRlimit(Rlimit rlimit)
    {
        string type = RlimitTable.Name(rlimit.Resource);
        if (Steps.On)
            Steps.Report("rlimit", $"prlimit(0, {type}, {{soft {Limit(rlimit.Soft)}, hard {Limit(rlimit.Hard)}}})",
                $"prlimit --pid $$ --{type["RLIMIT_".Length..].ToLowerInvariant()}={Limit(rlimit.Soft)}:{Limit(rlimit.Hard)}");
        var limit = new Libc.Rlimit { Cur = rlimit.Soft, Max = rlimit.Hard };
        Errno.Check(Libc.prlimit(0, rlimit.Resource, &limit, null), "prlimit",
            $"`{type}` to soft {Limit(rlimit.Soft)} hard {Limit(rlimit.Hard)}");
    }

    private static string Limit(ulong value) => value == Libc.RLIM_INFINITY ? "unlimited" : value.ToString();

    private static void SetOomScoreAdj(int adj)
    {
        if (Steps.On) Steps.Report("oom_score_adj", $"write /proc/self/oom_score_adj {adj}", $"echo {adj} > /proc/self/oom_score_adj");
        ProcFs.Write("self/oom_score_adj", adj.ToString());
    }

    private static unsafe void SetScheduler(SchedulerPlan s)
    {
        var attr = SchedAttr(s);
        string policy = PlanCompiler.SchedPolicies[s.Policy];
        if (Steps.On)
            Steps.Report("scheduler", $"sched_setattr(0, {{policy {policy}, nice {attr.Nice}, priority {attr.Priority}, flags 0x{attr.Flags:x}}}, 0)",
                SchedulerShell(policy, attr));
        if (Libc.syscall(Libc.SYS_sched_setattr, 0, (nint)(&attr), 0, 0, 0, 0) < 0)
            throw new SyscallException("sched_setattr", Errno.Last,
                $"`{policy}` nice {attr.Nice} priority {attr.Priority} runtime {attr.Runtime} deadline {attr.Deadline} period {attr.Period}");
    }

    /// <summary>process.scheduler as struct sched_attr.</summary>
    internal static unsafe Libc.SchedAttr SchedAttr(SchedulerPlan s) => new()
    {
        Size = (uint)sizeof(Libc.SchedAttr),
        Policy = s.Policy,
        Flags = s.Flags,
        Nice = s.Nice,
        Priority = s.Priority,
        Runtime = s.Runtime,
        Deadline = s.Deadline,
        Period = s.Period,
    };

    private static string SchedulerShell(string policy, Libc.SchedAttr attr)
    {
        var sb = new StringBuilder("chrt --").Append(policy["SCHED_".Length..].ToLowerInvariant());
        if ((attr.Flags & 1) != 0) sb.Append(" --reset-on-fork");
        if (attr.Runtime != 0) sb.Append(" --sched-runtime ").Append(attr.Runtime);
        if (attr.Deadline != 0) sb.Append(" --sched-deadline ").Append(attr.Deadline);
        if (attr.Period != 0) sb.Append(" --sched-period ").Append(attr.Period);
        sb.Append(" -p ").Append(attr.Priority).Append(" $$");
        if (attr.Nice != 0) sb.Append("; renice -n ").Append(attr.Nice).Append(" -p $$");
        return sb.ToString();
    }

    private static void SetIoPriority(int value)
    {
        int ioClass = value >> Libc.IOPRIO_CLASS_SHIFT, level = value & ((1 << Libc.IOPRIO_CLASS_SHIFT) - 1);
        string className = PlanCompiler.IoPriorityClasses[ioClass - 1];
        if (Steps.On)
            Steps.Report("ioprio", $"ioprio_set(IOPRIO_WHO_PROCESS, 0, IOPRIO_PRIO_VALUE({className}, {level}))",
                $"ionice -c {ioClass} -n {level} -p $$");
        if (Libc.syscall(Libc.SYS_ioprio_set, Libc.IOPRIO_WHO_PROCESS, 0, value, 0, 0, 0) < 0)
            throw new SyscallException("ioprio_set", Errno.Last, $"`{className}` priority {level}");
    }

    private static void SetPersonality(uint persona)
    {
        string domain = persona == 0 ? "PER_LINUX" : "PER_LINUX32";
        if (Steps.On) Steps.Report("personality", $"personality({domain})", persona == 0 ? "setarch linux64" : "setarch linux32");
        if (Libc.personality(persona) < 0)
            throw new SyscallException("personality", Errno.Last, $"`{domain}` (linux.personality)");
    }

    /// <summary>Moves the calling thread (the one that execs) onto the CPUs of <paramref name="mask"/>; the parent does
    /// the same for process.execCPUAffinity.initial around the clone (InitProcess).</summary>
    public static unsafe void SetAffinity(ulong[] mask, string field)
    {
        if (Steps.On) Steps.Report("affinity", $"sched_setaffinity(0, {{{CpuList(mask)}}})", $"taskset -p -c {CpuList(mask)} $$");
        fixed (ulong* m = mask)
            if (Libc.sched_setaffinity(0, (nuint)(mask.Length * sizeof(ulong)), m) < 0)
                throw new SyscallException("sched_setaffinity", Errno.Last, $"CPUs {CpuList(mask)} ({field}; the container's cpuset may not have them)");
    }

    /// <summary>A mask back in cpuset's list form, for messages and the steps.</summary>
    public static string CpuList(ulong[] mask)
    {
        var parts = new List<string>();
        for (int cpu = 0; cpu < mask.Length * 64; cpu++)
        {
            if ((mask[cpu / 64] & (1UL << (cpu % 64))) == 0) continue;
            int last = cpu;
            while (last + 1 < mask.Length * 64 && (mask[(last + 1) / 64] & (1UL << ((last + 1) % 64))) != 0) last++;
            parts.Add(last == cpu ? $"{cpu}" : $"{cpu}-{last}");
            cpu = last;
        }
        return string.Join(',', parts);
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

    /// <summary>groups, gid, uid: the raw system calls, on this thread only. Credentials belong to a thread;
    /// glibc's wrappers make them the process's by signalling every other thread to change its own (the setxid
    /// broadcast: a round trip through each of the runtime's threads, three times). The init needs no other
    /// thread to change: this thread is the one that calls execve, which ends every other thread and gives the
    /// new image this thread's credentials alone; until then the other threads (the runtime's own) run nothing
    /// for the container. capset and PR_SET_KEEPCAPS are per-thread already, and act on this same thread.</summary>
    private static unsafe void SetUser(ProcessPlan process)
    {
        uint uid = process.Uid, gid = process.Gid;
        var groups = process.AdditionalGids;
        GiveStdioTo(uid, process.Terminal);
        if (SetgroupsDenied())
        {
            if (groups.Length > 0)
                throw new InvalidOperationException("process.user.additionalGids: cannot be set: setgroups is denied in this user namespace "
                    + "(remove additionalGids, or map the groups with a user namespace that allows setgroups)");
        }
        else
        {
            if (Steps.On) Steps.Report("user", $"setgroups([{string.Join(", ", groups)}])", null);
            fixed (uint* p = groups)
                Errno.Check(Libc.syscall(Libc.SYS_setgroups, groups.Length, (nint)p, 0, 0, 0, 0), "setgroups", $"[{string.Join(", ", groups)}]");
        }

        if (Steps.On)
        {
            Steps.Report("user", $"setresgid({gid}, {gid}, {gid})", null);
            Steps.Report("user", $"setresuid({uid}, {uid}, {uid})",
                $"setpriv --reuid {uid} --regid {gid} " + (groups.Length == 0 ? "--clear-groups" : "--groups " + string.Join(",", groups)));
        }
        if (Libc.syscall(Libc.SYS_setresgid, (nint)gid, (nint)gid, (nint)gid, 0, 0, 0) != 0)
            throw IdError("setresgid", gid, "gid", "linux.gidMappings");
        if (Libc.syscall(Libc.SYS_setresuid, (nint)uid, (nint)uid, (nint)uid, 0, 0, 0) != 0)
            throw IdError("setresuid", uid, "uid", "linux.uidMappings");
    }

    /// <summary>runc's fixStdioPermissions: stdio comes from outside, owned by the host's root; the process can use
    /// the open fds but, as another user, not reopen them (/dev/stdout, /proc/self/fd/1), so they
    /// become the user's. Unlike runc, only pipes, sockets and the container's own terminal: a file or a host
    /// terminal passed as stdio is the host's, and giving it to a container uid would be a leak. An owner with no
    /// mapping here (EINVAL, EPERM) or a read-only /dev (EROFS) leaves it as it is, as in runc.</summary>
    private static void GiveStdioTo(uint uid, bool terminal)
    {
        for (int n = 0; n <= 2; n++)
        {
            var fd = SafeFd.Borrow(n);
            if (Libc.StatX(fd, "", 0, out var st) != 0)
            {
                if (Errno.Last is Error.EBADF) continue; // closed: nothing to give
                throw new SyscallException("statx", Errno.Last, $"fd {n}");
            }
            bool ours = (st.Mode & Libc.S_IFMT) switch
            {
                Libc.S_IFIFO or Libc.S_IFSOCK => true,
                Libc.S_IFCHR => terminal && (st.RdevMajor, st.RdevMinor) != (1, 3), // not /dev/null
                _ => false,
            };
            if (!ours || st.Uid == uid) continue;
            if (Steps.On) Steps.Report("user", $"fchown({n}, {uid}, {st.Gid})", null);
            if (Libc.fchown(fd, uid, st.Gid) != 0 && Errno.Last is var errno and not (Error.EINVAL or Error.EPERM or Error.EROFS))
                throw new SyscallException("fchown", errno, $"fd {n} to uid {uid}");
        }
    }

    /// <summary>EINVAL from set*id means the id has no mapping in this user namespace: say so.</summary>
    private static SyscallException IdError(string call, uint id, string kind, string mappings)
    {
        var errno = Errno.Last;
        return new SyscallException(call, errno, errno == Error.EINVAL ? $"to {kind} {id} (not mapped in {mappings}?)" : $"to {kind} {id}");
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
            if (fd >= 3 && Array.BinarySearch(kept, fd) < 0 && Libc.fcntl(SafeFd.Borrow(fd), Libc.F_SETFD, Libc.FD_CLOEXEC) != 0 && Errno.Last is var errno and not Error.EBADF)
                throw new SyscallException("fcntl(F_SETFD, FD_CLOEXEC)", errno, $"fd {fd}");
    }

    private static string Describe(Error errno)
    {
        var text = Errno.Describe(errno);
        return text.Length == 0 ? text : char.ToLowerInvariant(text[0]) + text[1..];
    }

    private static string ShellQuote(string arg)
        => arg.Length > 0 && arg.All(c => char.IsAsciiLetterOrDigit(c) || "_-./=:,+@%".Contains(c)) ? arg : "'" + arg.Replace("'", "'\\''") + "'";
}
