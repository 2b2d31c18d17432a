using System.Text.Json;
using System.Text.Json.Nodes;
using Cnr.IntegrationTests.Harness;
using Cnr.Spec;
using Xunit;

namespace Cnr.IntegrationTests.Image;

/// <summary>`cnr bundle create` / `cnr pull` end to end: real archives written by GNU tar and skopeo, and a real
/// registry on 127.0.0.1 fed by skopeo.</summary>
public sealed class BundleCreateTests
{
    private static readonly JsonObject BusyboxConfig = new()
    {
        ["Env"] = new JsonArray("FOO=bar", "PATH=/bin"),
        ["Entrypoint"] = new JsonArray("/bin/sh", "-c"),
        ["Cmd"] = new JsonArray("echo hi"),
        ["WorkingDir"] = "/work",
        ["User"] = "app",
    };

    /// <summary>An OCI layout with test/busybox tagged "1", built from a GNU tar layer.</summary>
    private static string BusyboxLayout(Scratch s)
    {
        var layer = BusyboxRootfs.Tar(BusyboxRootfs.Build(s["rootfs-src"]), s["layer.tar.gz"]);
        var layout = s["layout"];
        var w = new OciLayoutWriter(layout);
        w.Tag("1", w.Image([layer], (JsonObject)BusyboxConfig.DeepClone()));
        return layout;
    }

    private static CnrResult Create(string bundle, string from, params string[] extra)
        => Harness.Cnr.Run(["bundle", "create", bundle, "--from", from, .. extra], timeout: TimeSpan.FromMinutes(2));

    private static RuntimeSpec Config(string bundle)
        => JsonSerializer.Deserialize(File.ReadAllText(Path.Combine(bundle, "config.json")), SpecJson.Default.RuntimeSpec)!;

    private static void AssertBusyboxBundle(string bundle)
    {
        Assert.True(File.Exists(Path.Combine(bundle, "rootfs", "bin", "busybox")));
        Assert.Equal("busybox", new FileInfo(Path.Combine(bundle, "rootfs", "bin", "sh")).LinkTarget);
        var spec = Config(bundle);
        Assert.Equal("rootfs", spec.Root!.Path);
        Assert.True(spec.Process!.Terminal);
        Assert.Equal(["/bin/sh", "-c", "echo hi"], spec.Process.Args!);
        Assert.Contains("FOO=bar", spec.Process.Env!);
        Assert.Contains("PATH=/bin", spec.Process.Env!);
        Assert.Equal("/work", spec.Process.Cwd);
        Assert.True(Directory.Exists(Path.Combine(bundle, "rootfs", "work")));
        Assert.Equal(1000u, spec.Process.User.Uid);
        Assert.Equal(1001u, spec.Process.User.Gid);
        Assert.Equal([10u], spec.Process.User.AdditionalGids!);
        Assert.StartsWith("sha256:", spec.Annotations!["io.github.cnr.image.digest"]);
    }

    [ImageFact]
    public void BundleCreate_FromRegistry_UnpacksRootfsAndAppliesImageConfig()
    {
        using var s = new Scratch();
        using var registry = new LocalRegistry(s["registry"]);
        var image = registry.Push(BusyboxLayout(s), "1", "test/busybox:1");
        var store = s["store"];

        var r = Create(s["bundle"], image, "--plain-http", "--store", store);

        Assert.True(r.ExitCode == 0, r.ToString());
        AssertBusyboxBundle(s["bundle"]);
        var digest = JsonNode.Parse(ImageTools.Must("skopeo", "inspect", "--tls-verify=false", image).Stdout)!["Digest"]!.GetValue<string>();
        var spec = Config(s["bundle"]);
        Assert.Equal(digest, spec.Annotations!["io.github.cnr.image.digest"]);
        Assert.Equal($"{registry.Host}/test/busybox:1", spec.Annotations["org.opencontainers.image.ref.name"]);

        var again = Create(s["bundle2"], image, "--plain-http", "--store", store);
        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Contains("cached", again.Stderr);
    }

