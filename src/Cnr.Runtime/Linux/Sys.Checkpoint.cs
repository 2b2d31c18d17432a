using Cnr.Checkpoint.Rpc;
using Cnr.Process;
using Google.Protobuf;

namespace Cnr.Linux;

/// <summary>The checkpoint/restore steps (mechanism "criu"): CRIU's own check of the kernel, its RPC service
/// and what goes over it; and the mount a restore makes CRIU's root.</summary>
public static partial class Sys
{
    private const string CriuStep = "criu";

    /// <summary>`criu check`: CRIU's own test of whether it can work on this kernel.</summary>
    public static ProgramResult CriuCheck(string criuPath)
    {
        if (Diagnostics.Steps.On) Diagnostics.Steps.Report(CriuStep, "criu check (CRIU's own test of this kernel)", "criu check");
        return RunProgram(criuPath, ["check"]);
    }

    /// <summary>Starts `criu swrk 3`: its fd 3 is the first of <paramref name="fds"/> (its end of the RPC
    /// socketpair), the others its 4, 5…; returns its pid. <paramref name="fds"/> must sit above those numbers
    /// (see <see cref="Libc.Spawn"/>).</summary>
    public static int SpawnCriuService(string criuPath, IReadOnlyList<SafeFd> fds)
    {
        if (Diagnostics.Steps.On) Diagnostics.Steps.Report(CriuStep, "criu swrk 3 (CRIU's RPC service on a socketpair: one request, notifications, one response)", null);
        return Libc.Spawn(criuPath, [criuPath, "swrk", "3"], Libc.CurrentEnvironment(), fds.Select((s, i) => (s, 3 + i)).ToArray());
    }

    /// <summary>Sends <paramref name="request"/> to criu swrk, one datagram.</summary>
    internal static void SendCriuRequest(SyncSocket socket, criu_req request)
    {
        if (Diagnostics.Steps.On) Diagnostics.Steps.Report(CriuStep, $"criu_req {request.Type} over the swrk socket", null);
        socket.SendRaw(request.ToByteArray());
    }

    /// <summary>CRIU's notification <paramref name="script"/> (about <paramref name="pid"/>): cnr's part of it
    /// (<paramref name="handle"/>: hooks, the restored init's namespaces…), then the answer that lets CRIU go on.
    /// The step comes first, so that the handler's own steps follow it.</summary>
    internal static void AnswerCriuNotify(SyncSocket socket, string script, int pid, Action handle)
    {
        if (Diagnostics.Steps.On) Diagnostics.Steps.Report(CriuStep, $"notify {script} (pid {pid})", null);
        handle();
        socket.SendRaw(new criu_req { Type = criu_req_type.Notify, NotifySuccess = true }.ToByteArray());
    }

    /// <summary>mount(MS_BIND|MS_REC) of the container's rootfs on <paramref name="criuRoot"/>: CRIU mounts the
    /// restored tree on its `root`, which must be a mount point of its own.</summary>
    public static void MountCriuRoot(string rootfs, string criuRoot)
    {
        if (Diagnostics.Steps.On) Diagnostics.Steps.Report("mount", $"mount(\"{rootfs}\", \"{criuRoot}\", MS_BIND|MS_REC) (CRIU's root)", $"mount --rbind {rootfs} {criuRoot}");
        Errno.Check(Libc.mount(rootfs, criuRoot, null, Libc.MS_BIND | Libc.MS_REC, null), "mount", criuRoot);
    }
}
