using Cnr.Spec;
using Xunit;

namespace Cnr.Tests.Spec;

public sealed class SpecValidatorTests : IDisposable
{
    private readonly TempBundle _bundle = new();
    private readonly RuntimeSpec _spec = DefaultSpec.Create();

    public void Dispose() => _bundle.Dispose();

    private string Error()
        => Assert.Throws<SpecException>(() => SpecValidator.Validate(_spec, _bundle.Dir)).Message;

    private void Valid() => SpecValidator.Validate(_spec, _bundle.Dir);

    [Fact]
    public void Namespaces_UnknownType_ListsTheTypes()
    {
        _spec.Linux!.Namespaces![2].Type = "foo";
        Assert.Equal("linux.namespaces[2].type: \"foo\" is not a namespace type (pid, network, mount, ipc, uts, user, cgroup, time)", Error());
    }

    [Fact]
    public void Namespaces_Duplicate_IsRefused()
    {
        _spec.Linux!.Namespaces!.Add(new LinuxNamespace { Type = "pid" });
        Assert.Equal("linux.namespaces[6].type: \"pid\" is listed twice (keep one entry per type)", Error());
    }

    [Fact]
    public void Namespaces_PathMustExist()
    {
        _spec.Linux!.Namespaces![1].Path = "/proc/999999999/ns/net";
        Assert.Equal("linux.namespaces[1].path: /proc/999999999/ns/net does not exist (give an existing namespace file, e.g. /proc/PID/ns/net, or leave path out to create a new namespace)", Error());
    }

    [Fact]
    public void Namespaces_PathMustBeAbsolute()
    {
        _spec.Linux!.Namespaces![4].Path = "ns/mnt";
        Assert.Equal("linux.namespaces[4].path: \"ns/mnt\" is not an absolute path (start it with /, e.g. \"/ns/mnt\")", Error());
    }

    [Fact]
    public void Namespaces_ExistingPath_IsAccepted()
    {
        _spec.Linux!.Namespaces![1].Path = "/proc/self/ns/net";
        Valid();
    }

    [Fact]
    public void OciVersion_MustBe1x()
    {
        _spec.OciVersion = "2.0.0";
        Assert.Equal("ociVersion: \"2.0.0\" is not supported (cnr runs runtime-spec 1.x configs; set it to \"1.2.0\")", Error());
        _spec.OciVersion = "";
        Assert.Equal("ociVersion: missing (set it to \"1.2.0\")", Error());
        _spec.OciVersion = "1.0.2-dev";
        Valid();
    }

    [Fact]
    public void Root_Missing()
    {
        _spec.Root = null;
        Assert.StartsWith("root: missing", Error());
        _spec.Root = new Root();
        Assert.StartsWith("root.path: missing", Error());
    }

    [Fact]
    public void Root_RootfsMustExist()
    {
        _spec.Root!.Path = "nothere";
        var rootfs = Path.Combine(_bundle.Dir, "nothere");
        Assert.Equal($"root.path: rootfs directory {rootfs} does not exist (unpack a root filesystem there (`mkdir -p DIR && tar -C DIR -xf ROOTFS.tar`), or make a new bundle with `cnr bundle create DIR --from IMAGE`)", Error());
    }

    [Fact]
    public void Root_RootfsOfTheRepositorysBundles_PointsToMakeBundles()
    {
        // bundles/NAME of a checkout: make-busybox-rootfs.sh sits in bundles/
        var bundles = Directory.CreateDirectory(Path.Combine(_bundle.Dir, "repo", "bundles")).FullName;
        File.WriteAllText(Path.Combine(bundles, "make-busybox-rootfs.sh"), "");
        var mybox = Directory.CreateDirectory(Path.Combine(bundles, "mybox")).FullName;
        var e = Assert.Throws<SpecException>(() => SpecValidator.Validate(_spec, mybox)).Message;
        Assert.Equal($"root.path: rootfs directory {mybox}/rootfs does not exist (build it with `make bundles` in {_bundle.Dir}/repo)", e);
    }

    [Fact]
    public void Root_AbsolutePath_IsUsedAsIs()
    {
        _spec.Root!.Path = Path.Combine(_bundle.Dir, "rootfs");
        Valid();
    }

    [Fact]
    public void Root_FileIsNotADirectory()
    {
        File.WriteAllText(Path.Combine(_bundle.Dir, "file"), "");
        _spec.Root!.Path = "file";
        Assert.Equal($"root.path: {Path.Combine(_bundle.Dir, "file")} is not a directory (point it at the container's root filesystem directory)", Error());
    }

