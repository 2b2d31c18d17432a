using System.Text.Json;
using Cnr.Plan;
using Cnr.Spec;
using Cnr.Tests.Spec;
using Xunit;
using static Cnr.Linux.Libc;

namespace Cnr.Tests.Plan;

/// <summary>config.json → the plan the init executes: names become numbers here, and every config error is
/// raised here, naming config.json and the field, before anything exists.</summary>
public sealed class PlanCompilerTests : IDisposable
{
    private readonly TempBundle _bundle = new();
    private readonly RuntimeSpec _spec = DefaultSpec.Create();

    public void Dispose() => _bundle.Dispose();

    private LaunchPlan Compile()
    {
        _bundle.WithConfig(JsonSerializer.Serialize(_spec, SpecJson.Default.RuntimeSpec));
        return SpecPlan.Compile(_bundle.Dir, "box").Launch;
    }

    private string Error() => Assert.Throws<SpecException>(() => Compile()).Message;

    [Fact]
    public void Personality_IsThePersonaNumber_ForTheInitAndEveryExec()
    {
        Assert.Null(Compile().Process.Personality);
        _spec.Linux!.Personality = new LinuxPersonality { Domain = "LINUX32" };
        Assert.Equal(0x0008u, Compile().Process.Personality);
        Assert.Equal(0x0008u, PlanCompiler.Process(_spec.Process!, _spec.Linux.Personality, exec: true).Personality);
        _spec.Linux.Personality = new LinuxPersonality { Domain = "LINUX" };
        Assert.Equal(0u, Compile().Process.Personality);
    }

    [Fact]
    public void Loopback_IsUpOnlyInANetworkNamespaceTheContainerCreates()
    {
        Assert.True(Compile().LoopbackUp); // runc spec's default: a new network namespace
        _spec.Linux!.Namespaces!.RemoveAll(n => n.Type == "network");
        Assert.False(Compile().LoopbackUp); // the host's network
        _spec.Linux.Namespaces.Add(new LinuxNamespace { Type = "network", Path = "/proc/self/ns/net" });
        Assert.False(Compile().LoopbackUp); // joined: whoever made it owns its lo
    }

    [Fact]
    public void ExecCpuAffinity_IsAMaskForAnExec_AndNotForTheInit()
    {
        _spec.Process!.ExecCPUAffinity = new ExecCpuAffinity { Initial = "0", Final = "1-2,65" };
        var init = Compile().Process;
        Assert.Null(init.CpuAffinityInitial);
        Assert.Null(init.CpuAffinityFinal);
        var exec = PlanCompiler.Process(_spec.Process, exec: true);
        Assert.Equal([1UL], exec.CpuAffinityInitial!);
        Assert.Equal([0b110UL, 0b10UL], exec.CpuAffinityFinal!);
        Assert.Equal("1-2,65", Cnr.Linux.Sys.CpuList(exec.CpuAffinityFinal!));
    }

    [Theory]
    [InlineData("1-")]
    [InlineData("3-1")]
    [InlineData("a")]
    [InlineData("0,,1")]
    [InlineData("8192")]
    [InlineData(" 1")]
    public void ExecCpuAffinity_NotACpuList_IsAConfigError(string list)
    {
        _spec.Process!.ExecCPUAffinity = new ExecCpuAffinity { Final = list };
        var message = Error();
        Assert.Contains("process.execCPUAffinity.final", message);
        Assert.Contains("is not a CPU list", message);
    }

    [Fact]
    public void DefaultSpec_CompilesToTheRootfsAndProcessItDescribes()
    {
        var plan = Compile();
        Assert.Equal(Path.Combine(_bundle.Dir, "rootfs"), plan.Rootfs!.Path);
        Assert.Equal(_bundle.Dir, plan.Bundle);
        Assert.Equal("box", plan.ContainerId);
        Assert.Equal(["sh"], plan.Process.Args);
        Assert.Equal(0x12u, plan.Process.Umask);
        Assert.True(plan.Rootfs.MakeDevices);
        Assert.Equal(["/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty"], plan.Rootfs.Devices.Select(d => d.Path));
        Assert.All(plan.Rootfs.Devices, d => Assert.Equal(S_IFCHR | 0x1b6, d.Mode));
    }

