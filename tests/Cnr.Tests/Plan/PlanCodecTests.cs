using System.Collections;
using System.Reflection;
using System.Text.Json;
using Cnr.Capabilities;
using Cnr.Lsm;
using Cnr.Plan;
using Cnr.Rootfs;
using Cnr.Seccomp;
using Cnr.Spec;
using Cnr.Tests.Spec;
using Xunit;

namespace Cnr.Tests.Plan;

/// <summary>The plan the init executes is the plan the parent compiled: every field survives the sync socket's
/// binary form, and a damaged message is a clear error, never an out-of-range crash.</summary>
public class PlanCodecTests
{
    /// <summary>A plan with every field set to something other than its default.</summary>
    internal static LaunchPlan Full() => new()
    {
        Exec = true,
        ContainerId = "box",
        Bundle = "/srv/bündle",
        FifoFd = 7,
        ReportSteps = true,
        PreserveFds = 2,
        Rootfs = new RootfsPlan
        {
            Path = "/srv/bündle/rootfs",
            SharedMountNamespace = true,
            Readonly = true,
            NoPivot = true,
            Propagation = Linux.Libc.MS_SLAVE | Linux.Libc.MS_REC,
            Mounts =
            [
                new MountStep(3, MountKind.Cgroup, "cgroup", "/sys/fs/cgroup", "cgroup",
                    new ParsedMountOptions(Linux.Libc.MS_NOSUID, Linux.Libc.MS_RDONLY, [Linux.Libc.MS_PRIVATE], "mode=755", 1, 2, TmpCopyUp: true)),
                new MountStep(1, MountKind.Bind, "data", "/data", "bind",
                    new ParsedMountOptions(Linux.Libc.MS_BIND | Linux.Libc.MS_REC, Linux.Libc.MS_NOEXEC, [Linux.Libc.MS_SLAVE], "x=1", 4, 8, TmpCopyUp: true)),
            ],
            MakeDevices = true,
            Devices = [new DeviceNode("/dev/fuse", Linux.Libc.S_IFCHR | 0x1b6, 10, 229, 1000, 1000)],
            ProcMounted = true,
            Console = true,
            ReadonlyDev = true,
            MaskedPaths = ["/proc/kcore"],
            ReadonlyPaths = ["/proc/sys"],
        },
        Hostname = "host",
        Domainname = "example.org",
        LoopbackUp = true,
        Sysctls = [new Sysctl("net.ipv4.ip_forward", "sys/net/ipv4/ip_forward", "1")],
        Process = new ProcessPlan
        {
            Args = ["sh", "-c", "echo ü"],
            Env = ["PATH=/bin", "EMPTY="],
            Cwd = "/tmp",
            Terminal = true,
            ConsoleHeight = 24,
            ConsoleWidth = 80,
            Uid = 1000,
            Gid = 1001,
            AdditionalGids = [5, 6],
            Umask = 0x12,
            Capabilities = new CapabilitySets(1, 2, 4, 8, 16),
            Rlimits = [new Rlimit(7, 1024, ulong.MaxValue)],
            NoNewPrivileges = true,
            OomScoreAdj = -1000,
            Scheduler = new SchedulerPlan(1, 1, -5, 10, 1, 2, 3),
            IoPriority = 2 << 13 | 4,
            Personality = 8,
            CpuAffinityInitial = [1],
            CpuAffinityFinal = [6, 1UL << 63],
        },
        Seccomp = new CompiledFilter { Bpf = [1, 2, 3, 4, 5, 6, 7, 8], Flags = 1, Rules = 3, DefaultAction = "SCMP_ACT_ERRNO(1)" },
        Lsm = new ExecLabels { AppArmorProfile = "cnr-default", SelinuxLabel = "system_u:system_r:container_t:s0" },
        RuntimeHooks = true,
        CreateContainerHooks = [new HookPlan("/bin/hook", ["hook", "create"], ["A=1"], 5)],
        StartContainerHooks = [new HookPlan("/bin/start", ["start"], ["B=2"], 1)],
        CreateContainerState = new HookState([1, 2], [3]),
        StartContainerState = new HookState([4], [5, 6]),
    };

    [Fact]
    public void FullPlan_SetsEveryField() => AssertAllSet(Full(), "plan");

    [Fact]
    public void FullPlan_RoundTrips() => AssertSame(Full(), PlanCodec.Decode(PlanCodec.Encode(Full())), "plan");

    [Fact]
    public void DefaultSpecPlan_RoundTrips()
    {
        using var bundle = new TempBundle();
        var plan = Compile(bundle, DefaultSpec.Create());
        AssertSame(plan, PlanCodec.Decode(PlanCodec.Encode(plan)), "plan");
    }

    public static TheoryData<string> LabBundles()
    {
        var data = new TheoryData<string>();
        foreach (var dir in Directory.GetDirectories(Path.Combine(RepoRoot(), "bundles")).Order())
            if (File.Exists(Path.Combine(dir, "config.json"))) data.Add(Path.GetFileName(dir));
        return data;
    }

