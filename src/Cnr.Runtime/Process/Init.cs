using System.Text;
using Cnr.Terminal;
using Cnr.Diagnostics;
using Cnr.Hooks;
using Cnr.Linux;
using Cnr.Lsm;
using Cnr.Plan;
using Cnr.Rootfs;
using Cnr.Seccomp;

namespace Cnr.Process;

/// <summary>`cnr init SYNCFD`: the re-executed process that starts inside the container's new namespaces
/// (PID 1 of its pid namespace) and turns them into the container, then execs the user's process.
/// Order follows runc's standard init: rootfs, pivot_root, hostname, terminal, read-only paths, rlimits,
/// capabilities and user, no_new_privs, seccomp last on the exec'ing thread. It executes the
/// <see cref="LaunchPlan"/> the parent compiled and interprets nothing: what can fail here is the kernel's word,
/// sent to the parent as a typed error (<see cref="InitError"/>).</summary>
public static class Init
{
    public static int Main(string[] args)
    {
        // Before anything else: no other process of the container may ptrace this one or open /proc/PID/exe.
        Libc.prctl(Libc.PR_SET_DUMPABLE, 0, 0, 0, 0);
        if (args.Length < 2 || !int.TryParse(args[1], out int syncFd))
        {
            System.Console.Error.WriteLine("cnr init: internal command, started by cnr create/run/exec");
            return 2;
        }
        using var sync = new SyncSocket(SafeFd.Own(syncFd));
        Libc.fcntl(sync.Handle, Libc.F_SETFD, Libc.FD_CLOEXEC);
        try
        {
            var msg = sync.Receive();
            if (msg is not { Type: SyncMessage.Config }) return 3;
            var config = PlanCodec.Decode(msg.Value.Payload);
            ReceiveBindSources(config, sync);
            if (config.ReportSteps)
                Steps.SetSink(s =>
                {
                    // After `create` returns nobody listens any more: reporting must never fail the container.
                    try { sync.Send(SyncMessage.Step, Sys.InitStepPayload(s)); }
                    catch (SyncPeerGoneException) { Steps.SetSink(null); }
                });
            if (config.Exec) JoinedInit(config, sync);
            else ContainerInit(config, sync);
            return 0; // not reached: both end in execve
        }
        catch (SyncPeerGoneException)
        {
            return 1; // the parent died before the container was recorded: nobody is left to tell
        }
        catch (Exception e)
        {
            ReportToStart(e.Message);
            try { sync.Send(SyncMessage.Error, InitError.Encode(e)); }
            catch { System.Console.Error.WriteLine("cnr init: " + e.Message); }
            return 1;
        }
    }

    /// <summary>The bind sources the parent cloned in this mount namespace (user namespace, started by root), one
    /// message each after the plan, for the mounts the plan marks <see cref="MountStep.FromParent"/>; closed once
    /// the rootfs is prepared.</summary>
    private static void ReceiveBindSources(LaunchPlan config, SyncSocket sync)
    {
        if (config.Rootfs is not { } rootfs) return;
        foreach (var m in rootfs.Mounts)
        {
            if (m.SourceFd != MountStep.FromParent) continue;
            var msg = sync.Receive();
            if (msg is not { Type: SyncMessage.BindSource, Fd: { } fd })
                throw new InvalidOperationException($"expected the source of mounts[{m.Index}] from the runtime, got {msg?.Type.ToString() ?? "nothing"}");
            BindSources.Add(fd);
            m.SourceFd = fd.Fd;
        }
    }

    /// <summary>The received bind sources: referenced until the mounts are made, never finalized early.</summary>
    private static readonly List<SafeFd> BindSources = [];