    [Fact]
    public void Process_ArgsMustNotBeEmpty()
    {
        _spec.Process!.Args = [];
        Assert.Equal("process.args: empty (give the command to run, e.g. [\"sh\"])", Error());
        _spec.Process.Args = null;
        Assert.StartsWith("process.args: empty", Error());
        _spec.Process.Args = [""];
        Assert.StartsWith("process.args[0]: empty", Error());
    }

    [Fact]
    public void Process_IsOptional()
    {
        _spec.Process = null;
        Valid();
    }

    [Fact]
    public void Process_CwdMustBeAbsolute()
    {
        _spec.Process!.Cwd = "home";
        Assert.Equal("process.cwd: \"home\" is not an absolute path (start it with /, e.g. \"/home\")", Error());
        _spec.Process.Cwd = "";
        Assert.StartsWith("process.cwd: empty", Error());
    }

    [Fact]
    public void Process_EnvEntriesAreNameValue()
    {
        _spec.Process!.Env!.Add("JUSTNAME");
        Assert.Equal("process.env[2]: \"JUSTNAME\" is not NAME=value (e.g. \"TERM=xterm\")", Error());
        _spec.Process.Env[2] = "=x";
        Assert.StartsWith("process.env[2]:", Error());
        _spec.Process.Env[2] = "EMPTY=";
        Valid();
    }

    [Theory]
    [InlineData("bounding")]
    [InlineData("effective")]
    [InlineData("inheritable")]
    [InlineData("permitted")]
    [InlineData("ambient")]
    public void Capabilities_UnknownNameInAnySet_IsRefused(string set)
    {
        var caps = _spec.Process!.Capabilities!;
        List<string> list = ["CAP_KILL", "CAP_FOO"];
        switch (set)
        {
            case "bounding": caps.Bounding = list; break;
            case "effective": caps.Effective = list; break;
            case "inheritable": caps.Inheritable = list; break;
            case "permitted": caps.Permitted = list; break;
            default: caps.Ambient = list; break;
        }
        Assert.Equal($"process.capabilities.{set}[1]: \"CAP_FOO\" is not a capability (see capabilities(7); names like CAP_NET_ADMIN)", Error());
    }

    [Theory]
    [InlineData("cap_kill")]
    [InlineData("KILL")]
    public void Capabilities_MustBeSpelledAsTheSpecWritesThem(string name)
    {
        _spec.Process!.Capabilities!.Bounding![0] = name;
        Assert.StartsWith("process.capabilities.bounding[0]:", Error());
    }

    [Fact]
    public void Capabilities_NewestKnownIsAccepted()
    {
        _spec.Process!.Capabilities!.Bounding!.Add("CAP_CHECKPOINT_RESTORE");
        Valid();
    }

    [Fact]
    public void Rlimits_UnknownType_ListsTheTypes()
    {
        _spec.Process!.Rlimits![0].Type = "RLIMIT_FILES";
        var message = Error();
        Assert.StartsWith("process.rlimits[0].type: \"RLIMIT_FILES\" is not a resource limit (RLIMIT_CPU, ", message);
        Assert.Contains("RLIMIT_NOFILE", message);
    }

    [Fact]
    public void Rlimits_DuplicateAndSoftAboveHard_AreRefused()
    {
        _spec.Process!.Rlimits!.Add(new PosixRlimit { Type = "RLIMIT_NOFILE", Soft = 1, Hard = 1 });
        Assert.Equal("process.rlimits[1].type: RLIMIT_NOFILE is given twice (keep one entry per type)", Error());
        _spec.Process.Rlimits[1] = new PosixRlimit { Type = "RLIMIT_NPROC", Soft = 2048, Hard = 1024 };
        Assert.Equal("process.rlimits[1]: soft limit 2048 is above hard limit 1024 (make soft at most hard)", Error());
    }

    [Fact]
    public void Scheduler_FollowsSchedSetattrRules()
    {
        _spec.Process!.Scheduler = new Scheduler { Policy = "SCHED_FAST" };
        Assert.StartsWith("process.scheduler.policy: \"SCHED_FAST\" is not a scheduling policy", Error());
        _spec.Process.Scheduler = new Scheduler { Policy = "SCHED_OTHER", Priority = 5 };
        Assert.StartsWith("process.scheduler.priority:", Error());
        _spec.Process.Scheduler = new Scheduler { Policy = "SCHED_OTHER", Nice = 20 };
        Assert.StartsWith("process.scheduler.nice:", Error());
        _spec.Process.Scheduler = new Scheduler { Policy = "SCHED_RR", Priority = 5, Nice = -20 };
        Valid();
    }

