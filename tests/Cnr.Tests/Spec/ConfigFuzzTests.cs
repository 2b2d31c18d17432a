using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cnr.Cgroups;
using Cnr.Plan;
using Cnr.Rootfs;
using Cnr.Seccomp;
using Cnr.Spec;
using FsCheck;
using FsCheck.Fluent;
using Microsoft.FSharp.Core;
using Xunit;

namespace Cnr.Tests.Spec;

/// <summary>The config fuzzer. Property: any byte string as config.json gives a plan or exactly one clear
/// <see cref="SpecException"/> line (naming the file, no newline, bounded length, no .NET exception text),
/// never another exception — through everything the parent derives from the config before it creates
/// anything (<see cref="SpecPlan"/>: loader, validator, seccomp compiled with libseccomp, cgroup checks) and
/// the pure steps that follow on an accepted config (cgroup files, device program, mount options, the init's
/// copy of the config).
///
/// Inputs are structured mutations of valid configs (FsCheck generators): fields dropped, replaced by values
/// of other types, by boundary numbers, by words the runtime knows in the wrong places, huge and odd strings,
/// entries duplicated or nulled; then, for some, byte damage: truncation, invalid UTF-8, lone surrogate
/// escapes, deep nesting, random bytes. Structure matters more here than coverage feedback: a byte-level
/// coverage-guided fuzzer spends nearly all its runs in the JSON parser's syntax errors, while the bugs live
/// past it, in what a well-formed but wrong config reaches.
///
/// `make test` runs 2000 inputs from a fixed seed (CNR_FUZZ_ITERATIONS, CNR_FUZZ_SEED) and replays
/// tests/fuzz-corpus; `make fuzz` runs many more from a random seed. A failing input is written to
/// out/fuzz-crashes/ to become a corpus file.</summary>
public sealed class ConfigFuzzTests : IDisposable
{
    private readonly TempBundle _bundle = new();

    public void Dispose() => _bundle.Dispose();

    private static int Iterations => int.TryParse(Environment.GetEnvironmentVariable("CNR_FUZZ_ITERATIONS"), out int n) && n > 0 ? n : 2000;

    /// <summary>`make test` runs the same inputs every time (a failure there is a regression, not luck);
    /// CNR_FUZZ_SEED=random (as `make fuzz` sets) explores new ones, and CNR_FUZZ_SEED=A,B replays the run
    /// FsCheck reported as "(A,B)".</summary>
    private static Config Settings()
    {
        var config = Config.QuickThrowOnFailure.WithMaxTest(Iterations).WithQuietOnSuccess(true);
        var seed = Environment.GetEnvironmentVariable("CNR_FUZZ_SEED") is { Length: > 0 } s ? s : "10227861866681398908,10647475135742340109";
        if (seed == "random") return config;
        var parts = seed.Split(',');
        return config.WithReplay(FSharpOption<Replay>.Some(new Replay(new Rnd(ulong.Parse(parts[0]), ulong.Parse(parts[1])), FSharpOption<int>.None)));
    }

    [Fact]
    public void Fuzz_MutatedConfigs_GiveAPlanOrOneClearLine()
    {
        var property = Prop.ForAll(Arb.From(ConfigFuzz.Inputs()), (FuzzInput input) => Check(input));
        FsCheck.Check.One(Settings(), property);
    }

