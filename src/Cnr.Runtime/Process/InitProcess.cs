using System.Text;
using Cnr.Linux;
using Cnr.Namespaces;
using Cnr.Plan;
using Cnr.Spec;
using Cnr.State;

namespace Cnr.Process;

/// <summary>What the parent needs to start an init: the plan it will execute, the namespaces to create or
/// join, and the fds it must inherit.</summary>
public sealed class LaunchRequest
{
    public required LaunchPlan Plan { get; init; }
    /// <summary>The parent's part of linux: the id mappings it writes and the time offsets native/ writes.</summary>
    public Spec.Linux? Linux { get; init; }
    public ulong NewNamespaces { get; init; }
    public IReadOnlyList<(string Path, NamespaceType Type)> Joins { get; init; } = [];
    public IReadOnlyList<int> InheritFds { get; init; } = [];
    /// <summary>For a root-started init in a user namespace: clones the bind sources in the init's mount namespace
    /// (given as an fd) before the go-ahead; they follow the plan as BindSource messages, in order.</summary>
    public Func<int, List<SafeFd>>? CloneBindSources { get; init; }
    /// <summary>The container's cgroup: the child is cloned straight into it (clone3 CLONE_INTO_CGROUP), or
    /// moved there before it may go on where the kernel cannot do that.</summary>
    public Cgroups.ICgroupManager? Cgroup { get; init; }
    /// <summary>Called with the init's pid as soon as it exists (and again when a second fork replaces it),
    /// before the init may go on: `create` records it so that `delete --force` finds it whatever happens next.</summary>
    public Action<int>? OnPid { get; init; }
    /// <summary>exec --ignore-paused: the process starts in a frozen cgroup and waits there until resume, so a
    /// frozen cgroup is no reason to give up on it.</summary>
    public bool MayStartFrozen { get; init; }
}

public sealed class InitFailedException(string message) : Exception(message);

/// <summary>The parent's handle on a spawned `cnr init`: clone through native/, the id-map handshake,
/// then the typed messages until the init reports Created (or fails).</summary>
public sealed class InitProcess : IDisposable
{
    public int Pid { get; private set; }
    public SyncSocket Sync { get; }
    /// <summary>How far the init got, as the parent saw it: for the message when it dies.</summary>
    private string _after = "clone";
    private readonly LaunchRequest _req;

    private InitProcess(SyncSocket sync, LaunchRequest req) => (Sync, _req) = (sync, req);

