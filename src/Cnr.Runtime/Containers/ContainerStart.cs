using Cnr.Hooks;
using Cnr.Linux;
using Cnr.Process;
using Cnr.State;

namespace Cnr.Containers;

/// <summary>`start`: opens the exec fifo for reading, which releases the init into execve.</summary>
public static class ContainerStart
{
    public static void Start(ContainerStore store, string id)
    {
        using var c = Container.Load(store, id);
        if (!c.CanStart)
            throw new InvalidOperationException(c.Status switch
            {
                // runc's words; a create still under way is cnr's own (runc's create holds on until it is done)
                ContainerStatus.Stopped => "cannot start a container that has stopped",
                ContainerStatus.Running => "cannot start an already running container",
                ContainerStatus.Creating => "cannot start a container that is still being created",
                _ => $"cannot start a container in the {c.Status.Name()} state",
            });
        Release(c);
        HookRunner.RunWarnOnly("poststart", store.PoststartHooks(c.Record), c.State(ContainerStatus.Running));
    }

    /// <summary>Lets the init exec; from here the container is "running".</summary>
    public static void Release(Container c)
    {
        ReleaseInit(c.Store.FifoPath(c.Id), c.Record);
        File.Delete(c.Store.FifoPath(c.Id));
    }

    /// <summary>A non-blocking open and a poll that also watches the init, so a dead init cannot hang start.
    /// The init writes "0" once released and holds its write end (close-on-exec) until execve, so reading to
    /// end-of-file returns only when the user's process runs; anything after the "0" is why its exec failed.</summary>
    private static unsafe void ReleaseInit(string fifoPath, ContainerRecord record)
    {
        using var fifo = SafeFd.Check(Libc.open(fifoPath, Libc.O_RDONLY | Libc.O_NONBLOCK | Libc.O_CLOEXEC, 0), "open", fifoPath);
        var got = new List<byte>();
        var buf = stackalloc byte[512];
        while (true)
        {
            var pfd = new Libc.PollFd { Fd = fifo.Fd, Events = Libc.POLLIN };
            // A fifo reports hang-up only after a writer came and went, so a poll before the init opened it waits.
            int n = Libc.poll(&pfd, 1, 100);
            if (n > 0)
            {
                var r = Libc.read(fifo, buf, 512);
                if (r > 0) { for (int i = 0; i < r; i++) got.Add(buf[i]); continue; }
                if (r == 0) break;
            }
            else if (got.Count == 0 && !ContainerStore.IsAlive(record.Pid, record.InitStartTime)) throw DiedBeforeStart(record);
        }
        if (got.Count == 0) throw DiedBeforeStart(record);
        // The init's own words, as `run` reports them from the sync socket.
        if (got.Count > 1) throw new InitFailedException(System.Text.Encoding.UTF8.GetString(got.ToArray(), 1, got.Count - 1));
    }

    private static InvalidOperationException DiedBeforeStart(ContainerRecord record)
        => new($"cannot start container {record.Id}: its init exited after create, before start (`cnr delete {record.Id}` removes it)");
}
