using System.Text.Json;
using Cnr.IntegrationTests.Harness;
using Xunit;

namespace Cnr.IntegrationTests.Lifecycle;

/// <summary>The OCI lifecycle through cnr's runc-compatible CLI, as Podman, containerd and Docker drive it.</summary>
public sealed class LifecycleTests
{
    [RootFact]
    public void CreateStartKillDelete_StateFollowsEachStep()
    {
        using var b = new TestBundle("lc").WithArgs("sleep", "100");
        var r = b.Create();
        Assert.True(r.ExitCode == 0, r.ToString());

        var state = b.State();
        Assert.Equal("created", state.GetProperty("status").GetString());
        Assert.Equal(b.Id, state.GetProperty("id").GetString());
        Assert.Equal(b.Dir, state.GetProperty("bundle").GetString());
        var pid = state.GetProperty("pid").GetInt32();
        Assert.True(pid > 0 && Host.IsAlive(pid), $"pid {pid}");

        r = b.Cnr("start", b.Id);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("running", b.Status());
        Assert.Equal(pid, b.State().GetProperty("pid").GetInt32());

        r = b.Cnr("kill", b.Id, "KILL");
        Assert.True(r.ExitCode == 0, r.ToString());
        b.WaitForStatus("stopped");

        r = b.Cnr("delete", b.Id);
        Assert.True(r.ExitCode == 0, r.ToString());
        r = b.Cnr("state", b.Id);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains($"container {b.Id} does not exist", r.Stderr);
        Assert.False(Directory.Exists(Path.Combine(b.StateRoot, b.Id)), "state dir left after delete");
    }

    [RootTheory]
    [InlineData("KILL")]
    [InlineData("SIGKILL")]
    [InlineData("9")]
    [InlineData("sigkill")]
    public void Kill_TakesSignalNamesWithOrWithoutSigAndNumbers(string signal)
    {
        using var b = new TestBundle("ks").WithArgs("sleep", "100");
        Assert.Equal(0, b.Create().ExitCode);
        Assert.Equal(0, b.Cnr("start", b.Id).ExitCode);
        var r = b.Cnr("kill", b.Id, signal);
        Assert.True(r.ExitCode == 0, r.ToString());
        b.WaitForStatus("stopped");
    }

    [RootFact]
    public void Kill_WithoutSignal_SendsTerm()
    {
        using var b = new TestBundle("kt").WithArgs("sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.1; done");
        Assert.Equal(0, b.Create().ExitCode);
        Assert.Equal(0, b.Cnr("start", b.Id).ExitCode);
        var pid = b.State().GetProperty("pid").GetInt32();
        Wait.Until(() => Host.Catches(pid, 15), "the shell's trap on TERM");
        var r = b.Cnr("kill", b.Id);
        Assert.True(r.ExitCode == 0, r.ToString());
        b.WaitForStatus("stopped");
    }

    [RootFact]
    public void Kill_UnknownSignal_FailsNamingIt()
    {
        using var b = new TestBundle("kb").WithArgs("sleep", "100");
        Assert.Equal(0, b.Create().ExitCode);
        var r = b.Cnr("kill", b.Id, "SIGNOPE");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("NOPE", r.Stderr);
        r = b.Cnr("kill", b.Id, "99");
        Assert.Equal(1, r.ExitCode);
        Assert.Equal("created", b.Status());
    }

    [RootFact]
    public void Delete_Running_WithoutForce_FailsAndKeepsIt_WithForce_RemovesIt()
    {
        using var b = new TestBundle("dr").WithArgs("sleep", "100");
        Assert.Equal(0, b.Create().ExitCode);
        Assert.Equal(0, b.Cnr("start", b.Id).ExitCode);
        var pid = b.State().GetProperty("pid").GetInt32();

        var r = b.Cnr("delete", b.Id);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("running", r.Stderr);
        Assert.Single(r.Stderr.Trim().Split('\n'));
        Assert.Equal("running", b.Status());

        r = b.Cnr("delete", "--force", b.Id);
        Assert.True(r.ExitCode == 0, r.ToString());
        Wait.Until(() => !Host.IsAlive(pid), $"the container's process {pid} to die of delete --force");
        Assert.Equal(1, b.Cnr("state", b.Id).ExitCode);
    }