    [Fact]
    public void Corpus_EveryFile_GivesItsExpectedOutcome()
    {
        var expected = FuzzCorpus.Expectations();
        var files = FuzzCorpus.Files();
        Assert.Equal(expected.Keys.Order(), files.Select(Path.GetFileName).Order()!);
        var wrong = new List<string>();
        foreach (var file in files)
        {
            var name = Path.GetFileName(file);
            var outcome = Outcome(File.ReadAllBytes(file), _bundle.Dir);
            var want = expected[name];
            bool ok = want == FuzzCorpus.Accepted ? outcome is null : outcome is not null && outcome.Contains(want, StringComparison.Ordinal);
            if (!ok) wrong.Add($"{name}: expected {(want == FuzzCorpus.Accepted ? "success" : $"an error containing \"{want}\"")}, got {(outcome is null ? "success" : $"\"{outcome}\"")}");
        }
        Assert.True(wrong.Count == 0, string.Join("\n", wrong));
    }

    private bool Check(FuzzInput input)
    {
        try
        {
            Outcome(input.Bytes, _bundle.Dir);
            return true;
        }
        catch (Exception)
        {
            FuzzCorpus.SaveCrash(input.Bytes);
            throw;
        }
    }

    /// <summary>null when the config is accepted, else the error line (checked to be a clear one). Any other
    /// exception escapes: that is the bug the fuzzer looks for.</summary>
    internal static string? Outcome(byte[] bytes, string bundleDir)
    {
        SpecPlan plan;
        try
        {
            plan = SpecPlan.Compile(bytes, bundleDir, "fuzz");
        }
        catch (SpecException e)
        {
            AssertClear(e.Message, Path.Combine(bundleDir, SpecLoader.ConfigFile));
            return e.Message;
        }
        Later(plan);
        return null;
    }

    private static void AssertClear(string message, string file)
    {
        if (message.AsSpan().IndexOfAny('\n', '\r') >= 0)
            throw new InvalidOperationException($"not one line: {message}");
        if (!message.StartsWith(file + ": ", StringComparison.Ordinal))
            throw new InvalidOperationException($"does not name {file}: {message}");
        if (message.Length > file.Length + 1000)
            throw new InvalidOperationException($"{message.Length} characters long: {message[..300]}…");
        foreach (var runtimeText in (ReadOnlySpan<string>)["Exception", "   at ", "Object reference", "System.", "Parameter '"])
            if (message.Contains(runtimeText, StringComparison.Ordinal))
                throw new InvalidOperationException($"a .NET exception's text: {message}");
    }

    /// <summary>What follows on an accepted config, in the parent (cgroup files, device program) and in the
    /// init (its binary copy of the plan): none of it may throw.</summary>
    private static void Later(SpecPlan plan)
    {
        var spec = plan.Spec;
        if (spec.Linux?.Resources is { } r)
        {
            ResourceMapping.Map(r, ioBfq: false);
            ResourceMapping.Map(r, ioBfq: true);
        }
        DeviceFilter.Compile(DeviceRules.For(spec.Linux));
        PlanCodec.Decode(PlanCodec.Encode(plan.Launch));
        var state = JsonSerializer.Serialize(spec, SpecJson.Default.RuntimeSpec);
        JsonSerializer.Deserialize(state, SpecJson.Default.RuntimeSpec);
    }
}

/// <summary>One fuzz input: the bytes, and how they were made (FsCheck prints this for a failing case).</summary>
public sealed record FuzzInput(byte[] Bytes, string How)
{
    public override string ToString()
    {
        var text = Encoding.UTF8.GetString(Bytes);
        return $"{How}: {(text.Length > 2000 ? text[..2000] + "…" : text)}";
    }
}

/// <summary>The generators: valid seed configs, then structured mutations, then (sometimes) byte damage.</summary>
internal static class ConfigFuzz
{
    public static Gen<FuzzInput> Inputs() =>
        Gen.Frequency(
            (20, from seed in Gen.Elements(Seeds)
                 from count in Gen.Choose(1, 4)
                 from picks in Gen.ArrayOf(Gen.Choose(0, int.MaxValue), count * 4)
                 from damage in Gen.Frequency((3, Gen.Constant(-1)), (1, Gen.Choose(0, ByteDamages.Length - 1)))
                 from at in Gen.Choose(0, int.MaxValue)
                 select Mutate(seed, picks, damage, at)),
            (1, from bytes in Gen.ArrayOf(Gen.Choose(0, 255).Select(b => (byte)b))
                select new FuzzInput(bytes, "random bytes")));

