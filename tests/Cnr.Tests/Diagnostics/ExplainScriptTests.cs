using Cnr.Diagnostics;
using Xunit;

namespace Cnr.Tests.Diagnostics;

public class ExplainScriptTests
{
    private static readonly Step[] Steps =
    [
        new("cgroup", "mkdir /sys/fs/cgroup/cnr/c1", "mkdir /sys/fs/cgroup/cnr/c1"),
        new("cgroup", "bpf(BPF_PROG_LOAD, BPF_PROG_TYPE_CGROUP_DEVICE, 12 insns: deny a *:* rwm)", null),
        new("clone", "clone3(CLONE_NEWPID|CLONE_NEWNS)", "unshare --pid --fork --mount"),
        new("mount", "mount(NULL, \"/\", NULL, MS_REC|MS_SLAVE, NULL)", "mount --make-rslave /"),
        new("pivot_root", "chdir(\"/r\")", "cd /r"),
        new("pivot_root", "pivot_root(\".\", \".\")", "pivot_root . ."),
        new("mount", "umount2(\".\", MNT_DETACH)", "umount -l ."),
        new("uts", "sethostname(\"box\")", "hostname box"),
        new("capabilities", "prctl(PR_CAPBSET_DROP, …)", "setpriv --bounding-set=-all,+kill --"),
        new("user", "setresuid(1000, 1000, 1000)", "setpriv --reuid 1000 --regid 1000 --clear-groups"),
        new("capabilities", "capset(…)", "capsh --caps=\"cap_kill+eip cap_chown+p\" --"),
        new("seccomp", "seccomp(SECCOMP_SET_MODE_FILTER, 0, …): 3 rules, default SCMP_ACT_ERRNO", null),
        new("no_new_privs", "prctl(PR_SET_NO_NEW_PRIVS, 1)", "setpriv --no-new-privs"),
        new("exec", "execve(\"/bin/sh\", [\"sh\"], [1 variables])", "exec env -i PATH=/bin sh -c 'id'"),
    ];

    [Fact]
    public void Compose_HostPartUnshares_ThenTheStepsInside_InCnrsOrder()
    {
        var script = ExplainScript.Compose(Steps, "cnr run --explain-script s c1");
        Assert.StartsWith("#!/bin/bash\n", script);
        Assert.Contains("exec unshare --pid --fork --mount --propagation unchanged -- \"$BASH\" \"$0\" --inside\nfi\n", script);
        int rslave = script.IndexOf("\nmount --make-rslave /\n"), pivot = script.IndexOf("\npivot_root . .\n"), hostname = script.IndexOf("\nhostname box\n");
        Assert.True(rslave > 0 && rslave < pivot && pivot < hostname, script);
        // After pivot_root the host's programs are reached through fd 3: mount, umount, hostname are functions.
        Assert.Contains("hostname() { \"${host[@]}\" /proc/self/fd/3/hostname \"$@\"; }", script);
        Assert.True(script.IndexOf("exec 3<\"$tools\"") < pivot, script);
    }

    [Fact]
    public void Compose_ProcessAttributes_BecomeOneSetpriv_BeforeEnvAndTheProgram()
        => Assert.EndsWith("exec \"${host[@]}\" /proc/self/fd/3/setpriv --bounding-set=-all,+kill --reuid 1000 --regid 1000 --clear-groups "
                           + "--inh-caps=-all,+kill --no-new-privs -- \"${host[@]}\" /proc/self/fd/3/env -i PATH=/bin sh -c 'id'\n",
            ExplainScript.Compose(Steps, "cnr run"));

    [Fact]
    public void Compose_StepsWithoutACommand_AreCommentsThatSaySo()
    {
        var script = ExplainScript.Compose(Steps, "cnr run");
        Assert.Contains("# [seccomp] seccomp(SECCOMP_SET_MODE_FILTER", script);
        Assert.Contains("#   no command-line equivalent: a BPF filter", script);
        Assert.Contains("#   no command-line equivalent: a BPF program attached to the cgroup", script);
        Assert.Contains("#   ≈ mkdir /sys/fs/cgroup/cnr/c1   (left to cnr", script);
        Assert.DoesNotContain("\nmkdir /sys/fs/cgroup", script);
    }
}
