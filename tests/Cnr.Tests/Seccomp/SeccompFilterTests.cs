using System.Runtime.InteropServices;
using Cnr.Linux;
using Cnr.Seccomp;
using Cnr.Spec;
using Xunit;
using Xunit.Abstractions;

namespace Cnr.Tests.Seccomp;

/// <summary>A fact that needs libseccomp.so.2 on this machine.</summary>
public sealed class LibSeccompFactAttribute : FactAttribute
{
    public LibSeccompFactAttribute()
    {
        if (LibSeccompVersion.Get() is null) Skip = "libseccomp.so.2 is not installed";
    }
}

public class SeccompFilterTests(ITestOutputHelper output)
{
    private static string Pfc(LinuxSeccomp seccomp)
    {
        using var builder = SeccompBuilder.Build(SeccompProgram.Translate(seccomp));
        return builder.ExportPfc();
    }

    [LibSeccompFact]
    public void Version_IsTheInstalledLibrary()
        => Assert.Matches(@"^2\.\d+\.\d+$", LibSeccompVersion.Get());

    [LibSeccompFact]
    public void Build_ErrnoRule_ExportsIt()
    {
        string pfc = Pfc(new LinuxSeccomp
        {
            DefaultAction = "SCMP_ACT_ALLOW",
            Syscalls = [new LinuxSyscall { Names = ["mkdir"], Action = "SCMP_ACT_ERRNO", ErrnoRet = (uint)Error.EACCES }],
        });
        output.WriteLine(pfc);
        Assert.Contains("if ($syscall == 83)", pfc);
        Assert.Contains("action ERRNO(13);", pfc);
        Assert.Contains("action ALLOW;", pfc);
    }

    [LibSeccompFact]
    public void Build_MaskedEq_ComparesMaskedArgument()
    {
        string pfc = Pfc(new LinuxSeccomp
        {
            DefaultAction = "SCMP_ACT_ALLOW",
            Syscalls = [new LinuxSyscall
            {
                Names = ["clone"], Action = "SCMP_ACT_KILL_PROCESS",
                Args = [new LinuxSeccompArg { Index = 0, Op = "SCMP_CMP_MASKED_EQ", Value = 0x10000000, ValueTwo = 0x10000000 }],
            }],
        });
        output.WriteLine(pfc);
        Assert.Contains("if ($a0.lo32 & 0x10000000 == 268435456)", pfc);
        Assert.Contains("action KILL_PROCESS;", pfc);
    }

    [LibSeccompFact]
    public void Build_Architectures_AddsEach()
    {
        string pfc = Pfc(new LinuxSeccomp { DefaultAction = "SCMP_ACT_ERRNO", Architectures = ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"] });
        Assert.Contains("# filter for arch x86_64", pfc);
        Assert.Contains("# filter for arch x86 ", pfc);
        Assert.Contains("# filter for arch x32", pfc);
    }

    [LibSeccompFact]
    public void Compile_UnknownSyscallName_IsSkipped()
    {
        var filter = SeccompFilter.Compile(new LinuxSeccomp
        {
            DefaultAction = "SCMP_ACT_ALLOW",
            Flags = ["SECCOMP_FILTER_FLAG_LOG"],
            Syscalls = [new LinuxSyscall { Names = ["mkdir", "no_such_syscall"], Action = "SCMP_ACT_ERRNO" }],
        });
        Assert.Equal(1, filter.Rules);
        Assert.Equal(2u, filter.Flags);
        Assert.Equal("SCMP_ACT_ALLOW", filter.DefaultAction);
        Assert.True(filter.Bpf.Length > 0 && filter.Bpf.Length % 8 == 0, $"{filter.Bpf.Length} bytes of BPF");
    }

    [LibSeccompFact]
    public void Build_DefaultProfile_AllowsForkButNotNamespaces()
    {
        using var builder = SeccompBuilder.Build(SeccompProgram.Translate(DefaultProfile.Create()));
        string pfc = builder.ExportPfc();
        output.WriteLine($"{builder.RuleCount} rules");
        Assert.True(builder.RuleCount > 300, $"{builder.RuleCount} rules");
        Assert.Contains("# filter for syscall \"clone\" (56)", pfc);
        Assert.Contains("if ($a0.lo32 & 0x7e020000 == 0)", pfc);
        Assert.Contains("action ERRNO(38);", pfc); // clone3
        Assert.DoesNotContain("\"unshare\"", pfc);
        Assert.DoesNotContain("\"mount\"", pfc);
        Assert.Contains("action ERRNO(1);", pfc);
    }

    /// <summary>The kernel side, without a container: a compiled filter loaded on a thread of its own (with that thread's own
    /// no_new_privs, so no privilege is needed) binds only that thread, which then sees the configured errnos.</summary>
    [LibSeccompFact]
    public void Load_OnAThread_ErrnoAndArgsRulesTakeEffect()
    {
        var seccomp = new LinuxSeccomp
        {
            DefaultAction = "SCMP_ACT_ALLOW",
            Syscalls =
            [
                new LinuxSyscall { Names = ["mkdir"], Action = "SCMP_ACT_ERRNO", ErrnoRet = (uint)Error.EACCES },
                // PRIO_USER (2) is refused; PRIO_PROCESS (0) still answers.
                new LinuxSyscall
                {
                    Names = ["getpriority"], Action = "SCMP_ACT_ERRNO", ErrnoRet = (uint)Error.EINVAL,
                    Args = [new LinuxSeccompArg { Index = 0, Op = "SCMP_CMP_EQ", Value = 2 }],
                },
            ],
        };
        var filter = SeccompFilter.Compile(seccomp);
        (Error mkdir, Error getpriorityUser, Error getpriorityProcess) errnos = default;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                Errno.Check(Libc.prctl(Libc.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl", "PR_SET_NO_NEW_PRIVS");
                Sys.LoadSeccompFilter(filter);
                errnos = (Call(() => Libc.mkdir("/nonexistent-cnr-seccomp-test/x", 0x1ff)),
                          Call(() => Getpriority(2, 0)), Call(() => Getpriority(0, 0)));
            }
            catch (Exception e) { failure = e; }
        });
        thread.Start();
        thread.Join();
        Assert.Null(failure);
        Assert.Equal((Error.EACCES, Error.EINVAL, default(Error)), errnos);
        // This thread was never filtered: mkdir fails the ordinary way.
        Assert.Equal(Error.ENOENT, Call(() => Libc.mkdir("/nonexistent-cnr-seccomp-test/x", 0x1ff)));
    }

    private static Error Call(Func<int> syscall) => syscall() == -1 ? Errno.Last : default;

    [DllImport("libc", EntryPoint = "getpriority", SetLastError = true)] private static extern int Getpriority(int which, int who);
}
