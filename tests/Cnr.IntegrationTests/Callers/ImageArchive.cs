using System.Formats.Tar;
using System.Security.Cryptography;
using System.Text;
using Cnr.IntegrationTests.Harness;

namespace Cnr.IntegrationTests.Callers;

/// <summary>The busybox rootfs as images the callers can load without a registry: a plain rootfs tar
/// (`podman import`) and a one-layer docker-archive (`docker load`, `ctr image import`), built once per run.</summary>
public static class ImageArchive
{
    public const string Name = "localhost/mybox:latest";
    private static readonly Lazy<(string Rootfs, string Docker)> Built = new(Build);

    /// <summary>A tar of Repo.MyboxRootfs (numeric owners, so no name lookup changes ids).</summary>
    public static string RootfsTar => Built.Value.Rootfs;

    /// <summary>docker-archive: manifest.json, the image config, and the rootfs tar as its one layer.</summary>
    public static string DockerArchive => Built.Value.Docker;

    private static (string, string) Build()
    {
        var dir = Path.Combine(Repo.Scratch, "callers-image");
        Directory.CreateDirectory(dir);
        var layer = Path.Combine(dir, "rootfs.tar");
        var r = Harness.Cnr.Exec("tar", ["--numeric-owner", "-C", Repo.MyboxRootfs, "-cf", layer, "."]);
        if (r.ExitCode != 0) throw new InvalidOperationException("tar of the rootfs: " + r);

        var layerBytes = File.ReadAllBytes(layer);
        var diffId = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(layerBytes));
        var config = Encoding.UTF8.GetBytes(
            "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Env\":[\"PATH=/bin\"],\"Cmd\":[\"sh\"]}," +
            $"\"rootfs\":{{\"type\":\"layers\",\"diff_ids\":[\"{diffId}\"]}}}}");
        var configName = Convert.ToHexStringLower(SHA256.HashData(config)) + ".json";
        var manifest = Encoding.UTF8.GetBytes($"[{{\"Config\":\"{configName}\",\"RepoTags\":[\"{Name}\"],\"Layers\":[\"layer.tar\"]}}]");

        var archive = Path.Combine(dir, "mybox-docker-archive.tar");
        using (var fs = File.Create(archive))
        using (var tw = new TarWriter(fs, TarEntryFormat.Pax))
        {
            foreach (var (name, data) in new[] { ("layer.tar", layerBytes), (configName, config), ("manifest.json", manifest) })
                tw.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(data), Mode = (UnixFileMode)0b110_100_100 });
        }
        return (layer, archive);
    }
}
