using System.Text;
using Cnr.Diagnostics;
using Cnr.Namespaces;
using Cnr.Process;

namespace Cnr.Linux;

/// <summary>The init's start, seen from the parent: the clone native/ makes, and the init's own steps, which
/// its Sys reports over the sync socket and the parent reports again as they arrive.</summary>
public static partial class Sys
{
    /// <summary>The clone of the init and the execve of `cnr init` in it, both made by native/cnr_native.c
    /// (cnr_spawn: clone, or clone3 into the cgroup of request.CgroupFd, then the unshares and setns of
    /// <paramref name="request"/>): reported here, right before the call, as what the native side will do.
    /// <paramref name="newNamespaces"/> and <paramref name="joins"/> are all the config asks for, for the step (the
    /// mount namespace is joined by the new image's constructor, not by the request); <paramref name="cgroupPath"/>
    /// names the cgroup, <paramref name="image"/> the file the init runs. With <paramref name="initialAffinity"/>
    /// (process.execCPUAffinity.initial) the clone is made from this thread moved onto those CPUs, which the child
    /// inherits; the thread gets its own mask back after. Returns the child's pid.</summary>
    internal static int CloneInit(NativeSpawn.Request request, ulong newNamespaces, IReadOnlyList<(string Path, NamespaceType Type)> joins,
        string? cgroupPath, string image, ulong[]? initialAffinity)
    {
        if (Steps.On)
        {
            Steps.Report("clone", (request.CgroupFd < 0 ? $"clone({NamespaceType.FlagNames(request.CloneFlags)}|SIGCHLD)"
                    : $"clone3({NamespaceType.FlagNames(request.CloneFlags)}|CLONE_INTO_CGROUP, cgroup={cgroupPath})")
                + (request.UnshareFlags != 0 ? $"; unshare({NamespaceType.FlagNames(request.UnshareFlags)})" : "")
                + (request.LateUnshareFlags != 0 ? $"; after joining its cgroup: unshare({NamespaceType.FlagNames(request.LateUnshareFlags)})" : "")
                + string.Concat(joins.Select(j => $"; setns(\"{j.Path}\", {NamespaceType.FlagNames(j.Type.CloneFlag)})")),
                NamespacesShell(newNamespaces, joins));
            string? exePath = request.ExePath;
            Steps.Report("exec", exePath is null
                ? $"execveat(memfd:{Path.GetFileName(image)}, \"cnr init\"): a sealed copy of {image}, so the container can never write the host's file"
                : $"mount --bind -o ro {exePath} {exePath}; execve(\"{exePath}\", \"cnr init\"): read-only, so the container can never write the host's file",
                exePath is null ? null : $"mount --make-rslave / && mount --bind {exePath} {exePath} && mount -o remount,bind,ro {exePath}");
        }
        using var affinity = initialAffinity is { } initial ? ThreadAffinity.Set(initial) : null;
        return NativeSpawn.Spawn(request);
    }

    /// <summary>The clone step's shell equivalent: nsenter into the namespaces joined (exec's, or a config's
    /// namespace paths), then unshare of the new ones (nsenter runs it inside the joined ones); null when the child
    /// neither joins nor makes one, where an empty `unshare` would say nothing true.</summary>
    internal static string? NamespacesShell(ulong newNamespaces, IReadOnlyList<(string Path, NamespaceType Type)> joins)
    {
        var made = NamespaceType.All.Where(n => (newNamespaces & n.CloneFlag) != 0).Select(n => n.UnshareOption).ToList();
        var unshare = made.Count == 0 ? null : "unshare " + string.Join(' ', made);
        if (joins.Count == 0) return unshare;
        // exec joins its container's init's /proc/PID/ns/*: nsenter --target PID names each by its type alone.
        var pid = JoinTarget(joins);
        var nsenter = pid is null
            ? "nsenter " + string.Join(' ', joins.Select(j => $"{j.Type.NsenterOption}={ShellWord(j.Path)}"))
            : $"nsenter --target {pid} " + string.Join(' ', joins.Select(j => j.Type.NsenterOption));
        return unshare is null ? nsenter : nsenter + " " + unshare;
    }

    /// <summary>The pid whose /proc/PID/ns/TYPE every join is, when they all are one process's; else null.</summary>
    private static string? JoinTarget(IReadOnlyList<(string Path, NamespaceType Type)> joins)
    {
        string? pid = null;
        foreach (var (path, type) in joins)
        {
            var parts = path.Split('/');
            if (parts is not ["", "proc", var p, "ns", var name] || name != type.ProcName || !p.All(char.IsAsciiDigit) || p.Length == 0) return null;
            if (pid is not null && pid != p) return null;
            pid = p;
        }
        return pid;
    }

    /// <summary>The calling thread's CPU mask, changed for a while: disposing puts the old one back.</summary>
    private sealed unsafe class ThreadAffinity : IDisposable
    {
        private readonly ulong[] _old = new ulong[128]; // 8192 CPUs, PlanCompiler's limit

        private ThreadAffinity() { }

        public static ThreadAffinity Set(ulong[] mask)
        {
            var saved = new ThreadAffinity();
            fixed (ulong* old = saved._old)
                if (Libc.sched_getaffinity(0, (nuint)(saved._old.Length * sizeof(ulong)), old) < 0)
                    throw new SyscallException("sched_getaffinity", Errno.Last, "the runtime's own thread");
            SchedSetaffinity(mask, "process.execCPUAffinity.initial");
            return saved;
        }

        public void Dispose()
        {
            fixed (ulong* old = _old)
                Libc.sched_setaffinity(0, (nuint)(_old.Length * sizeof(ulong)), old);
        }
    }

    /// <summary>Whether the init should send its steps back over the sync socket: only when this process shows them
    /// (--explain, --debug).</summary>
    internal static bool InitSendsSteps => Steps.On;

    /// <summary>A step of the init as it crosses the sync socket (<see cref="SyncMessage.Step"/>): its fields,
    /// NUL-separated.</summary>
    internal static string InitStepPayload(Step step) => $"{step.Mechanism}\0{step.Call}\0{step.Shell}";

    /// <summary>Reports a step the init made (<see cref="InitStepPayload"/>) in the parent, where the views are;
    /// returns its call, for the message should the init die next.</summary>
    internal static string RelayInitStep(byte[] payload)
    {
        var parts = Encoding.UTF8.GetString(payload).Split('\0');
        Steps.Report(parts[0], parts.Length > 1 ? parts[1] : "", parts.Length > 2 && parts[2].Length > 0 ? parts[2] : null);
        return parts.Length > 1 ? parts[1] : parts[0];
    }
}
