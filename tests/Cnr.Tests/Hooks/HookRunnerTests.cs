using System.Text.Json;
using Cnr.Hooks;
using Cnr.Spec;
using Xunit;

namespace Cnr.Tests.Hooks;

/// <summary>HookRunner with real /bin/sh hooks, each writing what it saw into a scratch directory.</summary>
public sealed class HookRunnerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cnr-hooks-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Out(string name) => Path.Combine(_dir, name);

    /// <summary>/bin/sh -c SCRIPT with argv[0] NAME.</summary>
    private static Hook Sh(string script, string name = "sh", int? timeout = null, List<string>? env = null)
        => new() { Path = "/bin/sh", Args = [name, "-c", script], Timeout = timeout, Env = env };

    // The validator refuses a missing prestart program before anything exists; this is what remains for a
    // program that disappears between validation and run, or a hook run from the init.
    [Fact]
    public void Run_MissingProgram_NamesTheHookPathField()
    {
        var e = Assert.Throws<InvalidOperationException>(() =>
            HookRunner.Run("prestart", [new Hook { Path = "/bin/true" }, new Hook { Path = "/nonexistent/hook" }], new ContainerState()));
        Assert.Equal("hooks.prestart[1].path: cannot run /nonexistent/hook: ENOENT (No such file or directory) (install the hook there, or fix the path)", e.Message);
    }

    [Fact]
    public void Run_FailingProgram_NamesTheHookAndStatus()
    {
        var e = Assert.Throws<InvalidOperationException>(() =>
            HookRunner.Run("createRuntime", [new Hook { Path = "/bin/sh", Args = ["sh", "-c", "exit 3"] }], new ContainerState()));
        Assert.Equal("hooks.createRuntime[0]: /bin/sh exited with status 3", e.Message);
    }

    [Fact]
    public void Run_GivesEachHookTheStateOnStdin()
    {
        var state = new ContainerState { Id = "box", Status = "created", Pid = 4242, Bundle = "/b", Annotations = new() { ["a"] = "1" } };
        HookRunner.Run("createRuntime", [Sh($"cat > {Out("1")}"), Sh($"cat > {Out("2")}")], state);
        foreach (var f in new[] { "1", "2" })
        {
            var got = JsonDocument.Parse(File.ReadAllText(Out(f))).RootElement;
            Assert.Equal("box", got.GetProperty("id").GetString());
            Assert.Equal("created", got.GetProperty("status").GetString());
            Assert.Equal(4242, got.GetProperty("pid").GetInt32());
            Assert.Equal("/b", got.GetProperty("bundle").GetString());
            Assert.Equal("1", got.GetProperty("annotations").GetProperty("a").GetString());
            Assert.Equal(state.OciVersion, got.GetProperty("ociVersion").GetString());
        }
    }

    /// <summary>args[0] is the hook's argv[0], as runc does (dockerd's libnetwork-setkey hook reads it).</summary>
    [Fact]
    public void Run_ArgsZeroIsArgvZero()
    {
        HookRunner.Run("prestart", [Sh($"echo \"$0\" > {Out("argv0")}", name: "libnetwork-setkey")], new ContainerState());
        Assert.Equal("libnetwork-setkey\n", File.ReadAllText(Out("argv0")));
    }

    [Fact]
    public void Run_EnvReplacesTheRuntimesEnvironment_WithoutItTheHookInheritsIt()
    {
        Environment.SetEnvironmentVariable("CNR_HOOK_TEST_INHERITED", "yes");
        HookRunner.Run("prestart", [Sh($"env > {Out("own")}", env: ["ONLY=1"]), Sh($"env > {Out("inherited")}")], new ContainerState());
        var own = File.ReadAllLines(Out("own"));
        Assert.Contains("ONLY=1", own);
        Assert.DoesNotContain("CNR_HOOK_TEST_INHERITED=yes", own);
        Assert.Contains("CNR_HOOK_TEST_INHERITED=yes", File.ReadAllLines(Out("inherited")));
    }

    [Fact]
    public void Run_PastItsTimeout_TheHookIsKilled_AndTheMessageSaysSo()
    {
        var e = Assert.Throws<InvalidOperationException>(() =>
            HookRunner.Run("prestart", [Sh($"echo $$ > {Out("pid")}; exec sleep 60", timeout: 1)], new ContainerState()));
        Assert.Equal("hooks.prestart[0]: /bin/sh timed out after 1s", e.Message);
        var pid = File.ReadAllText(Out("pid")).Trim();
        Assert.False(Directory.Exists($"/proc/{pid}"), $"the hook (pid {pid}) outlived its timeout");
    }

    [Fact]
    public void Run_AFailureStopsTheRest()
    {
        Assert.Throws<InvalidOperationException>(() =>
            HookRunner.Run("prestart", [Sh("exit 1"), Sh($"touch {Out("second")}")], new ContainerState()));
        Assert.False(File.Exists(Out("second")), "the hook after a failing one ran");
    }

    [Fact]
    public void RunWarnOnly_AFailureIsAWarning_AndTheNextHookStillRuns()
    {
        HookRunner.RunWarnOnly("poststop", [Sh("exit 1"), new Hook { Path = "/nonexistent/hook" }, Sh($"touch {Out("third")}")], new ContainerState());
        Assert.True(File.Exists(Out("third")), "the hook after the failing ones did not run");
    }

    [Fact]
    public void Run_ANonExecutableFile_SaysToMakeItExecutable()
    {
        var path = Out("not-executable");
        File.WriteAllText(path, "#!/bin/sh\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var e = Assert.Throws<InvalidOperationException>(() => HookRunner.Run("prestart", [new Hook { Path = path }], new ContainerState()));
        Assert.Equal($"hooks.prestart[0].path: cannot run {path}: EACCES (Permission denied) (check that it is an executable file)", e.Message);
    }
}
