namespace Cnr.Image;

/// <summary>`docker save` / `skopeo copy … docker-archive:` output: manifest.json naming a config file and
/// layer tarballs by path inside the archive (already extracted into <c>dir</c>).</summary>
public static class DockerArchive
{
    public static ResolvedImage Read(string archive, string? tag, string dir)
    {
        var name = $"docker-archive:{archive}";
        var manifestPath = Path.Combine(dir, "manifest.json");
        if (!File.Exists(manifestPath))
            throw new ImageException($"{name}: not a docker-archive (no manifest.json; a rootfs tarball is given as a plain path)");
        var images = ImageSource.ParseJson(File.ReadAllBytes(manifestPath), ImageJson.Default.ListDockerArchiveManifest, $"{name}: manifest.json");
        var tags = string.Join(", ", images.SelectMany(i => i.RepoTags ?? []).DefaultIfEmpty("none"));
        var image = tag is null
            ? images.Count == 1 ? images[0] : throw new ImageException($"{name}: the archive holds {images.Count} images; name one as {name}:NAME:TAG (tags: {tags})")
            : images.FirstOrDefault(i => i.RepoTags?.Any(t => t == tag || t.EndsWith("/" + tag, StringComparison.Ordinal)) == true)
              ?? throw new ImageException($"{name}: no image tagged \"{tag}\" (tags: {tags})");
        var configPath = Inside(dir, image.Config, name);
        var configBytes = File.ReadAllBytes(configPath);
        var config = Manifests.Config(configBytes, name);
        var layers = image.Layers.Select((l, i) => new Layer(Inside(dir, l, name), $"layer {i + 1}/{image.Layers.Count} ({l})")).ToList();
        return new ResolvedImage(image.RepoTags?.FirstOrDefault() is { } t ? $"{name} ({t})" : name, Digests.Of(configBytes), config, layers);
    }

    /// <summary>A path named by manifest.json, which must stay inside the archive.</summary>
    private static string Inside(string dir, string relative, string name)
    {
        var root = Path.GetFullPath(dir) + "/";
        var full = Path.GetFullPath(Path.Combine(root, relative));
        if (!full.StartsWith(root, StringComparison.Ordinal) || !File.Exists(full))
            throw new ImageException($"{name}: manifest.json names \"{relative}\", which is not a file in the archive");
        return full;
    }
}