    /// <summary>Valid configs to start from: the default, a rootless one, one that sets nearly every field cnr
    /// reads (so that mutations reach every check), and one with the default seccomp profile.</summary>
    private static readonly string[] Seeds =
    [
        JsonSerializer.Serialize(DefaultSpec.Create(), SpecJson.Default.RuntimeSpec),
        JsonSerializer.Serialize(DefaultSpec.Create(rootless: true), SpecJson.Default.RuntimeSpec),
        JsonSerializer.Serialize(Rich(), SpecJson.Default.RuntimeSpec),
        JsonSerializer.Serialize(WithDefaultSeccomp(), SpecJson.Default.RuntimeSpec),
    ];

    /// <summary>`cnr spec --seccomp default`: the largest profile a user is likely to start from.</summary>
    private static RuntimeSpec WithDefaultSeccomp()
    {
        var s = DefaultSpec.Create();
        s.Linux!.Seccomp = DefaultProfile.Create();
        return s;
    }

    private static RuntimeSpec Rich()
    {
        var s = DefaultSpec.Create();
        var p = s.Process!;
        p.Env = [.. p.Env ?? [], "A=1"];
        p.Rlimits = [new PosixRlimit { Type = "RLIMIT_NOFILE", Hard = 1024, Soft = 1024 }, new PosixRlimit { Type = "RLIMIT_NPROC", Hard = 100, Soft = 50 }];
        p.OomScoreAdj = 100;
        p.Scheduler = new Scheduler { Policy = "SCHED_OTHER", Nice = 5 };
        p.IoPriority = new IoPriority { Class = "IOPRIO_CLASS_BE", Priority = 4 };
        p.User = new User { Uid = 1000, Gid = 1000, AdditionalGids = [10, 20], Umask = 18 };
        s.Hostname = "box";
        s.Annotations = new() { ["org.example/key"] = "value" };
        s.Mounts!.Add(new Mount { Destination = "/mnt", Type = "tmpfs", Source = "tmpfs", Options = ["nosuid", "size=1m", "mode=755", "tmpcopyup"] });
        s.Mounts.Add(new Mount { Destination = "/data", Type = "bind", Source = "/tmp", Options = ["rbind", "ro", "rprivate", "rnosuid"] });
        s.Hooks = new Cnr.Spec.Hooks
        {
            Prestart = [new Hook { Path = "/bin/true", Args = ["true"], Timeout = 5 }],
            StartContainer = [new Hook { Path = "/bin/true" }],
            Poststop = [new Hook { Path = "/bin/true", Env = ["X=1"] }],
        };
        var l = s.Linux!;
        l.Namespaces!.Add(new LinuxNamespace { Type = "user" });
        l.Namespaces.Add(new LinuxNamespace { Type = "cgroup" });
        l.Namespaces.Add(new LinuxNamespace { Type = "time" });
        l.UidMappings = [new LinuxIdMapping { ContainerID = 0, HostID = 100000, Size = 65536 }];
        l.GidMappings = [new LinuxIdMapping { ContainerID = 0, HostID = 100000, Size = 65536 }];
        l.TimeOffsets = new() { ["monotonic"] = new LinuxTimeOffset { Secs = 10 } };
        l.Sysctl = new() { ["net.ipv4.ip_forward"] = "1", ["kernel.shmmax"] = "1000" };
        l.Devices = [new LinuxDevice { Path = "/dev/fuse", Type = "c", Major = 10, Minor = 229, FileMode = 438 }];
        l.CgroupsPath = "/cnr-fuzz/box";
        l.RootfsPropagation = "rslave";
        l.Personality = new LinuxPersonality { Domain = "LINUX" };
        l.Resources = new LinuxResources
        {
            Devices = [new LinuxDeviceCgroup { Allow = false, Access = "rwm" }, new LinuxDeviceCgroup { Allow = true, Type = "c", Major = 10, Minor = 229, Access = "rw" }],
            Memory = new LinuxMemory { Limit = 1 << 30, Swap = 2L << 30, Reservation = 1 << 20 },
            Cpu = new LinuxCpu { Shares = 512, Quota = 50000, Period = 100000, Cpus = "0-1", Mems = "0", Idle = 0 },
            Pids = new LinuxPids { Limit = 100 },
            BlockIO = new LinuxBlockIO
            {
                Weight = 500,
                WeightDevice = [new LinuxWeightDevice { Major = 8, Minor = 0, Weight = 300 }],
                ThrottleReadBpsDevice = [new LinuxThrottleDevice { Major = 8, Minor = 0, Rate = 1 << 20 }],
            },
            HugepageLimits = [new LinuxHugepageLimit { PageSize = "2MB", Limit = 1 << 21 }],
            Rdma = new() { ["mlx5_0"] = new LinuxRdma { HcaHandles = 3 } },
            Unified = new() { ["memory.high"] = "max" },
        };
        l.Seccomp = new LinuxSeccomp
        {
            DefaultAction = "SCMP_ACT_ERRNO",
            DefaultErrnoRet = 38,
            Architectures = ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
            Flags = ["SECCOMP_FILTER_FLAG_LOG"],
            Syscalls =
            [
                new LinuxSyscall { Names = ["read", "write", "exit_group", "nosuchcall"], Action = "SCMP_ACT_ALLOW" },
                new LinuxSyscall
                {
                    Names = ["personality"], Action = "SCMP_ACT_ALLOW",
                    Args = [new LinuxSeccompArg { Index = 0, Value = 0, Op = "SCMP_CMP_EQ" }, new LinuxSeccompArg { Index = 0, Value = 8, Op = "SCMP_CMP_EQ" }],
                },
                new LinuxSyscall { Names = ["clone"], Action = "SCMP_ACT_ALLOW", Args = [new LinuxSeccompArg { Index = 0, Value = 0x7E020000, ValueTwo = 0, Op = "SCMP_CMP_MASKED_EQ" }] },
                new LinuxSyscall { Names = ["mkdir"], Action = "SCMP_ACT_ERRNO", ErrnoRet = 1 },
            ],
        };
        return s;
    }

