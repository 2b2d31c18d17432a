using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Cnr.IntegrationTests.Harness;
using Xunit;

namespace Cnr.IntegrationTests.Image;

/// <summary>The tools the image tests drive, installed on demand (as root) by registry.sh deps.</summary>
public static class ImageTools
{
    public static readonly string Script = Path.Combine(Repo.Root, "tests", "Cnr.IntegrationTests", "Image", "registry.sh");
    private static readonly Lazy<string?> Missing = new(Install);

    /// <summary>null when docker-registry, skopeo and /bin/busybox are there (installing them if root).</summary>
    public static string? MissingReason => Missing.Value;

    private static string? Install()
    {
        if (Present()) return null;
        if (!Host.IsRoot) return "needs docker-registry, skopeo and busybox-static (apt-get install -y docker-registry skopeo busybox-static)";
        var r = Harness.Cnr.Exec("sh", [Script, "deps"], timeout: TimeSpan.FromMinutes(20));
        return Present() ? null : "could not install docker-registry skopeo busybox-static:\n" + r;
    }

    private static bool Present()
        => File.Exists("/usr/bin/docker-registry") && File.Exists("/usr/bin/skopeo") && File.Exists("/bin/busybox");

    public static CnrResult Must(string program, params string[] args)
    {
        var r = Harness.Cnr.Exec(program, args, timeout: TimeSpan.FromMinutes(2));
        Assert.True(r.ExitCode == 0, $"{program} {string.Join(' ', args)}: {r}");
        return r;
    }
}

/// <summary>A test that needs the image tools (and the cnr binary); skipped with the reason when missing.</summary>
public sealed class ImageFactAttribute : FactAttribute
{
    public ImageFactAttribute()
    {
        if (ImageTools.MissingReason is { } reason) Skip = reason;
        else if (!File.Exists(Repo.CnrBinary)) Skip = $"{Repo.CnrBinary} not built (run `make`)";
    }

    /// <summary>The test runs a container, which needs root.</summary>
    public bool RunsContainer
    {
        get => false;
        init { if (value && Skip is null && !Host.IsRoot) Skip = "needs root: runs a container"; }
    }
}

/// <summary>The theory twin of <see cref="ImageFactAttribute"/>.</summary>
public sealed class ImageTheoryAttribute : TheoryAttribute
{
    public ImageTheoryAttribute() => Skip = new ImageFactAttribute().Skip;
}

/// <summary>A scratch directory of one test, removed at the end.</summary>
public sealed class Scratch : IDisposable
{
    public string Dir { get; } = Path.Combine(Repo.Scratch, "image-" + Guid.NewGuid().ToString("N")[..12]);
    public Scratch() => Directory.CreateDirectory(Dir);
    public string this[string relative] => Path.Combine(Dir, relative);
    public void Dispose() { try { Directory.Delete(Dir, recursive: true); } catch (IOException) { } }
}

/// <summary>A tiny busybox rootfs: /bin/busybox with sh, echo, cat links; an /etc/passwd and /etc/group
/// with a user "app" (1000, primary group 1001) who is also in "wheel" (10).</summary>
public static class BusyboxRootfs
{
    public static string Build(string dir, string? marker = null)
    {
        Directory.CreateDirectory(Path.Combine(dir, "bin"));
        Directory.CreateDirectory(Path.Combine(dir, "etc"));
        File.Copy("/bin/busybox", Path.Combine(dir, "bin", "busybox"));
        foreach (var applet in new[] { "sh", "echo", "cat", "ls", "id" })
            File.CreateSymbolicLink(Path.Combine(dir, "bin", applet), "busybox");
        File.WriteAllText(Path.Combine(dir, "etc", "passwd"), "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1001::/home/app:/bin/sh\n");
        File.WriteAllText(Path.Combine(dir, "etc", "group"), "root:x:0:\nwheel:x:10:app\napp:x:1001:\n");
        if (marker is not null) File.WriteAllText(Path.Combine(dir, "etc", "marker"), marker);
        return dir;
    }

    /// <summary>A gzip layer tarball of <paramref name="dir"/>, made by GNU tar.</summary>
    public static string Tar(string dir, string output)
    {
        ImageTools.Must("tar", "--numeric-owner", "-C", dir, "-czf", output, ".");
        return output;
    }
}

/// <summary>Writes an OCI image layout by hand (blobs, manifests, index.json), the way a build tool does, so the
/// tests depend on no image builder.</summary>
public sealed class OciLayoutWriter
{
    private readonly string _dir;
    private readonly JsonArray _index = [];