    private static void ContainerInit(LaunchPlan config, SyncSocket sync)
    {
        var rootfs = config.Rootfs!;
        var process = config.Process;
        // While "/proc" is still the host's: after pivot_root it is whatever the container has there.
        ProcFs.OpenBeforePivot();
        // As runc's init (setupNetwork): before the runtime hooks, which may add more (CNI).
        if (config.LoopbackUp) Cnr.Namespaces.Loopback.Up();
        if (config.RuntimeHooks)
        {
            sync.Send(SyncMessage.Hooks);
            var reply = sync.Receive();
            if (reply is not { Type: SyncMessage.HooksDone }) throw new InvalidOperationException("runtime hooks did not complete");
        }

        Errno.Check(Libc.chdir(config.Bundle), "chdir", config.Bundle);
        RootfsSetup.Prepare(rootfs);
        // The bind sources are attached: the init waiting for `start` holds no clone of a host mount.
        foreach (var fd in BindSources) fd.Dispose();
        BindSources.Clear();
        if (config.CreateContainerHooks.Length > 0)
        {
            // runc runs them with the container's root, mounts done, as their working directory
            Errno.Check(Libc.chdir(rootfs.Path), "chdir", rootfs.Path);
            HookRunner.RunInContainer("createContainer", config.CreateContainerHooks, config.CreateContainerState);
        }
        RootfsSetup.EnterRoot(rootfs);
        if (rootfs.MakeDevices) ReopenDevNull();

        if (config.Hostname is { } hostname) Sys.SetHostname(hostname);
        if (config.Domainname is { } domain) Sys.SetDomainname(domain);
        // Through the runtime's procfs: /proc/sys answers for the namespaces of the process that writes,
        // whichever procfs instance it is reached by, and the container's "/proc" may be an image's file.
        foreach (var (key, path, value) in config.Sysctls)
            Sys.WriteSysctl(key, path, value);

        // The init leads its own session, terminal or not, as runc's (nsexec calls setsid() for every init): CRIU
        // refuses to checkpoint a tree whose session leader is outside its pid namespace, and the caller's job
        // control (its terminal's signals) never reaches the container but through cnr. With a terminal,
        // Pty.BecomeControllingTerminal does it before taking the terminal.
        if (process.Terminal) SetUpTerminal(config, sync, process);
        else Sys.NewSession();
        RootfsSetup.Finish(rootfs);
        FinishAndExec(config, sync, process, waitForStart: true);
    }

    /// <summary>`cnr exec`: the native helper has already joined every namespace of the container; only the
    /// process attributes remain.</summary>
    private static void JoinedInit(LaunchPlan config, SyncSocket sync)
    {
        // While "/" is still the host's: the container's "/proc" could be any file of the image.
        ProcFs.OpenBeforePivot();
        EnterContainerRoot();
        if (config.Rootfs is { SharedMountNamespace: true } shared) RootfsSetup.EnterRoot(shared);
        var process = config.Process;
        if (process.Terminal) SetUpTerminal(config, sync, process);
        FinishAndExec(config, sync, process, waitForStart: false);
    }

    /// <summary>The runtime started up in the host's root, so that no file of the image could answer its
    /// start-up reads (native/cnr_native.c, constructor); from here on every path is the container's.</summary>
    private static void EnterContainerRoot()
    {
        using var root = NativeSpawn.ContainerRootFd();
        if (root.IsInvalid) return;
        Errno.Check(Libc.fchdir(root), "fchdir", "(the container's root)");
        Errno.Check(Libc.chroot("."), "chroot", "(the container's root)");
    }

    /// <summary>Stdio that is the host's /dev/null becomes the container's own (the node cnr made on its /dev), as
    /// runc's reOpenDevNull: CRIU cannot dump an fd on a mount outside the container ("Can't lookup mount=N for
    /// fd=0 path=/dev/null": Podman's conmon gives a container without -i the host's /dev/null).</summary>
    private static void ReopenDevNull()
    {
        static bool IsNull(in Libc.FileStat st) => (st.Mode & Libc.S_IFMT) == Libc.S_IFCHR && st.RdevMajor == 1 && st.RdevMinor == 3;
        using var own = SafeFd.Check(Libc.open("/dev/null", Libc.O_RDWR | Libc.O_NOFOLLOW | Libc.O_CLOEXEC, 0), "open", "/dev/null");
        if (Libc.StatX(own, "", 0, out var ownStat) != 0 || !IsNull(ownStat)) return;
        for (int fd = 0; fd < 3; fd++)
        {
            // stdio is borrowed: its numbers are what the container's process gets (dup3's target is data).
            using (var stdio = SafeFd.Borrow(fd))
                if (Libc.StatX(stdio, "", 0, out var st) != 0 || !IsNull(st)) continue;
            Sys.DupDevNullOnto(own, fd);
        }
    }

    private static void SetUpTerminal(LaunchPlan config, SyncSocket sync, ProcessPlan process)
    {
        var (master, slave, slavePath) = Pty.Open();
        using (master) sync.SendFd(master, SyncMessage.Terminal);
        using (slave)
        {
            var size = process.ConsoleHeight == 0 && process.ConsoleWidth == 0 ? null
                : new Spec.Box { Height = process.ConsoleHeight, Width = process.ConsoleWidth };
            Pty.BecomeControllingTerminal(slave, slavePath, size);
            if (!config.Exec) RootfsSetup.BindConsole(slave, slavePath);
        }
    }