    [Fact]
    public void IoPriority_ClassAndRange()
    {
        _spec.Process!.IoPriority = new IoPriority { Class = "IOPRIO_CLASS_FAST" };
        Assert.StartsWith("process.ioPriority.class:", Error());
        _spec.Process.IoPriority = new IoPriority { Class = "IOPRIO_CLASS_BE", Priority = 8 };
        Assert.StartsWith("process.ioPriority.priority:", Error());
    }

    [Fact]
    public void Hostname_NeedsUtsNamespace()
    {
        _spec.Linux!.Namespaces!.RemoveAll(n => n.Type == "uts");
        Assert.Equal("hostname: needs a UTS namespace (add {\"type\": \"uts\"} to linux.namespaces, or remove hostname)", Error());
        _spec.Hostname = null;
        _spec.Domainname = "example.org";
        Assert.StartsWith("domainname: needs a UTS namespace", Error());
    }

    [Fact]
    public void Mounts_DestinationMustBeAbsolute()
    {
        _spec.Mounts![2].Destination = "dev/pts";
        Assert.Equal("mounts[2].destination: \"dev/pts\" is not an absolute path (start it with /, e.g. \"/dev/pts\")", Error());
        _spec.Mounts[2].Destination = "";
        Assert.StartsWith("mounts[2].destination: missing", Error());
    }

    [Theory]
    [InlineData("")]
    [InlineData("ro\t")]
    [InlineData(" ro")]
    public void Mounts_OptionsMustBeSingleOptions(string option)
    {
        _spec.Mounts![1].Options![0] = option;
        Assert.Equal($"mounts[1].options[0]: \"{option.Replace("\t", "\\t")}\" is not a mount option (one option per string, without spaces, e.g. [\"nosuid\", \"mode=755\"])", Error());
    }

    [Fact]
    public void Mounts_BindNeedsSource()
    {
        _spec.Mounts!.Add(new Mount { Destination = "/data", Options = ["rbind", "ro"] });
        Assert.StartsWith("mounts[7].source: missing", Error());
        _spec.Mounts[7].Source = "/srv";
        Valid();
    }

    [Fact]
    public void Hooks_PathMustBeAbsolute()
    {
        _spec.Hooks = new Cnr.Spec.Hooks { Poststop = [new Hook { Path = "/bin/true" }, new Hook { Path = "cleanup.sh" }] };
        Assert.Equal("hooks.poststop[1].path: \"cleanup.sh\" is not an absolute path (start it with /, e.g. \"/cleanup.sh\")", Error());
        _spec.Hooks.Poststop[1] = new Hook { Path = "/bin/true", Timeout = 0 };
        Assert.StartsWith("hooks.poststop[1].timeout:", Error());
    }

    [Fact]
    public void UserMappings_NeedUserNamespace()
    {
        _spec.Linux!.UidMappings = [new LinuxIdMapping { HostID = 1000, Size = 1 }];
        Assert.Equal("linux.uidMappings: given, but there is no user namespace (add {\"type\": \"user\"} to linux.namespaces, or remove the mappings)", Error());
    }

    [Fact]
    public void NewUserNamespace_NeedsBothMappings()
    {
        _spec.Linux!.Namespaces!.Add(new LinuxNamespace { Type = "user" });
        Assert.StartsWith("linux.uidMappings: missing: a new user namespace needs uid and gid mappings", Error());
        _spec.Linux.UidMappings = [new LinuxIdMapping { HostID = 1000, Size = 1 }];
        Assert.StartsWith("linux.gidMappings: missing", Error());
        _spec.Linux.GidMappings = [new LinuxIdMapping { HostID = 1000, Size = 0 }];
        Assert.Equal("linux.gidMappings[0].size: is 0 (map at least one id)", Error());
        _spec.Linux.GidMappings[0].Size = 1;
        Valid();
    }

    [Fact]
    public void JoinedUserNamespace_NeedsNoMappings()
    {
        _spec.Linux!.Namespaces!.Add(new LinuxNamespace { Type = "user", Path = "/proc/self/ns/user" });
        Valid();
    }

    [Fact]
    public void TimeOffsets_NeedTimeNamespace()
    {
        _spec.Linux!.TimeOffsets = new() { ["monotonic"] = new LinuxTimeOffset { Secs = 10 } };
        Assert.Equal("linux.timeOffsets: given, but there is no time namespace (add {\"type\": \"time\"} to linux.namespaces, or remove timeOffsets)", Error());
        _spec.Linux.Namespaces!.Add(new LinuxNamespace { Type = "time" });
        Valid();
        _spec.Linux.TimeOffsets["realtime"] = new LinuxTimeOffset();
        Assert.StartsWith("linux.timeOffsets[\"realtime\"]: \"realtime\" is not a clock", Error());
    }

