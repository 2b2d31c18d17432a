using Cnr.Capabilities;
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
            Sys.Prlimit(rlimit);
        if (process.OomScoreAdj is int adj)
            Sys.WriteOomScoreAdj(adj);
        if (process.Scheduler is { } scheduler)
            Sys.SchedSetattr(scheduler);
        if (process.IoPriority is { } ioPriority)
            Sys.IoprioSet(ioPriority);
        if (process.Personality is { } persona)
            Sys.Personality(persona);
        if (process.CpuAffinityFinal is { } cpus)
            Sys.SchedSetaffinity(cpus, "process.execCPUAffinity.final");
    }

    /// <summary>Becomes process.user with process.capabilities, in runc's order (finalizeNamespace): drop the
    /// bounding set while still privileged; keep the permitted set across the uid change (PR_SET_KEEPCAPS);
    /// groups, gid, uid; then set effective/permitted/inheritable and the ambient set exactly. Then the umask,
    /// last because it must not apply to the files init itself creates while preparing the rootfs.</summary>
    public static void ApplyIdentity(ProcessPlan process)
    {
        var caps = process.Capabilities;
        Sys.DropBoundingSet(caps.Bounding, CapabilityTable.Last);
        Sys.SetKeepCaps(true);
        SetUser(process);
        Sys.SetKeepCaps(false);
        Sys.Capset(caps);
        Sys.SetAmbient(caps.Ambient);
        Sys.Umask(process.Umask);
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

        return Sys.LookPath(file, SearchPath(process.Env))
            ?? throw new FileNotFoundException($"exec: \"{file}\": executable file not found in $PATH", file);
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

        if (!Sys.CloseRangeCloexec(Gaps(kept)))
            MarkByWalkingProcSelfFd(kept);
    }

    /// <summary>execve(path, args, env) with the signals as the process expects them. Returns only by throwing: on
    /// success the process image is replaced (and with it every other thread of this one).</summary>
    public static void Exec(string path, IReadOnlyList<string> args, IReadOnlyList<string> env)
    {
        RestoreIgnoredSignals();
        Sys.Execve(path, args, env);
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

    /// <summary>groups, gid, uid: the raw system calls, on this thread only. Credentials belong to a thread;
    /// glibc's wrappers make them the process's by signalling every other thread to change its own (the setxid
    /// broadcast: a round trip through each of the runtime's threads, three times). The init needs no other
    /// thread to change: this thread is the one that calls execve, which ends every other thread and gives the
    /// new image this thread's credentials alone; until then the other threads (the runtime's own) run nothing
    /// for the container. capset and PR_SET_KEEPCAPS are per-thread already, and act on this same thread.</summary>
    private static void SetUser(ProcessPlan process)
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
            Sys.SetGroups(groups);
        Sys.SetResGid(gid);
        Sys.SetResUid(uid, gid, groups);
    }

    /// <summary>runc's fixStdioPermissions: stdio comes from outside, owned by the host's root; the process can use
    /// the open fds but, as another user, not reopen them (/dev/stdout, /proc/self/fd/1), so they
    /// become the user's. Unlike runc, only pipes, sockets and the container's own terminal: a file or a host
    /// terminal passed as stdio is the host's, and giving it to a container uid would be a leak.</summary>
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
            Sys.FchownStdio(n, fd, uid, st.Gid);
        }
    }

    /// <summary>A user namespace whose /proc/self/setgroups says "deny" (an unprivileged one) forbids setgroups
    /// for good; runc then leaves the groups alone unless the config asks for some.</summary>
    private static bool SetgroupsDenied()
    {
        try { return ProcFs.Read("self/setgroups")?.Trim() == "deny"; }
        catch (Exception e) when (e is SyscallException or InvalidOperationException) { return false; }
    }

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
}
