using System.Text.Json;
using Cnr.Cgroups;
using Cnr.IntegrationTests.Cgroups;
using Cnr.IntegrationTests.Harness;
using Xunit;

namespace Cnr.IntegrationTests.Cli;

/// <summary>The command line as a new user meets it (issue 15): a usage error is one line naming the flag or
/// verb and exit 1, never a help dump; runc's flags and verbs; what stats and inspect say without controllers.</summary>
public sealed class CliTests
{
    /// <summary>Exactly one line on stderr (no help after it), nothing on stdout.</summary>
    private static void AssertUsageError(CnrResult r, string line, int exitCode = 1)
    {
        Assert.True(r.ExitCode == exitCode, r.ToString());
        Assert.Equal(line + "\n", r.Stderr);
        Assert.Equal("", r.Stdout);
    }

    [RootFact]
    public void Run_UnknownFlag_SaysUnknownFlag_NotTheIdAndNoHelp()
    {
        using var b = new TestBundle("uf");
        AssertUsageError(b.Cnr("run", "--bogus", "nc-x"), "cnr: unknown flag: --bogus (cnr run --help lists the flags)");
        Assert.False(Directory.Exists(Path.Combine(b.StateRoot, "nc-x")));
    }

    [RootFact]
    public void UnknownCommand_IsOneLinePointingToHelp_EvenWithDashH()
    {
        using var b = new TestBundle("uc");
        AssertUsageError(b.Cnr("bogus"), "cnr: unknown command \"bogus\" (cnr --help lists the commands)");
        AssertUsageError(b.Cnr("bogus", "-h"), "cnr: unknown command \"bogus\" (cnr --help lists the commands)");
        AssertUsageError(b.Cnr("help", "bogus"), "cnr: no help topic for \"bogus\" (cnr --help lists the commands)");
    }

    [RootFact]
    public void Help_AndHelpVerb_PrintWhatDashDashHelpPrints()
    {
        var help = Harness.Cnr.Run(["help"]);
        Assert.True(help.ExitCode == 0, help.ToString());
        Assert.Equal(Harness.Cnr.Run(["--help"]).Stdout, help.Stdout);
        Assert.Contains("state", help.Stdout);

        var run = Harness.Cnr.Run(["help", "run"]);
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(Harness.Cnr.Run(["run", "--help"]).Stdout, run.Stdout);
        Assert.Contains("--keep", run.Stdout);
        Assert.Equal("", run.Stderr);
    }

    [RootFact]
    public void BadFlagValues_NameTheFlagAndTheForm_WithoutDotNetTypes()
    {
        using var b = TestBundle.Started("bv");
        AssertUsageError(b.Cnr("update", "--memory", "64x", b.Id),
            "cnr: --memory: \"64x\" is not a size in bytes, or with a unit k, m, g, t or p (64m, 1.5g), or -1 for unlimited");
        AssertUsageError(b.Cnr("update", "--pids-limit", "lots", b.Id), "cnr: --pids-limit: \"lots\" is not a number of processes, or -1 for unlimited");
        AssertUsageError(b.Cnr("exec", "--preserve-fds", "x", b.Id, "true"), "cnr: --preserve-fds: \"x\" is not a whole number, 0 or more");
        AssertUsageError(b.Cnr("kill", b.Id, "FOO"),
            "cnr: kill: \"FOO\" is not a signal (a name like KILL, SIGTERM, RTMIN+1, a number from 1 to 64, or 0 to check that the container runs)");
        AssertUsageError(b.Cnr("state"), "cnr: state: <container-id> is missing (cnr state --help shows the usage)");
        Assert.Equal("running", b.Status());
    }

    /// <summary>runc's `update` flags for cgroup v1's real-time bandwidth and for Intel RDT: taken, refused in one
    /// line naming the flag, before anything changes (the pids limit given with them is not recorded either).</summary>
    [RootFact]
    public void Update_RealtimeOrRdtFlag_IsOneLineNamingTheFlag_AndChangesNothing()
    {
        using var b = TestBundle.Started("ur");
        var recorded = Path.Combine(b.StateRoot, b.Id, "config.json");
        var before = File.ReadAllText(recorded);
        const string NoRealtime = "real-time CPU bandwidth does not exist in cgroup v2, which cnr manages; leave the flag out";
        const string NoRdt = "Intel RDT (resctrl, linux.intelRdt) is not supported by cnr; leave the flag out";
        AssertUsageError(b.Cnr("update", "--pids-limit", "10", "--cpu-rt-period", "1000000", b.Id), $"cnr: --cpu-rt-period: {NoRealtime}");
        AssertUsageError(b.Cnr("update", "--pids-limit", "10", "--cpu-rt-runtime", "950000", b.Id), $"cnr: --cpu-rt-runtime: {NoRealtime}");
        AssertUsageError(b.Cnr("update", "--pids-limit", "10", "--l3-cache-schema", "L3:0=ff", b.Id), $"cnr: --l3-cache-schema: {NoRdt}");
        AssertUsageError(b.Cnr("update", "--mem-bw-schema=MB:0=70", b.Id), $"cnr: --mem-bw-schema: {NoRdt}");
        Assert.Equal(before, File.ReadAllText(recorded));
        Assert.Equal("running", b.Status());
    }

