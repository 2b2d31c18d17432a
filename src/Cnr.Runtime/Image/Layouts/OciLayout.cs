namespace Cnr.Image;

/// <summary>An OCI image layout directory (oci-layout, index.json, blobs/sha256/…) as skopeo, podman and
/// buildah write it; oci-archive: is the same thing in a tar.</summary>
public static class OciLayout
{
    public const string RefNameAnnotation = "org.opencontainers.image.ref.name";

    public static ResolvedImage Read(string dir, string? tag, Platform platform, string name)
    {
        var indexPath = Path.Combine(dir, "index.json");
        if (!File.Exists(indexPath))
            throw new ImageException($"{name}: not an OCI image layout (no index.json)");
        var index = Manifests.Parse(File.ReadAllBytes(indexPath), $"{name}: index.json");
        var entries = index.Manifests ?? [];
        var tagged = tag is null ? entries : entries.Where(m => m.Annotations?.GetValueOrDefault(RefNameAnnotation) == tag).ToList();
        var image = tag is null ? name : $"{name}:{tag}";
        var top = tagged.Count switch
        {
            1 => tagged[0],
            0 when tag is not null => throw new ImageException($"{image}: no image tagged \"{tag}\" (tags: {Tags(entries)})"),
            0 => throw new ImageException($"{name}: the layout holds no image"),
            // several untagged entries: an index of platforms written flat, or several images
            _ when tagged.All(m => m.Platform is not null) => Platforms.Select(tagged, platform, image),
            _ => throw new ImageException($"{name}: the layout holds several images; name one as {name}:TAG (tags: {Tags(entries)})"),
        };
        var manifest = Manifests.ForPlatform(Manifests.Parse(Blob(dir, top, image), $"{image}: manifest {top.Digest}"), d => Blob(dir, d, image), platform, image);
        var config = Manifests.Config(Blob(dir, manifest.Config!, image), image);
        var layers = manifest.Layers!.Select((l, i) => new Layer(VerifiedBlobPath(dir, l, image), $"layer {i + 1}/{manifest.Layers!.Count} ({l.Digest})")).ToList();
        return new ResolvedImage(image, top.Digest, config, layers);
    }

    private static string Tags(IEnumerable<Descriptor> entries)
        => string.Join(", ", entries.Select(m => m.Annotations?.GetValueOrDefault(RefNameAnnotation)).OfType<string>().DefaultIfEmpty("none"));

    private static byte[] Blob(string dir, Descriptor d, string image)
    {
        var bytes = File.ReadAllBytes(BlobPath(dir, d, image));
        Digests.Verify($"{image}: blob {d.Digest}", d, Digests.Of(bytes), bytes.Length);
        return bytes;
    }

    private static string VerifiedBlobPath(string dir, Descriptor d, string image)
    {
        var path = BlobPath(dir, d, image);
        Digests.Verify($"{image}: blob {d.Digest}", d, Digests.OfFile(path), new FileInfo(path).Length);
        return path;
    }

    private static string BlobPath(string dir, Descriptor d, string image)
    {
        Digests.Validate(d.Digest, $"{image}: descriptor");
        var path = Path.Combine(dir, "blobs", "sha256", d.Digest[7..]);
        return File.Exists(path) ? path : throw new ImageException($"{image}: blob {d.Digest} is missing from the layout");
    }
}
