using Cnr.Cgroups;
using Cnr.Linux;
using Cnr.Lsm;
using Cnr.Namespaces;
using Cnr.Plan;
using Cnr.Process;
using Cnr.State;
using Cnr.Terminal;

namespace Cnr.Containers;

/// <summary>The flags of `cnr exec` that reach the library.</summary>
public sealed class ExecOptions
{
    public required ExecProcessOptions Process { get; init; }
    public string? PidFile { get; init; }
    public string? ConsoleSocket { get; init; }
    public bool Detach { get; init; }
    public int PreserveFds { get; init; }
    /// <summary>Exec into a paused container: the process starts frozen, and runs once it is resumed.</summary>
    public bool IgnorePaused { get; init; }
    /// <summary>exec --cgroup: a cgroup below the container's for the process, instead of the container's.</summary>
    public string? SubCgroup { get; init; }
}

/// <summary>`exec`: a new process in a running container — it joins every namespace the container has and
/// its cgroup, and gets the container's seccomp filter with its own capabilities and no_new_privs.</summary>
public static class ContainerExec
{
    public static int Exec(ContainerStore store, string id, ExecOptions o)
    {
        var c = Container.Load(store, id);
        Spec.Process execProcess;
        // Locked only to look: the process may run for long, and a `delete` must get through meanwhile.
        using (c)
        {
            if (!c.CanExec(o.IgnorePaused))
                throw new InvalidOperationException(c.Status switch
                {
                    // runc's words; a create still under way is cnr's own
                    ContainerStatus.Stopped => "cannot exec in a stopped container",
                    ContainerStatus.Paused => "cannot exec in a paused container (use --ignore-paused to override)",
                    _ => "cannot exec in a container that is still being created",
                });
            execProcess = ExecProcessBuilder.Build(c.Config.Process!, o.Process);
        }
        if (execProcess.Terminal && o.Detach && o.ConsoleSocket is null)
            throw new InvalidOperationException("cannot allocate a tty when cnr detaches without --console-socket");
        var (record, spec) = (c.Record, c.Config);
        var process = PlanCompiler.Process(execProcess, spec.Linux?.Personality, exec: true);
        var lsm = HostLsm.Plan(execProcess);
        using var consoleSocket = o.ConsoleSocket is null ? null : ConsoleSocket.Connect(o.ConsoleSocket);

        var joins = new List<(string, NamespaceType)>();
        foreach (var type in NamespaceType.All)
            if (spec.Linux?.Namespaces?.Any(n => n.Type == type.Type) == true)
                joins.Add(($"/proc/{record.Pid}/ns/{type.ProcName}", type));
        var inherit = new List<int>();
        for (int i = 0; i < o.PreserveFds; i++) inherit.Add(3 + i);
        var cgroup = record.CgroupPath is { Length: > 0 } cg && Directory.Exists(cg) ? CgroupManager.Load(cg).ForExec(record.Pid, o.SubCgroup)
            : o.SubCgroup is { } sub ? throw new CgroupException($"--cgroup {sub}: container {record.Id} has no cgroup") : c.Cgroup;

        InitProcess? init = null;
        SafeFd? master = null;
        try
        {
            init = InitProcess.Start(new LaunchRequest
            {
                Plan = new LaunchPlan
                {
                    Exec = true,
                    ContainerId = record.Id,
                    Bundle = record.Bundle,
                    PreserveFds = o.PreserveFds,
                    Process = process,
                    // Compiled here, on the host: init has joined the container's mount namespace and must not open libseccomp.
                    Seccomp = spec.Linux?.Seccomp is { } profile ? Seccomp.SeccompFilter.Compile(profile) : null,
                    Lsm = lsm,
                    // Without a mount namespace to join, the container is its init's chroot in the caller's
                    // (RootfsSetup.EnterRoot): the exec'd process is put in the same root.
                    Rootfs = spec.Linux?.Namespaces?.Any(n => n.Type == "mount") == true ? null
                        : new RootfsPlan { Path = record.Rootfs, SharedMountNamespace = true },
                },
                Linux = spec.Linux,
                Joins = joins,
                InheritFds = inherit,
                Cgroup = cgroup,
                MayStartFrozen = o.IgnorePaused,
            });
            var started = init;
            init.WaitCreated(onTerminal: m =>
            {
                if (consoleSocket is not null) { using (m) consoleSocket.Send(m); }
                else
                {
                    master = m;
                    if (!o.Detach) Terminal.TerminalForwarder.CopyWindowSize(m);
                }
            },
            onSeccompListener: listener =>
            {
                using (listener) Seccomp.SeccompListener.Send(spec.Linux!.Seccomp!, started.Pid, c.State(ContainerStatus.Running), listener);
            });
            init.WaitExec();
        }
        catch (Exception e)
        {
            master?.Dispose();
            init?.Kill();
            init?.Dispose();
            if (e is InitFailedException or SyscallException or IOException && Vanished(store, record) is { } why)
                throw new InvalidOperationException(why, e);
            throw;
        }
        using var _ = init;
        int pid = init.Pid;
        try { if (o.PidFile is not null) ContainerCreate.WritePidFile(o.PidFile, pid); }
        catch
        {
            // exec failed, so its process must not stay behind (as runc terminates it)
            master?.Dispose();
            init.Kill();
            throw;
        }
        if (o.Detach) { master?.Dispose(); return 0; }

        return ForegroundProcess.Wait(pid, master);
    }

    /// <summary>A `delete` (or the container's own end) between our status check and the joins: its namespaces,
    /// cgroup or init vanish under us, which shows as ENOENT, a killed init or a reset socket. A delete holds
    /// the container's lock until the state is gone: taking it first makes the answer certain.</summary>
    private static string? Vanished(ContainerStore store, ContainerRecord record)
    {
        try { using (ContainerLock.Take(store.DirOf(record.Id), TimeSpan.FromSeconds(2))) { } }
        catch (SyscallException) { } // the directory is gone already
        if (!store.Exists(record.Id)) return $"container {record.Id} was deleted while exec was starting";
        if (!ContainerStore.IsAlive(record.Pid, record.InitStartTime)) return $"container {record.Id} stopped while exec was starting";
        return null;
    }
}
