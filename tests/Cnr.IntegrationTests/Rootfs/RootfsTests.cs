using Cnr.IntegrationTests.Harness;
using Cnr.Spec;
using Xunit;

namespace Cnr.IntegrationTests.Rootfs;

/// <summary>The container's filesystem as the process inside sees it: mounts, devices, masked and read-only
/// paths, and that nothing in the image can redirect a mount onto the host.</summary>
public class RootfsTests
{
    /// <summary>The mountinfo line (fields after the mount id) of the mount at <paramref name="mountPoint"/>.</summary>
    private static string MountLine(string mountinfo, string mountPoint)
        => mountinfo.Split('\n').LastOrDefault(l => l.Split(' ') is { Length: > 4 } f && f[4] == mountPoint)
           ?? throw new Xunit.Sdk.XunitException($"{mountPoint} is not mounted:\n{mountinfo}");

    [RootFact]
    public void Run_DefaultSpec_MountsProcSysDevWithRuncFlags()
    {
        using var b = new TestBundle("mnt").WithArgs("cat", "/proc/self/mountinfo");
        var r = b.Run();
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains(" - proc proc ", MountLine(r.Stdout, "/proc"));
        Assert.Matches(@" rw,nosuid\S* - tmpfs tmpfs .*mode=755", MountLine(r.Stdout, "/dev"));
        Assert.Matches(@" rw,nosuid,noexec\S* - devpts devpts .*gid=5,mode=620,ptmxmode=666", MountLine(r.Stdout, "/dev/pts"));
        Assert.Matches(@" rw,nosuid,nodev,noexec\S* - tmpfs shm ", MountLine(r.Stdout, "/dev/shm"));
        Assert.Matches(@" rw,nosuid,nodev,noexec\S* - mqueue mqueue ", MountLine(r.Stdout, "/dev/mqueue"));
        Assert.Matches(@" ro,nosuid,nodev,noexec\S* - sysfs sysfs ", MountLine(r.Stdout, "/sys"));
        Assert.Matches(@" ro,nosuid,nodev,noexec,relatime - cgroup2 ", MountLine(r.Stdout, "/sys/fs/cgroup"));
    }

    [RootFact]
    public void Run_DefaultSpec_CreatesDefaultDevicesWithTheirNumbers()
    {
        using var b = new TestBundle("dev").WithArgs("sh", "-c",
            "stat -c '%n %F %t:%T %a' /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty; for l in ptmx fd stdin; do readlink /dev/$l; done");
        var r = b.Run();
        Assert.True(r.ExitCode == 0, r.ToString());
        foreach (var dev in new[] { "null 1:3", "zero 1:5", "full 1:7", "random 1:8", "urandom 1:9", "tty 5:0" })
        {
            var (name, numbers) = (dev.Split(' ')[0], dev.Split(' ')[1]);
            Assert.Contains($"/dev/{name} character special file {numbers} 666", r.Stdout);
        }
        Assert.Contains("pts/ptmx\n/proc/self/fd\n/proc/self/fd/0\n", r.Stdout);
    }

    [RootFact]
    public void Run_WithLinuxDevice_CreatesNodeWithModeAndOwner()
    {
        using var b = new TestBundle("devs").WithArgs("stat", "-c", "%n %F %t:%T %a %u:%g", "/dev/fuse", "/dev/sub/fifo");
        b.Spec.Linux!.Devices =
        [
            new LinuxDevice { Path = "/dev/fuse", Type = "c", Major = 10, Minor = 229, FileMode = 0x180, Uid = 5, Gid = 6 },
            new LinuxDevice { Path = "/dev/sub/fifo", Type = "p" },
        ];
        var r = b.Run();
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("/dev/fuse character special file a:e5 600 5:6", r.Stdout);
        Assert.Contains("/dev/sub/fifo fifo 0:0 666 0:0", r.Stdout);
    }