    /// <summary>Values of every JSON type, boundaries of every number type the spec uses, and strings that are
    /// odd as paths or names.</summary>
    private static readonly string[] Values =
    [
        "null", "true", "false", "0", "-1", "1", "2", "255", "256", "65535", "65536", "-1000", "1000", "1001", "-1001",
        "2147483647", "2147483648", "-2147483648", "-2147483649", "4294967295", "4294967296", "9223372036854775807",
        "9223372036854775808", "-9223372036854775808", "18446744073709551615", "18446744073709551616", "1e400", "-1e400",
        "1.5", "-0", "0.0", "1e3", "\"\"", "\" \"", "\"x\"", "\"/\"", "\"..\"", "\"../..\"", "\"/../../etc/x\"", "\"./x\"",
        "\"/proc\"", "\"/dev/null\"", "\"a=b\"", "\"=x\"", "\"x\\u0000y\"", "\"a\\nb\"", "\"\\u001b[31m\"", "\"é\"", "\"\\ud83d\\ude00\"",
        "\"\\ud800\"", "\"\\udfff x\"", "[]", "{}", "[null]", "[[]]", "[{}]", "{\"a\": null}", "[\"\"]", "{\"\": \"\"}",
    ];

    /// <summary>Words cnr gives meaning to, to land in the wrong field (or the right one).</summary>
    private static readonly string[] Words =
    [
        "CAP_SYS_ADMIN", "CAP_FOO", "cap_chown", "RLIMIT_NOFILE", "RLIMIT_FOO", "bind", "rbind", "tmpfs", "proc", "sysfs", "cgroup",
        "cgroup2", "mqueue", "devpts", "ro", "rw", "nosuid", "idmap", "ridmap", "tmpcopyup", "rro", "rnoatime", "private", "rslave",
        "shared", "bogus=1", "size=-1", "mode=99999", "SCMP_ACT_ERRNO", "SCMP_ACT_NOTIFY", "SCMP_ACT_KILL", "SCMP_ACT_ALLOW",
        "SCMP_ACT_TRACE", "SCMP_ACT_LOG", "SCMP_CMP_MASKED_EQ", "SCMP_CMP_FOO", "SCMP_ARCH_X86_64", "SCMP_ARCH_FOO",
        "SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_FOO", "pid", "user", "mount", "network", "ipc", "uts", "cgroup", "time",
        "foo", "c", "b", "u", "p", "a", "rwm", "x", "SCHED_FIFO", "SCHED_DEADLINE", "IOPRIO_CLASS_RT", "LINUX32", "monotonic",
        "realtime", "1.0.0", "2.0.0", "0-3", "3-0", "0,,1", "max", "2MB", "3XB", "memory.high", "../memory.max", "net.ipv4.ip_forward",
        "kernel.shmmax", "kernel.hostname", "kernel.domainname", "vm.swappiness", "fs.mqueue.msg_max", "net/ipv4/conf/eth0.100/rp_filter",
        "machine.slice:cnr:x", "bad-slice:cnr:x", "/a/../b", "/cnr/x", "/proc/self/ns/net", "/proc/1/ns/foo", "rootfs", "/nonexistent/hook",
        "/bin/true", "/bin", "/etc/passwd",
    ];

