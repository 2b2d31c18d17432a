using System.Text.Json;
using Cnr.Spec;
using Xunit;

namespace Cnr.Tests.Spec;

public class DefaultSpecTests
{
    [Fact]
    public void Create_MatchesRuncSpecValues()
    {
        var s = DefaultSpec.Create();

        Assert.Equal("1.2.0", s.OciVersion);
        var p = s.Process!;
        Assert.True(p.Terminal);
        Assert.Equal(0u, p.User.Uid);
        Assert.Equal(0u, p.User.Gid);
        Assert.Equal(["sh"], p.Args!);
        Assert.Equal(["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"], p.Env!);
        Assert.Equal("/", p.Cwd);
        Assert.True(p.NoNewPrivileges);
        string[] caps = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"];
        Assert.Equal(caps, p.Capabilities!.Bounding!);
        Assert.Equal(caps, p.Capabilities.Effective!);
        Assert.Equal(caps, p.Capabilities.Permitted!);
        Assert.Null(p.Capabilities.Inheritable);
        Assert.Null(p.Capabilities.Ambient);
        var rlimit = Assert.Single(p.Rlimits!);
        Assert.Equal(("RLIMIT_NOFILE", 1024ul, 1024ul), (rlimit.Type, rlimit.Hard, rlimit.Soft));

        Assert.Equal("rootfs", s.Root!.Path);
        Assert.True(s.Root.Readonly);
        Assert.Equal("cnr", s.Hostname);

        Assert.Equal(["/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys", "/sys/fs/cgroup"], s.Mounts!.Select(m => m.Destination));
        Assert.Equal(["proc", "tmpfs", "devpts", "tmpfs", "mqueue", "sysfs", "cgroup"], s.Mounts!.Select(m => m.Type!));
        Assert.Equal(["proc", "tmpfs", "devpts", "shm", "mqueue", "sysfs", "cgroup"], s.Mounts!.Select(m => m.Source!));
        Assert.Null(s.Mounts![0].Options);
        Assert.Equal(["nosuid", "strictatime", "mode=755", "size=65536k"], s.Mounts[1].Options!);
        Assert.Equal(["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"], s.Mounts[2].Options!);
        Assert.Equal(["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"], s.Mounts[3].Options!);
        Assert.Equal(["nosuid", "noexec", "nodev"], s.Mounts[4].Options!);
        Assert.Equal(["nosuid", "noexec", "nodev", "ro"], s.Mounts[5].Options!);
        Assert.Equal(["nosuid", "noexec", "nodev", "relatime", "ro"], s.Mounts[6].Options!);

        var l = s.Linux!;
        var device = Assert.Single(l.Resources!.Devices!);
        Assert.False(device.Allow);
        Assert.Equal("rwm", device.Access);
        Assert.Equal(["pid", "network", "ipc", "uts", "mount", "cgroup"], l.Namespaces!.Select(n => n.Type));
        Assert.All(l.Namespaces!, n => Assert.Null(n.Path));
        Assert.Equal(["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
            "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi"], l.MaskedPaths!);
        Assert.Equal(["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"], l.ReadonlyPaths!);
        Assert.Null(l.UidMappings);
        Assert.Null(l.GidMappings);
    }

    [Fact]
    public void Create_RoundTripsThroughSpecJson()
    {
        var json = JsonSerializer.Serialize(DefaultSpec.Create(), SpecJson.Default.RuntimeSpec);
        var back = JsonSerializer.Deserialize(json, SpecJson.Default.RuntimeSpec)!;

        Assert.Equal(json, JsonSerializer.Serialize(back, SpecJson.Default.RuntimeSpec));
        // The spec's JSON names, as runc writes them.
        Assert.Contains("\"ociVersion\": \"1.2.0\"", json);
        Assert.Contains("\"noNewPrivileges\": true", json);
        Assert.Contains("\"maskedPaths\"", json);
        Assert.DoesNotContain("\"uidMappings\"", json);
    }

    [Fact]
    public void Create_IsValidForABundleWithRootfs()
    {
        using var b = new TempBundle();
        SpecValidator.Validate(DefaultSpec.Create(), b.Dir);
        SpecValidator.Validate(DefaultSpec.Create(rootless: true), b.Dir);
    }

    [Fact]
    public void ToRootless_AddsUserNamespaceAndMapsRootToCaller()
    {
        var s = DefaultSpec.Create();
        DefaultSpec.ToRootless(s, 1000, 1001);

        Assert.Equal(["pid", "ipc", "uts", "mount", "cgroup", "user"], s.Linux!.Namespaces!.Select(n => n.Type));
        var uid = Assert.Single(s.Linux.UidMappings!);
        Assert.Equal((0u, 1000u, 1u), (uid.ContainerID, uid.HostID, uid.Size));
        var gid = Assert.Single(s.Linux.GidMappings!);
        Assert.Equal((0u, 1001u, 1u), (gid.ContainerID, gid.HostID, gid.Size));
        Assert.Null(s.Linux.Resources);
    }

    [Fact]
    public void ToRootless_BindsSysAndDropsIdOptions()
    {
        var s = DefaultSpec.Create();
        DefaultSpec.ToRootless(s, 1000, 1000);

        var sys = Assert.Single(s.Mounts!, m => m.Destination == "/sys");
        Assert.Equal(("none", "/sys"), (sys.Type, sys.Source));
        Assert.Equal(["rbind", "nosuid", "noexec", "nodev", "ro"], sys.Options!);
        Assert.Equal(["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"], s.Mounts!.Single(m => m.Destination == "/dev/pts").Options!);
        Assert.Equal(7, s.Mounts!.Count);
    }

    [Fact]
    public void Create_Rootless_UsesTheCallersIds()
    {
        var s = DefaultSpec.Create(rootless: true);
        Assert.Equal(Cnr.Linux.Libc.geteuid(), s.Linux!.UidMappings![0].HostID);
        Assert.Equal(Cnr.Linux.Libc.getegid(), s.Linux.GidMappings![0].HostID);
    }
}
