using Cnr.Seccomp;
using Cnr.Spec;
using Xunit;

namespace Cnr.Tests.Seccomp;

public class SeccompProgramTests
{
    private static LinuxSeccomp Profile(string defaultAction = "SCMP_ACT_ALLOW", params LinuxSyscall[] syscalls)
        => new() { DefaultAction = defaultAction, Syscalls = [.. syscalls] };

    private static LinuxSeccompArg Arg(uint index, string op, ulong value, ulong valueTwo = 0)
        => new() { Index = index, Op = op, Value = value, ValueTwo = valueTwo };

    /// <summary>"mkdir 0x50001 [arg0 EQ 0x8]" per rule: what seccomp_rule_add will be called with.</summary>
    private static string[] Rules(LinuxSeccomp seccomp)
        => SeccompProgram.Translate(seccomp).Rules.Select(r =>
            $"{r.Syscall} 0x{r.Action:x}" + string.Concat(r.Conditions.Select(c => $" [arg{c.Arg} op{c.Op} 0x{c.DatumA:x} 0x{c.DatumB:x}]"))).ToArray();

    private static string Error(LinuxSeccomp seccomp)
        => Assert.Throws<SpecException>(() => SeccompFilter.Validate(seccomp)).Message;

    [Fact]
    public void Errno_WithoutErrnoRet_ReturnsEperm()
        => Assert.Equal(["mkdir 0x50001"], Rules(Profile(syscalls: new LinuxSyscall { Names = ["mkdir"], Action = "SCMP_ACT_ERRNO" })));

    [Fact]
    public void Errno_WithErrnoRet_ReturnsIt()
        => Assert.Equal(["mkdir 0x5000d", "rmdir 0x5000d"],
            Rules(Profile(syscalls: new LinuxSyscall { Names = ["mkdir", "rmdir"], Action = "SCMP_ACT_ERRNO", ErrnoRet = 13 })));

    [Fact]
    public void Actions_MapToLibseccompValues()
    {
        string[] actions = ["SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_TRAP", "SCMP_ACT_LOG", "SCMP_ACT_TRACE"];
        var seccomp = Profile(syscalls: [.. actions.Select(a => new LinuxSyscall { Names = ["getpid"], Action = a })]);
        Assert.Equal(["getpid 0x0", "getpid 0x0", "getpid 0x80000000", "getpid 0x30000", "getpid 0x7ffc0000", "getpid 0x7ff00001"], Rules(seccomp));
    }

    [Fact]
    public void DefaultAction_WithErrno_CarriesIt()
    {
        var program = SeccompProgram.Translate(new LinuxSeccomp { DefaultAction = "SCMP_ACT_ERRNO", DefaultErrnoRet = 38 });
        Assert.Equal(0x50026u, program.DefaultAction);
        Assert.Equal("SCMP_ACT_ERRNO(ENOSYS)", program.DefaultActionText);
    }

    [Fact]
    public void RuleWithTheDefaultAction_IsDropped()
        => Assert.Equal(["mkdir 0x50001"], Rules(Profile("SCMP_ACT_ALLOW",
            new LinuxSyscall { Names = ["getpid"], Action = "SCMP_ACT_ALLOW" },
            new LinuxSyscall { Names = ["mkdir"], Action = "SCMP_ACT_ERRNO" })));

    [Fact]
    public void ArgsOnDifferentIndexes_AreAndedInOneRule()
        => Assert.Equal(["kill 0x50001 [arg0 op4 0x1 0x0] [arg1 op2 0x9 0x0]"],
            Rules(Profile(syscalls: new LinuxSyscall
            {
                Names = ["kill"], Action = "SCMP_ACT_ERRNO",
                Args = [Arg(0, "SCMP_CMP_EQ", 1), Arg(1, "SCMP_CMP_LT", 9)],
            })));

    [Fact]
    public void ArgsOnTheSameIndex_AreOredAsOneRuleEach()
        => Assert.Equal(["personality 0x50001 [arg0 op4 0x8 0x0]", "personality 0x50001 [arg0 op4 0x20000 0x0]", "personality 0x50001 [arg1 op1 0x0 0x0]"],
            Rules(Profile(syscalls: new LinuxSyscall
            {
                Names = ["personality"], Action = "SCMP_ACT_ERRNO",
                Args = [Arg(0, "SCMP_CMP_EQ", 8), Arg(0, "SCMP_CMP_EQ", 0x20000), Arg(1, "SCMP_CMP_NE", 0)],
            })));

