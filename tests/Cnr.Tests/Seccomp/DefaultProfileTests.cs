using Cnr.Linux;
using Cnr.Seccomp;
using Xunit;
using Xunit.Abstractions;

namespace Cnr.Tests.Seccomp;

public class DefaultProfileTests(ITestOutputHelper output)
{
    private static readonly string[] Blocked =
    [
        "mount", "umount", "umount2", "unshare", "setns", "pivot_root", "keyctl", "add_key", "request_key", "bpf",
        "ptrace", "process_vm_readv", "process_vm_writev", "kexec_load", "kexec_file_load", "init_module",
        "finit_module", "delete_module", "reboot", "swapon", "swapoff", "acct", "clock_settime", "settimeofday",
        "stime", "userfaultfd", "perf_event_open", "open_by_handle_at", "name_to_handle_at", "iopl", "ioperm",
        "lookup_dcookie", "fsopen", "fsmount", "move_mount", "open_tree", "sethostname", "setdomainname", "syslog",
        "quotactl",
    ];

    [Fact]
    public void Create_IsAValidAllowlistReturningEperm()
    {
        var profile = DefaultProfile.Create();
        SeccompFilter.Validate(profile);
        Assert.Equal("SCMP_ACT_ERRNO", profile.DefaultAction);
        Assert.Equal(1u, profile.DefaultErrnoRet);
        Assert.Equal(["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"], profile.Architectures);
    }

    [Fact]
    public void Create_AllowsNoneOfTheBlockedCalls()
    {
        var named = DefaultProfile.Create().Syscalls!.SelectMany(s => s.Names).ToHashSet();
        Assert.DoesNotContain(named, Blocked.Contains);
    }

    [Fact]
    public void Create_AllowsPersonalityOnlyForSafeValues()
    {
        var personality = DefaultProfile.Create().Syscalls!.Where(s => s.Names.Contains("personality")).ToList();
        Assert.All(personality, s => Assert.Equal("SCMP_CMP_EQ", Assert.Single(s.Args!).Op));
        Assert.Equal([0x0UL, 0x8, 0x20000, 0x20008, 0xffffffff], personality.Select(s => s.Args![0].Value));
    }

    [Fact]
    public void Create_NamesEachCallOnce()
    {
        var names = DefaultProfile.Create().Syscalls!.Where(s => s.Args is null).SelectMany(s => s.Names).ToList();
        Assert.Empty(names.GroupBy(n => n).Where(g => g.Count() > 1).Select(g => g.Key));
    }

    [LibSeccompFact]
    public void Create_NamesCallsThisLibseccompKnows()
    {
        var unknown = DefaultProfile.Create().Syscalls!.SelectMany(s => s.Names)
            .Where(n => LibSeccomp.seccomp_syscall_resolve_name(n) == LibSeccomp.NR_SCMP_ERROR).Distinct().ToList();
        output.WriteLine($"libseccomp {LibSeccompVersion.Get()} does not know: {string.Join(", ", unknown)}");
        Assert.Empty(unknown);
    }
}