    public static InitProcess Start(LaunchRequest req)
    {
        var (parent, child) = SyncSocket.CreatePair();
        var init = new InitProcess(parent, req);
        var joinFds = new List<SafeFd>();
        List<SafeFd> bindSources = [];
        try
        {
            // See native/cnr_native.c: a read-only bind in the child's own new mount namespace protects the host
            // file as well as a sealed copy does, for 3 mounts instead of copying the image on every start.
            string image = InitImage.Path ?? throw new InitFailedException("cannot find cnr's own file (/proc/self/exe) to start the init from");
            string? exePath = ReadOnlyBindPath(req, image);
            using var exe = exePath is null ? SealedExe.Create(image) : null;
            using var cgroupDir = req.Cgroup?.OpenDirectory();
            var joins = new List<(int, ulong)>();
            int mountNs = -1, userNs = -1;
            // exec as root: the user namespace too is joined after execve, so that the init's memory belongs to
            // the host's user namespace and non-dumpable keeps the container out (native/, constructor).
            bool lateUserJoin = req.Plan.Exec && Libc.geteuid() == 0;
            foreach (var (path, type) in req.Joins)
            {
                var fd = SafeFd.Check(Libc.open(path, Libc.O_RDONLY | Libc.O_CLOEXEC, 0), "open", $"{path} (linux.namespaces {type.Type})");
                joinFds.Add(fd);
                // The mount namespace is joined by the new image itself (native/cnr_native.c, constructor).
                if (type.CloneFlag == NamespaceType.CLONE_NEWNS) mountNs = fd.Fd;
                else if (lateUserJoin && type.CloneFlag == NamespaceType.CLONE_NEWUSER) userNs = fd.Fd;
                else joins.Add((fd.Fd, type.CloneFlag));
            }
            ulong newNs = req.NewNamespaces;
            // The user namespace an exec as root joins in the re-executed image (userNs) is not joined in the child:
            // the child then neither setns'es it nor becomes its root.
            var joinedInChild = req.Joins.Select(j => j.Type).Where(t => !(lateUserJoin && t.CloneFlag == NamespaceType.CLONE_NEWUSER)).ToList();
            var (cloneFlags, unshareFlags, lateFlags, forkAfter, userNamespace) = CloneStrategy.For(newNs, joinedInChild);
            var keep = new List<int> { child.Fd };
            if (mountNs >= 0) keep.Add(mountNs);
            if (userNs >= 0) keep.Add(userNs);
            keep.AddRange(req.InheritFds);
            string? timens = req.Linux?.TimeOffsets is { Count: > 0 } offs
                ? string.Concat(offs.Select(kv => $"{(kv.Key == "boottime" ? "boottime" : "monotonic")} {kv.Value.Secs} {kv.Value.Nanosecs}\n"))
                : null;
            // The request is struct cnr_spawn_args, read by C between clone and exec: fds go in as numbers (the
            // handles above stay open until Spawn returns); the child's are inherited across execve.
            init.Pid = Sys.CloneInit(new NativeSpawn.Request
            {
                CloneFlags = cloneFlags,
                UnshareFlags = unshareFlags,
                LateUnshareFlags = lateFlags,
                Joins = joins,
                ForkAfterJoin = forkAfter,
                BecomeRoot = userNamespace,
                TimensOffsets = timens,
                CgroupFd = cgroupDir?.Fd ?? -1,
                ExeFd = exe?.Fd ?? -1,
                ExePath = exePath,
                Argv = mountNs >= 0 ? ["cnr", "init", child.Fd.ToString(), mountNs.ToString(), ConstructorUserNs(req, userNs, userNamespace)] : ["cnr", "init", child.Fd.ToString()],
                SyncFd = child.Fd,
                ParentSyncFd = parent.Fd,
                KeepFds = keep,
            }, newNs, req.Joins, req.Cgroup?.FullPath, image, req.Plan.Process.CpuAffinityInitial);
            child.Dispose();
            req.OnPid?.Invoke(init.Pid);

            init.Expect(SyncMessage.Ready);
            init._after = "joining its namespaces";
            if ((newNs & NamespaceType.CLONE_NEWUSER) != 0) IdMaps.Write(init.Pid, req.Linux);
            if (req.Cgroup is not null && !req.Cgroup.Contains(init.Pid)) req.Cgroup.AddProcess(init.Pid);
            if (req.CloneBindSources is { } cloneBindSources)
            {
                // The child waits for the go-ahead: its mount namespace is still the copy the kernel made.
                using var ownNs = mountNs >= 0 ? null : SafeFd.Check(Libc.open($"/proc/{init.Pid}/ns/mnt", Libc.O_RDONLY | Libc.O_CLOEXEC, 0), "open", $"/proc/{init.Pid}/ns/mnt");
                bindSources = cloneBindSources(ownNs?.Fd ?? mountNs);
            }
            init.Send(SyncMessage.Go);
            init._after = "the go-ahead (id maps and cgroup done)";
            if (forkAfter)
            {
                int intermediate = init.Pid;
                var msg = init.Expect(SyncMessage.Pid);
                init.Pid = BitConverter.ToInt32(msg, 0);
                Libc.waitpid(intermediate, out _, 0);
                req.OnPid?.Invoke(init.Pid);
                init._after = "its fork into the pid namespace";
            }
            req.Plan.ReportSteps = Sys.InitSendsSteps;
            init.Send(SyncMessage.Config, PlanCodec.Encode(req.Plan));
            try { foreach (var fd in bindSources) init.Sync.SendFd(fd, SyncMessage.BindSource); }
            catch (SyncPeerGoneException) { throw init.Died(); }
            init._after = "receiving its config";
            return init;
        }
        catch
        {
            child.Dispose();
            init.Kill();
            init.Dispose();
            throw;
        }
        finally
        {
            foreach (var fd in joinFds) fd.Dispose();
            foreach (var fd in bindSources) fd.Dispose();
        }
    }

    /// <summary>The constructor's USERNS argument (native/cnr_native.c): join this one; "host": none, start up
    /// in the host's root; "stay": start up in the root setns gives.</summary>
    private static string ConstructorUserNs(LaunchRequest req, int userNs, bool joinedInChild)
        => userNs >= 0 ? userNs.ToString() : req.Plan.Exec && !joinedInChild ? "host" : "stay";

    /// <summary>The init image's path when the child gets a mount namespace of its own in which "/" may become a
    /// slave (not with a shared rootfsPropagation); null means: use a sealed copy.</summary>
    private static string? ReadOnlyBindPath(LaunchRequest req, string image)
    {
        if (req.Plan.Exec || (req.NewNamespaces & NamespaceType.CLONE_NEWNS) == 0) return null;
        if ((req.Plan.Rootfs!.Propagation & Libc.MS_SHARED) != 0) return null;
        return File.Exists(image) ? image : null;
    }

