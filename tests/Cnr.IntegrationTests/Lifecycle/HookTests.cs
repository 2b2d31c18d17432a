using System.Text.Json;
using Cnr.IntegrationTests.Harness;
using Cnr.Spec;
using Xunit;

namespace Cnr.IntegrationTests.Lifecycle;

/// <summary>OCI hooks as the callers use them (Docker's libnetwork prestart hook, podman's hooks.d): order,
/// the state JSON on stdin, argv[0] and failure handling.</summary>
public sealed class HookTests
{
    /// <summary>A hook that appends "@@STAGE" and then the state JSON it got on stdin to <paramref name="file"/>.</summary>
    private static Hook Recorder(string stage, string file) => new()
    {
        Path = "/bin/sh",
        Args = ["sh", "-c", $"printf '@@%s\\n' {stage} >> '{file}'; cat >> '{file}'"],
    };

    private static Hook Failing(string why) => new() { Path = "/bin/sh", Args = ["sh", "-c", $"echo {why} >&2; exit 3"] };

    [RootFact]
    public void Hooks_RunInLifecycleOrder_WithTheStateOnStdin()
    {
        using var b = new TestBundle("hk").WithArgs("sleep", "100");
        var log = Path.Combine(b.Dir, "hooks.log");
        b.Spec.Hooks = new Cnr.Spec.Hooks
        {
            Prestart = [Recorder("prestart", log)],
            CreateRuntime = [Recorder("createRuntime", log)],
            Poststart = [Recorder("poststart", log)],
            Poststop = [Recorder("poststop", log)],
        };
        Assert.Equal(0, b.Create().ExitCode);
        var pid = b.State().GetProperty("pid").GetInt32();
        Assert.Equal(0, b.Cnr("start", b.Id).ExitCode);
        Assert.Equal(0, b.Cnr("kill", b.Id, "KILL").ExitCode);
        b.WaitForStatus("stopped");
        Assert.Equal(0, b.Cnr("delete", b.Id).ExitCode);

        var records = File.ReadAllText(log).Split("@@", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["prestart", "createRuntime", "poststart", "poststop"], records.Select(l => l.Split('\n')[0]));
        foreach (var line in records)
        {
            var state = JsonDocument.Parse(line[(line.IndexOf('\n') + 1)..]).RootElement;
            Assert.Equal(b.Id, state.GetProperty("id").GetString());
            Assert.Equal(b.Dir, state.GetProperty("bundle").GetString());
            Assert.True(state.TryGetProperty("ociVersion", out _), line);
            Assert.True(state.TryGetProperty("status", out _), line);
            if (!line.StartsWith("poststop")) Assert.Equal(pid, state.GetProperty("pid").GetInt32());
        }
    }

    /// <summary>As runc: createContainer hooks run in the container's mount namespace, its mounts done, with the
    /// container's root as their working directory.</summary>
    [RootFact]
    public void CreateContainerHook_RunsInTheContainersRoot()
    {
        using var b = new TestBundle("hcwd").WithArgs("true");
        var log = Path.Combine(b.Dir, "hook-cwd");
        b.Spec.Hooks = new Cnr.Spec.Hooks { CreateContainer = [new Hook { Path = "/bin/sh", Args = ["sh", "-c", $"pwd -P > '{log}'"] }] };
        var r = b.Run();
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal(Path.GetFullPath(b.Spec.Root!.Path), File.ReadAllText(log).Trim());
    }

    /// <summary>runc execs hooks with args as the whole argv, args[0] included: Docker's prestart hook is
    /// `/proc/DOCKERD/exe` with args[0] "libnetwork-setkey", and dockerd dispatches on argv[0].</summary>
    [RootFact]
    public void Hook_Args0_IsTheHooksArgv0()
    {
        using var b = new TestBundle("h0").WithArgs("true");
        var log = Path.Combine(b.Dir, "argv0");
        b.Spec.Hooks = new Cnr.Spec.Hooks { Prestart = [new Hook { Path = "/bin/sh", Args = ["libnetwork-setkey", "-c", $"echo \"$0\" > '{log}'"] }] };
        var r = b.Create();
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("libnetwork-setkey\n", File.ReadAllText(log));
    }

