using System.Text;
using Cnr.Diagnostics;
using Cnr.Plan;

namespace Cnr.Linux;

/// <summary>The process attributes the init gives itself before it execs the container's process (process.rlimits,
/// oomScoreAdj, scheduler, ioPriority, execCPUAffinity, linux.personality, linux.sysctl, umask), its fds and
/// session, and the execve itself (<see cref="Cnr.Process.ProcessAttributes"/> and <see cref="Cnr.Process.Init"/>
/// decide which, and when).</summary>
public static partial class Sys
{
    /// <summary>prlimit(2) on this process: process.rlimits, one entry.</summary>
    public static unsafe void Prlimit(Rlimit rlimit)
    {
        string type = Process.RlimitTable.Name(rlimit.Resource);
        if (Steps.On)
            Steps.Report("rlimit", $"prlimit(0, {type}, {{soft {Limit(rlimit.Soft)}, hard {Limit(rlimit.Hard)}}})",
                $"prlimit --pid $$ --{type["RLIMIT_".Length..].ToLowerInvariant()}={Limit(rlimit.Soft)}:{Limit(rlimit.Hard)}");
        var limit = new Libc.Rlimit { Cur = rlimit.Soft, Max = rlimit.Hard };
        Errno.Check(Libc.prlimit(0, rlimit.Resource, &limit, null), "prlimit",
            $"`{type}` to soft {Limit(rlimit.Soft)} hard {Limit(rlimit.Hard)}");
    }

    private static string Limit(ulong value) => value == Libc.RLIM_INFINITY ? "unlimited" : value.ToString();

    /// <summary>process.oomScoreAdj, written to /proc/self/oom_score_adj (the runtime's procfs).</summary>
    public static void WriteOomScoreAdj(int adj)
    {
        if (Steps.On) Steps.Report("oom_score_adj", $"write /proc/self/oom_score_adj {adj}", $"echo {adj} > /proc/self/oom_score_adj");
        ProcFs.Write("self/oom_score_adj", adj.ToString());
    }

    /// <summary>linux.sysctl, one entry: <paramref name="path"/> is its file under the runtime's procfs (sys/…).</summary>
    public static void WriteSysctl(string key, string path, string value)
    {
        if (Steps.On) Steps.Report("sysctl", $"write /proc/{path} = {value}", $"sysctl -w {key}={value}");
        ProcFs.Write(path, value);
    }

    /// <summary>sched_setattr(2) on this thread: process.scheduler.</summary>
    public static unsafe void SchedSetattr(SchedulerPlan s)
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

    /// <summary>ioprio_set(2) on this thread: process.ioPriority, as PlanCompiler encoded it (class &lt;&lt; 13 | level).</summary>
    public static void IoprioSet(int value)
    {
        int ioClass = value >> Libc.IOPRIO_CLASS_SHIFT, level = value & ((1 << Libc.IOPRIO_CLASS_SHIFT) - 1);
        string className = PlanCompiler.IoPriorityClasses[ioClass - 1];
        if (Steps.On)
            Steps.Report("ioprio", $"ioprio_set(IOPRIO_WHO_PROCESS, 0, IOPRIO_PRIO_VALUE({className}, {level}))",
                $"ionice -c {ioClass} -n {level} -p $$");
        if (Libc.syscall(Libc.SYS_ioprio_set, Libc.IOPRIO_WHO_PROCESS, 0, value, 0, 0, 0) < 0)
            throw new SyscallException("ioprio_set", Errno.Last, $"`{className}` priority {level}");
    }

    /// <summary>personality(2): linux.personality (0 is PER_LINUX, else PER_LINUX32).</summary>
    public static void Personality(uint persona)
    {
        string domain = persona == 0 ? "PER_LINUX" : "PER_LINUX32";
        if (Steps.On) Steps.Report("personality", $"personality({domain})", persona == 0 ? "setarch linux64" : "setarch linux32");
        if (Libc.personality(persona) < 0)
            throw new SyscallException("personality", Errno.Last, $"`{domain}` (linux.personality)");
    }

    /// <summary>sched_setaffinity(2) on the calling thread; <paramref name="field"/> names the config field the mask
    /// comes from, for the error.</summary>
    public static unsafe void SchedSetaffinity(ulong[] mask, string field)
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

