using Cnr.IntegrationTests.Harness;
using Cnr.Spec;
using Xunit;

namespace Cnr.IntegrationTests.Errors;

/// <summary>Bad configs from tests/fuzz-corpus through the real binary: `cnr create` exits non-zero with exactly
/// one line on stderr (the one expected.tsv names) and leaves nothing behind: no state dir, no cgroup, no
/// process, no mount. The unit tests replay the whole corpus in-process; these are one of each kind of failure
/// (bytes, JSON, null, validator, hook, cgroup, seccomp, what create derives).</summary>
public class FuzzCorpusTests
{
    [RootTheory]
    [InlineData("invalid-utf8-in-args.json")]
    [InlineData("utf16-file.json")]
    [InlineData("deep-nesting.json")]
    [InlineData("null-env-entry.json")]
    [InlineData("nul-in-root-path.json")]
    [InlineData("newline-in-env.json")]
    [InlineData("oom-score-adj-high.json")]
    [InlineData("hook-missing.json")]
    [InlineData("device-cgroup-access-huge.json")]
    [InlineData("cgroups-path-dotdot.json")]
    [InlineData("seccomp-unknown-action.json")]
    [InlineData("process-missing.json")]
    public void Create_CorpusFile_FailsWithItsOneLineAndLeavesNothing(string name)
    {
        using var b = new TestBundle("corpus");
        File.Copy(Path.Combine(CorpusDir, name), Path.Combine(b.Dir, "config.json"));
        // The corpus configs name root.path "rootfs": the shared busybox rootfs, so that nothing but the
        // config's own mistake can fail.
        Directory.CreateSymbolicLink(Path.Combine(b.Dir, "rootfs"), Repo.MyboxRootfs);

        var r = b.Cnr("create", "--bundle", b.Dir, b.Id);

        Assert.True(r.ExitCode != 0, $"expected a failure:\n{r}");
        var line = Host.OneErrorLine(r);
        Assert.Equal($"cnr: {Path.Combine(b.Dir, "config.json")}: {Expected(name)}", line);
        Host.AssertNothingLeftBehind(b);
        Assert.Empty(CgroupsOf(b.Id));
    }

    // The kernel only says EINVAL when a filesystem does not take an option; the line names the config entry
    // and the options that went to tmpfs as data (this fails in the init, after the namespaces exist).
    [RootFact]
    public void Run_BogusTmpfsOption_NamesTheMountAndTheOptionsPassedAsData()
    {
        using var b = new TestBundle("bogusopt").WithArgs("true");
        b.Spec.Mounts!.Add(new Mount { Destination = "/mnt", Type = "tmpfs", Source = "tmpfs", Options = ["nosuid", "bogus=1", "size=1m"] });
        int index = b.Spec.Mounts.Count - 1;

        var r = b.Run();

        Assert.True(r.ExitCode != 0, $"expected a failure:\n{r}");
        Assert.Equal($"cnr: mounts[{index}]: mount tmpfs to /mnt: EINVAL: tmpfs refused the options passed to it as data, \"bogus=1,size=1m\" "
            + "(options that are not mount flags go to the filesystem as they are: fix or remove the one tmpfs does not take; see its manual for its options)",
            Host.OneErrorLine(r));
        Host.AssertNothingLeftBehind(b);
        Assert.Empty(CgroupsOf(b.Id));
    }

    // runc 1.1.5 (apt's runc, run side by side): `runc run` with cpu.shares 0 succeeds and writes no weight
    // (ConvertCPUSharesToCgroupV2Value(0) == 0 means unset). cnr matches it and says so under --debug.
    [RootFact]
    public void Run_CpuSharesZero_RunsAsInRunc_WithADebugLine()
    {
        using var b = new TestBundle("shares0").WithArgs("true");
        b.Spec.Linux!.Resources ??= new LinuxResources();
        b.Spec.Linux.Resources.Cpu = new LinuxCpu { Shares = 0 };
        b.Write();

        var r = b.Cnr("--debug", "run", "--bundle", b.Dir, b.Id);

        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("linux.resources.cpu.shares: 0 means unset (as in runc)", r.Stderr);
    }

    // runc 1.1.5 logs `unknown seccomp syscall "nosuchcall" ignored` at debug level and runs the container: a
    // profile may name calls a newer kernel has. cnr does the same.
    [RootFact]
    public void Run_UnknownSyscallName_IsSkippedAsInRunc_WithADebugLine()
    {
        using var b = new TestBundle("nosuchcall").WithArgs("true");
        b.Spec.Linux!.Seccomp = new LinuxSeccomp
        {
            DefaultAction = "SCMP_ACT_ALLOW",
            Syscalls = [new LinuxSyscall { Names = ["nosuchcall"], Action = "SCMP_ACT_ERRNO" }],
        };
        b.Write();

        var r = b.Cnr("--debug", "run", "--bundle", b.Dir, b.Id);

        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("linux.seccomp.syscalls[0]: system call nosuchcall is unknown to libseccomp; rule skipped", r.Stderr);
    }

    private static string CorpusDir => Path.Combine(Repo.Root, "tests", "fuzz-corpus");

    private static string Expected(string name)
        => File.ReadLines(Path.Combine(CorpusDir, "expected.tsv")).Select(l => l.Split('\t', 2)).Single(p => p[0] == name)[1];

    /// <summary>The container's cgroup, default (/cnr/ID) or the test harness's (/cnr-test/ID), in every
    /// hierarchy where it exists.</summary>
    private static List<string> CgroupsOf(string id)
        => [.. new[] { "/sys/fs/cgroup" }.Concat(Directory.EnumerateDirectories("/sys/fs/cgroup"))
            .SelectMany(h => new[] { Path.Combine(h, "cnr", id), Path.Combine(h, "cnr-test", id) }).Where(Directory.Exists)];
}
