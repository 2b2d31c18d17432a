using System.Text.Json;
using Cnr.IntegrationTests.Harness;
using Xunit;

namespace Cnr.IntegrationTests.Lab;

public sealed class InspectAndDemoTests
{
    [RootFact]
    public void Inspect_RunningContainer_ShowsItsOwnPidAndMountNamespaces_Pid1_AndItsCapabilities()
    {
        using var b = new TestBundle("inspect").WithArgs("sleep", "60");
        b.Write();
        var run = b.Cnr("run", "-d", "--bundle", b.Dir, b.Id);
        Assert.True(run.ExitCode == 0, run.ToString());

        var json = b.Cnr("inspect", "--format", "json", b.Id);
        Assert.True(json.ExitCode == 0, json.ToString());
        var v = JsonDocument.Parse(json.Stdout).RootElement;
        Assert.Equal(1, v.GetProperty("containerPid").GetInt32());
        Assert.NotEqual(1, v.GetProperty("hostPid").GetInt32());
        var ns = v.GetProperty("namespaces").EnumerateArray().ToDictionary(n => n.GetProperty("type").GetString()!);
        foreach (var type in new[] { "pid", "mnt", "uts", "ipc", "net" })
        {
            Assert.False(ns[type].GetProperty("shared").GetBoolean(), type);
            Assert.NotEqual(ns[type].GetProperty("host").GetString(), ns[type].GetProperty("container").GetString());
        }
        Assert.True(ns["user"].GetProperty("shared").GetBoolean());
        var effective = v.GetProperty("capabilities").GetProperty("effective").EnumerateArray().Select(e => e.GetString()!).Order();
        Assert.Equal(b.Spec.Process!.Capabilities!.Effective!.Order(), effective);
        Assert.Equal("/", v.GetProperty("root").GetProperty("mountPoint").GetString());

        var text = b.Cnr("inspect", b.Id);
        Assert.True(text.ExitCode == 0, text.ToString());
        Assert.Matches(@"pid\s+1 inside, \d+ on the host", text.Stdout);
        Assert.Matches(@"\n\s+mnt\s+mnt:\[\d+\]\s+mnt:\[\d+\]\s+different", text.Stdout);
        Assert.Contains("CAP_KILL", text.Stdout);
    }

    [RootFact]
    public void Inspect_StoppedContainer_SaysItIsStopped()
    {
        using var b = new TestBundle("inspect-stopped").WithArgs("true");
        b.Write();
        Assert.Equal(0, b.Cnr("run", "-d", "--bundle", b.Dir, b.Id).ExitCode);
        Wait.Until(() => Host.State(b).Status == "stopped", $"{b.Id} to be stopped");
        var r = b.Cnr("inspect", b.Id);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("is stopped", r.Stderr);
    }

    [RootFact]
    public void DemoChrootEscape_EscapesUnderChroot_StaysInUnderCnr_AndGetsEpermWithoutCapSysChroot()
    {
        var r = Harness.Cnr.Run(["demo", "chroot-escape", "--rootfs", Repo.MyboxRootfs], timeout: TimeSpan.FromMinutes(2));
        var marker = System.Text.RegularExpressions.Regex.Match(r.Stdout, "holds \"(host secret [0-9a-f]+)\"").Groups[1].Value;
        Assert.NotEmpty(marker);
        Assert.Matches(@"\(a\)\s+chroot\(2\) only\s+ESCAPED\s+escaped: " + marker, r.Stdout);
        Assert.Matches(@"\(b\)\s+cnr run \(pivot_root\)\s+CONTAINED\s+contained: ", r.Stdout);
        Assert.Matches(@"\(c\)\s+cnr run, no CAP_SYS_CHROOT\s+EPERM\s+chroot: .*Operation not permitted", r.Stdout);
        Assert.True(r.ExitCode == 0, r.ToString());
        var suffix = System.Text.RegularExpressions.Regex.Match(r.Stdout, "/var/tmp/cnr-demo-marker-([0-9a-f]+)").Groups[1].Value;
        Assert.False(File.Exists($"/var/tmp/cnr-demo-marker-{suffix}"), "the marker is removed");
        Assert.False(Directory.Exists($"/var/tmp/cnr-demo-{suffix}"), "the rootfs copy and bundles are removed");
    }

    /// <summary>The layout `make install` makes (PREFIX/bin/cnr, PREFIX/libexec/cnr/chroot-escape), run from /
    /// with no --rootfs: the demo needs neither the repository nor a built bundle.</summary>
    [RootFact]
    public void DemoChrootEscape_Installed_WorksFromAnyDirectory()
    {
        var prefix = Directory.CreateTempSubdirectory("cnr-prefix-").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(prefix, "bin"));
            Directory.CreateDirectory(Path.Combine(prefix, "libexec", "cnr"));
            var cnr = Path.Combine(prefix, "bin", "cnr");
            var escape = Path.Combine(prefix, "libexec", "cnr", "chroot-escape");
            File.Copy(Repo.CnrBinary, cnr);
            File.Copy(Path.Combine(Repo.Root, "native", "build", "chroot-escape"), escape);
            foreach (var f in new[] { cnr, escape }) File.SetUnixFileMode(f, (UnixFileMode)0b111_101_101);
            var r = Harness.Cnr.Exec(cnr, ["demo", "chroot-escape"], workingDirectory: "/",
                timeout: TimeSpan.FromMinutes(2));
            Assert.True(r.ExitCode == 0, r.ToString());
            Assert.Matches(@"\(a\)\s+chroot\(2\) only\s+ESCAPED\s+escaped: host secret", r.Stdout);
            Assert.Matches(@"\(b\)\s+cnr run \(pivot_root\)\s+CONTAINED\s+contained: ", r.Stdout);
            Assert.Matches(@"\(c\)\s+cnr run, no CAP_SYS_CHROOT\s+EPERM\s+chroot: .*Operation not permitted", r.Stdout);
        }
        finally { Directory.Delete(prefix, recursive: true); }
    }

    [RootFact]
    public void DemoChrootEscape_NoPivot_StaysInsideToo()
    {
        var r = Harness.Cnr.Run(["demo", "chroot-escape", "--no-pivot", "--rootfs", Repo.MyboxRootfs], timeout: TimeSpan.FromMinutes(2));
        Assert.Matches(@"\(d\)\s+cnr run --no-pivot\s+CONTAINED\s+contained: ", r.Stdout);
    }
}