    [Theory]
    [InlineData("kernel.shmmax")]
    [InlineData("kernel.msgmnb")]
    [InlineData("kernel.sem")]
    [InlineData("fs.mqueue.msg_max")]
    [InlineData("net.ipv4.ip_forward")]
    [InlineData("net/ipv4/conf/eth0.100/rp_filter")]
    [InlineData("kernel.domainname")]
    public void Sysctl_NamespacedKeys_AreAccepted(string key)
    {
        _spec.Linux!.Sysctl = new() { [key] = "1" };
        Valid();
    }

    [Fact]
    public void Sysctl_IpcKeys_NeedIpcNamespace()
    {
        _spec.Linux!.Namespaces!.RemoveAll(n => n.Type == "ipc");
        _spec.Linux.Sysctl = new() { ["kernel.shmmax"] = "1" };
        Assert.Equal("linux.sysctl[\"kernel.shmmax\"]: is not allowed in the host's IPC namespace (add {\"type\": \"ipc\"} to linux.namespaces)", Error());
    }

    [Fact]
    public void Sysctl_NetKeys_NeedNetworkNamespace()
    {
        _spec.Linux!.Namespaces!.RemoveAll(n => n.Type == "network");
        _spec.Linux.Sysctl = new() { ["net.ipv4.ip_forward"] = "1" };
        Assert.Equal("linux.sysctl[\"net.ipv4.ip_forward\"]: is not allowed in the host's network namespace (add {\"type\": \"network\"} to linux.namespaces)", Error());
    }

    [Fact]
    public void Sysctl_HostWideKeys_AreRefused()
    {
        _spec.Linux!.Sysctl = new() { ["vm.swappiness"] = "10" };
        Assert.StartsWith("linux.sysctl[\"vm.swappiness\"]: is not in a namespace of the container, so setting it would change the host (only kernel.msg*", Error());
        _spec.Linux.Sysctl = new() { ["kernel.hostname"] = "x" };
        Assert.Equal("linux.sysctl[\"kernel.hostname\"]: conflicts with the hostname field (set \"hostname\" instead)", Error());
    }

    [Fact]
    public void Devices_TypeAndPath()
    {
        _spec.Linux!.Devices = [new LinuxDevice { Path = "/dev/fuse", Type = "x", Major = 10, Minor = 229 }];
        Assert.Equal("linux.devices[0].type: \"x\" is not a device type (c (character), b (block), u (unbuffered character), p (FIFO))", Error());
        _spec.Linux.Devices[0].Type = "c";
        Valid();
        _spec.Linux.Devices[0].Path = "dev/fuse";
        Assert.StartsWith("linux.devices[0].path: \"dev/fuse\" is not an absolute path", Error());
    }

    [Theory]
    [InlineData("/dev/../../etc/x")]
    [InlineData("/dev/../etc/x")]
    [InlineData("/etc/x")]
    [InlineData("/dev")]
    [InlineData("/dev/net/../..")]
    public void Devices_PathOutsideDev_IsRefused(string path)
    {
        _spec.Linux!.Devices = [new LinuxDevice { Path = path, Type = "c", Major = 1, Minor = 3 }];
        Assert.Equal($"linux.devices[0].path: \"{path}\" is not under /dev (give a path in /dev, e.g. \"/dev/fuse\")", Error());
    }

    [Theory]
    [InlineData("/dev/fuse")]
    [InlineData("/dev/net/tun")]
    [InlineData("/dev/./net/../fuse")]
    public void Devices_PathUnderDev_IsValid(string path)
    {
        _spec.Linux!.Devices = [new LinuxDevice { Path = path, Type = "c", Major = 10, Minor = 229 }];
        Valid();
    }

    [Fact]
    public void MaskedPaths_NeedMountNamespaceAndAbsolutePaths()
    {
        _spec.Linux!.MaskedPaths!.Add("proc/kmsg");
        Assert.Equal("linux.maskedPaths[10]: \"proc/kmsg\" is not an absolute path (start it with /, e.g. \"/proc/kmsg\")", Error());
        _spec.Linux.MaskedPaths.RemoveAt(10);
        _spec.Linux.Namespaces!.RemoveAll(n => n.Type == "mount");
        Assert.Equal("linux.maskedPaths: needs a mount namespace (add {\"type\": \"mount\"} to linux.namespaces)", Error());
    }

