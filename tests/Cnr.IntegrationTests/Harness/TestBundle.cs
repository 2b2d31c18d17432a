using System.Text.Json;
using Xunit;
using Cnr.Spec;

namespace Cnr.IntegrationTests.Harness;

/// <summary>A bundle of its own for one test, a unique container id and a private `--root` state dir.
/// By default root.path points (absolute) at the shared busybox rootfs; <see cref="CopyRootfs"/> gives the
/// test a writable copy. Dispose leaves nothing, even after a test that failed midway: it deletes (force) every
/// container still in the test's `--root`, removes the empty cgroups of the cgroupsPaths its configs named under
/// /cnr-test/, and the directories.</summary>
public sealed class TestBundle : IDisposable
{
    public string Dir { get; }
    public string Id { get; }
    public string StateRoot { get; }
    public RuntimeSpec Spec { get; }

    /// <summary>The cgroupsPaths this test's configs named (<see cref="Write(string)"/>), for Dispose.</summary>
    private readonly HashSet<string> _cgroupsPaths = [];

    public TestBundle(string? name = null)
    {
        Id = $"{name ?? "t"}-{Guid.NewGuid():N}"[..Math.Min(40, (name?.Length ?? 1) + 33)];
        Dir = Path.Combine(Repo.Scratch, Id);
        StateRoot = Path.Combine(Dir, "state");
        Directory.CreateDirectory(Dir);
        Spec = DefaultSpec.Create();
        Spec.Process!.Terminal = false;
        Spec.Root = new Root { Path = Repo.MyboxRootfs, Readonly = false };
        // An absolute cgroup of the test's own: a relative (or default) path would land under the cgroup of
        // the test process, which on a shared machine belongs to someone else.
        Spec.Linux ??= new global::Cnr.Spec.Linux();
        Spec.Linux.CgroupsPath = $"/cnr-test/{Id}";
    }

    /// <summary>Sets process.args.</summary>
    public TestBundle WithArgs(params string[] args) { Spec.Process!.Args = [.. args]; return this; }

    /// <summary>A writable private copy of the busybox rootfs (cp -a keeps links, modes and devices).</summary>
    public TestBundle CopyRootfs()
    {
        var dst = Path.Combine(Dir, "rootfs");
        var r = Harness.Cnr.Exec("cp", ["-a", Repo.MyboxRootfs, dst]);
        if (r.ExitCode != 0) throw new InvalidOperationException(r.ToString());
        Spec.Root!.Path = "rootfs";
        return this;
    }

    /// <summary>Writes config.json from <see cref="Spec"/>.</summary>
    public void Write() => Write(Dir);

    /// <summary>Writes DIR/config.json from <see cref="Spec"/>: a bundle of this test's own for another container
    /// (give each its own linux.cgroupsPath); Dispose removes the cgroup it names when it is left empty.</summary>
    public void Write(string dir)
    {
        if (Spec.Linux?.CgroupsPath is { } path) _cgroupsPaths.Add(path);
        File.WriteAllText(Path.Combine(dir, "config.json"), JsonSerializer.Serialize(Spec, SpecJson.Default.RuntimeSpec));
    }

    /// <summary>`cnr --root STATE VERB ARGS…` (the bundle is not implied: pass --bundle where the verb takes one).</summary>
    public CnrResult Cnr(params string[] verbAndArgs) => Harness.Cnr.Run(["--root", StateRoot, .. verbAndArgs]);

    public CnrResult CnrWithStdin(string stdin, params string[] verbAndArgs) => Harness.Cnr.Run(["--root", StateRoot, .. verbAndArgs], stdin);

    /// <summary>Writes the config and runs `cnr run --bundle DIR ID` in the foreground.</summary>
    public CnrResult Run(string? stdin = null, TimeSpan? timeout = null)
    {
        Write();
        return Harness.Cnr.Run(["--root", StateRoot, "run", "--bundle", Dir, Id], stdin, timeout: timeout);
    }

    /// <summary>Writes the config and runs `cnr create --bundle DIR EXTRA… ID` (stdio in files: see <see cref="Detached"/>).</summary>
    public CnrResult Create(params string[] extra)
    {
        Write();
        return this.CnrDetached(["create", "--bundle", Dir, .. extra, Id]);
    }

    /// <summary>A container made with create + start, running <paramref name="args"/> (default `sleep 100`);
    /// disposed again, and the test failed with cnr's output, when either verb fails.</summary>
    public static TestBundle Started(string name, params string[] args)
    {
        var b = new TestBundle(name).WithArgs(args.Length > 0 ? args : ["sleep", "100"]);
        var r = b.Create();
        if (r.ExitCode == 0) r = b.Cnr("start", b.Id);
        if (r.ExitCode != 0) { b.Dispose(); throw new InvalidOperationException(r.ToString()); }
        return b;
    }

    /// <summary>`cnr state` of this container (or of ID under the same --root), parsed.</summary>
    public JsonElement State(string? id = null)
    {
        var r = Cnr("state", id ?? Id);
        Assert.True(r.ExitCode == 0, $"cnr state {id ?? Id}: {r}");
        return JsonDocument.Parse(r.Stdout).RootElement;
    }

    public string Status(string? id = null) => State(id).GetProperty("status").GetString()!;

    /// <summary>Waits until `state` says <paramref name="status"/>; fails naming the last status otherwise.</summary>
    public void WaitForStatus(string status, string? id = null)
    {
        var last = "";
        Wait.Until(() => (last = Status(id)) == status, $"{id ?? Id} to be {status}", last: () => $"still {last}");
    }

    /// <summary>Deletes what a test may have left: its containers (by their state directories, so that a test
    /// that deleted them costs no cnr call here), then their cgroups once empty, then the bundle.</summary>
    public void Dispose()
    {
        foreach (var id in Directory.Exists(StateRoot) ? Directory.GetDirectories(StateRoot).Select(Path.GetFileName) : [])
            try { Harness.Cnr.Run(["--root", StateRoot, "delete", "--force", id!], timeout: TimeSpan.FromSeconds(20)); } catch { }
        foreach (var path in _cgroupsPaths)
            try { HostCgroups.RemoveEmpty(path); } catch { }
        try { Directory.Delete(Dir, recursive: true); } catch { }
    }
}
