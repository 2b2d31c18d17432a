using System.Text.Json;
using Cnr.IntegrationTests.Cgroups;
using Cnr.IntegrationTests.Harness;
using Xunit;

namespace Cnr.IntegrationTests.Lab;

/// <summary>Each lab bundle shows what its README promises, with the commands the README gives.</summary>
public sealed class LabBundleTests
{
    [RootFact]
    public void Readonly_TouchAtRoot_FailsWithReadOnlyFileSystem_WhileTmpIsWritable()
    {
        using var b = LabBundle.Open("readonly", "sh", "-c", "touch /x; touch /tmp/x && echo tmp-writable; grep ' / ' /proc/self/mountinfo");
        var r = b.Run();
        Assert.Contains("Read-only file system", r.Stdout + r.Stderr);
        Assert.Contains("tmp-writable", r.Stdout);
        Assert.Matches(@" / ro[, ]", r.Stdout);                                    // mount point /, options ro
    }

    [RootFact]
    public void User_Id_IsStudent1000()
    {
        using var b = LabBundle.Open("user", "id");
        var r = b.Run();
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.StartsWith("uid=1000(student) gid=1000(student)", r.Stdout);
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
    }

    [RootFact]
    public void Caps_ChownAndPing_FailWithoutTheirCapabilities()
    {
        using var b = LabBundle.Open("caps", "sh", "-c", "touch /tmp/f; chown 1000 /tmp/f; ping -c 1 127.0.0.1; grep CapEff /proc/self/status");
        var r = b.Run();
        Assert.Contains("chown: /tmp/f: Operation not permitted", r.Stderr);
        Assert.Contains("ping: permission denied", r.Stderr);
        Assert.Contains("CapEff:\t0000000000000400", r.Stdout);                      // CAP_NET_BIND_SERVICE only
    }

    [RootFact]
    public void Seccomp_Unshare_IsDeniedByTheFilter_ButWorksWithoutIt()
    {
        using var filtered = LabBundle.Open("seccomp", "sh", "-c", "unshare -U true || echo denied; grep Seccomp: /proc/self/status");
        var r = filtered.Run();
        Assert.Contains("Operation not permitted", r.Stderr);
        Assert.Contains("denied", r.Stdout);
        Assert.Contains("Seccomp:\t2", r.Stdout);

        using var plain = LabBundle.Open("readonly", "unshare", "-U", "true");
        var p = plain.Run();
        Assert.True(p.ExitCode == 0, "without the seccomp profile, unshare -U works: " + p);
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