    private static readonly Func<byte[], int, (byte[], string)>[] ByteDamages =
    [
        (b, w) => (b[..(w % (b.Length + 1))], "truncated"),
        (b, w) => (Insert(b, w, [0xFF]), "0xFF inserted"),
        (b, w) => (Insert(b, w, [0xC3]), "lone UTF-8 lead byte"),
        (b, w) => (Insert(b, w, [0xED, 0xA0, 0x80]), "UTF-8-encoded surrogate"),
        (b, w) => (Insert(b, w, [0xC0, 0x80]), "overlong NUL"),
        (b, w) => (InsideString(b, w, "\\ud800"u8), "lone surrogate escape"),
        (b, w) => (InsideString(b, w, "\\u0000"u8), "NUL escape"),
        (b, w) => (InsideString(b, w, "\""u8), "stray quote"),
        (b, w) => (FlipByte(b, w), "byte flipped"),
        (b, w) => ([.. "\uFEFF"u8, .. b], "byte-order mark"),
        (b, w) => ([.. "\uFEFF\uFEFF"u8, .. b], "two byte-order marks"),
        (b, w) => (Encoding.UTF8.GetBytes($"{{\"x\": {new string('[', 60 + w % 10)}{new string(']', 60 + w % 10)}}}"), "deep nesting"),
        (b, w) => ([.. b, .. ", garbage"u8], "trailing garbage"),
        (b, w) => (Encoding.Unicode.GetBytes(Encoding.UTF8.GetString(b)), "UTF-16"),
        (b, w) => ([.. "// comment\n/* block */"u8, .. b], "comments"),
    ];

    private static FuzzInput Mutate(string seed, int[] picks, int damage, int where)
    {
        var root = JsonNode.Parse(seed)!;
        var how = new List<string>();
        for (int i = 0; i + 3 < picks.Length; i += 4)
            how.Add(MutateOnce(ref root, picks.AsSpan(i, 4)));
        string text = root?.ToJsonString() ?? "null";
        // JsonNode cannot hold the odd strings as raw text: each value keeps its JSON spelling until here.
        text = RawValue.Unwrap(text);
        var bytes = Encoding.UTF8.GetBytes(text);
        if (damage >= 0)
        {
            (bytes, var what) = ByteDamages[damage](bytes, where);
            how.Add(what);
        }
        return new FuzzInput(bytes, string.Join(", ", how));
    }