    [CgroupV2Fact("memory", NeedsCnr = true)]
    [Trait("Category", "CgroupV2")]
    public void Update_MemoryWithRuncUnits_SetsMemoryMax()
    {
        using var b = TestBundle.Started("um");
        var max = Path.Combine(CgroupHierarchy.Find(out _)!.Root + b.Spec.Linux!.CgroupsPath, "memory.max");
        var r = b.Cnr("update", "--memory", "64m", b.Id);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("67108864", File.ReadAllText(max).Trim());
        r = b.Cnr("update", "--memory", "-1", b.Id);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("max", File.ReadAllText(max).Trim());
    }

    [RootFact]
    public void State_HasRootfsCreatedAndOwner_InRuncsOrder()
    {
        using var b = new TestBundle("st").WithArgs("sleep", "100");
        var before = DateTime.UtcNow;
        Assert.Equal(0, b.Create().ExitCode);
        var after = DateTime.UtcNow;
        var r = b.Cnr("state", b.Id);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.StartsWith("{\n  \"ociVersion\": ", r.Stdout);  // indented, as runc prints it
        var state = JsonDocument.Parse(r.Stdout).RootElement;
        Assert.Equal(new[] { "ociVersion", "id", "pid", "status", "bundle", "rootfs", "created", "owner" },
            state.EnumerateObject().Select(p => p.Name).Take(8).ToArray());
        Assert.Equal(Repo.MyboxRootfs, state.GetProperty("rootfs").GetString());
        var created = state.GetProperty("created").GetDateTime().ToUniversalTime();
        Assert.InRange(created, before, after);
        Assert.Equal("root", state.GetProperty("owner").GetString());
    }

    [RootFact]
    public void Kill_SignalZero_TellsWhetherTheContainerRuns()
    {
        using var b = TestBundle.Started("k0");
        Assert.Equal(0, b.Cnr("kill", b.Id, "0").ExitCode);
        Assert.Equal(0, b.Cnr("kill", "-a", b.Id, "0").ExitCode);
        Assert.Equal("running", b.Status());

        Assert.Equal(0, b.Cnr("kill", b.Id, "KILL").ExitCode);
        b.WaitForStatus("stopped");
        AssertUsageError(b.Cnr("kill", b.Id, "0"), "cnr: container not running");
        Assert.Equal(0, b.Cnr("kill", "-a", b.Id, "0").ExitCode);  // runc: --all on a stopped container succeeds
    }

    [RootFact]
    public void KillAll_ShortFlag_SignalsEveryProcess()
    {
        using var b = TestBundle.Started("ka", "sh", "-c", "trap '' TERM; sleep 100 & sleep 101 & wait");
        var pids = WaitForPids(b, 3);
        var r = b.Cnr("kill", "-a", b.Id, "KILL");
        Assert.True(r.ExitCode == 0, r.ToString());
        b.WaitForStatus("stopped");
        foreach (var pid in pids)
            Assert.False(Host.IsAlive(pid), $"pid {pid} survived");
    }

    private static List<int> WaitForPids(TestBundle b, int count)
    {
        List<int> pids = [];
        Wait.Until(() => (pids = JsonSerializer.Deserialize<List<int>>(b.Cnr("ps", "-f", "json", b.Id).Stdout) ?? []).Count >= count,
            $"{count} processes in `ps`", last: () => "ps: " + string.Join(' ', pids));
        return pids;
    }

    [RootFact]
    public void RunKeep_LeavesTheContainerStoppedUntilDelete()
    {
        using var b = new TestBundle("rk").WithArgs("sh", "-c", "exit 3");
        b.Write();
        var r = b.Cnr("run", "--keep", "--bundle", b.Dir, b.Id);
        Assert.True(r.ExitCode == 3, r.ToString());
        var state = b.State();
        Assert.Equal("stopped", state.GetProperty("status").GetString());
        Assert.Equal(0, state.GetProperty("pid").GetInt32());

        r = b.Cnr("delete", b.Id);
        Assert.True(r.ExitCode == 0, r.ToString());
        AssertUsageError(b.Cnr("state", b.Id), $"cnr: container {b.Id} does not exist");
    }

