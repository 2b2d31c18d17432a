using System.Runtime.InteropServices;
using Cnr.Linux;
using Cnr.Terminal;

namespace Cnr.Containers;

/// <summary>A container process cnr stays with (`run`, `exec` without --detach): signals sent to cnr are
/// forwarded to it, its terminal is copied to cnr's stdio, and its exit status becomes cnr's.</summary>
public static class ForegroundProcess
{
    // What a user sends to cnr is meant for the process inside.
    private static readonly int[] Forwarded = [1, 2, 3, 10, 12, 14, 15, 23, 29];

    /// <summary>Waits for <paramref name="pid"/> (a child of cnr) and returns its status as a shell reports it
    /// (128+N after signal N).</summary>
    public static int Wait(int pid, SafeFd? terminalMaster)
    {
        var registrations = Forwarded.Select(sig => PosixSignalRegistration.Create((PosixSignal)sig, ctx =>
        {
            ctx.Cancel = true;
            Libc.kill(pid, sig);
        })).ToList();
        var terminal = terminalMaster is not null ? new TerminalForwarder(terminalMaster) : null;
        int status;
        while (Libc.waitpid(pid, out status, 0) < 0 && Errno.Last == 4) { }
        terminal?.Dispose();
        foreach (var r in registrations) r.Dispose();
        return Libc.ExitStatus(status);
    }
}