    [RootFact]
    public void Delete_Created_RemovesTheWaitingInit()
    {
        using var b = new TestBundle("dc").WithArgs("sleep", "100");
        Assert.Equal(0, b.Create().ExitCode);
        var pid = b.State().GetProperty("pid").GetInt32();
        var r = b.Cnr("delete", b.Id);
        Assert.True(r.ExitCode == 0, "runc deletes a created container without --force\n" + r);
        Wait.Until(() => !Host.IsAlive(pid), $"the waiting init {pid} to die of delete");
    }

    [RootFact]
    public void Delete_Twice_SecondSaysItDoesNotExist()
    {
        using var b = new TestBundle("d2").WithArgs("true");
        Assert.Equal(0, b.Create().ExitCode);
        Assert.Equal(0, b.Cnr("start", b.Id).ExitCode);
        b.WaitForStatus("stopped");
        Assert.Equal(0, b.Cnr("delete", b.Id).ExitCode);
        var r = b.Cnr("delete", b.Id);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains($"container {b.Id} does not exist", r.Stderr);
        // runc: --force on a missing container is not an error (callers clean up with it unconditionally).
        Assert.Equal(0, b.Cnr("delete", "--force", b.Id).ExitCode);
    }

    [RootFact]
    public void Start_Twice_SecondFails()
    {
        using var b = new TestBundle("s2").WithArgs("sleep", "100");
        Assert.Equal(0, b.Create().ExitCode);
        Assert.Equal(0, b.Cnr("start", b.Id).ExitCode);
        var r = b.Cnr("start", b.Id);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("running", r.Stderr);
        Assert.Equal("running", b.Status());
    }

    [RootTheory]
    [InlineData("state")]
    [InlineData("start")]
    [InlineData("kill")]
    [InlineData("delete")]
    [InlineData("ps")]
    [InlineData("pause")]
    [InlineData("resume")]
    [InlineData("exec", "true")]
    public void UnknownId_SaysContainerDoesNotExist(string verb, string? arg = null)
    {
        using var b = new TestBundle("un");
        var id = "nosuch-" + Guid.NewGuid().ToString("N")[..8];
        var r = arg is null ? b.Cnr(verb, id) : b.Cnr(verb, id, arg);
        // exec's own failures are 255 with runc's "exec failed: ", so that callers tell them from the process's status
        Assert.Equal(verb == "exec" ? 255 : 1, r.ExitCode);
        Assert.Equal($"cnr: {(verb == "exec" ? "exec failed: " : "")}container {id} does not exist", r.Stderr.Trim());
    }

    [RootFact]
    public void List_QuietAndJson_ShowTheContainer()
    {
        using var b = new TestBundle("ls").WithArgs("sleep", "100");
        Assert.Equal(0, b.Create().ExitCode);

        var r = b.Cnr("list", "-q");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal(b.Id + "\n", r.Stdout);

        r = b.Cnr("list", "-f", "json");
        Assert.True(r.ExitCode == 0, r.ToString());
        var all = JsonDocument.Parse(r.Stdout).RootElement;
        var c = Assert.Single(all.EnumerateArray());
        Assert.Equal(b.Id, c.GetProperty("id").GetString());
        Assert.Equal("created", c.GetProperty("status").GetString());
        Assert.Equal(b.Dir, c.GetProperty("bundle").GetString());
        Assert.True(c.GetProperty("pid").GetInt32() > 0);

        r = b.Cnr("list");
        Assert.Contains("ID", r.Stdout.Split('\n')[0]);
        Assert.Contains(b.Id, r.Stdout);
    }

    [RootFact]
    public void List_EmptyRoot_JsonIsAnEmptyArray()
    {
        using var b = new TestBundle("le");
        var r = b.Cnr("list", "-f", "json");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal(JsonValueKind.Array, JsonDocument.Parse(r.Stdout).RootElement.ValueKind);
        Assert.Empty(JsonDocument.Parse(r.Stdout).RootElement.EnumerateArray());
    }

