using Cnr.Diagnostics;
using Cnr.Linux;
using Cnr.Namespaces;
using Xunit;

namespace Cnr.Tests.Diagnostics;

/// <summary>The shell equivalents the views print for the clone of an init (unshare for the namespaces it makes,
/// nsenter for those it joins) and for the signals cnr sends.</summary>
public sealed class StepShellTests
{
    private static NamespaceType Ns(string type) => NamespaceType.Find(type)!;

    private static readonly ulong PidMount = NamespaceType.CLONE_NEWPID | NamespaceType.CLONE_NEWNS;

    [Fact]
    public void NamespacesShell_OnlyNewNamespaces_IsOneUnshare_AsBefore()
        => Assert.Equal("unshare --pid --fork --net --mount", Sys.NamespacesShell(PidMount | NamespaceType.CLONE_NEWNET, []));

    [Fact]
    public void NamespacesShell_NeitherMadeNorJoined_IsNone_NotAnEmptyUnshare()
        => Assert.Null(Sys.NamespacesShell(0, []));

    [Fact]
    public void NamespacesShell_ExecJoiningAllOfTheInitsNamespaces_IsNsenterTarget()
    {
        var joins = new[] { "pid", "network", "ipc", "uts", "mount", "cgroup" }
            .Select(t => ($"/proc/4321/ns/{Ns(t).ProcName}", Ns(t))).ToList();
        Assert.Equal("nsenter --target 4321 --pid --net --ipc --uts --mount --cgroup", Sys.NamespacesShell(0, joins));
    }

    [Fact]
    public void NamespacesShell_JoinedPaths_AreNamedEach_BeforeTheUnshareOfTheNewOnes()
    {
        var joins = new List<(string, NamespaceType)> { ("/var/run/netns/lab 1", Ns("network")), ("/proc/7/ns/ipc", Ns("ipc")) };
        Assert.Equal("nsenter --net='/var/run/netns/lab 1' --ipc=/proc/7/ns/ipc unshare --pid --fork --mount", Sys.NamespacesShell(PidMount, joins));
    }

    [Fact]
    public void NamespacesShell_TwoProcessesNamespaces_AreNamedEach()
    {
        var joins = new List<(string, NamespaceType)> { ("/proc/7/ns/net", Ns("network")), ("/proc/8/ns/mnt", Ns("mount")) };
        Assert.Equal("nsenter --net=/proc/7/ns/net --mount=/proc/8/ns/mnt", Sys.NamespacesShell(0, joins));
    }

    [Theory]
    [InlineData("user", "--user")]
    [InlineData("mount", "--mount")]
    [InlineData("network", "--net")]
    [InlineData("time", "--time")]
    public void NsenterOption_IsNsentersLongOption(string type, string option) => Assert.Equal(option, Ns(type).NsenterOption);

    [Fact]
    public void ReExecInside_RunsThisFileAgain_InWhatTheCloneStepSays()
    {
        Assert.Equal("exec unshare --pid --fork --propagation unchanged -- \"$BASH\" \"$0\" --inside", ExplainScript.ReExecInside("unshare --pid --fork"));
        Assert.Equal("exec nsenter --net=/n unshare --mount --propagation unchanged -- \"$BASH\" \"$0\" --inside", ExplainScript.ReExecInside("nsenter --net=/n unshare --mount"));
        Assert.Equal("exec nsenter --target 7 --mount -- \"$BASH\" \"$0\" --inside", ExplainScript.ReExecInside("nsenter --target 7 --mount"));
        Assert.Equal("exec \"$BASH\" \"$0\" --inside", ExplainScript.ReExecInside(null));
    }

    [Theory]
    [InlineData(9, "kill -KILL 42")]
    [InlineData(15, "kill -TERM 42")]
    [InlineData(0, "kill -0 42")]
    [InlineData(36, "kill -RTMIN+2 42")]
    public void KillShell_NamesTheSignalAsKillDoes(int signal, string expected) => Assert.Equal(expected, Sys.KillShell(42, signal));
}

/// <summary>Sys.TryKill reports its step before the call, as every wrapper does (a process-wide sink: run alone).</summary>
[Collection(nameof(ProcessWide))]
public sealed class KillStepTests : IDisposable
{
    public void Dispose() => Steps.SetSink(null);

    [Fact]
    public void TryKill_ReportsTheCallAndItsShellEquivalent_ThenMakesIt()
    {
        var seen = new List<Step>();
        Steps.SetSink(seen.Add);
        int self = Environment.ProcessId;
        Assert.Equal((Error)0, Sys.TryKill(self, 0));
        Assert.Equal([new Step("signal", $"kill({self}, 0)", $"kill -0 {self}")], seen);
        Assert.Equal(Error.ESRCH, Sys.TryKill(int.MaxValue, 0));  // no such pid: the errno comes back
        Assert.Equal(2, seen.Count);
    }
}