    private static string MutateOnce(ref JsonNode? root, ReadOnlySpan<int> pick)
    {
        var nodes = new List<(JsonNode? Parent, string Path, JsonNode? Node, object Key)>();
        Collect(null, "$", root, "", nodes);
        var (parent, path, node, key) = nodes[pick[0] % nodes.Count];
        int op = pick[1] % 8;
        JsonNode? replacement;
        string how;
        switch (op)
        {
            case 0 when parent is not null:
                Remove(parent, key);
                return $"removed {path}";
            case 1 or 0:
                var raw = Values[pick[2] % Values.Length];
                replacement = RawValue.Wrap(raw);
                how = $"{path} = {raw}";
                break;
            case 2:
                var word = Words[pick[2] % Words.Length];
                replacement = JsonValue.Create(word);
                how = $"{path} = \"{word}\"";
                break;
            case 3:
                replacement = JsonValue.Create(HugeString(pick[2]));
                how = $"{path} = a huge string";
                break;
            case 4 when node is JsonArray array && array.Count > 0:
                array.Add(array[pick[2] % array.Count]!.DeepClone());
                return $"{path}: an entry repeated";
            case 4 or 5 when node is JsonObject obj:
                var name = FieldNames[pick[2] % FieldNames.Length];
                obj[name] = pick[3] % 2 == 0 ? RawValue.Wrap(Values[pick[3] % Values.Length]) : JsonValue.Create(Words[pick[3] % Words.Length]);
                return $"{path}.{name} set";
            case 6 when node is JsonArray array:
                array.Add(RawValue.Wrap(pick[2] % 3 == 0 ? "null" : Values[pick[2] % Values.Length]));
                return $"{path}: an entry added";
            case 7 when node is JsonValue v && v.TryGetValue(out long n):
                long[] near = [n - 1, n + 1, -n, n * 2, 0, long.MaxValue, long.MinValue];
                replacement = JsonValue.Create(near[pick[2] % near.Length]);
                how = $"{path} near {n}";
                break;
            default:
                // A subtree moved to another place: right shapes in wrong places.
                var other = nodes[pick[2] % nodes.Count].Node;
                replacement = other?.DeepClone();
                how = $"{path} = a copy of {nodes[pick[2] % nodes.Count].Path}";
                break;
        }
        if (parent is null) root = replacement;
        else Set(parent, key, replacement);
        return how;
    }

    private static string HugeString(int pick) => (pick % 3) switch
    {
        0 => new string('a', 100_000),
        1 => "/" + string.Join('/', Enumerable.Repeat("d", 5000)),
        _ => string.Concat(Enumerable.Repeat("é\u2028\t", 20_000)),
    };

    /// <summary>Every JSON property name cnr reads, to be set where it does not belong (or where it does).</summary>
    private static readonly string[] FieldNames = [.. Seeds.SelectMany(s => Names(JsonNode.Parse(s))).Distinct().Order()];

    private static IEnumerable<string> Names(JsonNode? node) => node switch
    {
        JsonObject o => o.SelectMany(kv => Names(kv.Value).Prepend(kv.Key)),
        JsonArray a => a.SelectMany(Names),
        _ => [],
    };

    private static void Collect(JsonNode? parent, string path, JsonNode? node, object key, List<(JsonNode?, string, JsonNode?, object)> into)
    {
        into.Add((parent, path, node, key));
        if (node is JsonObject o)
            foreach (var (name, child) in o.ToList())
                Collect(o, $"{path}.{name}", child, name, into);
        else if (node is JsonArray a)
            for (int i = 0; i < a.Count; i++)
                Collect(a, $"{path}[{i}]", a[i], i, into);
    }

    private static void Remove(JsonNode parent, object key)
    {
        if (parent is JsonObject o) o.Remove((string)key);
        else ((JsonArray)parent).RemoveAt((int)key);
    }