    [Fact]
    public void Ops_MapToLibseccompComparisons_MaskedEqTakesValueAsMask()
    {
        string[] ops = ["SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ"];
        var seccomp = Profile(syscalls: [.. ops.Select(op => new LinuxSyscall { Names = ["getpriority"], Action = "SCMP_ACT_ERRNO", Args = [Arg(0, op, 0xf0, 0x20)] })]);
        Assert.Equal([
            "getpriority 0x50001 [arg0 op1 0xf0 0x0]", "getpriority 0x50001 [arg0 op2 0xf0 0x0]",
            "getpriority 0x50001 [arg0 op3 0xf0 0x0]", "getpriority 0x50001 [arg0 op4 0xf0 0x0]",
            "getpriority 0x50001 [arg0 op5 0xf0 0x0]", "getpriority 0x50001 [arg0 op6 0xf0 0x0]",
            "getpriority 0x50001 [arg0 op7 0xf0 0x20]"], Rules(seccomp));
    }

    [Fact]
    public void ArchitecturesAndFlags_AreTranslated()
    {
        var program = SeccompProgram.Translate(new LinuxSeccomp
        {
            DefaultAction = "SCMP_ACT_ALLOW",
            Architectures = ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", "SCMP_ARCH_AARCH64"],
            Flags = ["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_TSYNC"],
        });
        Assert.Equal(["x86_64", "x86", "x32", "aarch64"], program.Architectures.Select(a => a.Name));
        Assert.Equal(2u | 4u | 1u, program.Flags); // SECCOMP_FILTER_FLAG_LOG | _SPEC_ALLOW | _TSYNC
    }

    [Fact]
    public void UnknownAction_NamesPathAndActions()
        => Assert.Equal("linux.seccomp.syscalls[1].action: \"SCMP_ACT_FOO\" is not a seccomp action (SCMP_ACT_KILL, SCMP_ACT_KILL_PROCESS, " +
                        "SCMP_ACT_KILL_THREAD, SCMP_ACT_TRAP, SCMP_ACT_ERRNO, SCMP_ACT_TRACE, SCMP_ACT_ALLOW, SCMP_ACT_LOG, SCMP_ACT_NOTIFY)",
            Error(Profile(syscalls: [new LinuxSyscall { Names = ["mkdir"], Action = "SCMP_ACT_ERRNO" }, new LinuxSyscall { Names = ["rmdir"], Action = "SCMP_ACT_FOO" }])));

    [Fact]
    public void UnknownDefaultAction_NamesDefaultAction()
        => Assert.StartsWith("linux.seccomp.defaultAction: \"\" is not a seccomp action (SCMP_ACT_KILL,", Error(new LinuxSeccomp()));

    [Fact]
    public void UnknownOp_NamesPathAndOps()
        => Assert.Equal("linux.seccomp.syscalls[0].args[1].op: \"SCMP_CMP_XX\" is not a seccomp comparison (SCMP_CMP_NE, SCMP_CMP_LT, " +
                        "SCMP_CMP_LE, SCMP_CMP_EQ, SCMP_CMP_GE, SCMP_CMP_GT, SCMP_CMP_MASKED_EQ)",
            Error(Profile(syscalls: new LinuxSyscall { Names = ["kill"], Action = "SCMP_ACT_ERRNO", Args = [Arg(0, "SCMP_CMP_EQ", 1), Arg(1, "SCMP_CMP_XX", 1)] })));

    [Fact]
    public void ArgIndexAboveFive_IsRejected()
        => Assert.Equal("linux.seccomp.syscalls[0].args[0].index: 6 is not a system call argument (0–5)",
            Error(Profile(syscalls: new LinuxSyscall { Names = ["kill"], Action = "SCMP_ACT_ERRNO", Args = [Arg(6, "SCMP_CMP_EQ", 1)] })));

    [Fact]
    public void UnknownArchitecture_IsRejected()
        => Assert.StartsWith("linux.seccomp.architectures[1]: \"SCMP_ARCH_VAX\" is not a seccomp architecture (SCMP_ARCH_X86, SCMP_ARCH_X86_64,",
            Error(new LinuxSeccomp { DefaultAction = "SCMP_ACT_ALLOW", Architectures = ["SCMP_ARCH_X86_64", "SCMP_ARCH_VAX"] }));

    [Fact]
    public void UnknownFlag_IsRejected()
        => Assert.Equal("linux.seccomp.flags[0]: \"SECCOMP_FILTER_FLAG_NEW_LISTENER\" is not a seccomp filter flag cnr supports " +
                        "(SECCOMP_FILTER_FLAG_TSYNC, SECCOMP_FILTER_FLAG_LOG, SECCOMP_FILTER_FLAG_SPEC_ALLOW)",
            Error(new LinuxSeccomp { DefaultAction = "SCMP_ACT_ALLOW", Flags = ["SECCOMP_FILTER_FLAG_NEW_LISTENER"] }));

