using System.Text.Json;
using Cnr.IntegrationTests.Cgroups;
using Cnr.IntegrationTests.Harness;
using Xunit;

namespace Cnr.IntegrationTests.Lab;

/// <summary>Each lab bundle shows what its README promises, with the commands the README gives.</summary>
public sealed class LabBundleTests
{
    // Each bundle's README opens with one command and its output in the bundle and in a stated baseline;
    // each test runs that command on both sides and asserts the difference.

    private const string ReadonlyCommand = "touch /x /etc/x /tmp/x; awk '$5 == \"/\"' /proc/self/mountinfo";

    [RootFact]
    public void Readonly_RootAndEtc_AreReadOnly_TmpIsWritable()
    {
        using var b = LabBundle.Open("readonly", "sh", "-c", ReadonlyCommand);
        var r = b.Run();
        Assert.Contains("touch: /x: Read-only file system", r.Stderr);
        Assert.Contains("touch: /etc/x: Read-only file system", r.Stderr);
        Assert.DoesNotContain("/tmp/x", r.Stderr);
        Assert.Matches(@"^\S+ \S+ \S+ \S+ / ro[, ]", r.Stdout);                         // the root line only, ro
        Assert.Single(r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [RootFact]
    public void ReadonlyWritable_RootIsWritable_ButReadonlyPathsKeepEtcReadOnly()
    {
        using var b = LabBundle.OpenWritable("readonly/writable", "sh", "-c", ReadonlyCommand);
        var r = b.Run();
        Assert.DoesNotContain("touch: /x:", r.Stderr);
        Assert.True(File.Exists(Path.Combine(b.Spec.Root!.Path, "x")), "/x is written into the rootfs on the host");
        Assert.Contains("touch: /etc/x: Read-only file system", r.Stderr);               // linux.readonlyPaths
        Assert.Matches(@"^\S+ \S+ \S+ \S+ / rw[, ]", r.Stdout);
    }

    [RootFact]
    public void User_Id_IsStudent1000_WhereMyboxIsRoot()
    {
        using var b = LabBundle.Open("user", "id");
        var r = b.Run();
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("uid=1000(student) gid=1000(student) groups=100(users)", r.Stdout.Trim());

        using var mybox = LabBundle.Open("mybox", "id");
        var m = mybox.Run();
        Assert.True(m.ExitCode == 0, m.ToString());
        Assert.StartsWith("uid=0(root) gid=0(root)", m.Stdout.Trim());
    }

    [RootFact]
    public void Userns_RootInside_IsUid100000OnTheHost()
    {
        using var b = LabBundle.OpenWritable("userns", "sh", "-c", "cat /proc/self/uid_map; id -u; touch /made-inside; ls -ln /made-inside");
        var r = b.Run();
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Matches(@"^\s*0\s+100000\s+65536\s*$", r.Stdout.Split('\n')[0]);
        Assert.Equal("0", r.Stdout.Split('\n')[1].Trim());
        Assert.Matches(@"\s0\s+0\s", r.Stdout.Split('\n')[2]);                        // root:root inside…
        var host = Harness.Cnr.Exec("stat", ["-c", "%u:%g", Path.Combine(b.Spec.Root!.Path, "made-inside")]);
        Assert.Equal("100000:100000", host.Stdout.Trim());                               // …100000 outside

        using var mybox = LabBundle.Open("mybox", "cat", "/proc/self/uid_map");           // the host's identity map
        var m = mybox.Run();
        Assert.Matches(@"^\s*0\s+0\s+4294967295\s*$", m.Stdout.Trim());
    }

    private const string CapsCommand = "touch /tmp/f && chown 1000 /tmp/f && ls -ln /tmp/f; ip link set lo down && ip link set lo up; ping -c 1 127.0.0.1";

    [RootFact]
    public void Caps_ChownAndPing_Work_WithCapChownNetRawAndNetAdmin()
    {
        using var b = LabBundle.Open("caps", "sh", "-c", CapsCommand + "; grep CapEff /proc/self/status");
        var r = b.Run();
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Matches(@"\s1000\s+0\s.*/tmp/f", r.Stdout);
        Assert.Contains("1 packets transmitted, 1 packets received", r.Stdout);
        Assert.Contains("CapEff:\t0000000020003421", r.Stdout);                       // + CHOWN, NET_ADMIN, NET_RAW
    }

    [RootFact]
    public void CapsWithout_ChownIpAndPing_FailWithoutTheirCapabilities()
    {
        using var b = LabBundle.Open("caps/without", "sh", "-c", CapsCommand + "; grep CapEff /proc/self/status");
        var r = b.Run();
        Assert.Contains("chown: /tmp/f: Operation not permitted", r.Stderr);
        Assert.Contains("ip: SIOCSIFFLAGS: Operation not permitted", r.Stderr);
        Assert.Contains("ping: permission denied", r.Stderr);
        Assert.Contains("CapEff:\t0000000020000420", r.Stdout);                       // mybox's three: NET_BIND_SERVICE, KILL, AUDIT_WRITE
    }

    private const string SeccompCommand = "unshare -U true; echo $?; grep Seccomp: /proc/self/status";

    [RootFact]
    public void Seccomp_Unshare_IsDeniedByTheFilter_ButWorksInMybox()
    {
        using var filtered = LabBundle.Open("seccomp", "sh", "-c", SeccompCommand);
        var r = filtered.Run();
        Assert.Contains("unshare: unshare(0x10000000): Operation not permitted", r.Stderr);
        Assert.StartsWith("1\n", r.Stdout);
        Assert.Contains("Seccomp:\t2", r.Stdout);

        using var mybox = LabBundle.Open("mybox", "sh", "-c", SeccompCommand);
        var m = mybox.Run();
        Assert.True(m.Stdout.StartsWith("0\n"), "without the seccomp profile, unshare -U works: " + m);
        Assert.Contains("Seccomp:\t0", m.Stdout);
    }

    [CgroupV2Fact("memory", "pids", "cpu", NeedsCnr = true)]
    [Trait("Category", "CgroupV2")]
    public void Limits_Inspect_ShowsMemoryPidsAndCpuLimits()
    {
        using var b = LabBundle.Open("limits", "sleep", "60");
        b.Write();
        var run = b.Cnr("run", "-d", "--bundle", b.Dir, b.Id);
        Assert.True(run.ExitCode == 0, run.ToString());
        var json = b.Cnr("inspect", "--format", "json", b.Id);
        Assert.True(json.ExitCode == 0, json.ToString());
        var figures = JsonDocument.Parse(json.Stdout).RootElement.GetProperty("cgroup").GetProperty("figures")
            .EnumerateArray().ToDictionary(f => f.GetProperty("resource").GetString()!, f => f.GetProperty("limit").GetString()!);
        Assert.Equal("67108864", figures["memory"]);
        Assert.Equal("64", figures["pids"]);
        Assert.Equal("50000 100000", figures["cpu"]);
        var text = b.Cnr("inspect", b.Id);
        Assert.Contains("of 64.0 MiB", text.Stdout);
        Assert.Contains("50% of one CPU", text.Stdout);
    }

    [CgroupV2Fact("memory", "pids", "cpu", NeedsCnr = true)]
    [Trait("Category", "CgroupV2")]
    public void Limits_MemoryMax_Is64MiB_WhereMyboxHasNoLimit()
    {
        using var b = LabBundle.Open("limits", "cat", "/sys/fs/cgroup/memory.max");
        var r = b.Run();
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("67108864", r.Stdout.Trim());

        using var mybox = LabBundle.Open("mybox", "cat", "/sys/fs/cgroup/memory.max");
        var m = mybox.Run();
        Assert.True(m.ExitCode == 0, m.ToString());
        Assert.Equal("max", m.Stdout.Trim());
    }

    [RootFact]
    public void ChrootEscapeBundle_StaysContained_UnderCnr_ButEscapesUnderPlainChroot()
    {
        using var b = LabBundle.Open("chroot-escape");
        var r = b.Run();
        Assert.Contains("contained: /etc/os-release: No such file or directory", r.Stdout);

        var rootfs = Path.Combine(LabBundle.DirOf("chroot-escape"), "rootfs");
        var plain = Harness.Cnr.Exec("chroot", [rootfs, "/chroot-escape", "/etc/os-release"]);
        Assert.StartsWith("escaped: ", plain.Stdout);
    }
}
