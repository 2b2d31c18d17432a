using Cnr.Containers;
using Cnr.State;
using Xunit;

namespace Cnr.Tests.Containers;

/// <summary>The status a container is given from the kernel, and what each status allows (runc's rules).</summary>
public sealed class ContainerTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("cnr-container-test-").FullName;
    private readonly ContainerStore _store;

    public ContainerTests() => _store = new ContainerStore(_root);

    public void Dispose() => Directory.Delete(_root, recursive: true);

    // This test process stands in for a live init: its pid with its own start time.
    private ContainerRecord Saved(string id, int pid, ulong startTime, bool creating = false, bool fifo = false)
    {
        var record = new ContainerRecord { Id = id, Pid = pid, InitStartTime = startTime, Creating = creating, Bundle = "/b", OciVersion = "1.2.0" };
        using (_store.Create(id)) _store.Save(record);
        if (fifo) File.WriteAllText(_store.FifoPath(id), "");
        return record;
    }

    private static ulong OwnStartTime => ProcStat.Read(Environment.ProcessId)!.Value.StartTime;

    [Fact]
    public void Status_FromTheKernel()
    {
        int self = Environment.ProcessId;
        Saved("running", self, OwnStartTime);
        Saved("created", self, OwnStartTime, fifo: true);
        Saved("creating", self, OwnStartTime, creating: true, fifo: true);
        Saved("gone", 0, 0);
        Saved("reused", self, OwnStartTime + 1);   // the pid lives, but it is another process now
        Saved("ended-while-created", 0, 0, fifo: true);

        Assert.Equal(ContainerStatus.Running, Container.Read(_store, "running").Status);
        Assert.Equal(ContainerStatus.Created, Container.Read(_store, "created").Status);
        Assert.Equal(ContainerStatus.Creating, Container.Read(_store, "creating").Status);
        Assert.Equal(ContainerStatus.Stopped, Container.Read(_store, "gone").Status);
        Assert.Equal(ContainerStatus.Stopped, Container.Read(_store, "reused").Status);
        Assert.Equal(ContainerStatus.Stopped, Container.Read(_store, "ended-while-created").Status);
        using var locked = Container.Load(_store, "created");
        Assert.Equal(ContainerStatus.Created, locked.Status);
    }

    [Fact]
    public void Status_OfAnIdClaimedWithoutRecord_IsStopped()
    {
        // What a create killed right after its mkdir leaves: `list` shows it stopped, `delete` removes it.
        Directory.CreateDirectory(Path.Combine(_root, "half"));
        Assert.Equal(ContainerStatus.Stopped, Container.Read(_store, "half").Status);
        Assert.Throws<ContainerNotFoundException>(() => Container.Load(_store, "half"));
    }

    [Theory]
    //                               start  kill   delete pause  resume exec   exec --ignore-paused
    [InlineData(ContainerStatus.Creating, false, true, false, false, false, false, false)]
    [InlineData(ContainerStatus.Created, true, true, true, true, false, true, true)]
    [InlineData(ContainerStatus.Running, false, true, false, true, false, true, true)]
    [InlineData(ContainerStatus.Paused, false, true, false, false, true, false, true)]
    [InlineData(ContainerStatus.Stopped, false, false, true, false, false, false, false)]
    public void WhatEachStatusAllows(ContainerStatus status, bool start, bool kill, bool delete, bool pause, bool resume, bool exec, bool execIgnoringPause)
    {
        var c = new Container(_store, new ContainerRecord { Id = "x" }, status);
        Assert.Equal(start, c.CanStart);
        Assert.Equal(kill, c.CanKill);
        Assert.Equal(delete, c.CanDelete);
        Assert.Equal(pause, c.CanPause);
        Assert.Equal(resume, c.CanResume);
        Assert.Equal(exec, c.CanExec(ignorePaused: false));
        Assert.Equal(execIgnoringPause, c.CanExec(ignorePaused: true));
    }

    [Theory]
    [InlineData(ContainerStatus.Creating, "creating")]
    [InlineData(ContainerStatus.Created, "created")]
    [InlineData(ContainerStatus.Running, "running")]
    [InlineData(ContainerStatus.Paused, "paused")]
    [InlineData(ContainerStatus.Stopped, "stopped")]
    public void Status_HasTheRuntimeSpecName(ContainerStatus status, string name) => Assert.Equal(name, status.Name());

    [Fact]
    public void State_OfAStoppedContainer_HasNoPid()
    {
        var record = new ContainerRecord { Id = "s", Pid = 4242, Bundle = "/b", OciVersion = "1.2.0", Annotations = new() { ["k"] = "v" } };
        var c = new Container(_store, record, ContainerStatus.Running);
        var running = c.State(ContainerStatus.Running);
        Assert.Equal(("s", 4242, "running", "/b", "1.2.0"), (running.Id, running.Pid, running.Status, running.Bundle, running.OciVersion));
        Assert.Equal("v", running.Annotations!["k"]);
        var stopped = c.State(ContainerStatus.Stopped);
        Assert.Equal((0, "stopped"), (stopped.Pid, stopped.Status));
    }
}