    [Fact]
    public void ErrnoRet_OnlyWithErrnoOrTrace()
        => Assert.Equal("linux.seccomp.syscalls[0].errnoRet: SCMP_ACT_KILL returns no errno; drop it or use SCMP_ACT_ERRNO",
            Error(Profile(syscalls: new LinuxSyscall { Names = ["mkdir"], Action = "SCMP_ACT_KILL", ErrnoRet = 1 })));

    [Fact]
    public void DefaultErrnoRet_OnlyWithErrnoOrTrace()
        => Assert.Equal("linux.seccomp.defaultErrnoRet: SCMP_ACT_ALLOW returns no errno; drop it or use SCMP_ACT_ERRNO",
            Error(new LinuxSeccomp { DefaultAction = "SCMP_ACT_ALLOW", DefaultErrnoRet = 1 }));

    [Fact]
    public void ErrnoRet_AboveMaxErrno_IsRejected()
        => Assert.Equal("linux.seccomp.syscalls[0].errnoRet: 70000 is not an errno (0–4095)",
            Error(Profile(syscalls: new LinuxSyscall { Names = ["mkdir"], Action = "SCMP_ACT_ERRNO", ErrnoRet = 70000 })));

    [Fact]
    public void EmptyNames_AreRejected()
    {
        Assert.Equal("linux.seccomp.syscalls[0].names: empty; name at least one system call",
            Error(Profile(syscalls: new LinuxSyscall { Names = [], Action = "SCMP_ACT_ERRNO" })));
        Assert.Equal("linux.seccomp.syscalls[0].names[1]: empty; give a system call name such as \"mkdir\"",
            Error(Profile(syscalls: new LinuxSyscall { Names = ["mkdir", ""], Action = "SCMP_ACT_ERRNO" })));
    }

    [Fact]
    public void Notify_NeedsAListener_AndIsRefusedWhereTheRuntimeWouldWaitOnIt()
    {
        Assert.Equal("linux.seccomp.syscalls[0].action: SCMP_ACT_NOTIFY needs a listener: set linux.seccomp.listenerPath to the unix socket of the agent that answers",
            Error(Profile(syscalls: new LinuxSyscall { Names = ["mkdir"], Action = "SCMP_ACT_NOTIFY" })));
        Assert.Equal("linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action (the runtime's own calls would wait on the listener); use it in linux.seccomp.syscalls",
            Error(new LinuxSeccomp { DefaultAction = "SCMP_ACT_NOTIFY", ListenerPath = "/run/agent.sock" }));
        Assert.Equal("linux.seccomp.syscalls[0].action: SCMP_ACT_NOTIFY cannot be used for write, which the runtime needs to hand the listener over",
            Error(new LinuxSeccomp { DefaultAction = "SCMP_ACT_ALLOW", ListenerPath = "/run/agent.sock", Syscalls = [new LinuxSyscall { Names = ["mkdir", "write"], Action = "SCMP_ACT_NOTIFY" }] }));
        Assert.StartsWith("linux.seccomp.flags: SECCOMP_FILTER_FLAG_TSYNC cannot be combined with SCMP_ACT_NOTIFY",
            Error(new LinuxSeccomp { DefaultAction = "SCMP_ACT_ALLOW", ListenerPath = "/run/agent.sock", Flags = ["SECCOMP_FILTER_FLAG_TSYNC"], Syscalls = [new LinuxSyscall { Names = ["mkdir"], Action = "SCMP_ACT_NOTIFY" }] }));
    }

    [Fact]
    public void Notify_WithAListener_IsANotifyRule()
    {
        var program = SeccompProgram.Translate(new LinuxSeccomp
        {
            DefaultAction = "SCMP_ACT_ALLOW", ListenerPath = "/run/agent.sock",
            Syscalls = [new LinuxSyscall { Names = ["mkdir"], Action = "SCMP_ACT_NOTIFY" }],
        });
        Assert.True(program.Notify);
        Assert.Equal(SeccompNames.SCMP_ACT_NOTIFY, Assert.Single(program.Rules).Action);
        Assert.False(SeccompProgram.Translate(new LinuxSeccomp { DefaultAction = "SCMP_ACT_ALLOW", ListenerPath = "/run/agent.sock" }).Notify);
    }
}