    [Fact]
    public void MountOptions_AreParsedIntoFlagsAndData()
    {
        _spec.Mounts = [new Mount { Destination = "/tmp/../run/", Type = "tmpfs", Options = ["nosuid", "rw", "mode=755", "rprivate"] }];
        var m = Assert.Single(Compile().Rootfs!.Mounts);
        Assert.Equal((0, MountKind.Filesystem, "tmpfs", "/run"), (m.Index, m.Kind, m.Source, m.Destination));
        Assert.Equal((MS_NOSUID, MS_RDONLY, "mode=755"), (m.Options.Flags, m.Options.ClearFlags, m.Options.Data));
        Assert.Equal([MS_PRIVATE | MS_REC], m.Options.Propagation);
    }

    [Fact]
    public void BindOfDev_MakesNoDevices()
    {
        _spec.Mounts = [new Mount { Destination = "/dev", Type = "bind", Source = "/dev", Options = ["rbind"] }];
        var rootfs = Compile().Rootfs!;
        Assert.Equal(MountKind.Bind, rootfs.Mounts[0].Kind);
        Assert.False(rootfs.MakeDevices);
        Assert.Empty(rootfs.Devices);
    }

    [Fact]
    public void Process_NamesBecomeKernelNumbers()
    {
        var p = _spec.Process!;
        p.Rlimits = [new PosixRlimit { Type = "RLIMIT_NPROC", Soft = 10, Hard = 20 }];
        p.Scheduler = new Scheduler { Policy = "SCHED_FIFO", Priority = 10, Flags = ["SCHED_FLAG_RESET_ON_FORK"] };
        p.IoPriority = new IoPriority { Class = "IOPRIO_CLASS_BE", Priority = 4 };
        p.OomScoreAdj = 500;
        var plan = Compile().Process;
        Assert.Equal([new Cnr.Plan.Rlimit(6, 10, 20)], plan.Rlimits);
        Assert.Equal(new SchedulerPlan(1, 1, 0, 10, 0, 0, 0), plan.Scheduler);
        Assert.Equal(2 << 13 | 4, plan.IoPriority);
        Assert.Equal(500, plan.OomScoreAdj);
        Assert.Equal(1UL << 5, plan.Capabilities.Bounding & (1UL << 5)); // CAP_KILL
    }

    [Fact]
    public void UnknownSchedulerFlag_NamesTheFieldInConfigJson()
    {
        _spec.Process!.Scheduler = new Scheduler { Policy = "SCHED_OTHER", Flags = ["SCHED_FLAG_RECLAIM", "X"] };
        Assert.StartsWith($"{_bundle.Config}: process.scheduler.flags[1]: \"X\" is not a scheduler flag (SCHED_FLAG_RESET_ON_FORK, ", Error());
    }

    // runc's default spec lists CAP_AUDIT_WRITE, CAP_KILL and CAP_NET_BIND_SERVICE as ambient without making them
    // inheritable: the kernel refuses to raise them, and runc leaves them out without a word.
    [Fact]
    public void AmbientWithoutInheritable_IsLeftOut()
    {
        var caps = _spec.Process!.Capabilities!;
        caps.Ambient = ["CAP_KILL", "CAP_CHOWN"];
        caps.Inheritable = ["CAP_CHOWN"];
        caps.Permitted = [.. caps.Permitted!, "CAP_CHOWN"];
        var sets = Compile().Process.Capabilities;
        Assert.Equal(1UL << 0, sets.Ambient); // CAP_CHOWN only
    }

    [Theory]
    [InlineData("net.ipv4.ip_forward", "sys/net/ipv4/ip_forward")]
    [InlineData("net/ipv4/conf/eth0.100/rp_filter", "sys/net/ipv4/conf/eth0.100/rp_filter")]
    public void SysctlKey_BecomesItsProcPath(string key, string path) => Assert.Equal(path, PlanCompiler.SysctlPath(key));

    [Fact]
    public void HookState_IsTheStateJsonAroundThePid()
    {
        _spec.Hooks = new Cnr.Spec.Hooks { CreateContainer = [new Hook { Path = "/bin/true" }] };
        _spec.Annotations = new() { ["note"] = "\"pid\":0," };
        var plan = Compile();
        var state = plan.CreateContainerState!;
        var json = JsonSerializer.Deserialize(
            [.. state.Head, .. "42"u8, .. state.Tail], SpecJson.Default.ContainerState)!;
        Assert.Equal((42, "creating", "box", _bundle.Dir, "\"pid\":0,"), (json.Pid, json.Status, json.Id, json.Bundle, json.Annotations!["note"]));
        Assert.Null(plan.StartContainerState);
        Assert.Equal(new[] { "/bin/true" }, plan.CreateContainerHooks[0].Args);
    }
}
