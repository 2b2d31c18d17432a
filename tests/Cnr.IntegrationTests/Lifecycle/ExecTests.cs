using System.Text.Json;
using Cnr.IntegrationTests.Harness;
using Cnr.Spec;
using Xunit;

namespace Cnr.IntegrationTests.Lifecycle;

/// <summary>`cnr exec` as the callers use it: argv after the id, `--process process.json` (containerd, podman),
/// `--detach --pid-file` (every caller).</summary>
public sealed class ExecTests
{
    [RootFact]
    public void Exec_WithArgs_PrintsOutputAndReturnsTheExitCode()
    {
        using var b = TestBundle.Started("ea");
        var r = b.Cnr("exec", b.Id, "sh", "-c", "echo out; echo err >&2; exit 3");
        Assert.Equal(3, r.ExitCode);
        Assert.Equal("out\n", r.Stdout);
        Assert.Equal("err\n", r.Stderr);

        // runc-style: options of the command after the id belong to the command.
        r = b.Cnr("exec", b.Id, "ls", "-d", "/proc");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("/proc\n", r.Stdout);
    }

    [RootFact]
    public void Exec_WithEnvAndCwd()
    {
        using var b = TestBundle.Started("ee");
        var r = b.Cnr("exec", "--env", "GREETING=hello", "--cwd", "/tmp", b.Id, "sh", "-c", "echo $GREETING $(pwd)");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("hello /tmp\n", r.Stdout);
    }

    [RootFact]
    public void Exec_ProcessFile_RunsThatProcess()
    {
        using var b = TestBundle.Started("ep");
        var process = new Cnr.Spec.Process
        {
            Args = ["sh", "-c", "echo $FROM_FILE $(pwd)"],
            Env = ["PATH=/bin", "FROM_FILE=yes"],
            Cwd = "/etc",
            User = new User { Uid = 0, Gid = 0 },
        };
        var file = Path.Combine(b.Dir, "process.json");
        File.WriteAllText(file, JsonSerializer.Serialize(process, SpecJson.Default.Process));
        var r = b.Cnr("exec", "--process", file, b.Id);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("yes /etc\n", r.Stdout);
    }

    [RootFact]
    public void Exec_DetachWithPidFile_LeavesTheProcessRunning()
    {
        using var b = TestBundle.Started("ed");
        var pidFile = Path.Combine(b.Dir, "exec.pid");
        var r = b.CnrDetached("exec", "--detach", "--pid-file", pidFile, b.Id, "sleep", "50");
        Assert.True(r.ExitCode == 0, r.ToString());
        var pid = int.Parse(File.ReadAllText(pidFile).Trim());
        Assert.True(Host.IsAlive(pid), $"exec'd pid {pid} is gone");
        Assert.Contains("sleep", File.ReadAllText($"/proc/{pid}/cmdline"));
        // In the container's pid namespace.
        Assert.Equal(new FileInfo($"/proc/{pid}/ns/pid").LinkTarget, new FileInfo($"/proc/{b.State().GetProperty("pid").GetInt32()}/ns/pid").LinkTarget);
    }

    [RootFact]
    public void Exec_InStoppedContainer_Fails()
    {
        using var b = new TestBundle("es").WithArgs("true");
        Assert.Equal(0, b.Create().ExitCode);
        Assert.Equal(0, b.Cnr("start", b.Id).ExitCode);
        b.WaitForStatus("stopped");
        var r = b.Cnr("exec", b.Id, "true");
        Assert.Equal(255, r.ExitCode);
        Assert.Contains("stopped", r.Stderr);
    }

    [RootFact]
    public void Exec_UnreadableProcessFile_FailsNamingIt()
    {
        using var b = TestBundle.Started("eu");
        var missing = Path.Combine(b.Dir, "missing.json");
        var r = b.Cnr("exec", "--process", missing, b.Id);
        Assert.Equal(255, r.ExitCode);
        Assert.Contains(missing, r.Stderr);

        var bad = Path.Combine(b.Dir, "bad.json");
        File.WriteAllText(bad, "{ not json");
        r = b.Cnr("exec", "--process", bad, b.Id);
        Assert.Equal(255, r.ExitCode);
        Assert.Contains(bad, r.Stderr);
        Assert.Single(r.Stderr.Trim().Split('\n'));
    }

    [RootFact]
    public void Exec_NoCommand_IsAUsageError()
    {
        using var b = TestBundle.Started("en");
        var r = b.Cnr("exec", b.Id);
        Assert.Equal(255, r.ExitCode);
        Assert.NotEmpty(r.Stderr);
    }
}
