using Cnr.Hooks;
using Cnr.State;

namespace Cnr.Containers;

/// <summary>`run`: create + start, then (in the foreground) forward signals and the terminal, wait, and
/// delete — or with <paramref name="keep"/> leave it stopped for `state` and `delete`, as runc's --keep.
/// The exit status is the container's (128+N after signal N).</summary>
public static class ContainerRun
{
    public static int Run(CreateOptions o, bool detach, bool keep = false)
    {
        using var c = ContainerCreate.Create(o);
        var init = c.Init!;
        int pid = c.Record.Pid;
        try
        {
            if (!detach && c.TerminalMaster is { } master) Terminal.TerminalForwarder.CopyWindowSize(master);
            ContainerStart.Release(c);
            init.WaitExec();
        }
        catch
        {
            init.Kill();
            ContainerDelete.Destroy(c);
            throw;
        }
        HookRunner.RunWarnOnly("poststart", c.Store.PoststartHooks(c.Record), c.State(ContainerStatus.Running));
        if (detach) return 0;

        c.Unlock();
        int status = ForegroundProcess.Wait(pid, c.TerminalMaster);
        if (keep) return status;
        using (ContainerLock.Take(c.Store.DirOf(o.Id)))
            ContainerDelete.Destroy(c);
        return status;
    }
}