    [Theory]
    [MemberData(nameof(LabBundles))]
    public void LabBundlePlan_RoundTrips(string name)
    {
        var spec = JsonSerializer.Deserialize(File.ReadAllBytes(Path.Combine(RepoRoot(), "bundles", name, "config.json")), SpecJson.Default.RuntimeSpec)!;
        spec.Root!.Path = "rootfs"; // the lab's rootfs is built by `make bundles`; an empty one compiles the same
        // bundles/net's hooks run the installed cnr (`make install`), which a unit test cannot count on
        if (spec.Hooks is { } h)
            foreach (var hook in new[] { h.Prestart, h.CreateRuntime, h.CreateContainer, h.StartContainer, h.Poststart, h.Poststop }.SelectMany(l => l ?? []))
                if (!File.Exists(hook.Path)) hook.Path = "/bin/sh";
        using var bundle = new TempBundle();
        var plan = Compile(bundle, spec);
        AssertSame(plan, PlanCodec.Decode(PlanCodec.Encode(plan)), "plan");
    }

    [Fact]
    public void TruncatedPlan_IsAClearError()
    {
        var bytes = PlanCodec.Encode(Full());
        for (int n = 0; n < bytes.Length; n++)
        {
            var e = Assert.Throws<InvalidDataException>(() => PlanCodec.Decode(bytes.AsSpan(0, n)));
            Assert.StartsWith("launch plan: ", e.Message);
        }
    }

    [Fact]
    public void TrailingBytes_AreRefused()
    {
        byte[] bytes = [.. PlanCodec.Encode(Full()), 0];
        Assert.Contains("1 bytes left over", Assert.Throws<InvalidDataException>(() => PlanCodec.Decode(bytes)).Message);
    }

    [Fact]
    public void ForeignBytes_AreRefused()
        => Assert.Contains("bad magic", Assert.Throws<InvalidDataException>(() => PlanCodec.Decode("{\"exec\":true}"u8)).Message);

    [Fact]
    public void HugeArrayCount_IsRefusedWithoutAllocating()
    {
        var w = new PlanWriter();
        w.Int(int.MaxValue);
        var e = Assert.Throws<InvalidDataException>(() => { var r = new PlanReader(w.ToArray()); r.Array(static (ref PlanReader r) => r.ULong()); });
        Assert.Contains("an array of 2147483647 items", e.Message);
    }

    private static LaunchPlan Compile(TempBundle bundle, RuntimeSpec spec)
    {
        bundle.WithConfig(JsonSerializer.Serialize(spec, SpecJson.Default.RuntimeSpec));
        return SpecPlan.Compile(bundle.Dir, "box").Launch;
    }

    internal static string RepoRoot()
    {
        var dir = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(dir, "Makefile")) || !Directory.Exists(Path.Combine(dir, "bundles")))
            dir = Path.GetDirectoryName(dir) ?? throw new InvalidOperationException("repository root not found above " + AppContext.BaseDirectory);
        return dir;
    }

    private static bool IsLeaf(Type t) => t.IsPrimitive || t.IsEnum || t == typeof(string);

    private static IEnumerable<PropertyInfo> Fields(Type t)
        => t.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite && p.GetIndexParameters().Length == 0);

    /// <summary>Field by field, arrays item by item: a field the codec forgot on both sides still differs here.</summary>
    private static void AssertSame(object? want, object? got, string path)
    {
        if (want is null || got is null) { Assert.True(want is null && got is null, $"{path}: {want ?? "null"} != {got ?? "null"}"); return; }
        var t = want.GetType();
        Assert.Equal(t, got.GetType());
        if (IsLeaf(t)) { Assert.True(Equals(want, got), $"{path}: {want} != {got}"); return; }
        if (want is IEnumerable items)
        {
            var a = items.Cast<object?>().ToList();
            var b = ((IEnumerable)got).Cast<object?>().ToList();
            Assert.True(a.Count == b.Count, $"{path}: {a.Count} items != {b.Count}");
            for (int i = 0; i < a.Count; i++) AssertSame(a[i], b[i], $"{path}[{i}]");
            return;
        }
        foreach (var p in Fields(t)) AssertSame(p.GetValue(want), p.GetValue(got), $"{path}.{p.Name}");
    }

    private static void AssertAllSet(object? value, string path)
    {
        Assert.True(value is not null, $"{path} is null");
        var t = value.GetType();
        if (value is string s) { Assert.True(s.Length > 0, $"{path} is empty"); return; }
        if (IsLeaf(t))
        {
            Assert.False(value.Equals(Activator.CreateInstance(t)), $"{path} is {value}, its default");
            return;
        }
        if (value is IEnumerable items)
        {
            var list = items.Cast<object?>().ToList();
            Assert.True(list.Count > 0, $"{path} is empty");
            for (int i = 0; i < list.Count; i++) AssertAllSet(list[i], $"{path}[{i}]");
            return;
        }
        foreach (var p in Fields(t)) AssertAllSet(p.GetValue(value), $"{path}.{p.Name}");
    }
}
