using Cnr.Cgroups;
using Cnr.Checkpoint.Rpc;
using Cnr.Containers;
using Cnr.Diagnostics;
using Cnr.Hooks;
using Cnr.Linux;
using Cnr.Spec;
using Cnr.State;
using Cnr.Terminal;

namespace Cnr.Checkpoint;

/// <summary>`restore`: a new container (its own id, record and cgroup, from the bundle's config) whose process
/// tree CRIU recreates from the images. As runc: the rootfs is bind-mounted for CRIU (its `root`), config bind
/// mounts are external mounts resolved to their sources again, CRIU's swrk process is put into the cgroup
/// first so that the restored tree is born there, the terminal comes back as an orphaned pty master (sent to
/// --console-socket), and the restored init is a sibling of CRIU: cnr's child, for a foreground restore.</summary>
public static class ContainerRestore
{
    public static int Restore(RestoreOptions o)
    {
        ContainerId.Validate(o.Id);
        o.Validate();
        var imageDir = Path.GetFullPath(o.ImagePath);
        if (!Directory.Exists(imageDir))
            throw new InvalidOperationException($"restore: --image-path {imageDir}: no such directory (pass the directory `cnr checkpoint --image-path` wrote; the default is ./checkpoint)");
        if (!File.Exists(Path.Combine(imageDir, "inventory.img")))
            throw new InvalidOperationException($"restore: --image-path {imageDir} holds no checkpoint (no CRIU inventory.img in it): pass the directory `cnr checkpoint --image-path` wrote");
        var descriptors = File.Exists(Path.Combine(imageDir, ContainerCheckpoint.DescriptorsFile))
            ? ContainerCheckpoint.ReadDescriptors(imageDir)
            : throw new InvalidOperationException($"restore: --image-path {imageDir} has CRIU images but no {ContainerCheckpoint.DescriptorsFile}: it was not written by `cnr checkpoint` or `runc checkpoint` (a --pre-dump? restore the final dump)");
        var bundle = Path.GetFullPath(o.Bundle);
        var plan = SpecPlan.Compile(bundle, o.Id);
        var spec = plan.Spec;
        if (plan.Process.Terminal && o.ConsoleSocket is null && o.Detach)
            throw new SpecException("process.terminal: a restored terminal needs --console-socket when cnr detaches (pass --console-socket, or restore without --detach)");
        var rootfs = plan.Launch.Rootfs!.Path;
        var criuPath = Criu.Require("restore");
        using var consoleSocket = o.ConsoleSocket is null ? null : ConsoleSocket.Connect(o.ConsoleSocket);
        var workDir = Path.GetFullPath(o.WorkPath ?? imageDir);
        Directory.CreateDirectory(workDir);

        var store = new ContainerStore(o.StateRoot);
        var lk = store.Create(o.Id);
        ICgroupManager? cgroup = null;
        string? criuRoot = null;
        SafeFd? terminalMaster = null;
        var record = new ContainerRecord
        {
            Id = o.Id,
            Bundle = bundle,
            Rootfs = rootfs,
            Created = DateTime.UtcNow,
            Owner = Libc.geteuid() == 0 ? "root" : Libc.geteuid().ToString(),
            NewPidNamespace = spec.Linux?.Namespaces?.Any(n => n.Type == "pid" && string.IsNullOrEmpty(n.Path)) == true,
            Creating = true,
            OciVersion = spec.OciVersion,
            Annotations = spec.Annotations,
            HasPoststartHooks = spec.Hooks?.Poststart is { Count: > 0 },
            HasPoststopHooks = spec.Hooks?.Poststop is { Count: > 0 },
            LoadedConfig = spec,
        };
        var extraFds = new List<SafeFd>();
        try
        {
            cgroup = CgroupDriver.For(o.Id, spec.Linux, o.SystemdCgroup);
            record.CgroupPath = cgroup.FullPath;
            record.SystemdUnit = (cgroup as SystemdCgroup)?.Unit;
            // Saved before anything exists: a restore killed at any point is removed by `delete --force`.
            store.SaveConfig(record, plan.Json);
            store.Save(record);
            cgroup.Create();

            // CRIU mounts the container's tree on its `root`, which must be a mount point of its own.
            criuRoot = Path.Combine(store.DirOf(o.Id), ContainerStore.CriuRootName);
            Directory.CreateDirectory(criuRoot);
            Sys.MountCriuRoot(rootfs, criuRoot);

            using var images = SafeFd.Check(Libc.open(imageDir, Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_CLOEXEC, 0), "open", imageDir);
            using var work = SafeFd.Check(Libc.open(workDir, Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_CLOEXEC, 0), "open", workDir);
            var opts = new criu_opts
            {
                ImagesDirFd = images.Fd,  // numbers in the RPC: CRIU opens them as /proc/PID/fd/N of this process
                WorkDirFd = work.Fd,
                LogFile = "restore.log",
                Root = criuRoot,
                EvasiveDevices = true,
                RstSibling = true,
            };
            o.Apply(opts);
            if (cgroup.FullPath is { Length: > 0 } full && CgroupHierarchy.Find(out _) is { } h && full.StartsWith(h.Root, StringComparison.Ordinal))
                opts.CgRoot.Add(new cgroup_root { Path = "/" + full[h.Root.Length..].TrimStart('/') });
            foreach (var m in CriuMounts.Binds(spec))
                opts.ExtMnt.Add(new ext_mount_map { Key = m.Destination, Val = m.Source ?? "" });
            // The pipes the container's stdio were become restore's own 0-2 (CRIU's, which it inherits).
            for (int i = 0; i < descriptors.Count && i < 3; i++)
                if (descriptors[i].StartsWith("pipe:", StringComparison.Ordinal))
                    opts.InheritFd.Add(new inherit_fd { Key = descriptors[i], Fd = i });
            foreach (var (type, path) in CriuMounts.JoinedNamespaces(spec))
            {
                extraFds.Add(SafeFd.Check(Libc.open(path, Libc.O_RDONLY | Libc.O_CLOEXEC, 0), "open", path));
                opts.InheritFd.Add(new inherit_fd { Key = CriuMounts.ExternalKey(type), Fd = 3 + extraFds.Count });
            }

            int restored = 0;
            using (var criu = Criu.Start(criuPath, extraFds, Path.Combine(workDir, opts.LogFile)))
            {
                // Born in the container's cgroup: CRIU forks the restored tree from this process.
                cgroup.AddProcess(criu.Pid);
                var resp = criu.Call(new criu_req { Type = criu_req_type.Restore, Opts = opts }, (script, pid, fd) =>
                {
                    switch (script)
                    {
                        case "setup-namespaces":
                            // runc runs the prestart hooks here: the namespaces exist, nothing runs in them yet.
                            var state = new ContainerState { OciVersion = spec.OciVersion, Id = o.Id, Status = ContainerStatus.Creating.Name(), Pid = pid, Bundle = bundle, Annotations = spec.Annotations };
                            HookRunner.Run("prestart", spec.Hooks?.Prestart, state);
                            HookRunner.Run("createRuntime", spec.Hooks?.CreateRuntime, state);
                            break;
                        case "post-restore":
                            Restored(store, record, pid);
                            restored = pid;
                            break;
                        case "orphan-pts-master" when fd is not null:
                            if (consoleSocket is not null) consoleSocket.Send(fd);
                            else terminalMaster = SafeFd.Check(Libc.DupCloexec(fd), "fcntl", "F_DUPFD_CLOEXEC");
                            break;
                    }
                });
                if (restored == 0) Restored(store, record, resp.Restore?.Pid ?? 0);
            }
            if (o.PidFile is not null) ContainerCreate.WritePidFile(o.PidFile, record.Pid);
        }
        catch
        {
            terminalMaster?.Dispose();
            if (record.Pid > 0) Libc.kill(record.Pid, 9);
            try { cgroup?.Destroy(); } catch (Exception e) { Log.Warn($"removing cgroup: {e.Message}"); }
            Unmount(criuRoot);
            store.Remove(o.Id);
            lk.Dispose();
            throw;
        }
        finally
        {
            foreach (var f in extraFds) f.Dispose();
        }
        Unmount(criuRoot);
        var restoredContainer = new Container(store, record, ContainerStatus.Running);
        HookRunner.RunWarnOnly("poststart", spec.Hooks?.Poststart, restoredContainer.State(ContainerStatus.Running));
        lk.Dispose();
        if (o.Detach) return 0;

        if (!o.NoSubreaper) Libc.prctl(Libc.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
        int status = ForegroundProcess.Wait(record.Pid, terminalMaster);
        terminalMaster?.Dispose();
        using (ContainerLock.Take(store.DirOf(o.Id)))
            ContainerDelete.Destroy(restoredContainer);
        return status;
    }


    /// <summary>The record of a restored container: the restored init's pid (a new process for the kernel:
    /// its own start time), and no longer "creating".</summary>
    private static void Restored(ContainerStore store, ContainerRecord record, int pid)
    {
        if (pid <= 0) throw new InvalidOperationException("CRIU restore reported no pid for the restored process");
        record.Pid = pid;
        record.InitStartTime = ProcStat.Read(pid)?.StartTime ?? 0;
        record.Creating = false;
        store.Save(record);
    }

    private static void Unmount(string? criuRoot)
    {
        if (criuRoot is null || !Directory.Exists(criuRoot)) return;
        Libc.umount2(criuRoot, Libc.MNT_DETACH);
        try { Directory.Delete(criuRoot); } catch (IOException) { }
    }
}