    [RootFact]
    public void Run_DefaultSpec_MaskedPathsAreEmpty()
    {
        using var b = new TestBundle("mask").WithArgs("sh", "-c",
            "echo kcore=$(cat /proc/kcore 2>/dev/null | wc -c) keys=$(cat /proc/keys | wc -c) firmware=$(ls /sys/firmware | wc -l)");
        var r = b.Run();
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("kcore=0 keys=0 firmware=0", r.Stdout);
    }

    [RootFact]
    public void Run_DefaultSpec_ReadonlyPathsRejectWrites()
    {
        using var b = new TestBundle("ro").WithArgs("sh", "-c", "echo x > /proc/sys/kernel/hostname; echo rc=$?");
        var r = b.Run();
        Assert.Contains("Read-only file system", r.Stdout + r.Stderr);
        Assert.Contains("rc=1", r.Stdout);
    }

    [RootFact]
    public void Run_WithReadonlyRoot_TouchFailsWithReadOnlyFileSystem()
    {
        using var b = new TestBundle("roroot").CopyRootfs().WithArgs("sh", "-c", "touch /x; echo rc=$?; touch /dev/shm/y && echo shm-ok");
        b.Spec.Root!.Readonly = true;
        var r = b.Run();
        Assert.Contains("touch: /x: Read-only file system", r.Stdout + r.Stderr);
        Assert.Contains("rc=1\nshm-ok", r.Stdout);
        Assert.False(File.Exists(Path.Combine(b.Dir, "rootfs", "x")));
    }

    [RootFact]
    public void Run_WithSymlinkedDestination_MountStaysInsideTheRootfs()
    {
        using var b = new TestBundle("symlink").CopyRootfs();
        var marker = Path.Combine(b.Dir, "host-marker-dir");
        Directory.CreateDirectory(marker);
        var rootfs = Path.Combine(b.Dir, "rootfs");
        // Both an absolute link and a ../ walk aim at the host directory.
        File.CreateSymbolicLink(Path.Combine(rootfs, "evil"), marker);
        File.CreateSymbolicLink(Path.Combine(rootfs, "evil2"), "../../../../../../../../.." + marker);
        b.Spec.Mounts!.Add(new Mount { Destination = "/evil", Type = "tmpfs", Source = "tmpfs" });
        b.Spec.Mounts!.Add(new Mount { Destination = "/evil2/sub", Type = "tmpfs", Source = "tmpfs" });
        b.WithArgs("sh", "-c", "touch /evil/inside /evil2/sub/inside && cat /proc/self/mountinfo");
        var r = b.Run();
        Assert.True(r.ExitCode == 0, r.ToString());
        // Inside, the mounts are where the links point within the rootfs…
        Assert.Contains(" - tmpfs ", MountLine(r.Stdout, marker));
        Assert.Contains(" - tmpfs ", MountLine(r.Stdout, marker + "/sub"));
        // …and the host directory never received them.
        Assert.Empty(Directory.EnumerateFileSystemEntries(marker));
        Assert.True(Directory.Exists(rootfs + marker));
    }

    [RootFact]
    public void Run_WithReadonlyBindMount_ContainerReadsButCannotWrite()
    {
        using var b = new TestBundle("bindro");
        var data = Path.Combine(b.Dir, "hostdata");
        Directory.CreateDirectory(data);
        File.WriteAllText(Path.Combine(data, "f"), "from-host\n");
        // A relative source is relative to the bundle directory.
        b.Spec.Mounts!.Add(new Mount { Destination = "/data", Type = "bind", Source = "hostdata", Options = ["rbind", "ro", "nosuid"] });
        b.WithArgs("sh", "-c", "cat /data/f; touch /data/g; grep ' /data ' /proc/self/mountinfo");
        var r = b.Run();
        Assert.Contains("from-host", r.Stdout);
        Assert.Contains("touch: /data/g: Read-only file system", r.Stdout + r.Stderr);
        Assert.Matches(@" /data ro,nosuid", r.Stdout);
        Assert.False(File.Exists(Path.Combine(data, "g")));
    }