    /// <summary>umask(2): process.user.umask.</summary>
    public static void Umask(uint mask)
    {
        if (Steps.On) Steps.Report("umask", $"umask(0{Convert.ToString(mask, 8)})", $"umask {Convert.ToString(mask, 8).PadLeft(4, '0')}");
        Libc.umask(mask);
    }

    /// <summary>close_range(2) with CLOSE_RANGE_CLOEXEC over each of <paramref name="ranges"/>, reported as one step.
    /// False when this kernel cannot (ENOSYS before Linux 5.9, EINVAL for the flag before 5.11): the caller then
    /// marks the fds one by one.</summary>
    public static bool CloseRangeCloexec(IReadOnlyList<(uint First, uint Last)> ranges)
    {
        if (Steps.On)
            Steps.Report("fds", string.Join("; ", ranges.Select(r => $"close_range({r.First}, {(r.Last == uint.MaxValue ? "~0U" : r.Last)}, CLOSE_RANGE_CLOEXEC)")));
        foreach (var (first, last) in ranges)
        {
            if (Libc.syscall(Libc.SYS_close_range, (nint)first, (nint)last, (nint)Libc.CLOSE_RANGE_CLOEXEC, 0, 0, 0) == 0)
                continue;
            var errno = Errno.Last;
            if (errno is not (Error.ENOSYS or Error.EINVAL))
                throw new SyscallException("close_range", errno, $"{first}..{last} CLOSE_RANGE_CLOEXEC");
            return false;
        }
        return true;
    }

    /// <summary>dup3(2) of the container's /dev/null (<paramref name="devNull"/>, open) onto stdio fd <paramref name="fd"/>,
    /// which was the host's /dev/null.</summary>
    public static void DupDevNullOnto(SafeFd devNull, int fd)
    {
        if (Steps.On) Steps.Report("stdio", $"dup3(open(\"/dev/null\"), {fd}) (the host's /dev/null becomes the container's)", null);
        Errno.Check(Libc.dup3(devNull, fd, 0), "dup3", "/dev/null");
    }

    /// <summary>setsid(2): the init leads a session of its own (without a terminal; with one, the terminal's
    /// setup does it).</summary>
    public static void NewSession()
    {
        if (Steps.On) Steps.Report("terminal", "setsid() (the init leads its own session)", "setsid");
        Errno.Check(Libc.setsid(), "setsid");
    }

    /// <summary>The search of execvp(3) (and of Go's exec.LookPath, runc's): the first directory of
    /// <paramref name="searchPath"/> where <paramref name="file"/> is executable (access(2) X_OK) and not a
    /// directory; null when there is none. Reported once found: the lookup's result is the step.</summary>
    public static string? LookPath(string file, string searchPath)
    {
        foreach (var dir in searchPath.Split(':'))
        {
            var candidate = Path.Join(dir.Length == 0 ? "." : dir, file);
            if (Libc.access(candidate, Libc.X_OK) == 0 && !Directory.Exists(candidate))
            {
                if (Steps.On) Steps.Report("exec", $"{file} → {candidate} (PATH lookup)", $"command -v {file}");
                return candidate;
            }
        }
        return null;
    }

    /// <summary>execve(2). Returns only by throwing: on success the process image is replaced (and with it every
    /// other thread of this one).</summary>
    public static unsafe void Execve(string path, IReadOnlyList<string> args, IReadOnlyList<string> env)
    {
        if (Steps.On)
            Steps.Report("exec", $"execve(\"{path}\", [{string.Join(", ", args.Select(a => "\"" + a + "\""))}], [{env.Count} variables])",
                "exec env -i " + string.Join(' ', env.Concat(args).Select(ShellWord)));
        using var strings = new NativeStrings();
        byte* pathZ = strings.Get(path);
        byte** argv = strings.Array(args);
        byte** envp = strings.Array(env);
        Libc.execve(pathZ, argv, envp);
        throw new SyscallException("execve", Errno.Last, $"`{path}`");
    }

    /// <summary>One word of the exec step's shell line, quoted unless it is plainly safe.</summary>
    private static string ShellWord(string arg)
        => arg.Length > 0 && arg.All(c => char.IsAsciiLetterOrDigit(c) || "_-./=:,+@%".Contains(c)) ? arg : "'" + arg.Replace("'", "'\\''") + "'";
}