    public OciLayoutWriter(string dir)
    {
        _dir = dir;
        Directory.CreateDirectory(Path.Combine(dir, "blobs", "sha256"));
        File.WriteAllText(Path.Combine(dir, "oci-layout"), """{"imageLayoutVersion":"1.0.0"}""");
    }

    public JsonObject Blob(byte[] content, string mediaType)
    {
        var hex = Convert.ToHexStringLower(SHA256.HashData(content));
        File.WriteAllBytes(Path.Combine(_dir, "blobs", "sha256", hex), content);
        return new JsonObject { ["mediaType"] = mediaType, ["digest"] = "sha256:" + hex, ["size"] = content.Length };
    }

    /// <summary>An image manifest for the gzip layers and the given config; returns its descriptor.</summary>
    public JsonObject Image(IEnumerable<string> layers, JsonObject config, string arch = "amd64")
    {
        var configFile = new JsonObject
        {
            ["architecture"] = arch, ["os"] = "linux", ["config"] = config,
            ["rootfs"] = new JsonObject { ["type"] = "layers", ["diff_ids"] = new JsonArray() },
        };
        foreach (var l in layers)
        {
            using var gz = new System.IO.Compression.GZipStream(File.OpenRead(l), System.IO.Compression.CompressionMode.Decompress);
            ((JsonArray)configFile["rootfs"]!["diff_ids"]!).Add("sha256:" + Convert.ToHexStringLower(SHA256.HashData(gz)));
        }
        var manifest = new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = "application/vnd.oci.image.manifest.v1+json",
            ["config"] = Blob(System.Text.Encoding.UTF8.GetBytes(configFile.ToJsonString()), "application/vnd.oci.image.config.v1+json"),
            ["layers"] = new JsonArray([.. layers.Select(l => (JsonNode)Blob(File.ReadAllBytes(l), "application/vnd.oci.image.layer.v1.tar+gzip"))]),
        };
        var d = Blob(System.Text.Encoding.UTF8.GetBytes(manifest.ToJsonString()), "application/vnd.oci.image.manifest.v1+json");
        d["platform"] = new JsonObject { ["architecture"] = arch, ["os"] = "linux" };
        return d;
    }

    /// <summary>An image index over the given manifests; returns its descriptor.</summary>
    public JsonObject Index(params JsonObject[] manifests)
    {
        var index = new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = "application/vnd.oci.image.index.v1+json",
            ["manifests"] = new JsonArray([.. manifests.Select(m => m.DeepClone())]),
        };
        return Blob(System.Text.Encoding.UTF8.GetBytes(index.ToJsonString()), "application/vnd.oci.image.index.v1+json");
    }

    /// <summary>Names <paramref name="descriptor"/> as TAG in index.json.</summary>
    public OciLayoutWriter Tag(string tag, JsonObject descriptor)
    {
        var d = (JsonObject)descriptor.DeepClone();
        d.Remove("platform");
        d["annotations"] = new JsonObject { ["org.opencontainers.image.ref.name"] = tag };
        _index.Add(d);
        File.WriteAllText(Path.Combine(_dir, "index.json"), new JsonObject { ["schemaVersion"] = 2, ["manifests"] = _index.DeepClone() }.ToJsonString());
        return this;
    }
}

/// <summary>A CNCF distribution registry on a free 127.0.0.1 port with its own storage, killed on dispose.</summary>
public sealed class LocalRegistry : IDisposable
{
    private readonly string _state;
    public int Port { get; }
    public string Host => $"127.0.0.1:{Port}";
    public string Storage => Path.Combine(_state, "storage");

    public LocalRegistry(string state)
    {
        _state = state;
        Port = int.Parse(ImageTools.Must("sh", ImageTools.Script, "start", state).Stdout.Trim());
    }

    /// <summary>skopeo copy from a layout tag into REPO:TAG of this registry (--all keeps an index whole).</summary>
    public string Push(string layout, string tag, string repoTag, bool all = false)
    {
        ImageTools.Must("skopeo", ["copy", "-q", .. (all ? new[] { "--all" } : []), "--dest-tls-verify=false", $"oci:{layout}:{tag}", $"docker://{Host}/{repoTag}"]);
        return $"docker://{Host}/{repoTag}";
    }

    public void Dispose() => Harness.Cnr.Exec("sh", [ImageTools.Script, "stop", _state]);
}
