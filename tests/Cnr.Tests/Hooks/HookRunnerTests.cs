using Cnr.Hooks;
using Cnr.Spec;
using Xunit;

namespace Cnr.Tests.Hooks;

public class HookRunnerTests
{
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
}