    [RootFact]
    public void Run_WithFileBindMount_CreatesTheTargetFile()
    {
        using var b = new TestBundle("bindfile").CopyRootfs();
        File.WriteAllText(Path.Combine(b.Dir, "hosts"), "10.0.0.1 example\n");
        b.Spec.Mounts!.Add(new Mount { Destination = "/etc/cnr/hosts", Type = "bind", Source = Path.Combine(b.Dir, "hosts"), Options = ["bind", "ro"] });
        b.WithArgs("cat", "/etc/cnr/hosts");
        var r = b.Run();
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("10.0.0.1 example\n", r.Stdout);
    }

    [RootFact]
    public void Run_WithUnknownFilesystem_FailsNamingTheMount()
    {
        using var b = new TestBundle("badfs").WithArgs("true");
        b.Spec.Mounts!.Add(new Mount { Destination = "/bogus", Type = "bogusfs", Source = "x" });
        var r = b.Run();
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("mount x to /bogus: ENODEV (No such device)", r.Stderr);
    }

    [RootFact]
    public void Run_WithIdmapOption_IsRejectedClearly()
    {
        using var b = new TestBundle("idmap").WithArgs("true");
        b.Spec.Mounts!.Add(new Mount { Destination = "/data", Type = "bind", Source = "/tmp", Options = ["rbind", "idmap"] });
        var r = b.Run();
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("id-mapped mounts", r.Stderr);
    }

    [RootFact]
    public void Run_InUserNamespace_BindsHostDevicesInsteadOfMknod()
    {
        using var b = new TestBundle("userns").WithArgs("sh", "-c", "echo ok > /dev/null && grep ' /dev/null ' /proc/self/mountinfo && head -c 3 /dev/zero | wc -c");
        b.Spec.Linux!.Namespaces!.Add(new LinuxNamespace { Type = "user" });
        b.Spec.Linux.UidMappings = [new LinuxIdMapping { ContainerID = 0, HostID = 0, Size = 65536 }];
        b.Spec.Linux.GidMappings = [new LinuxIdMapping { ContainerID = 0, HostID = 0, Size = 65536 }];
        var r = b.Run();
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains(" /dev/null ", r.Stdout);
        Assert.EndsWith("3\n", r.Stdout);
    }

    [RootFact]
    public void Run_RootlessSpec_BindsHostSysAndDevicesAndStillMasks()
    {
        using var b = new TestBundle("rootless").WithArgs("sh", "-c",
            "grep -E ' /sys | /dev/null ' /proc/self/mountinfo; touch /sys/x 2>&1; echo keys=$(cat /proc/keys | wc -c)");
        var rootless = DefaultSpec.Create(rootless: true);
        b.Spec.Mounts = rootless.Mounts;
        b.Spec.Linux!.Namespaces = rootless.Linux!.Namespaces;
        b.Spec.Linux.UidMappings = rootless.Linux.UidMappings;
        b.Spec.Linux.GidMappings = rootless.Linux.GidMappings;
        var r = b.Run();
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Matches(@" /sys ro,nosuid,nodev,noexec\S* - sysfs ", r.Stdout);
        Assert.Contains(" /dev/null ", r.Stdout);
        Assert.Contains("Read-only file system", r.Stdout);
        Assert.Contains("keys=0", r.Stdout);
    }

    [RootFact]
    public void Run_WithNoPivot_MovesTheRootfsAndChroots()
    {
        using var b = new TestBundle("nopivot").WithArgs("sh", "-c", "ls /; grep -c ' /proc ' /proc/self/mountinfo");
        b.Write();
        var r = b.Cnr("run", "--no-pivot", "--bundle", b.Dir, b.Id);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("bin", r.Stdout);
        Assert.DoesNotContain("work", r.Stdout);
        Assert.EndsWith("1\n", r.Stdout);
    }