    /// <summary>Handles the init's messages until it reports Created. Steps go to the step sink; a hooks
    /// request runs <paramref name="onHooks"/>; a pty master goes to <paramref name="onTerminal"/>. With
    /// <paramref name="onCreated"/> (create, not exec) the init then waits for the parent to have recorded it
    /// (<see cref="SyncMessage.Recorded"/>), so that it never outlives a parent killed before that.</summary>
    public void WaitCreated(Action? onHooks = null, Action<SafeFd>? onTerminal = null, Action? onCreated = null,
        Action<SafeFd>? onSeccompListener = null)
    {
        while (true)
        {
            var msg = Next() ?? throw Died();
            switch (msg.Type)
            {
                case SyncMessage.Created:
                    if (onCreated is null) return;
                    onCreated();
                    Send(SyncMessage.Recorded);
                    return;
                case SyncMessage.Step:
                    _after = $"step \"{Sys.RelayInitStep(msg.Payload)}\"";
                    break;
                case SyncMessage.Error: throw InitError.Decode(msg.Payload);
                case SyncMessage.SpawnFailed: throw SpawnFailure(msg.Payload);
                case SyncMessage.Hooks:
                    onHooks?.Invoke();
                    Send(SyncMessage.HooksDone);
                    _after = "the createRuntime/prestart hooks";
                    break;
                case SyncMessage.Terminal:
                    if (onTerminal is null) msg.Fd!.Dispose(); else onTerminal(msg.Fd!);
                    _after = "sending its terminal";
                    break;
                case SyncMessage.SeccompListener:
                    if (onSeccompListener is null) msg.Fd!.Dispose(); else onSeccompListener(msg.Fd!);
                    _after = "loading its seccomp filter (the listener fd handed over)";
                    break;
                default: throw new InitFailedException($"unexpected message '{(char)msg.Type}' from init");
            }
        }
    }

    /// <summary>After start: the init's end of the socket closes when its execve succeeds; an Error comes instead
    /// when it fails (executable not found, seccomp…).</summary>
    public void WaitExec()
    {
        while (Next() is { } msg)
        {
            if (msg.Type == SyncMessage.Step) Sys.RelayInitStep(msg.Payload);
            else if (msg.Type == SyncMessage.Error) throw InitError.Decode(msg.Payload);
        }
    }

    /// <summary>The init's next message. No wait on it is unbounded: a dead init closes the socket, and one that
    /// cannot get on (its cgroup frozen, or the process stopped) is given up on, checked every second.</summary>
    private SyncReceived? Next()
    {
        while (!Sync.WaitReadable(1000))
        {
            if (!_req.MayStartFrozen && _req.Cgroup is { IsFrozen: true } cg)
                throw new InitFailedException($"container's cgroup unexpectedly frozen ({cg.FullPath}, cgroup.events: frozen 1) after {_after}; thaw it or use another linux.cgroupsPath");
            // 'T' only: a traced process ('t') stops at each event for a moment, and goes on
            if (Pid > 0 && ProcStat.Read(Pid) is { State: 'T' })
                throw new InitFailedException($"container init (pid {Pid}) is stopped (SIGSTOP) after {_after}; it would never get on");
        }
        return Sync.Receive();
    }

    private byte[] Expect(SyncMessage type)
    {
        var msg = Next() ?? throw Died();
        if (msg.Type == SyncMessage.SpawnFailed) throw SpawnFailure(msg.Payload);
        if (msg.Type == SyncMessage.Error) throw InitError.Decode(msg.Payload);
        if (msg.Type != type) throw new InitFailedException($"expected '{(char)type}' from init, got '{(char)msg.Type}'");
        return msg.Payload;
    }

    /// <summary>A send to an init that has died fails with EPIPE: what it said before dying is still queued
    /// on our side, and its exit status is there to collect — either beats the errno.</summary>
    private void Send(SyncMessage type, ReadOnlySpan<byte> payload = default)
    {
        try { Sync.Send(type, payload); }
        catch (SyncPeerGoneException) { throw Died(); }
    }

    private static Exception SpawnFailure(byte[] payload)
        => payload.Length < 4
            ? new InitFailedException("container init failed before execve")
            : new SyscallException(Encoding.UTF8.GetString(payload, 4, payload.Length - 4), (Error)BitConverter.ToInt32(payload, 0), "(in the container's new namespaces)");

    /// <summary>The init is gone: its last word if it left one (X or E, still queued), else how it ended.</summary>
    private Exception Died()
    {
        while (Sync.Receive(dontWait: true) is { } queued)
        {
            if (queued.Type == SyncMessage.SpawnFailed) return SpawnFailure(queued.Payload);
            if (queued.Type == SyncMessage.Error) return InitError.Decode(queued.Payload);
            queued.Fd?.Dispose();
        }
        return new InitFailedException($"container init exited before it was ready ({HowItEnded()}) after {_after}");
    }

    private string HowItEnded()
    {
        if (Pid <= 0) return "already reaped";
        // Its socket is closed, so it is exiting: a zombie within moments, unless something holds it stopped.
        for (int waited = 0; waited < 2000; waited += 5)
        {
            int rc = Libc.waitpid(Pid, out int status, Libc.WNOHANG);
            if (rc == Pid)
            {
                Pid = 0;
                return (status & 0x7f) == 0 ? $"exit status {(status >> 8) & 0xff}" : $"killed by signal {status & 0x7f} ({Signals.SignalTable.Name(status & 0x7f)})";
            }
            if (rc < 0) break;
            Thread.Sleep(5);
        }
        return "still running, its sync socket closed";
    }

    public void Kill()
    {
        if (Pid > 0)
        {
            Libc.kill(Pid, 9);
            Libc.waitpid(Pid, out _, 0);
            Pid = 0;
        }
    }

    public void Dispose() => Sync.Dispose();
}