    [RootFact]
    public void Ps_Json_ListsTheContainersPids()
    {
        using var b = new TestBundle("ps").WithArgs("sh", "-c", "sleep 100 & sleep 100; true");
        Assert.Equal(0, b.Create().ExitCode);
        Assert.Equal(0, b.Cnr("start", b.Id).ExitCode);
        var pid = b.State().GetProperty("pid").GetInt32();
        List<int> Ps()
        {
            var r = b.Cnr("ps", "-f", "json", b.Id);
            Assert.True(r.ExitCode == 0, r.ToString());
            return JsonDocument.Parse(r.Stdout).RootElement.EnumerateArray().Select(e => e.GetInt32()).ToList();
        }
        List<int> pids = [];
        Wait.Until(() => (pids = Ps()).Count >= 3, "init and its two sleeps in `ps`", last: () => "ps: " + string.Join(' ', pids));
        Assert.Contains(pid, pids);
    }

    [RootFact]
    public void LogJson_ErrorsAreJsonLinesWithLevelMsgTime()
    {
        using var b = new TestBundle("lj");
        foreach (var form in new[] { new[] { "--log-format", "json" }, ["--log-format=json"] })
        {
            var log = Path.Combine(b.Dir, $"log-{form.Length}.json");
            var r = b.Cnr(["--log", log, .. form, "state", "nosuch"]);
            Assert.Equal(1, r.ExitCode);
            var lines = File.ReadAllLines(log).Where(l => l.Length > 0).ToList();
            Assert.NotEmpty(lines);
            var e = JsonDocument.Parse(lines[^1]).RootElement;
            Assert.Equal("error", e.GetProperty("level").GetString());
            Assert.Contains("nosuch does not exist", e.GetProperty("msg").GetString());
            Assert.True(DateTimeOffset.TryParse(e.GetProperty("time").GetString(), out _), lines[^1]);
        }
    }

    /// <summary>runc's fatal() writes the error to the log AND to stderr: containerd's shim and Docker report a
    /// failed `update`/`pause`/`kill` with the command's output only, so an error only in the log file is lost
    /// ("exit status 1: : unknown").</summary>
    [RootFact]
    public void LogFile_ErrorsStillGoToStderr_AsRuncDoes()
    {
        using var b = new TestBundle("le2");
        var log = Path.Combine(b.Dir, "log.json");
        var r = b.Cnr("--log", log, "--log-format", "json", "state", "nosuch");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("nosuch does not exist", File.ReadAllText(log));
        Assert.Contains("nosuch does not exist", r.Stderr);
    }

    [RootFact]
    public void LogFormat_Unknown_IsAUsageError()
    {
        using var b = new TestBundle("lf");
        var r = b.Cnr("--log-format", "xml", "list");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("xml", r.Stderr);
    }

    [RootFact]
    public void Create_PidFile_HoldsTheInitPid()
    {
        using var b = new TestBundle("pf").WithArgs("sleep", "100");
        var pidFile = Path.Combine(b.Dir, "init.pid");
        Assert.Equal(0, b.Create("--pid-file", pidFile).ExitCode);
        Assert.Equal(b.State().GetProperty("pid").GetInt32(), int.Parse(File.ReadAllText(pidFile).Trim()));
    }

    [RootFact]
    public void Create_SameIdTwice_SecondFails()
    {
        using var b = new TestBundle("dup").WithArgs("sleep", "100");
        Assert.Equal(0, b.Create().ExitCode);
        var r = b.Create();
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("exists", r.Stderr);
        Assert.Equal("created", b.Status());
    }

    /// <summary>An execve that fails after start (a script whose interpreter is missing) is start's failure,
    /// as it is run's: start waits for the exec and says why it failed.</summary>
    [RootFact]
    public void Start_ReportsAnExecFailure()
    {
        using var b = new TestBundle("sx").CopyRootfs().WithArgs("/broken");
        File.WriteAllText(Path.Combine(b.Dir, "rootfs", "broken"), "#!/no/such/interpreter\n");
        File.SetUnixFileMode(Path.Combine(b.Dir, "rootfs", "broken"), (UnixFileMode)0x1ed);
        var r = b.Create();
        Assert.True(r.ExitCode == 0, r.ToString());
        r = b.Cnr("start", b.Id);
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("ENOENT", r.Stderr);
        Assert.Equal(0, b.Cnr("delete", "--force", b.Id).ExitCode);
    }
}