    /// <summary>runc's no_pivot test: under --no-pivot the host's procfs would still be in the container's mount
    /// namespace (under the moved rootfs), and the kernel lets a new user namespace mount procfs wherever a whole,
    /// unmasked instance is in its mount namespace. cnr detaches it first, as runc does, so the mount is refused.
    /// (runc's test runs `unshare -mrpf`; busybox's unshare cannot write the id maps here, and the kernel's rule
    /// needs none, so a small static program makes the same calls.)</summary>
    [RootFactWithTool("/usr/bin/cc", "a static test program that makes the unshare and mount calls is compiled with it")]
    public void Run_WithNoPivot_NewUserNamespaceCannotMountProc()
    {
        using var b = new TestBundle("nopivot-proc").CopyRootfs().WithArgs("/userns-proc");
        var source = Path.Combine(b.Dir, "userns-proc.c");
        File.WriteAllText(source, """
            #define _GNU_SOURCE
            #include <errno.h>
            #include <sched.h>
            #include <stdio.h>
            #include <string.h>
            #include <sys/mount.h>
            #include <sys/wait.h>
            #include <unistd.h>
            int main(void)
            {
                if (unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID)) { printf("unshare: %s\n", strerror(errno)); return 1; }
                if (fork() == 0) {
                    printf("in-userns\n");
                    if (mount("none", "/proc", "proc", 0, NULL) == 0) printf("proc-mounted\n");
                    else printf("mount: %s\n", strerror(errno));
                    return 0;
                }
                wait(NULL);
                return 0;
            }
            """);
        var cc = Harness.Cnr.Exec("/usr/bin/cc", ["-static", "-O2", "-o", Path.Combine(b.Dir, "rootfs", "userns-proc"), source]);
        Assert.True(cc.ExitCode == 0, cc.ToString());
        b.Write();
        var r = b.Cnr("run", "--no-pivot", "--bundle", b.Dir, b.Id);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("in-userns", r.Stdout); // else the mount below was never tried
        Assert.DoesNotContain("proc-mounted", r.Stdout);
        Assert.Contains("mount: Operation not permitted", r.Stdout);
    }

    /// <summary>As runc: without {"type": "mount"} the container's mounts are made in the caller's mount namespace
    /// (this test's, an `unshare -m` of its own), on the rootfs, and the process is chrooted there; `delete` takes
    /// every one of them away again.</summary>
    [RootFact]
    public void Create_WithoutMountNamespace_MountsInTheCallersNamespace_AndDeleteRemovesThem()
    {
        using var b = new TestBundle("nomntns").CopyRootfs().WithArgs("sh", "-c", "{ readlink /proc/self/ns/mnt; cat /etc/hostname; } > /seen.tmp; mv /seen.tmp /seen; sleep 30");
        b.Spec.Linux!.Namespaces = [.. b.Spec.Linux.Namespaces!.Where(n => n.Type != "mount")];
        // runc's rule too: masked and read-only paths need a mount namespace of the container's own
        b.Spec.Linux.MaskedPaths = null;
        b.Spec.Linux.ReadonlyPaths = null;
        var rootfs = Path.Combine(b.Dir, "rootfs");
        var created = b.Create();
        Assert.True(created.ExitCode == 0, created.ToString());
        Assert.Contains(Host.MountsMentioning(rootfs + "/proc"), l => l.StartsWith("/proc/self/mountinfo", StringComparison.Ordinal));
        var started = b.Cnr("start", b.Id);
        Assert.True(started.ExitCode == 0, started.ToString());
        var seen = Path.Combine(rootfs, "seen");
        Wait.Until(() => File.Exists(seen), "the container's process to write /seen");
        Assert.Equal(Host.Namespace("mnt") + "\nmybox\n", File.ReadAllText(seen));
        // exec has no mount namespace to join: it gets the container's root all the same
        var exec = b.Cnr("exec", b.Id, "cat", "/etc/hostname");
        Assert.True(exec.ExitCode == 0 && exec.Stdout == "mybox\n", exec.ToString());
        var deleted = b.Cnr("delete", "--force", b.Id);
        Assert.True(deleted.ExitCode == 0, deleted.ToString());
        Assert.Empty(Host.MountsMentioning(rootfs));
    }

