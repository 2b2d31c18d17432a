using System.Text.Json;
using Cnr.Cgroups;
using Cnr.Diagnostics;
using Cnr.Hooks;
using Cnr.Linux;
using Cnr.Lsm;
using Cnr.Namespaces;
using Cnr.Process;
using Cnr.Rootfs;
using Cnr.Seccomp;
using Cnr.Spec;
using Cnr.Terminal;
using Cnr.State;

namespace Cnr.Containers;

/// <summary>`create`: everything but the user's process. Validation happens before anything exists, and a
/// failure after that removes what was made (init, cgroup, state dir): bad input leaves nothing behind.
/// The container comes back created (its init waiting on the exec fifo), locked, with the init's sync socket
/// still open: `run` goes on to start it.</summary>
public static class ContainerCreate
{
    public static Container Create(CreateOptions o)
    {
        ContainerId.Validate(o.Id);
        var bundle = Path.GetFullPath(o.Bundle);
        var plan = SpecPlan.Compile(bundle, o.Id);
        var (spec, process, launch) = (plan.Spec, plan.Process, plan.Launch);
        if (process.Terminal && !o.Foreground && o.ConsoleSocket is null)
            throw new SpecException("process.terminal: cannot allocate a tty when cnr detaches without --console-socket (pass --console-socket, or set process.terminal to false)");
        var rootfs = launch.Rootfs!.Path;
        var namespaces = spec.Linux?.Namespaces ?? [];
        using var consoleSocket = o.ConsoleSocket is null ? null : ConsoleSocket.Connect(o.ConsoleSocket);

        var store = new ContainerStore(o.StateRoot);
        var lk = store.Create(o.Id);
        InitProcess? init = null;
        ICgroupManager? cgroup = null;
        SafeFd? fifo = null;
        ulong? rootfsMountBefore = null;
        try
        {
            ulong newNs = 0;
            var joins = new List<(string, NamespaceType)>();
            foreach (var ns in namespaces)
            {
                var type = NamespaceType.Find(ns.Type)!;
                if (ns.Path is { Length: > 0 } p) joins.Add((p, type));
                else newNs |= type.CloneFlag;
            }
            cgroup = CgroupDriver.For(o.Id, spec.Linux, o.SystemdCgroup);
            if (launch.Rootfs.SharedMountNamespace)
            {
                Errno.Check(Libc.MountId(SafeFd.AtCwd, rootfs, out ulong mountId), "statx", $"{rootfs} (root.path)");
                rootfsMountBefore = mountId;
            }
            // Recorded before anything exists, and again as soon as the init does: a `cnr create` killed at any
            // point leaves a container that `list` shows ("creating", or "stopped" once its init is gone) and
            // that `delete --force` removes — processes, cgroup and state — from this record alone.
            var record = new ContainerRecord
            {
                Id = o.Id,
                Bundle = bundle,
                Rootfs = rootfs,
                Created = DateTime.UtcNow,
                Owner = Libc.geteuid() == 0 ? "root" : Libc.geteuid().ToString(),
                CgroupPath = cgroup.FullPath,
                SystemdUnit = (cgroup as SystemdCgroup)?.Unit,
                NewPidNamespace = (newNs & NamespaceType.CLONE_NEWPID) != 0,
                RootfsMountId = rootfsMountBefore,
                Creating = true,
                OciVersion = spec.OciVersion,
                Annotations = spec.Annotations,
                HasPoststartHooks = spec.Hooks?.Poststart is { Count: > 0 },
                HasPoststopHooks = spec.Hooks?.Poststop is { Count: > 0 },
                LoadedConfig = spec,
            };
            store.SaveConfig(record, plan.Json);
            store.Save(record);

            var fifoPath = store.FifoPath(o.Id);
            Errno.Check(Libc.mkfifo(fifoPath, 0b110_010_010), "mkfifo", fifoPath);
            // 0622 whatever the caller's umask: an init that switched to another uid must still open it.
            File.SetUnixFileMode(fifoPath, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupWrite | UnixFileMode.OtherWrite);
            fifo = SafeFd.Check(Libc.open(fifoPath, Libc.O_PATH | Libc.O_CLOEXEC, 0), "open", fifoPath);

            cgroup.Create();

            // Numbers the init inherits across execve and finds in its plan (the handles stay open until it has them).
            var inherit = new List<int> { fifo.Fd };
            // An init in a user namespace reaches the host's paths as its mapped root: the bind sources come from
            // here, cloned with the host root's reach.
            bool userNs = (newNs & NamespaceType.CLONE_NEWUSER) != 0 || joins.Any(j => j.Item2.CloneFlag == NamespaceType.CLONE_NEWUSER);
            Func<int, List<SafeFd>>? cloneBindSources = null;
            if (userNs && Libc.geteuid() == 0 && SpecMounts.MarkSourcesFromParent(launch.Rootfs))
                cloneBindSources = mountNs => SpecMounts.CloneSourcesIn(mountNs, launch.Rootfs, bundle);
            for (int i = 0; i < o.PreserveFds; i++) inherit.Add(3 + i);

            var cg = cgroup;
            launch.Rootfs.NoPivot = o.NoPivot;
            launch.FifoFd = fifo.Fd;
            launch.PreserveFds = o.PreserveFds;
            init = InitProcess.Start(new LaunchRequest
            {
                Plan = launch,
                Linux = spec.Linux,
                NewNamespaces = newNs,
                Joins = joins,
                InheritFds = inherit,
                CloneBindSources = cloneBindSources,
                Cgroup = cg,
                OnPid = pid =>
                {
                    record.Pid = pid;
                    record.InitStartTime = ProcStat.Read(pid)?.StartTime ?? 0;
                    store.Save(record);
                },
            });
            // A systemd scope has its cgroup only once the unit exists (started with the init's pid, in Start).
            if (record.CgroupPath != cgroup.FullPath)
            {
                record.CgroupPath = cgroup.FullPath;
                store.Save(record);
            }

            var created = new Container(store, record, ContainerStatus.Created, lk) { Init = init };
            var initRef = init;
            init.WaitCreated(
                onHooks: () =>
                {
                    var state = created.State(ContainerStatus.Creating);
                    HookRunner.Run("prestart", spec.Hooks?.Prestart, state);
                    HookRunner.Run("createRuntime", spec.Hooks?.CreateRuntime, state);
                },
                onTerminal: master =>
                {
                    if (consoleSocket is not null) { using (master) consoleSocket.Send(master); }
                    else created.TerminalMaster = master;
                },
                onCreated: () =>
                {
                    record.Creating = false;
                    store.Save(record);
                },
                onSeccompListener: listener =>
                {
                    using (listener) SeccompListener.Send(spec.Linux!.Seccomp!, initRef.Pid, created.State(ContainerStatus.Creating), listener);
                });
            if (o.PidFile is not null) WritePidFile(o.PidFile, init.Pid);
            fifo.Dispose();
            return created;
        }
        catch
        {
            init?.Kill();
            init?.Dispose();
            fifo?.Dispose();
            // After the init is gone: its mounts in the caller's namespace (no mount namespace of its own).
            if (rootfsMountBefore is { } before) RootfsSetup.Unmount(rootfs, before);
            try { cgroup?.Destroy(); } catch (Exception e) { Log.Warn($"removing cgroup: {e.Message}"); }
            store.Remove(o.Id);
            lk.Dispose();
            throw;
        }
    }

    /// <summary>Written atomically (rename), as runc does: callers poll for the file.</summary>
    public static void WritePidFile(string path, int pid)
    {
        path = Path.GetFullPath(path);
        var tmp = Path.Combine(Path.GetDirectoryName(path)!, "." + Path.GetFileName(path) + ".tmp");
        File.WriteAllText(tmp, pid.ToString());
        File.Move(tmp, path, overwrite: true);
    }
}