    private static void Set(JsonNode parent, object key, JsonNode? value)
    {
        if (parent is JsonObject o) o[(string)key] = value;
        else ((JsonArray)parent)[(int)key] = value;
    }

    private static byte[] Insert(byte[] b, int where, ReadOnlySpan<byte> what)
    {
        int at = where % (b.Length + 1);
        return [.. b.AsSpan(0, at), .. what, .. b.AsSpan(at)];
    }

    /// <summary>Inserts <paramref name="what"/> right after an opening quote, i.e. inside a key or a string.</summary>
    private static byte[] InsideString(byte[] b, int where, ReadOnlySpan<byte> what)
    {
        int quotes = b.AsSpan().Count((byte)'"');
        if (quotes == 0) return Insert(b, where, what);
        int target = where % quotes, seen = 0;
        for (int i = 0; i < b.Length; i++)
            if (b[i] == '"' && seen++ == target) return Insert(b, i + 1, what);
        return b;
    }

    private static byte[] FlipByte(byte[] b, int where)
    {
        if (b.Length == 0) return b;
        var copy = (byte[])b.Clone();
        copy[where % copy.Length] ^= (byte)(1 << (where % 8));
        return copy;
    }

    /// <summary>Lets a JSON spelling that JsonNode would re-encode (a lone surrogate escape, 1e400, -0) pass
    /// through the tree as a marked string and come out as written.</summary>
    private static class RawValue
    {
        private const string Mark = "\u0001raw\u0001";

        public static JsonNode? Wrap(string json) => json == "null" ? null : JsonValue.Create(Mark + Convert.ToBase64String(Encoding.UTF8.GetBytes(json)));

        public static string Unwrap(string text)
        {
            var marker = JsonSerializer.Serialize(Mark)[1..^1];
            var sb = new StringBuilder();
            int i = 0;
            while (true)
            {
                int start = text.IndexOf("\"" + marker, i, StringComparison.Ordinal);
                if (start < 0) break;
                int end = text.IndexOf('"', start + 1 + marker.Length);
                var encoded = text[(start + 1 + marker.Length)..end].Replace("\\u002B", "+").Replace("\\/", "/");
                sb.Append(text, i, start - i).Append(Encoding.UTF8.GetString(Convert.FromBase64String(encoded)));
                i = end + 1;
            }
            return sb.Append(text, i, text.Length - i).ToString();
        }
    }
}

/// <summary>tests/fuzz-corpus: bad configs kept as regression inputs, each with its expected outcome in
/// expected.tsv ("file TAB a fragment of the error line", or "file TAB ok").</summary>
internal static class FuzzCorpus
{
    public const string Accepted = "ok";

    public static string Dir => Path.Combine(RepoRoot(), "tests", "fuzz-corpus");

    public static string[] Files() => [.. Directory.EnumerateFiles(Dir).Where(f => Path.GetFileName(f) is not ("expected.tsv" or "README.md")).Order()];

    public static Dictionary<string, string> Expectations()
        => File.ReadAllLines(Path.Combine(Dir, "expected.tsv"))
            .Where(l => l.Length > 0 && !l.StartsWith('#'))
            .Select(l => l.Split('\t', 2))
            .ToDictionary(p => p[0], p => p[1]);

    /// <summary>A failing input, kept where `make fuzz` says: out/fuzz-crashes/SHA.json.</summary>
    public static void SaveCrash(byte[] bytes)
    {
        var dir = Path.Combine(RepoRoot(), "out", "fuzz-crashes");
        Directory.CreateDirectory(dir);
        File.WriteAllBytes(Path.Combine(dir, Convert.ToHexStringLower(SHA256.HashData(bytes))[..16] + ".json"), bytes);
    }

    private static string RepoRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "Runtime.sln"))) return d.FullName;
        throw new InvalidOperationException("Runtime.sln not found above " + AppContext.BaseDirectory);
    }
}