    [RootFact]
    public void Run_WithFileWhereMountPointShouldBe_FailsNamingTheMount()
    {
        using var b = new TestBundle("notdir").CopyRootfs().WithArgs("true");
        File.WriteAllText(Path.Combine(b.Dir, "rootfs", "afile"), "");
        b.Spec.Mounts!.Add(new Mount { Destination = "/afile/sub", Type = "tmpfs", Source = "tmpfs" });
        var r = b.Run();
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("mount tmpfs to /afile/sub (openat2): ENOTDIR (Not a directory)", r.Stderr);
    }

    [RootFact]
    public void Run_WithTmpCopyUp_TmpfsStartsWithTheImageContent()
    {
        using var b = new TestBundle("copyup").CopyRootfs();
        var app = Path.Combine(b.Dir, "rootfs", "etc", "app");
        Directory.CreateDirectory(Path.Combine(app, "sub"));
        File.WriteAllText(Path.Combine(app, "conf"), "setting=1\n");
        File.WriteAllText(Path.Combine(app, "sub", "x"), "deep\n");
        File.CreateSymbolicLink(Path.Combine(app, "link"), "conf");
        Assert.Equal(0, Harness.Cnr.Exec("chown", ["7:8", Path.Combine(app, "conf")]).ExitCode);
        Assert.Equal(0, Harness.Cnr.Exec("chmod", ["640", Path.Combine(app, "conf")]).ExitCode);
        b.Spec.Mounts!.Add(new Mount { Destination = "/etc/app", Type = "tmpfs", Source = "tmpfs", Options = ["tmpcopyup", "ro", "mode=755"] });
        b.WithArgs("sh", "-c", "stat -c '%n %a %u:%g' /etc/app/conf; cat /etc/app/sub/x; readlink /etc/app/link; touch /etc/app/new; grep ' /etc/app ' /proc/self/mountinfo");
        var r = b.Run();
        Assert.Contains("/etc/app/conf 640 7:8\ndeep\nconf\n", r.Stdout);
        Assert.Contains("touch: /etc/app/new: Read-only file system", r.Stdout + r.Stderr);
        Assert.Matches(@" /etc/app ro\S* - tmpfs ", r.Stdout);
    }

    /// <summary>A read-only /dev tmpfs is populated (devices, /dev/pts, /dev/shm) before it becomes read-only.</summary>
    [RootFact]
    public void Run_ReadonlyDevTmpfs_IsPopulatedThenReadonly()
    {
        using var b = new TestBundle("rodev").WithArgs("sh", "-c",
            "echo hi > /dev/null && ls -d /dev/pts/ptmx /dev/shm && { touch /dev/new 2>&1; echo touch=$?; }; cat /proc/self/mountinfo");
        var dev = b.Spec.Mounts!.Single(m => m.Destination == "/dev");
        dev.Options = [.. dev.Options ?? [], "ro"];
        var r = b.Run();
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("Read-only file system", r.Stdout);
        Assert.Contains("touch=1", r.Stdout);
        Assert.Matches(@" ro,nosuid\S* - tmpfs ", MountLine(r.Stdout, "/dev"));
    }

    /// <summary>linux.rootfsPropagation "unbindable"/"runbindable": "/" can only be made unbindable once the
    /// rootfs is bound onto itself and pivoted into; the container's "/" ends unbindable.</summary>
    [RootTheory]
    [InlineData("unbindable")]
    [InlineData("runbindable")]
    public void Run_UnbindableRootfsPropagation_RootIsUnbindable(string propagation)
    {
        using var b = new TestBundle("unb").WithArgs("cat", "/proc/self/mountinfo");
        b.Spec.Linux!.RootfsPropagation = propagation;
        var r = b.Run();
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("unbindable", MountLine(r.Stdout, "/"));
    }
}
