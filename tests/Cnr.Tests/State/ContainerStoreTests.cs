using System.Text;
using Cnr.Spec;
using Cnr.State;
using Xunit;

namespace Cnr.Tests.State;

/// <summary>The state record (hand-written JSON) and the config kept beside it, parsed only on demand.</summary>
public sealed class ContainerStoreTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("cnr-store-test-").FullName;
    private readonly ContainerStore _store;

    public ContainerStoreTests() => _store = new ContainerStore(_root);

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static ContainerRecord Full() => new()
    {
        Id = "box",
        Pid = 4242,
        InitStartTime = 18446744073709551615,
        Bundle = "/srv/bundle \"quoted\" ünïcode",
        Rootfs = "/srv/bundle/rootfs",
        Created = new DateTime(2026, 12, 2, 11, 42, 7, 123, DateTimeKind.Utc).AddTicks(4567),
        Owner = "root",
        CgroupPath = "/sys/fs/cgroup/unified/box",
        SystemdUnit = "cnr-box.scope",
        NewPidNamespace = true,
        Creating = true,
        OciVersion = "1.2.0",
        Annotations = new() { ["org.example/key"] = "value with \n newline", ["empty"] = "" },
        HasPoststartHooks = true,
        HasPoststopHooks = true,
    };

    private ContainerRecord SaveAndRead(ContainerRecord record)
    {
        using (_store.Create(record.Id)) _store.Save(record);
        return _store.Read(record.Id);
    }

    [Fact]
    public void Record_RoundTripsEveryField()
    {
        var saved = Full();
        var read = SaveAndRead(saved);
        Assert.Equal(saved.Id, read.Id);
        Assert.Equal(saved.Pid, read.Pid);
        Assert.Equal(saved.InitStartTime, read.InitStartTime);
        Assert.Equal(saved.Bundle, read.Bundle);
        Assert.Equal(saved.Rootfs, read.Rootfs);
        Assert.Equal(saved.Created, read.Created);
        Assert.Equal(DateTimeKind.Utc, read.Created.Kind);
        Assert.Equal(saved.Owner, read.Owner);
        Assert.Equal(saved.CgroupPath, read.CgroupPath);
        Assert.Equal(saved.SystemdUnit, read.SystemdUnit);
        Assert.True(read.NewPidNamespace);
        Assert.True(read.Creating);
        Assert.Equal(saved.OciVersion, read.OciVersion);
        Assert.Equal(saved.Annotations, read.Annotations);
        Assert.True(read.HasPoststartHooks);
        Assert.True(read.HasPoststopHooks);
    }

    [Fact]
    public void Record_WithoutOptionalFields_ReadsBackAsAbsent()
    {
        var read = SaveAndRead(new ContainerRecord { Id = "plain", Pid = 7, Owner = "1000", OciVersion = "1.0.2" });
        Assert.Null(read.CgroupPath);
        Assert.Null(read.SystemdUnit);
        Assert.Null(read.Annotations);
        Assert.False(read.Creating);
        Assert.False(read.HasPoststartHooks);
        Assert.False(read.HasPoststopHooks);
        var json = File.ReadAllText(Path.Combine(_root, "plain", "state.json"));
        Assert.DoesNotContain("creating", json);
        Assert.DoesNotContain("cgroupPath", json);
    }

    [Fact]
    public void Record_UnknownFieldsAreSkipped()
    {
        Directory.CreateDirectory(Path.Combine(_root, "x"));
        File.WriteAllText(Path.Combine(_root, "x", "state.json"),
            """{"id":"x","future":{"nested":[1,{"a":null}]},"pid":3,"later":"s"}""");
        var read = _store.Read("x");
        Assert.Equal("x", read.Id);
        Assert.Equal(3, read.Pid);
    }

    [Fact]
    public void Record_Damaged_NamesTheFileAndTheField()
    {
        Directory.CreateDirectory(Path.Combine(_root, "d"));
        var file = Path.Combine(_root, "d", "state.json");
        File.WriteAllText(file, """{"id":"d","pid":"not a number"}""");
        var e = Assert.Throws<InvalidDataException>(() => _store.Read("d"));
        Assert.StartsWith($"{file}: damaged state record at \"pid\"", e.Message);
    }

    [Fact]
    public void Config_KeptAsWritten_AndParsedOnlyWhenAsked()
    {
        var record = new ContainerRecord { Id = "c" };
        var spec = DefaultSpec.Create();
        spec.Hostname = "kept";
        // A byte-order mark, a comment and a trailing comma: the bytes create validated, kept as they were.
        var json = Encoding.UTF8.GetBytes("\uFEFF" + System.Text.Json.JsonSerializer.Serialize(spec, SpecJson.Default.RuntimeSpec)
            .TrimEnd().TrimEnd('}') + ", /* note */ }");
        using (_store.Create("c"))
        {
            _store.SaveConfig(record, json);
            _store.Save(record);
        }
        Assert.Equal(json, File.ReadAllBytes(Path.Combine(_root, "c", "config.json")));
        var read = _store.Read("c");
        Assert.Null(read.LoadedConfig);
        Assert.Equal("kept", _store.LoadConfig(read).Hostname);
        Assert.Same(read.LoadedConfig, _store.LoadConfig(read));
    }

    [Fact]
    public void Hooks_AreLoadedOnlyWhenTheRecordSaysThereAreSome()
    {
        var spec = DefaultSpec.Create();
        spec.Hooks = new Cnr.Spec.Hooks { Poststart = [new Hook { Path = "/bin/true" }], Poststop = [new Hook { Path = "/bin/false" }] };
        var bytes = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(spec, SpecJson.Default.RuntimeSpec);
        var record = new ContainerRecord { Id = "h", HasPoststopHooks = true };
        using (_store.Create("h"))
        {
            _store.SaveConfig(record, bytes);
            _store.Save(record);
        }
        var read = _store.Read("h");
        Assert.Null(_store.PoststartHooks(read));
        Assert.Null(read.LoadedConfig);
        Assert.Equal("/bin/false", Assert.Single(_store.PoststopHooks(read)!).Path);
    }

    [Fact]
    public void SaveConfig_OfAChangedSpec_IsWhatTheNextVerbLoads()
    {
        var record = new ContainerRecord { Id = "u" };
        var spec = DefaultSpec.Create();
        using (_store.Create("u"))
        {
            _store.SaveConfig(record, System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(spec, SpecJson.Default.RuntimeSpec));
            _store.Save(record);
        }
        var first = _store.Read("u");
        var config = _store.LoadConfig(first);
        (config.Linux!.Resources ??= new()).Pids = new LinuxPids { Limit = 42 };
        _store.SaveConfig(first, config);
        Assert.Equal(42, _store.LoadConfig(_store.Read("u")).Linux!.Resources!.Pids!.Limit);
    }
}
