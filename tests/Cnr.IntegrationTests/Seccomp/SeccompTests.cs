using Cnr.IntegrationTests.Harness;
using Cnr.Seccomp;
using Cnr.Spec;
using Xunit;

namespace Cnr.IntegrationTests.Seccomp;

public class SeccompTests
{
    private static LinuxSeccomp AllowAllBut(params LinuxSyscall[] syscalls)
        => new() { DefaultAction = "SCMP_ACT_ALLOW", Syscalls = [.. syscalls] };

    private static TestBundle Bundle(string name, LinuxSeccomp? seccomp, string script) => Bundle(name, seccomp, "sh", "-c", script);

    private static TestBundle Bundle(string name, LinuxSeccomp? seccomp, params string[] args)
    {
        var b = new TestBundle(name).WithArgs(args);
        b.Spec.Linux ??= new Cnr.Spec.Linux();
        b.Spec.Linux.Seccomp = seccomp;
        return b;
    }

    [RootFact]
    public void Run_WithErrnoRuleOnMkdir_MkdirFailsWithThatErrno()
    {
        using var b = Bundle("sc-errno",
            AllowAllBut(new LinuxSyscall { Names = ["mkdir", "mkdirat"], Action = "SCMP_ACT_ERRNO", ErrnoRet = 13 }),
            "mkdir /tmp/x 2>&1; echo mkdir=$?; grep '^Seccomp:' /proc/self/status");
        var r = b.Run();
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("Permission denied", r.Stdout);
        Assert.Contains("mkdir=1", r.Stdout);
        Assert.Matches(@"Seccomp:\s+2", r.Stdout); // SECCOMP_MODE_FILTER
    }

    /// <summary>runc loads the filter (with no_new_privs) before the startContainer hooks, which run in the
    /// container: they are filtered as its process is.</summary>
    [RootFact]
    public void StartContainerHook_IsFilteredLikeTheProcess()
    {
        using var b = Bundle("sc-hook", AllowAllBut(new LinuxSyscall { Names = ["mkdir", "mkdirat"], Action = "SCMP_ACT_ERRNO", ErrnoRet = 13 }),
            "cat /dev/hook-mkdir");
        // /dev is the container's own tmpfs: writable, and nothing of the shared rootfs changes
        b.Spec.Hooks = new Cnr.Spec.Hooks { StartContainer = [new Hook { Path = "/bin/sh", Args = ["sh", "-c", "mkdir /dev/hk 2>/dev/null; echo mkdir=$? > /dev/hook-mkdir"] }] };
        var r = b.Run();
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("mkdir=1", r.Stdout);
    }

    [RootFact]
    public void Run_WithErrnoRuleWithoutErrnoRet_FailsWithEperm()
    {
        using var b = Bundle("sc-eperm", AllowAllBut(new LinuxSyscall { Names = ["mkdir", "mkdirat"], Action = "SCMP_ACT_ERRNO" }),
            "mkdir /tmp/x 2>&1; echo mkdir=$?");
        var r = b.Run();
        // The whole result on failure: a run that failed before the process ran shows why on stderr.
        Assert.True(r.Stdout.Contains("Operation not permitted") && r.Stdout.Contains("mkdir=1"), r.ToString());
    }

    [RootFact]
    public void Run_WithKillProcessRule_ProcessDiesOfSigsys()
    {
        using var b = Bundle("sc-kill", AllowAllBut(new LinuxSyscall { Names = ["mkdir", "mkdirat"], Action = "SCMP_ACT_KILL_PROCESS" }),
            "mkdir", "/tmp/x");
        var r = b.Run();
        Assert.True(r.ExitCode == 128 + 31, r.ToString()); // SIGSYS
    }

    [RootFact]
    public void Run_WithArgsRuleOnKill_OnlyThatSignalIsRefused()
    {
        using var b = Bundle("sc-args",
            AllowAllBut(new LinuxSyscall
            {
                Names = ["kill"], Action = "SCMP_ACT_ERRNO",
                Args = [new LinuxSeccompArg { Index = 1, Op = "SCMP_CMP_EQ", Value = 10 }], // SIGUSR1
            }),
            "trap '' USR1 USR2; kill -USR2 $$ && echo usr2-sent; kill -USR1 $$ 2>&1 || echo usr1-refused");
        var r = b.Run();
        Assert.Contains("usr2-sent", r.Stdout);
        Assert.Contains("Operation not permitted", r.Stdout);
        Assert.Contains("usr1-refused", r.Stdout);
    }

