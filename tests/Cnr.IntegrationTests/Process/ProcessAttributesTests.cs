using System.Text.RegularExpressions;
using Cnr.Capabilities;
using Cnr.IntegrationTests.Harness;
using Cnr.Spec;
using Xunit;

namespace Cnr.IntegrationTests.Process;

/// <summary>What the container's process sees of process.user, capabilities, rlimits, umask, noNewPrivileges,
/// oomScoreAdj, scheduler, ioPriority, args[0] lookup and the fds it inherits.</summary>
public class ProcessAttributesTests
{
    private static CnrResult RunOk(TestBundle b)
    {
        var r = b.Run();
        Assert.True(r.ExitCode == 0, r.ToString());
        return r;
    }

    /// <summary>The value of a "Name:\tvalue" line of /proc/self/status, as printed by the container.</summary>
    private static string Status(string output, string field)
    {
        var m = Regex.Match(output, $"^{field}:[ \\t]*(.*?)[ \\t]*$", RegexOptions.Multiline);
        Assert.True(m.Success, $"no {field}: line in\n{output}");
        return m.Groups[1].Value;
    }

    [RootFact]
    public void Run_AsRoot_ProcStatusShowsTheConfiguredCapabilitySets()
    {
        using var b = new TestBundle("caps").WithArgs("sh", "-c", "grep Cap /proc/self/status");
        List<string> caps = ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW"];
        b.Spec.Process!.Capabilities = new LinuxCapabilities
        {
            Bounding = caps, Effective = caps, Permitted = caps, Inheritable = ["CAP_NET_RAW"], Ambient = ["CAP_NET_RAW"],
        };
        var want = CapabilitySets.From(b.Spec.Process.Capabilities);

        var r = RunOk(b);

        Assert.Equal(want.Bounding.ToString("x16"), Status(r.Stdout, "CapBnd"));
        Assert.Equal(want.Effective.ToString("x16"), Status(r.Stdout, "CapEff"));
        Assert.Equal(want.Permitted.ToString("x16"), Status(r.Stdout, "CapPrm"));
        Assert.Equal(want.Inheritable.ToString("x16"), Status(r.Stdout, "CapInh"));
        Assert.Equal(want.Ambient.ToString("x16"), Status(r.Stdout, "CapAmb"));
    }

    [RootFact]
    public void Run_AsNonRootUser_KeepsOnlyTheAmbientCapabilities()
    {
        // execve recomputes a non-root process's capabilities: only the ambient set survives into sh.
        using var b = new TestBundle("ambient").WithArgs("sh", "-c", "grep Cap /proc/self/status");
        b.Spec.Process!.User = new User { Uid = 1000, Gid = 1000 };
        List<string> caps = ["CAP_KILL", "CAP_NET_BIND_SERVICE"];
        b.Spec.Process.Capabilities = new LinuxCapabilities
        {
            Bounding = caps, Effective = caps, Permitted = caps, Inheritable = ["CAP_NET_BIND_SERVICE"], Ambient = ["CAP_NET_BIND_SERVICE"],
        };

        var r = RunOk(b);

        Assert.Equal("0000000000000400", Status(r.Stdout, "CapEff"));
        Assert.Equal("0000000000000400", Status(r.Stdout, "CapPrm"));
        Assert.Equal("0000000000000400", Status(r.Stdout, "CapAmb"));
        Assert.Equal("0000000000000420", Status(r.Stdout, "CapBnd"));
    }

    [RootFact]
    public void Run_AsUserWithAdditionalGids_ProcessHasThoseIdsAndGroups()
    {
        using var b = new TestBundle("user").WithArgs("sh", "-c", "grep -E '^(Uid|Gid|Groups):' /proc/self/status");
        b.Spec.Process!.User = new User { Uid = 1000, Gid = 1001, AdditionalGids = [10, 20] };

        var r = RunOk(b);

        Assert.Equal("1000\t1000\t1000\t1000", Status(r.Stdout, "Uid"));
        Assert.Equal("1001\t1001\t1001\t1001", Status(r.Stdout, "Gid"));
        Assert.Equal("10 20", Status(r.Stdout, "Groups"));
    }

    [RootFact]
    public void Run_AsNonRootUser_CanReopenItsStdout()
    {
        // stdio pipes come from the host's root; a uid 1000 process can reopen them only once they are its own.
        using var b = new TestBundle("stdio").WithArgs("sh", "-c", "echo hi > /proc/self/fd/1");
        b.Spec.Process!.User = new User { Uid = 1000, Gid = 1000 };

        Assert.Equal("hi", RunOk(b).Stdout.Trim());
    }

    [RootFact]
    public void Run_AsRootWithoutAdditionalGids_HasNoSupplementaryGroupsOfTheHost()
    {
        using var b = new TestBundle("groups").WithArgs("sh", "-c", "grep '^Groups:' /proc/self/status");

        var r = RunOk(b);

        Assert.Equal("", Status(r.Stdout, "Groups"));
    }

    [RootFact]
    public void Run_WithRlimitNofile_ProcessSeesSoftAndHardLimit()
    {
        using var b = new TestBundle("rlimit").WithArgs("sh", "-c", "grep 'Max open files' /proc/self/limits");
        b.Spec.Process!.Rlimits = [new PosixRlimit { Type = "RLIMIT_NOFILE", Soft = 512, Hard = 1024 }];

        var r = RunOk(b);

        Assert.Matches(@"Max open files\s+512\s+1024\s+files", r.Stdout);
    }