    [ImageFact]
    public void BundleCreate_FromManifestList_PicksHostOrRequestedPlatform()
    {
        using var s = new Scratch();
        var amd = BusyboxRootfs.Tar(BusyboxRootfs.Build(s["amd64"], marker: "amd64"), s["amd64.tar.gz"]);
        var arm = BusyboxRootfs.Tar(BusyboxRootfs.Build(s["arm64"], marker: "arm64"), s["arm64.tar.gz"]);
        var w = new OciLayoutWriter(s["layout"]);
        w.Tag("multi", w.Index(w.Image([amd], new JsonObject(), "amd64"), w.Image([arm], new JsonObject(), "arm64")));
        using var registry = new LocalRegistry(s["registry"]);
        var image = registry.Push(s["layout"], "multi", "test/multi:1", all: true);

        var arm64 = Create(s["arm"], image, "--plain-http", "--store", s["store"], "--platform", "linux/arm64");
        var host = Create(s["host"], image, "--plain-http", "--store", s["store"], "--platform", "linux/amd64");
        var none = Create(s["none"], image, "--plain-http", "--store", s["store"], "--platform", "linux/s390x");

        Assert.True(arm64.ExitCode == 0, arm64.ToString());
        Assert.Equal("arm64", File.ReadAllText(s["arm/rootfs/etc/marker"]));
        Assert.True(host.ExitCode == 0, host.ToString());
        Assert.Equal("amd64", File.ReadAllText(s["host/rootfs/etc/marker"]));
        Assert.Equal(1, none.ExitCode);
        Assert.Contains("no image for platform linux/s390x", none.Stderr);
        Assert.Contains("linux/arm64", none.Stderr);
    }

    [ImageFact]
    public void BundleCreate_WithCorruptedBlob_RefusesAndLeavesNoBundle()
    {
        using var s = new Scratch();
        using var registry = new LocalRegistry(s["registry"]);
        var image = registry.Push(BusyboxLayout(s), "1", "test/busybox:1");
        // The largest blob in the registry's storage is the layer; flip bytes in place, keeping its size.
        var layer = Directory.EnumerateFiles(Path.Combine(registry.Storage, "docker", "registry", "v2", "blobs"), "data", SearchOption.AllDirectories)
            .OrderByDescending(f => new FileInfo(f).Length).First();
        using (var f = new FileStream(layer, FileMode.Open, FileAccess.ReadWrite)) { f.Position = 100; f.Write("CORRUPT"u8); }

        var r = Create(s["bundle"], image, "--plain-http", "--store", s["store"]);

        Assert.Equal(1, r.ExitCode);
        Assert.Contains("does not match", r.Stderr);
        Assert.False(Directory.Exists(s["bundle"]));
        Assert.Empty(Directory.EnumerateDirectories(s.Dir, ".bundle*"));
        Assert.DoesNotContain(Directory.EnumerateFiles(s["store"], "*", SearchOption.AllDirectories), f => new FileInfo(f).Length > 1 << 20);
    }

    [ImageFact]
    public void BundleCreate_WithMissingTagOrRepository_NamesWhatIsMissing()
    {
        using var s = new Scratch();
        using var registry = new LocalRegistry(s["registry"]);
        registry.Push(BusyboxLayout(s), "1", "test/busybox:1");

        var tag = Create(s["b1"], $"docker://{registry.Host}/test/busybox:nope", "--plain-http", "--store", s["store"]);
        var repo = Create(s["b2"], $"{registry.Host}/test/nothere:1", "--plain-http", "--store", s["store"]);
        var https = Create(s["b3"], $"{registry.Host}/test/busybox:1", "--store", s["store"]);

        Assert.Equal(1, tag.ExitCode);
        Assert.Contains($"{registry.Host}/test/busybox: no such tag \"nope\" (tags: 1) (404)", tag.Stderr);
        Assert.Equal(1, repo.ExitCode);
        Assert.Contains($"{registry.Host}/test/nothere: repository not found (404)", repo.Stderr);
        Assert.Equal(1, https.ExitCode);
        Assert.Contains("--plain-http", https.Stderr);
        Assert.False(Directory.Exists(s["b1"]) || Directory.Exists(s["b2"]) || Directory.Exists(s["b3"]));
    }

