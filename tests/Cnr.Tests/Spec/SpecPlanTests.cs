using Cnr.Cgroups;
using Cnr.Spec;
using Xunit;

namespace Cnr.Tests.Spec;

/// <summary>What `create` derives from the config before it makes anything; every refusal names config.json.</summary>
public sealed class SpecPlanTests : IDisposable
{
    private readonly TempBundle _bundle = new();
    private readonly RuntimeSpec _spec = DefaultSpec.Create();

    public void Dispose() => _bundle.Dispose();

    private string Error() => Assert.Throws<SpecException>(() => Compile()).Message;

    private SpecPlan Compile()
    {
        _bundle.WithConfig(System.Text.Json.JsonSerializer.Serialize(_spec, SpecJson.Default.RuntimeSpec));
        return SpecPlan.Compile(_bundle.Dir, "box");
    }

    [Fact]
    public void Compile_DefaultSpec_Succeeds() => Assert.Equal(["sh"], Compile().Process.Args!);

    [Fact]
    public void Compile_BadCgroupsPath_IsASpecErrorNamingTheFile()
    {
        _spec.Linux!.CgroupsPath = "/a/../b";
        Assert.Equal($"{_bundle.Config}: linux.cgroupsPath: \"/a/../b\" must name a cgroup below the root, without \".\" or \"..\"", Error());
    }

    [Fact]
    public void Compile_BadResource_IsASpecErrorNamingTheFile()
    {
        _spec.Linux!.Resources = new LinuxResources { Cpu = new LinuxCpu { Shares = 1 } };
        Assert.Equal($"{_bundle.Config}: linux.resources.cpu.shares: 1 is out of range (2–262144; 1024 is the default weight)", Error());
    }

    [Fact]
    public void Compile_MissingProcess_SaysSo()
    {
        _spec.Process = null;
        Assert.Equal($"{_bundle.Config}: process: missing (a container needs a process to run, e.g. {{\"args\": [\"sh\"], \"cwd\": \"/\"}})", Error());
    }

    /// <summary>runc runs a container without a mount namespace (mounting in the caller's); so does cnr.</summary>
    [Fact]
    public void Compile_NoMountNamespace_MountsInTheCallersNamespace()
    {
        _spec.Linux!.Namespaces!.RemoveAll(n => n.Type == "mount");
        _spec.Linux.MaskedPaths = null;
        _spec.Linux.ReadonlyPaths = null;
        Assert.True(Compile().Launch.Rootfs!.SharedMountNamespace);
    }

    [Fact]
    public void Compile_WithMountNamespace_MountsInItsOwn() => Assert.False(Compile().Launch.Rootfs!.SharedMountNamespace);

    // runc 1.1: cpu.shares 0 is "unset" (ConvertCPUSharesToCgroupV2Value(0) == 0, and fs2 writes no cpu.weight);
    // `runc run` with it succeeds. cnr does the same, with a --debug line.
    [Fact]
    public void Compile_CpuSharesZero_IsUnsetAsInRunc()
    {
        _spec.Linux!.Resources = new LinuxResources { Cpu = new LinuxCpu { Shares = 0 } };
        var plan = Compile();
        Assert.DoesNotContain(ResourceMapping.Map(plan.Spec.Linux!.Resources!, ioBfq: false), w => w.File == "cpu.weight");
    }

    // runc 1.1 (libcontainer/seccomp matchCall): a name libseccomp cannot resolve is skipped with
    // `level=debug msg="unknown seccomp syscall \"x\" ignored"`; a kernel older than the profile must still run it.
    [Fact]
    public void Compile_UnknownSyscallName_IsSkippedAsInRunc()
    {
        _spec.Linux!.Seccomp = new LinuxSeccomp
        {
            DefaultAction = "SCMP_ACT_ALLOW",
            Syscalls = [new LinuxSyscall { Names = ["nosuchcall", "mkdir"], Action = "SCMP_ACT_ERRNO" }],
        };
        Assert.Equal(1, Compile().Seccomp!.Rules);
    }
}
