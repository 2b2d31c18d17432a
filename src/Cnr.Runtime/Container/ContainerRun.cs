using System.Runtime.InteropServices;
using Cnr.Terminal;
using Cnr.Hooks;
using Cnr.Linux;
using Cnr.State;

namespace Cnr.Container;

/// <summary>`run`: create + start, then (in the foreground) forward signals and the terminal, wait, and
/// delete. The exit status is the container's (128+N after signal N).</summary>
public static class ContainerRun
{
    // Forwarded to the container: what a user sends to cnr is meant for the process inside.
    private static readonly int[] Forwarded = [1, 2, 3, 10, 12, 14, 15, 23, 29];

    public static int Run(CreateOptions o, bool detach)
    {
        using var c = ContainerCreate.Create(o);
        int pid = c.Record.Pid;
        try
        {
            ContainerStart.Release(c.Store, c.Record);
            c.Init.WaitExec();
        }
        catch
        {
            c.Init.Kill();
            ContainerDelete.Destroy(c.Store, c.Record);
            throw;
        }
        HookRunner.RunWarnOnly("poststart", c.Record.Config.Hooks?.Poststart, c.Store.ToState(c.Record, "running"));
        if (detach) return 0;

        c.Lock?.Dispose();
        c.Lock = null;
        var registrations = Forwarded.Select(sig => PosixSignalRegistration.Create((PosixSignal)sig, ctx =>
        {
            ctx.Cancel = true;
            Libc.kill(pid, sig);
        })).ToList();
        var terminal = c.TerminalMaster is { } master ? new TerminalForwarder(master) : null;
        int status;
        while (Libc.waitpid(pid, out status, 0) < 0 && Errno.Last == 4) { }
        terminal?.Dispose();
        foreach (var r in registrations) r.Dispose();

        using (ContainerLock.Take(c.Store.DirOf(o.Id)))
            ContainerDelete.Destroy(c.Store, c.Record);
        return Libc.ExitStatus(status);
    }
}
