using System.Text.Json;
using Cnr.IntegrationTests.Harness;
using Xunit;

namespace Cnr.IntegrationTests.Security;

/// <summary>process.apparmorProfile and friends as runc treats them: applied where the LSM is enabled, ignored
/// (said in --debug) where it is not. The confinement itself is checked in the student VM
/// (tests/vm/check-student-vm.sh), which has AppArmor.</summary>
public class LsmTests
{
    private static bool HostAppArmor => Directory.Exists("/sys/kernel/security/apparmor")
        && File.Exists("/sys/module/apparmor/parameters/enabled")
        && File.ReadAllText("/sys/module/apparmor/parameters/enabled").StartsWith('Y');

    [RootFact]
    public void Run_ApparmorProfile_UnconfinedWithoutAppArmor_OrUnknownProfileRefused()
    {
        using var b = new TestBundle("lsm-aa").WithArgs("true");
        b.Spec.Process!.ApparmorProfile = "cnr-test-no-such-profile";
        b.Write();

        var r = b.Cnr("--debug", "run", "--bundle", b.Dir, b.Id);

        if (HostAppArmor)
        {
            Assert.True(r.ExitCode != 0, r.ToString());
            Assert.Contains("process.apparmorProfile: profile \"cnr-test-no-such-profile\" is not loaded in AppArmor", r.Stderr);
            Assert.False(Directory.Exists(Path.Combine(b.StateRoot, b.Id)), "the refused container left its state dir");
        }
        else
        {
            Assert.True(r.ExitCode == 0, r.ToString());
            // the --debug line (logfmt: its quotes come escaped)
            Assert.Contains(@"process.apparmorProfile \""cnr-test-no-such-profile\"": AppArmor is not enabled on this host, nothing to apply (as runc)", r.Stderr);
        }
    }

    /// <summary>Where SELinux is not enabled (this host; the student VM, whose kernel has SELinux built in but
    /// boots AppArmor and has no policy), runc ignores the labels: the container runs, its mounts get no
    /// context= (a kernel without SELinux would refuse that option), and --debug says so for each.</summary>
    [RootFact]
    public void Run_SelinuxLabelAndMountLabel_AreIgnoredWhereSelinuxIsNotEnabled()
    {
        if (File.Exists("/sys/fs/selinux/enforce"))
        {
            Console.WriteLine("skip: SELinux is enabled on this host, the labels apply (what this test checks is their absence)");
            return;
        }
        using var b = new TestBundle("lsm-se").WithArgs("grep", "-c", "context=", "/proc/self/mounts");
        b.Spec.Process!.SelinuxLabel = "system_u:system_r:container_t:s0:c1,c2";
        b.Spec.Linux!.MountLabel = "system_u:object_r:container_file_t:s0:c1,c2";
        b.Write();

        var r = b.Cnr("--debug", "run", "--bundle", b.Dir, b.Id);
        // grep -c prints 0 and exits 1 when no mount has a context= option
        Assert.True(r.ExitCode == 1 && r.Stdout == "0\n", r.ToString());
        Assert.Contains(@"process.selinuxLabel \""system_u:system_r:container_t:s0:c1,c2\"": SELinux is not enabled on this host, ignored (as runc)", r.Stderr);
        Assert.Contains(@"linux.mountLabel \""system_u:object_r:container_file_t:s0:c1,c2\"": SELinux is not enabled on this host, ignored (as runc)", r.Stderr);
        Assert.False(Directory.Exists(Path.Combine(b.StateRoot, b.Id)), "run left its state dir");
    }

    [RootFact]
    public void Features_ReportsWhetherAppArmorAndSelinuxAreEnabled()
    {
        var r = Harness.Cnr.Run(["features"]);
        Assert.True(r.ExitCode == 0, r.ToString());
        var linux = JsonDocument.Parse(r.Stdout).RootElement.GetProperty("linux");
        Assert.Equal(HostAppArmor, linux.GetProperty("apparmor").GetProperty("enabled").GetBoolean());
        bool selinux = File.Exists("/sys/fs/selinux/enforce");
        Assert.Equal(selinux, linux.GetProperty("selinux").GetProperty("enabled").GetBoolean());
    }

    [RootFact]
    public void Exec_ApparmorFlag_AndInspectShowsTheLabel()
    {
        using var b = new TestBundle("lsm-exec").WithArgs("sleep", "60");
        b.Spec.Process!.Terminal = false;
        b.Spec.Process.SelinuxLabel = "system_u:system_r:container_t:s0";
        b.Write();
        var created = b.CnrDetached("run", "--detach", "--bundle", b.Dir, b.Id);
        Assert.True(created.ExitCode == 0, created.ToString());

        var exec = b.Cnr("--debug", "exec", "--apparmor", "cnr-test-no-such-profile", b.Id, "true");
        if (HostAppArmor)
        {
            Assert.True(exec.ExitCode != 0, exec.ToString());
            Assert.Contains("exec failed: process.apparmorProfile: profile \"cnr-test-no-such-profile\" is not loaded in AppArmor", exec.Stderr);
        }
        else
        {
            Assert.True(exec.ExitCode == 0, exec.ToString());
            Assert.Contains(@"process.apparmorProfile \""cnr-test-no-such-profile\"": AppArmor is not enabled on this host", exec.Stderr);
        }
        if (!File.Exists("/sys/fs/selinux/enforce"))
            Assert.Contains(@"process.selinuxLabel \""system_u:system_r:container_t:s0\"": SELinux is not enabled on this host, ignored", exec.Stderr);

        var inspect = b.Cnr("inspect", b.Id);
        Assert.True(inspect.ExitCode == 0, inspect.ToString());
        // Whatever the host's LSM calls the container's init ("unconfined" under AppArmor), as the kernel says it.
        var m = System.Text.RegularExpressions.Regex.Match(inspect.Stdout, @"lsm label +(.+?) +\(/proc/(\d+)/attr/current\)");
        Assert.True(m.Success, inspect.ToString());
        string expected = "none (no LSM label on this host)";
        try { expected = File.ReadAllText($"/proc/{m.Groups[2].Value}/attr/current").TrimEnd('\0', '\n'); } catch (IOException) { }
        Assert.Equal(expected, m.Groups[1].Value);
    }
}