    [RootFact]
    public void Hook_Env_IsTheHooksWholeEnvironment()
    {
        using var b = new TestBundle("he").WithArgs("true");
        var log = Path.Combine(b.Dir, "env");
        b.Spec.Hooks = new Cnr.Spec.Hooks { Prestart = [new Hook { Path = "/bin/sh", Args = ["sh", "-c", $"env > '{log}'"], Env = ["ONLY=this"] }] };
        Assert.Equal(0, b.Create().ExitCode);
        var env = File.ReadAllLines(log).Where(l => !l.StartsWith("PWD=") && !l.StartsWith("SHLVL=") && !l.StartsWith("_=")).ToList();
        Assert.Equal(["ONLY=this"], env);
    }

    [RootFact]
    public void Hook_FailingPrestart_AbortsCreateAndLeavesNothing()
    {
        using var b = new TestBundle("hf").WithArgs("sleep", "100");
        b.Spec.Hooks = new Cnr.Spec.Hooks { Prestart = [Failing("no-network-for-you")] };
        var r = b.Create();
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("prestart", r.Stderr);
        Assert.Equal("", b.Cnr("list", "-q").Stdout);
        Assert.False(Directory.Exists(Path.Combine(b.StateRoot, b.Id)), "state dir left by a failed create");
    }

    [RootFact]
    public void Hook_FailingPoststop_IsOnlyAWarning()
    {
        using var b = new TestBundle("hp").WithArgs("true");
        b.Spec.Hooks = new Cnr.Spec.Hooks { Poststop = [Failing("poststop-trouble")] };
        Assert.Equal(0, b.Create().ExitCode);
        Assert.Equal(0, b.Cnr("start", b.Id).ExitCode);
        b.WaitForStatus("stopped");
        var r = b.Cnr("delete", b.Id);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("poststop", r.Stderr);
        Assert.Equal(1, b.Cnr("state", b.Id).ExitCode);
    }

    [RootFact]
    public void Hook_FailingPoststart_IsOnlyAWarning_TheContainerRuns()
    {
        using var b = new TestBundle("hs").WithArgs("sleep", "100");
        b.Spec.Hooks = new Cnr.Spec.Hooks { Poststart = [Failing("poststart-trouble")] };
        Assert.Equal(0, b.Create().ExitCode);
        var r = b.Cnr("start", b.Id);
        Assert.Contains("poststart", r.Stderr);
        Assert.Equal("running", b.Status());
    }

    /// <summary>A failing poststart or poststop hook is a warning and the hooks after it still run.</summary>
    [RootFact]
    public void Hook_FailingWarnOnlyHook_DoesNotStopTheOthers()
    {
        using var b = new TestBundle("hw").WithArgs("sleep", "100");
        var log = Path.Combine(b.Dir, "hooks.log");
        b.Spec.Hooks = new Cnr.Spec.Hooks
        {
            Poststart = [Failing("poststart-trouble"), Recorder("poststart", log)],
            Poststop = [Failing("poststop-trouble"), new Hook { Path = "/nonexistent/hook" }, Recorder("poststop", log)],
        };
        Assert.Equal(0, b.Create().ExitCode);
        var r = b.Cnr("start", b.Id);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("poststart[0]", r.Stderr);
        Assert.Equal(0, b.Cnr("kill", b.Id, "KILL").ExitCode);
        b.WaitForStatus("stopped");
        r = b.Cnr("delete", b.Id);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("poststop[0]", r.Stderr);
        Assert.Contains("poststop[1]", r.Stderr);
        var records = File.ReadAllText(log).Split("@@", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["poststart", "poststop"], records.Select(l => l.Split('\n')[0]));
    }

    /// <summary>`start` returns only once the user's process runs, so poststart sees it: a startContainer hook
    /// that takes a second holds the init before execve, and the poststart hook reads what the pid runs.</summary>
    [RootFact]
    public void Hook_Poststart_RunsAfterTheProcessExecd()
    {
        using var b = new TestBundle("hx").WithArgs("sleep", "100");
        var log = Path.Combine(b.Dir, "exe");
        b.Spec.Hooks = new Cnr.Spec.Hooks
        {
            StartContainer = [new Hook { Path = "/bin/sh", Args = ["sh", "-c", "sleep 1"] }],
            Poststart = [new Hook { Path = "/bin/sh", Args = ["sh", "-c", $"pid=$(sed -n 's/.*\"pid\": *\\([0-9]*\\).*/\\1/p'); readlink /proc/$pid/exe > '{log}'"] }],
        };
        Assert.Equal(0, b.Create().ExitCode);
        var r = b.Cnr("start", b.Id);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.EndsWith("/bin/busybox", File.ReadAllText(log).Trim());
    }
}