    [ImageFact]
    public void BundleCreate_FromSkopeoArchivesAndLayout_AppliesImageConfig()
    {
        using var s = new Scratch();
        var layout = BusyboxLayout(s);
        ImageTools.Must("skopeo", "copy", "-q", $"oci:{layout}:1", $"docker-archive:{s["docker.tar"]}:test/busybox:1");
        ImageTools.Must("skopeo", "copy", "-q", $"oci:{layout}:1", $"oci-archive:{s["oci.tar"]}:1");

        foreach (var (bundle, from) in new[] { ("d", $"docker-archive:{s["docker.tar"]}"), ("o", $"oci-archive:{s["oci.tar"]}"), ("l", $"oci:{layout}:1") })
        {
            var r = Create(s[bundle], from);
            Assert.True(r.ExitCode == 0, from + ": " + r);
            AssertBusyboxBundle(s[bundle]);
            Assert.Empty(Directory.EnumerateFileSystemEntries(s[bundle]).Select(Path.GetFileName).Except(["rootfs", "config.json"]));
        }
    }

    [ImageTheory]
    [InlineData("gzip", "-z")]
    [InlineData("xz", "-J")]
    [InlineData("zstd", "--zstd")]
    [InlineData("bzip2", "-j")]
    [InlineData("plain", "")]
    public void BundleCreate_FromRootfsTarball_DetectsCompression(string kind, string flag)
    {
        using var s = new Scratch();
        var rootfs = BusyboxRootfs.Build(s["src"]);
        ImageTools.Must("tar", [.. flag.Length > 0 ? new[] { flag } : [], "-C", rootfs, "-cf", s[$"rootfs.{kind}"], "."]);

        var r = Create(s["bundle"], s[$"rootfs.{kind}"]);

        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.True(File.Exists(s["bundle/rootfs/bin/busybox"]));
        var spec = Config(s["bundle"]);
        Assert.Equal(["sh"], spec.Process!.Args!);
        Assert.Equal(s[$"rootfs.{kind}"], spec.Annotations!["org.opencontainers.image.ref.name"]);
    }

    [ImageFact]
    public void BundleCreate_IntoNonEmptyDirectory_Refuses()
    {
        using var s = new Scratch();
        Directory.CreateDirectory(s["bundle"]);
        File.WriteAllText(s["bundle/keep"], "x");
        var r = Create(s["bundle"], BusyboxRootfs.Tar(BusyboxRootfs.Build(s["src"]), s["r.tgz"]));
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("not empty", r.Stderr);
        Assert.Equal("x", File.ReadAllText(s["bundle/keep"]));
    }

    [ImageFact]
    public void Pull_WithOnlyAName_CreatesBundleNamedAfterTheImage()
    {
        using var s = new Scratch();
        using var registry = new LocalRegistry(s["registry"]);
        var image = registry.Push(BusyboxLayout(s), "1", "test/busybox:1");
        var work = Directory.CreateDirectory(s["work"]).FullName;

        var r = Harness.Cnr.Run(["pull", image, "--plain-http", "--store", s["store"]], workingDirectory: work, timeout: TimeSpan.FromMinutes(2));

        Assert.True(r.ExitCode == 0, r.ToString());
        AssertBusyboxBundle(Path.Combine(work, "busybox"));
    }

    [ImageFact(RunsContainer = true)]
    public void Run_BundleCreatedFromRegistry_RunsTheImageCommand()
    {
        using var s = new Scratch();
        using var registry = new LocalRegistry(s["registry"]);
        var image = registry.Push(BusyboxLayout(s), "1", "test/busybox:1");
        var created = Create(s["bundle"], image, "--plain-http", "--store", s["store"]);
        Assert.True(created.ExitCode == 0, created.ToString());
        var id = "image-run-" + Guid.NewGuid().ToString("N")[..8];
        string[] root = ["--root", s["state"]];

        try
        {
            // The bundle as the student gets it: process.terminal true, so the output comes through a pty.
            var r = Harness.Cnr.Run([.. root, "run", "--bundle", s["bundle"], id], timeout: TimeSpan.FromSeconds(30));

            Assert.True(r.ExitCode == 0, r.ToString());
            Assert.Equal("hi", r.Stdout.Trim());
        }
        finally
        {
            Harness.Cnr.Run([.. root, "delete", "--force", id]);
        }
    }
}
