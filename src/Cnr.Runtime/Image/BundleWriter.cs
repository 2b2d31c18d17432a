using System.Text.Json;
using Cnr.Diagnostics;
using Cnr.Linux;
using Cnr.Spec;

namespace Cnr.Image;

/// <summary>`cnr bundle create DIR --from SOURCE`: unpacks an image into DIR/rootfs and writes DIR/config.json.
/// Everything is built in a temp dir beside DIR and renamed into place at the end, so DIR is either a
/// complete bundle or absent; a failure removes the temp dir.</summary>
public static class BundleWriter
{
    public static ResolvedImage Create(string bundleDir, string source, PullOptions options)
    {
        var target = Path.GetFullPath(bundleDir);
        if (Directory.Exists(target) && Directory.EnumerateFileSystemEntries(target).Any())
            throw new ImageException($"{bundleDir}: already exists and is not empty; remove it or choose another directory");
        if (File.Exists(target)) throw new ImageException($"{bundleDir}: exists and is not a directory");
        var parent = Path.GetDirectoryName(target)!;
        Directory.CreateDirectory(parent);
        var temp = Path.Combine(parent, $".{Path.GetFileName(target)}.cnr-{Environment.ProcessId}.tmp");
        if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
        Directory.CreateDirectory(temp);
        try
        {
            var work = Path.Combine(temp, ".source");
            var image = ImageSource.Resolve(source, options, work);
            var rootfs = Path.Combine(temp, "rootfs");
            using (var extractor = new TarExtractor(rootfs))
            {
                foreach (var layer in image.Layers)
                {
                    Console.Error.WriteLine($"Unpacking {layer.Name}");
                    using var tar = Compression.OpenDecompressed(layer.Path);
                    extractor.Apply(tar, layer.Name);
                }
                if (image.Config?.WorkingDir is { Length: > 0 } workingDir) extractor.EnsureDirectory(workingDir);
                foreach (var warning in extractor.Warnings) Log.Warn(warning);
            }
            using (var rootFd = SafeFd.Check(Libc.open(rootfs, Libc.O_PATH | Libc.O_DIRECTORY | Libc.O_CLOEXEC, 0), "open", rootfs))
            {
                var spec = ImageSpec.Create(image, rootFd, rootless: Libc.geteuid() != 0);
                File.WriteAllText(Path.Combine(temp, "config.json"), JsonSerializer.Serialize(spec, SpecJson.Default.RuntimeSpec));
            }
            if (Directory.Exists(work)) Directory.Delete(work, recursive: true);
            if (Directory.Exists(target)) Directory.Delete(target);
            Directory.Move(temp, target);
            return image;
        }
        catch
        {
            try { Directory.Delete(temp, recursive: true); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { Log.Warn($"could not remove {temp}: {e.Message}"); }
            throw;
        }
    }
}