    private static void FinishAndExec(LaunchPlan config, SyncSocket sync, ProcessPlan process, bool waitForStart)
    {
        var seccomp = config.Seccomp;
        // Asked of the kernel (prctl) now, before the seccomp filter below may forbid prctl.
        _ = Capabilities.CapabilityTable.Last;
        ProcessAttributes.ApplyEarly(process);
        ChangeDirectory(process.Cwd);
        var executable = ProcessAttributes.ResolveExecutable(process);

        Span<int> keep = stackalloc int[config.PreserveFds];
        for (int i = 0; i < keep.Length; i++) keep[i] = 3 + i;
        ProcessAttributes.MarkFdsCloseOnExec(keep);

        // The LSM labels wait in this thread's attr files for its execve; written before any seccomp filter,
        // which may forbid the openat2 and write that take them there.
        ExecLabelWriter.Apply(config.Lsm);
        // Without no_new_privs the filter can only be loaded while still holding CAP_SYS_ADMIN.
        if (seccomp is not null && !process.NoNewPrivileges) SeccompFilter.Load(seccomp, sync);
        ProcessAttributes.ApplyIdentity(process);
        ChangeDirectory(process.Cwd);
        if (process.NoNewPrivileges) Sys.SetNoNewPrivs();

        // Created means: nothing that can fail is left but waiting on the exec fifo (create) or execve (exec).
        // From here the init may outlive its parent (`create` returns; a detached exec), so the death signal
        // native/ set goes; a parent killed before it recorded the container is seen as EOF instead.
        Libc.prctl(Libc.PR_SET_PDEATHSIG, 0, 0, 0, 0);
        // With no_new_privs the filter comes as late as runc loads it: before Created, while the parent still
        // listens (a listener's fd, SCMP_ACT_NOTIFY, must reach linux.seccomp.listenerPath before create returns),
        // and so before the startContainer hooks, which are the container's and filtered as runc's are. What runs
        // after it (the fifo, the hooks, execve) needs the profile to allow it, as under runc.
        if (seccomp is not null && process.NoNewPrivileges) SeccompFilter.Load(seccomp, sync);
        sync.Send(SyncMessage.Created);
        if (waitForStart)
        {
            if (sync.Receive() is not { Type: SyncMessage.Recorded })
                throw new SyncPeerGoneException("the parent died before it recorded the container");
            WaitForStart(config.FifoFd);
            HookRunner.RunInContainer("startContainer", config.StartContainerHooks, config.StartContainerState);
        }
        ProcessAttributes.Exec(executable, process.Args, process.Env);
    }

    private static void ChangeDirectory(string cwd)
    {
        if (Libc.chdir(cwd) < 0 && Errno.Last is not Error.EACCES) // EACCES: retried as the user after the identity change
            throw new SyscallException("chdir", Errno.Last, $"{cwd} (process.cwd)");
    }

    /// <summary>The exec fifo's write end, open (close-on-exec) from start until execve: `cnr start` reads to
    /// its end-of-file, which comes when the exec succeeded or the init died, so start returns only then.</summary>
    private static SafeFd? _startFifo;

    /// <summary>Blocks until `cnr start` opens the exec fifo for reading. The fifo is reached through the O_PATH
    /// fd taken before pivot_root, reopened via self/fd of the runtime's procfs (the state dir is not visible in
    /// here, and the container's /proc/self/fd could be an image's directory that lets the process run now).</summary>
    private static unsafe void WaitForStart(int fifoFd)
    {
        var fd = SafeFd.Check(ProcFs.Open($"self/fd/{fifoFd}", Libc.O_WRONLY), "open", "exec fifo");
        byte zero = (byte)'0';
        Libc.write(fd, &zero, 1);
        SafeFd.Own(fifoFd).Dispose();  // the O_PATH fd the init inherited, as a number in the plan
        _startFifo = fd;
    }

    /// <summary>A failure after start (exec, startContainer hooks, seccomp) goes to `cnr start` through the
    /// fifo: the parent that could hear it on the sync socket is `create`, gone by then.</summary>
    private static unsafe void ReportToStart(string message)
    {
        if (_startFifo is null) return;
        var bytes = Encoding.UTF8.GetBytes(message);
        fixed (byte* b = bytes) Libc.write(_startFifo, b, bytes.Length);
    }
}