    [RootFact]
    public void Run_WithUnknownRlimit_FailsNamingTheJsonPath()
    {
        using var b = new TestBundle("rlimit-bad").WithArgs("true");
        b.Spec.Process!.Rlimits = [new PosixRlimit { Type = "RLIMIT_NOFILE", Soft = 1, Hard = 1 }, new PosixRlimit { Type = "RLIMIT_FOO" }];

        var r = b.Run();

        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("process.rlimits[1].type", r.Stderr);
        Assert.Contains("RLIMIT_FOO", r.Stderr);
    }

    [RootFact]
    public void Run_WithUmask_ProcessSeesIt()
    {
        using var b = new TestBundle("umask").WithArgs("sh", "-c", "umask");
        b.Spec.Process!.User.Umask = 0b000_010_111; // 0027

        Assert.Equal("0027", RunOk(b).Stdout.Trim());
    }

    [RootFact]
    public void Run_WithoutUmask_ProcessHas0022()
    {
        using var b = new TestBundle("umask-default").WithArgs("sh", "-c", "umask");

        Assert.Equal("0022", RunOk(b).Stdout.Trim());
    }

    [RootFact]
    public void Run_WithNoNewPrivileges_ProcStatusSaysSo()
    {
        using var b = new TestBundle("nnp").WithArgs("sh", "-c", "grep NoNewPrivs /proc/self/status");
        b.Spec.Process!.NoNewPrivileges = true;

        Assert.Equal("1", Status(RunOk(b).Stdout, "NoNewPrivs"));
    }

    [RootFact]
    public void Run_WithoutNoNewPrivileges_ProcStatusSaysSo()
    {
        using var b = new TestBundle("nnp-off").WithArgs("sh", "-c", "grep NoNewPrivs /proc/self/status");
        b.Spec.Process!.NoNewPrivileges = false;

        Assert.Equal("0", Status(RunOk(b).Stdout, "NoNewPrivs"));
    }

    [RootFact]
    public void Run_WithOomScoreAdj_ProcessSeesIt()
    {
        using var b = new TestBundle("oom").WithArgs("cat", "/proc/self/oom_score_adj");
        b.Spec.Process!.OomScoreAdj = 500;

        Assert.Equal("500", RunOk(b).Stdout.Trim());
    }

    [RootFact]
    public void Run_WithBatchSchedulerAndNice_ProcessRunsWithThem()
    {
        // /proc/PID/stat: field 19 is nice, field 41 the policy (SCHED_BATCH = 3); sh's comm has no spaces.
        using var b = new TestBundle("sched").WithArgs("cat", "/proc/self/stat");
        b.Spec.Process!.Scheduler = new Scheduler { Policy = "SCHED_BATCH", Nice = 5 };

        var fields = RunOk(b).Stdout.Trim().Split(' ');

        Assert.Equal(("5", "3"), (fields[18], fields[40]));
    }

    [RootFact]
    public void Run_WithIoPriority_IoniceShowsIt()
    {
        using var b = new TestBundle("ioprio").WithArgs("sh", "-c", "ionice -p $$");
        b.Spec.Process!.IoPriority = new IoPriority { Class = "IOPRIO_CLASS_BE", Priority = 6 };

        Assert.Equal("best-effort: prio 6", RunOk(b).Stdout.Trim());
    }

    [RootFact]
    public void Run_ExecutableNotInPath_FailsWithRuncsMessage()
    {
        using var b = new TestBundle("notfound").WithArgs("no-such-program");

        var r = b.Run();

        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("exec: \"no-such-program\": executable file not found in $PATH", r.Stderr);
    }

    [RootFact]
    public void Run_ExecutableFoundThroughContainersPath()
    {
        using var b = new TestBundle("path").WithArgs("ls", "/");
        b.Spec.Process!.Env = ["PATH=/nowhere:/bin"];

        Assert.Contains("proc", RunOk(b).Stdout);
    }

    [RootFact]
    public void Run_WithPathLackingTheProgram_FailsEvenThoughTheStandardPathHasIt()
    {
        using var b = new TestBundle("path-miss").WithArgs("ls", "/");
        b.Spec.Process!.Env = ["PATH=/nowhere"];

        var r = b.Run();

        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("exec: \"ls\": executable file not found in $PATH", r.Stderr);
    }

    [RootFact]
    public void Run_ProcessInheritsOnlyStdio()
    {
        // 3 is the directory ls itself opens to list /proc/self/fd.
        using var b = new TestBundle("fds").WithArgs("ls", "/proc/self/fd");

        Assert.Equal(["0", "1", "2", "3"], RunOk(b).Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [RootFact]
    public void Run_ProcessStartsWithNoSignalIgnoredOrBlocked()
    {
        // as under runc: the .NET runtime's SIG_IGN for SIGPIPE would survive execve (a pipeline's writer
        // would then get EPIPE instead of dying); no shell in between that could change them
        using var b = new TestBundle("signals").WithArgs("grep", "-E", "^Sig(Ign|Blk):", "/proc/self/status");

        var r = RunOk(b);

        Assert.Equal("0000000000000000", Status(r.Stdout, "SigIgn"));
        Assert.Equal("0000000000000000", Status(r.Stdout, "SigBlk"));
    }

    [RootFact]
    public void Run_WithUnknownCapability_FailsNamingTheJsonPath()
    {
        using var b = new TestBundle("caps-bad").WithArgs("true");
        b.Spec.Process!.Capabilities = new LinuxCapabilities { Bounding = ["CAP_KILL"], Effective = ["CAP_FOO"] };

        var r = b.Run();

        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("process.capabilities.effective[0]", r.Stderr);
        Assert.Contains("CAP_FOO", r.Stderr);
    }
}
