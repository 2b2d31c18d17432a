using System.Globalization;
using Cnr.IntegrationTests.Harness;
using Cnr.Spec;
using Xunit;

namespace Cnr.IntegrationTests.Run;

/// <summary>The namespaces a container gets: new ones differ from the host's, mapped users, shifted clocks,
/// and joining one that exists.</summary>
public class NamespaceTests
{
    private static void Ensure(TestBundle b, string type)
    {
        b.Spec.Linux ??= new global::Cnr.Spec.Linux();
        b.Spec.Linux.Namespaces ??= [];
        if (!b.Spec.Linux.Namespaces.Any(n => n.Type == type))
            b.Spec.Linux.Namespaces.Add(new LinuxNamespace { Type = type });
    }

    // (config type, /proc/PID/ns name)
    [RootTheory]
    [InlineData("pid", "pid")]
    [InlineData("network", "net")]
    [InlineData("ipc", "ipc")]
    [InlineData("uts", "uts")]
    [InlineData("mount", "mnt")]
    [InlineData("cgroup", "cgroup")]
    public void Run_NewNamespace_DiffersFromHost(string type, string nsName)
    {
        using var b = new TestBundle("ns-" + nsName).WithArgs("readlink", $"/proc/1/ns/{nsName}");
        Ensure(b, type);
        var r = b.Run();
        Assert.True(r.ExitCode == 0, r.ToString());
        var inside = r.Stdout.Trim();
        Assert.StartsWith(nsName + ":[", inside);
        Assert.NotEqual(Host.Namespace(nsName), inside);
    }