    [Fact]
    public void RootfsPropagation_AndPersonality()
    {
        _spec.Linux!.RootfsPropagation = "sharedd";
        Assert.StartsWith("linux.rootfsPropagation: \"sharedd\" is not a propagation type", Error());
        _spec.Linux.RootfsPropagation = "rslave";
        _spec.Linux.Personality = new LinuxPersonality { Domain = "LINUX64" };
        Assert.StartsWith("linux.personality.domain:", Error());
    }

    [Fact]
    public void SpecException_CarriesTheJsonPath()
    {
        _spec.Process!.Cwd = "x";
        var e = Assert.Throws<SpecException>(Valid);
        Assert.Equal("process.cwd", e.JsonPath);
    }

    [Theory]
    [InlineData(-1001)]
    [InlineData(1001)]
    [InlineData(int.MaxValue)]
    public void OomScoreAdj_OutOfRange_NamesTheField(int value)
    {
        _spec.Process!.OomScoreAdj = value;
        Assert.Equal($"process.oomScoreAdj: {value} is out of range (-1000 (never OOM-killed) to 1000 (killed first))", Error());
    }

    [Fact]
    public void OomScoreAdj_Limits_AreAccepted()
    {
        _spec.Process!.OomScoreAdj = -1000;
        Valid();
        _spec.Process.OomScoreAdj = 1000;
        Valid();
    }

    [Fact]
    public void Hooks_MissingProgram_NamesTheHookPath()
    {
        _spec.Hooks = new Cnr.Spec.Hooks { Prestart = [new Hook { Path = "/nonexistent/hook" }] };
        Assert.Equal("hooks.prestart[0].path: \"/nonexistent/hook\": ENOENT (No such file or directory) (install the hook there, or fix the path)", Error());
        _spec.Hooks = new Cnr.Spec.Hooks { CreateRuntime = [new Hook { Path = "/bin/true" }, new Hook { Path = "/nonexistent/hook" }] };
        Assert.StartsWith("hooks.createRuntime[1].path: \"/nonexistent/hook\": ENOENT", Error());
        _spec.Hooks = new Cnr.Spec.Hooks { CreateContainer = [new Hook { Path = "/nonexistent/hook" }] };
        Assert.StartsWith("hooks.createContainer[0].path: \"/nonexistent/hook\": ENOENT", Error());
    }

    [Fact]
    public void Hooks_ProgramThatIsNotAnExecutableFile_IsRefused()
    {
        _spec.Hooks = new Cnr.Spec.Hooks { Prestart = [new Hook { Path = _bundle.Dir }] };
        Assert.Equal($"hooks.prestart[0].path: \"{_bundle.Dir}\" is not a regular file (give the path of the hook's program)", Error());
        var script = Path.Combine(_bundle.Dir, "hook.sh");
        File.WriteAllText(script, "#!/bin/sh\n");
        File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        _spec.Hooks.Prestart[0].Path = script;
        Assert.Equal($"hooks.prestart[0].path: \"{script}\" is not executable (chmod +x {script})", Error());
        File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        Valid();
    }

    // startContainer resolves inside the container (the parent does not look there); poststart and poststop
    // failures are warnings, so a program installed later is allowed.
    [Fact]
    public void Hooks_ThatDoNotAbortCreate_AreNotLookedUp()
    {
        _spec.Hooks = new Cnr.Spec.Hooks
        {
            StartContainer = [new Hook { Path = "/in/the/container" }],
            Poststart = [new Hook { Path = "/nonexistent/hook" }],
            Poststop = [new Hook { Path = "/nonexistent/hook" }],
        };
        Valid();
    }

    [Fact]
    public void Mounts_BindTypeWithoutSource_IsRefused()
    {
        _spec.Mounts!.Add(new Mount { Destination = "/data", Type = "bind" });
        Assert.Equal($"mounts[{_spec.Mounts.Count - 1}].source: missing (a bind mount needs the path to mount, e.g. \"/srv/data\")", Error());
    }

    [Fact]
    public void Mounts_IdMapped_IsRefusedBeforeAnythingExists()
    {
        _spec.Mounts!.Add(new Mount { Destination = "/data", Type = "bind", Source = "/srv", Options = ["rbind", "idmap"] });
        Assert.Equal($"mounts[{_spec.Mounts.Count - 1}]: id-mapped mounts (\"idmap\", uidMappings, gidMappings) are not supported by cnr (remove them and chown the source instead)", Error());
        _spec.Mounts[^1] = new Mount { Destination = "/data", Type = "bind", Source = "/srv", Options = ["rbind"], UidMappings = [new LinuxIdMapping { Size = 1 }] };
        Assert.StartsWith($"mounts[{_spec.Mounts.Count - 1}]: id-mapped mounts", Error());
    }
}
