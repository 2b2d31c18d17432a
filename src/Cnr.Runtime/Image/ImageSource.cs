using System.Formats.Tar;
using System.Text.Json;

namespace Cnr.Image;

/// <summary>An image ready to unpack: its layers as files (oldest first), its config, and what it was.</summary>
public sealed record ResolvedImage(string Name, string Digest, ImageConfig? Config, IReadOnlyList<Layer> Layers);

/// <summary>One layer file; <see cref="Name"/> identifies it in messages ("layer 2/3 (sha256:…)").</summary>
public sealed record Layer(string Path, string Name);

public sealed class PullOptions
{
    public Platform Platform { get; init; } = Platforms.Host;
    public bool PlainHttp { get; init; }
    public bool TlsVerify { get; init; } = true;
    /// <summary>Where registry blobs are cached by digest.</summary>
    public string Store { get; init; } = DefaultStore;

    public static string DefaultStore => Linux.Libc.geteuid() == 0
        ? "/var/lib/cnr/blobs"
        : Path.Combine(Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } c ? c
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache"), "cnr", "blobs");
}

/// <summary>The image sources `--from` takes, by transport prefix as skopeo and podman spell them:
/// a rootfs tarball path, docker-archive:PATH, oci-archive:PATH[:TAG], oci:DIR[:TAG], docker://REF, or a bare REF.</summary>
public static class ImageSource
{
    /// <param name="workDir">scratch space for unpacked archives; the caller deletes it.</param>
    public static ResolvedImage Resolve(string source, PullOptions options, string workDir)
    {
        if (source.StartsWith("docker-archive:", StringComparison.Ordinal))
        {
            var (path, tag) = SplitTag(source["docker-archive:".Length..]);
            return DockerArchive.Read(path, tag, ExtractArchive(path, workDir));
        }
        if (source.StartsWith("oci-archive:", StringComparison.Ordinal))
        {
            var (path, tag) = SplitTag(source["oci-archive:".Length..]);
            return OciLayout.Read(ExtractArchive(path, workDir), tag, options.Platform, $"oci-archive:{path}");
        }
        if (source.StartsWith("oci:", StringComparison.Ordinal))
        {
            var (path, tag) = SplitTag(source["oci:".Length..]);
            return OciLayout.Read(path, tag, options.Platform, $"oci:{path}");
        }
        if (!source.StartsWith("docker://", StringComparison.Ordinal) && (File.Exists(source) || LooksLikePath(source)))
            return RootfsTarball(source);
        using var registry = new Registry.RegistryClient(ImageReference.Parse(source), options);
        return registry.Pull();
    }

    /// <summary>`docker export` output or a minirootfs: one layer, no image config.</summary>
    private static ResolvedImage RootfsTarball(string path)
    {
        if (!File.Exists(path)) throw new ImageException($"{path}: no such file (a rootfs tarball, or an image: docker://NAME, docker-archive:PATH, oci-archive:PATH, oci:DIR)");
        var full = Path.GetFullPath(path);
        return new ResolvedImage(full, Digests.OfFile(full), null, [new Layer(full, Path.GetFileName(full))]);
    }

    /// <summary>A missing file the user clearly meant as a path gets "no such file", not a registry error.</summary>
    private static bool LooksLikePath(string s)
        => s.StartsWith('/') || s.StartsWith('.') || s.StartsWith('~')
        || new[] { ".tar", ".tgz", ".gz", ".xz", ".zst", ".bz2" }.Any(e => s.EndsWith(e, StringComparison.Ordinal));

    /// <summary>PATH[:TAG]: the part after the last colon is a tag when the whole string is not an existing path.</summary>
    private static (string Path, string? Tag) SplitTag(string s)
    {
        var colon = s.LastIndexOf(':');
        if (colon <= 0 || Path.Exists(s) || s[(colon + 1)..].Contains('/')) return (s, null);
        return (s[..colon], s[(colon + 1)..]);
    }

    private static string ExtractArchive(string path, string workDir)
    {
        if (!File.Exists(path)) throw new ImageException($"{path}: no such file");
        var dir = Path.Combine(workDir, "archive");
        Directory.CreateDirectory(dir);
        using var stream = Compression.OpenDecompressed(path);
        try { TarFile.ExtractToDirectory(stream, dir, overwriteFiles: false); }
        catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
        {
            throw new ImageException($"{path}: cannot read the archive: {e.Message}", e);
        }
        return dir;
    }

    internal static T ParseJson<T>(ReadOnlySpan<byte> json, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type, string what)
    {
        try { return JsonSerializer.Deserialize(json, type) ?? throw new ImageException($"{what}: empty JSON document"); }
        catch (JsonException e) { throw new ImageException($"{what}: not valid JSON: {e.Message}", e); }
    }
}

/// <summary>The resolution shared by registries and OCI layouts: index → the platform's manifest → config and
/// layer descriptors, every document checked against its digest.</summary>
internal static class Manifests
{
    public static ManifestDocument Parse(byte[] body, string what)
    {
        var doc = ImageSource.ParseJson(body, ImageJson.Default.ManifestDocument, what);
        if (doc.SchemaVersion == 1)
            throw new ImageException($"{what}: Docker schema 1 manifests are deprecated and not supported (re-push the image with a current tool)");
        return doc;
    }

    /// <summary>Follows an index to the manifest for <paramref name="platform"/>; <paramref name="fetch"/> returns
    /// a document's verified bytes by descriptor.</summary>
    public static ManifestDocument ForPlatform(ManifestDocument doc, Func<Descriptor, byte[]> fetch, Platform platform, string image)
    {
        for (var depth = 0; doc.IsIndex; depth++)
        {
            if (depth == 4) throw new ImageException($"{image}: image indexes nested too deep");
            var chosen = Platforms.Select(doc.Manifests ?? [], platform, image);
            doc = Parse(fetch(chosen), $"{image}: manifest {chosen.Digest}");
        }
        if (doc.Config is null || doc.Layers is null)
            throw new ImageException($"{image}: the manifest has no config or layers (is it an image? artifacts cannot be run)");
        return doc;
    }

    public static ImageConfig? Config(byte[] body, string image)
        => ImageSource.ParseJson(body, ImageJson.Default.ImageConfigFile, $"{image}: image config").Config;
}