    [CgroupV2Fact(NeedsCnr = true)]  // the freezer
    public void ExecIgnorePaused_RunsOnceResumed_PlainExecIsRefusedWith255()
    {
        using var b = TestBundle.Started("ip");
        Assert.Equal(0, b.Cnr("pause", b.Id).ExitCode);
        AssertUsageError(b.Cnr("exec", b.Id, "echo", "ok"),
            "cnr: exec failed: cannot exec in a paused container (use --ignore-paused to override)", exitCode: 255);

        using var exec = Background.Start(["--root", b.StateRoot, "exec", "--ignore-paused", b.Id, "echo", "ok"]);
        var resume = b.Cnr("resume", b.Id);
        Assert.True(resume.ExitCode == 0, resume.ToString());
        var r = exec.WaitForExit();
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("ok\n", r.Stdout);
    }

    [RootFact]
    public void Exec_BadPidFileDirectory_Is255AndStartsNothing()
    {
        using var b = TestBundle.Started("ep");
        var pidFile = Path.Combine(b.Dir, "no-such-dir", "exec.pid");
        AssertUsageError(b.Cnr("exec", "--pid-file", pidFile, b.Id, "sleep", "50"),
            $"cnr: exec failed: --pid-file {pidFile}: the directory {Path.GetDirectoryName(pidFile)} does not exist", exitCode: 255);
        Assert.Single(JsonSerializer.Deserialize<List<int>>(b.Cnr("ps", "-f", "json", b.Id).Stdout)!);
        // and the process's own status is still its own
        Assert.Equal(7, b.Cnr("exec", b.Id, "sh", "-c", "exit 7").ExitCode);
    }

    /// <summary>The controllers the container's cgroup lacks, of those behind stats' columns.</summary>
    private static List<string> MissingControllers(TestBundle b)
    {
        var has = File.ReadAllText(CgroupHierarchy.Find(out _)!.Root + b.Spec.Linux!.CgroupsPath + "/cgroup.controllers").Split(' ', StringSplitOptions.TrimEntries);
        return new[] { "memory", "pids", "io" }.Where(c => !has.Contains(c)).ToList();
    }

    [CgroupV2Fact(NeedsCnr = true)]
    public void Stats_WithoutAController_SaysNaAndWhy_NotZero()
    {
        using var b = TestBundle.Started("sn");
        var missing = MissingControllers(b);
        var r = b.Cnr("stats", "--no-stream", b.Id);
        Assert.True(r.ExitCode == 0, r.ToString());
        var lines = r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var row = lines.Single(l => l.StartsWith(b.Id, StringComparison.Ordinal));
        CgroupHierarchy.Find(out var mode);
        if (missing.Count == 0)
        {
            Assert.DoesNotContain("n/a", r.Stdout);
            return;
        }
        Assert.Equal($"n/a: no {string.Join(", ", missing)} controller in the container's cgroup ({mode})", lines[^1]);
        if (missing.Contains("memory")) Assert.DoesNotContain("0B /", row);
        if (missing.Contains("pids")) Assert.Matches(@"\sn/a\s", row);
    }

    [CgroupV2Fact(NeedsCnr = true)]
    public void Inspect_WithoutAController_SaysNaAndWhy()
    {
        using var b = TestBundle.Started("in");
        var r = b.Cnr("inspect", b.Id);
        Assert.True(r.ExitCode == 0, r.ToString());
        CgroupHierarchy.Find(out var mode);
        var cgroupDir = CgroupHierarchy.Find(out _)!.Root + b.Spec.Linux!.CgroupsPath;
        foreach (var (resource, file) in new[] { ("memory", "memory.current"), ("pids", "pids.current"), ("cpu", "cpu.max") })
        {
            var line = $"  {resource,-12} n/a   (no {resource} controller in the container's cgroup: {mode})";
            if (File.Exists(Path.Combine(cgroupDir, file))) Assert.DoesNotContain(line, r.Stdout);
            else Assert.Contains(line + "\n", r.Stdout);
        }
    }

    [RootFact]
    public void MakeRun_AfterAFailedLastCommand_ReportsTheStatusWithoutMakesError()
    {
        using var b = new TestBundle("mk");
        var make = Pty.Run(["make", "-s", "-C", Repo.Root, "-o", "all", "-o", "bundles", "run", $"CNR={Repo.CnrBinary} --root {b.StateRoot}"],
            trigger: "# ", send: "false; exit\n"u8.ToArray());
        Assert.True(make.ExitCode == 0, make.ToString());
        Assert.Contains("container exited with status 1\n", make.Stdout);
        Assert.DoesNotContain("Error", make.Stdout);
        AssertUsageError(b.Cnr("state", "mybox"), "cnr: container mybox does not exist");
    }
}
