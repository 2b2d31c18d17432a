using Cnr.Hooks;
using Cnr.Linux;
using Cnr.State;

namespace Cnr.Container;

/// <summary>`run`: create + start, then (in the foreground) forward signals and the terminal, wait, and
/// delete — or with <paramref name="keep"/> leave it stopped for `state` and `delete`, as runc's --keep.
/// The exit status is the container's (128+N after signal N).</summary>
public static class ContainerRun
{
    public static int Run(CreateOptions o, bool detach, bool keep = false)
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
        HookRunner.RunWarnOnly("poststart", c.Store.PoststartHooks(c.Record), c.Store.ToState(c.Record, "running"));
        if (detach) return 0;

        c.Lock?.Dispose();
        c.Lock = null;
        int status = ForegroundProcess.Wait(pid, c.TerminalMaster);
        if (keep) return status;
        using (ContainerLock.Take(c.Store.DirOf(o.Id)))
            ContainerDelete.Destroy(c.Store, c.Record);
        return status;
    }
}