    [RootFact]
    public void Run_WithoutNoNewPrivileges_FilterStillLoads()
    {
        using var b = Bundle("sc-nonnp", AllowAllBut(new LinuxSyscall { Names = ["mkdir", "mkdirat"], Action = "SCMP_ACT_ERRNO", ErrnoRet = 13 }),
            "mkdir /tmp/x 2>&1; grep '^NoNewPrivs:' /proc/self/status");
        b.Spec.Process!.NoNewPrivileges = false;
        var r = b.Run();
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("Permission denied", r.Stdout);
        Assert.Matches(@"NoNewPrivs:\s+0", r.Stdout);
    }

    [RootFact]
    public void Run_WithFilterFlags_Runs()
    {
        var seccomp = AllowAllBut(new LinuxSyscall { Names = ["mkdir", "mkdirat"], Action = "SCMP_ACT_ERRNO", ErrnoRet = 13 });
        seccomp.Flags = ["SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"];
        using var b = Bundle("sc-flags", seccomp, "mkdir /tmp/x 2>&1");
        var r = b.Run();
        Assert.Contains("Permission denied", r.Stdout);
    }

    private const string NamespaceScript =
        "echo ok; ls / >/dev/null && echo ls-ok; (echo forked-ok); " +
        "unshare -U true && echo unshare-ok || echo unshare-refused; " +
        "mount -t tmpfs t /tmp && echo mount-ok || echo mount-refused";

    /// <summary>CAP_SYS_ADMIN in every set, so that only the filter stands between the shell and mount/unshare.</summary>
    private static void GrantSysAdmin(TestBundle b)
    {
        var caps = b.Spec.Process!.Capabilities ??= new LinuxCapabilities();
        foreach (var set in new[] { caps.Bounding ??= [], caps.Effective ??= [], caps.Permitted ??= [] })
            if (!set.Contains("CAP_SYS_ADMIN")) set.Add("CAP_SYS_ADMIN");
    }

    [RootFact]
    public void Run_WithDefaultProfile_ShellWorksButUnshareAndMountAreRefused()
    {
        using var b = Bundle("sc-default", DefaultProfile.Create(), NamespaceScript);
        GrantSysAdmin(b);
        var r = b.Run();
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("ls-ok", r.Stdout);
        Assert.Contains("forked-ok", r.Stdout);
        Assert.Contains("unshare-refused", r.Stdout);
        Assert.Contains("mount-refused", r.Stdout);
    }

    /// <summary>The control for the test above: the same container without a filter may unshare and mount.</summary>
    [RootFact]
    public void Run_WithoutSeccomp_UnshareAndMountWork()
    {
        using var b = Bundle("sc-none", null, NamespaceScript);
        GrantSysAdmin(b);
        var r = b.Run();
        Assert.Contains("unshare-ok", r.Stdout);
        Assert.Contains("mount-ok", r.Stdout);
    }

    [RootFact]
    public void Run_WithUnknownAction_FailsAndLeavesNothingBehind()
    {
        using var b = Bundle("sc-bad",
            AllowAllBut(new LinuxSyscall { Names = ["mkdir"], Action = "SCMP_ACT_ERRNO" }, new LinuxSyscall { Names = ["rmdir"], Action = "SCMP_ACT_FOO" }),
            "echo should-not-run");
        var r = b.Run();
        Assert.Equal(1, r.ExitCode);
        Assert.DoesNotContain("should-not-run", r.Stdout);
        Assert.Contains("linux.seccomp.syscalls[1].action: \"SCMP_ACT_FOO\" is not a seccomp action", r.Stderr);
        Assert.False(Directory.Exists(Path.Combine(b.StateRoot, b.Id)), "state dir left behind");
        Assert.NotEqual(0, b.Cnr("state", b.Id).ExitCode);
    }

