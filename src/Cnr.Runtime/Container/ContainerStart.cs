using Cnr.Hooks;
using Cnr.Linux;
using Cnr.State;

namespace Cnr.Container;

/// <summary>`start`: opens the exec fifo for reading, which releases the init into execve.</summary>
public static class ContainerStart
{
    public static void Start(ContainerStore store, ContainerRecord record)
    {
        var status = store.StatusOf(record);
        switch (status)
        {
            case "created": break;
            case "stopped": throw new InvalidOperationException("cannot start a container that has stopped");
            case "creating": throw new InvalidOperationException("cannot start a container that is still being created");
            default: throw new InvalidOperationException("cannot start an already running container");
        }
        Release(store, record);
        HookRunner.RunWarnOnly("poststart", record.Config.Hooks?.Poststart, store.ToState(record, "running"));
    }

    /// <summary>Lets the init exec; from here the container is "running".</summary>
    public static void Release(ContainerStore store, ContainerRecord record)
    {
        ReleaseInit(store.FifoPath(record.Id), record);
        File.Delete(store.FifoPath(record.Id));
    }

    /// <summary>A non-blocking open and a poll that also watches the init, so a dead init cannot hang start.</summary>
    private static unsafe void ReleaseInit(string fifoPath, ContainerRecord record)
    {
        using var fifo = SafeFd.Check(Libc.open(fifoPath, Libc.O_RDONLY | Libc.O_NONBLOCK | Libc.O_CLOEXEC, 0), "open", fifoPath);
        var pfd = stackalloc int[2];
        while (true)
        {
            pfd[0] = fifo.Fd;
            pfd[1] = 1; // POLLIN in the low half of the second int (events), revents cleared
            int n = Libc.poll(pfd, 1, 100);
            if (n > 0)
            {
                byte b;
                var r = Libc.read(fifo.Fd, &b, 1);
                if (r == 1) return;
            }
            if (!ContainerStore.IsAlive(record.Pid, record.InitStartTime))
                throw new InvalidOperationException($"cannot start container {record.Id}: its init exited after create, before start (`cnr delete {record.Id}` removes it)");
        }
    }
}