    [RootFact]
    public void Run_WithUserNamespace_MapsContainerRootToHostRange()
    {
        using var b = new TestBundle("userns").CopyRootfs()
            .WithArgs("sh", "-c", "cat /proc/self/uid_map /proc/self/gid_map; id -u; touch /tmp/made-inside");
        Ensure(b, "user");
        b.Spec.Linux!.UidMappings = [new LinuxIdMapping { ContainerID = 0, HostID = 100000, Size = 65536 }];
        b.Spec.Linux.GidMappings = [new LinuxIdMapping { ContainerID = 0, HostID = 100000, Size = 65536 }];
        var r = b.Run();
        Assert.True(r.ExitCode == 0, r.ToString());
        var lines = r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 3, r.ToString());
        Assert.Equal(["0", "100000", "65536"], lines[0].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(["0", "100000", "65536"], lines[1].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal("0", lines[2]);
        Assert.Equal("100000:100000", Host.Owner(Path.Combine(b.Dir, "rootfs", "tmp", "made-inside")));
    }

    /// <summary>As runc hands its init the bind sources it opened with the host's privileges: a source under a
    /// directory only the host's root may search (0700) is mounted in a container whose root is mapped to an
    /// unprivileged host uid (by path, that root gets EACCES).</summary>
    [RootFact]
    public void Run_WithUserNamespace_BindSourceUnderRootOnlyDirectory_IsMounted()
    {
        using var b = new TestBundle("userns-bind").CopyRootfs().WithArgs("sh", "-c", "cat /tmp/data/f; ls /tmp/data");
        Ensure(b, "user");
        b.Spec.Linux!.UidMappings = [new LinuxIdMapping { ContainerID = 0, HostID = 100000, Size = 65536 }];
        b.Spec.Linux.GidMappings = [new LinuxIdMapping { ContainerID = 0, HostID = 100000, Size = 65536 }];
        var secret = Path.Combine(b.Dir, "secret");
        var data = Path.Combine(secret, "data");
        Directory.CreateDirectory(data);
        File.WriteAllText(Path.Combine(data, "f"), "reached\n");
        File.SetUnixFileMode(data, (UnixFileMode)0b111_101_101);
        File.SetUnixFileMode(Path.Combine(data, "f"), (UnixFileMode)0b110_100_100);
        File.SetUnixFileMode(secret, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        b.Spec.Mounts!.Add(new Mount { Destination = "/tmp/data", Type = "bind", Source = data, Options = ["rbind", "ro"] });
        var r = b.Run();
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("reached\nf\n", r.Stdout);
    }

    /// <summary>The host's ro/nosuid/nodev/noexec on a bind source stay locked in a user namespace, as with runc:
    /// the container's root (CAP_SYS_ADMIN in its user namespace) cannot remount the bind writable, suid, dev or
    /// exec. A source cloned in the host's own mount namespace carried the flags unlocked, and the remount
    /// succeeded.</summary>
    [RootFact]
    public void Run_WithUserNamespace_HostMountFlagsOfBindSourceStayLocked()
    {
        using var b = new TestBundle("userns-locked").CopyRootfs().WithArgs("sh", "-c",
            "mount -o remount,bind,rw,suid,dev,exec /tmp/data && echo remounted || echo refused; grep ' /tmp/data ' /proc/self/mountinfo");
        Ensure(b, "user");
        b.Spec.Linux!.UidMappings = [new LinuxIdMapping { ContainerID = 0, HostID = 100000, Size = 65536 }];
        b.Spec.Linux.GidMappings = [new LinuxIdMapping { ContainerID = 0, HostID = 100000, Size = 65536 }];
        var caps = b.Spec.Process!.Capabilities ??= new LinuxCapabilities();
        foreach (var set in new[] { caps.Bounding ??= [], caps.Effective ??= [], caps.Permitted ??= [] })
            if (!set.Contains("CAP_SYS_ADMIN")) set.Add("CAP_SYS_ADMIN");
        var data = Path.Combine(b.Dir, "locked");
        Directory.CreateDirectory(data);
        // The integration tests run in a mount namespace of their own (tests/run-all.sh): this mount stays there.
        var made = Harness.Cnr.Exec("mount", ["-t", "tmpfs", "-o", "ro,nosuid,nodev,noexec,size=64k", "locked", data]);
        Assert.True(made.ExitCode == 0, made.ToString());
        try
        {
            b.Spec.Mounts!.Add(new Mount { Destination = "/tmp/data", Type = "bind", Source = data, Options = ["rbind"] });
            var r = b.Run();
            Assert.True(r.ExitCode == 0, r.ToString());
            Assert.Contains("refused", r.Stdout);
            var options = r.Stdout.Split('\n').Single(l => l.Contains(" /tmp/data ")).Split(' ')[5].Split(',');
            Assert.Superset(new HashSet<string> { "ro", "nosuid", "nodev", "noexec" }, options.ToHashSet());
        }
        finally
        {
            Harness.Cnr.Exec("umount", ["-l", data]);
        }
    }

    /// <summary>As runc (its default "loopback" network for a new network namespace): lo is up, so 127.0.0.1
    /// works in a container with no other network (a server listening on localhost, its client).</summary>
    [RootFact]
    public void Run_WithNewNetworkNamespace_LoopbackIsUp()
    {
        using var b = new TestBundle("netns-lo").WithArgs("sh", "-c",
            "ip -o link show lo; sleep 2 | nc -l -p 7777 & sleep 0.5; echo over-lo | nc 127.0.0.1 7777; wait");
        Ensure(b, "network");
        var r = b.Run();
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Matches(@"lo: <LOOPBACK,UP,LOWER_UP>", r.Stdout);
        Assert.EndsWith("over-lo\n", r.Stdout); // what the listener got
    }

    [RootFactWithKernel("/proc/self/ns/time", "time namespaces")]
    public void Run_WithTimeNamespaceOffsets_ShiftsUptime()
    {
        const long shift = 10 * 86400;
        using var b = new TestBundle("timens").WithArgs("cat", "/proc/uptime");
        Ensure(b, "time");
        b.Spec.Linux!.TimeOffsets = new()
        {
            ["boottime"] = new LinuxTimeOffset { Secs = shift },
            ["monotonic"] = new LinuxTimeOffset { Secs = shift },
        };
        var before = Uptime(File.ReadAllText("/proc/uptime"));
        var r = b.Run();
        var after = Uptime(File.ReadAllText("/proc/uptime"));
        Assert.True(r.ExitCode == 0, r.ToString());
        var inside = Uptime(r.Stdout);
        Assert.InRange(inside, before + shift, after + shift);
    }

    private static double Uptime(string procUptime) => double.Parse(procUptime.Split(' ')[0], CultureInfo.InvariantCulture);

    [RootFact]
    public void Run_WithNamespacePath_JoinsThatNamespace()
    {
        using var b = new TestBundle("joinns").WithArgs("readlink", "/proc/self/ns/net");
        var nsFile = Path.Combine(b.Dir, "netns");
        File.WriteAllText(nsFile, "");
        // unshare(1) keeps the new network namespace alive by bind-mounting it onto nsFile.
        var made = Harness.Cnr.Exec("unshare", [$"--net={nsFile}", "true"]);
        Assert.True(made.ExitCode == 0, made.ToString());
        try
        {
            var inode = Harness.Cnr.Exec("stat", ["-L", "-c", "%i", nsFile]).Stdout.Trim();
            b.Spec.Linux!.Namespaces!.RemoveAll(n => n.Type == "network");
            b.Spec.Linux.Namespaces.Add(new LinuxNamespace { Type = "network", Path = nsFile });
            var r = b.Run();
            Assert.True(r.ExitCode == 0, r.ToString());
            Assert.Equal($"net:[{inode}]", r.Stdout.Trim());
        }
        finally
        {
            Harness.Cnr.Exec("umount", [nsFile]);
        }
    }
}