    [RootFact]
    public void Run_WithDebug_ReportsTheSeccompStep()
    {
        using var b = Bundle("sc-debug", DefaultProfile.Create(), "true");
        b.Write();
        var r = b.Cnr("--debug", "run", "--bundle", b.Dir, b.Id);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Matches(@"seccomp\(SECCOMP_SET_MODE_FILTER, 0, .*\): \d+ rules, default SCMP_ACT_ERRNO\(EPERM\)", r.Stderr);
    }

    /// <summary>libseccomp hidden from this one cnr: /dev/null bound over it in a mount namespace of its own.</summary>
    [RootFact]
    public void Run_WithoutLibseccomp_SaysWhatToInstallAndLeavesNothingBehind()
    {
        // Where the library is not installed at all, the same message must come without hiding anything.
        var library = new FileInfo("/usr/lib/x86_64-linux-gnu/libseccomp.so.2").ResolveLinkTarget(returnFinalTarget: true)?.FullName;
        string hide = library is null ? "" : $"mount --bind /dev/null {library} && ";
        using var b = Bundle("sc-nolib", DefaultProfile.Create(), "echo should-not-run");
        b.Write();
        var r = Harness.Cnr.Exec("unshare", ["-m", "--propagation", "private", "sh", "-c",
            hide + "exec \"$0\" \"$@\"", Repo.CnrBinary, "--root", b.StateRoot, "run", "--bundle", b.Dir, b.Id]);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("linux.seccomp: libseccomp.so.2 not found (install libseccomp2)", r.Stderr);
        Assert.DoesNotContain("should-not-run", r.Stdout);
        Assert.False(Directory.Exists(Path.Combine(b.StateRoot, b.Id)), "state dir left behind");
    }

    [RootFact]
    public void Exec_IntoContainerWithFilter_NewProcessIsFilteredToo()
    {
        using var b = Bundle("sc-exec", AllowAllBut(new LinuxSyscall { Names = ["mkdir", "mkdirat"], Action = "SCMP_ACT_ERRNO", ErrnoRet = 13 }),
            "sleep", "30");
        b.Write();
        // The container keeps create's stdio open: give it /dev/null so that the harness does not wait for it.
        var created = Harness.Cnr.Exec("sh", ["-c", "exec \"$0\" \"$@\" </dev/null >/dev/null 2>&1",
            Repo.CnrBinary, "--root", b.StateRoot, "create", "--bundle", b.Dir, b.Id]);
        Assert.True(created.ExitCode == 0, created.ToString());
        var started = b.Cnr("start", b.Id);
        Assert.True(started.ExitCode == 0, started.ToString());
        var r = b.Cnr("exec", b.Id, "sh", "-c", "mkdir /tmp/x 2>&1; grep '^Seccomp:' /proc/self/status");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("Permission denied", r.Stdout);
        Assert.Matches(@"Seccomp:\s+2", r.Stdout);
    }

    /// <summary>runc's ENOSYS stub: under a profile whose default refuses (Docker's, EPERM), a system call
    /// numbered above every call the profile knows fails with ENOSYS so libc can fall back; a known call the
    /// profile refuses (mount, 165) still gets the default.</summary>
    [RootFactWithTool("/usr/bin/cc", "a static test program that makes raw system calls is compiled with it")]
    public void Run_WithRefusingDefault_UnknownSyscallGetsEnosys()
    {
        using var b = Bundle("sc-nosys", DefaultProfile.Create(), "/nosys", "1000", "165");
        b.CopyRootfs();
        var source = Path.Combine(b.Dir, "nosys.c");
        File.WriteAllText(source, """
            #include <errno.h>
            #include <stdio.h>
            #include <stdlib.h>
            #include <unistd.h>
            int main(int argc, char **argv)
            {
                for (int i = 1; i < argc; i++) {
                    long n = atol(argv[i]);
                    errno = 0;
                    long r = syscall(n, 0, 0, 0, 0, 0, 0);
                    printf("%ld=%d\n", n, r < 0 ? errno : 0);
                }
                return 0;
            }
            """);
        var cc = Harness.Cnr.Exec("/usr/bin/cc", ["-static", "-O2", "-o", Path.Combine(b.Dir, "rootfs", "nosys"), source]);
        Assert.True(cc.ExitCode == 0, cc.ToString());
        var r = b.Run();
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("1000=38\n", r.Stdout); // ENOSYS
        Assert.Contains("165=1\n", r.Stdout);   // EPERM, the profile's default
    }
}
