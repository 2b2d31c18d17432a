using System.IO.Compression;
using SharpCompress.Compressors.BZip2;
using SharpCompress.Compressors.Xz;
using SharpCompress.Compressors.ZStandard;

namespace Cnr.Image;

public enum CompressionKind { None, Gzip, Xz, Zstd, Bzip2 }

/// <summary>Layers and rootfs tarballs arrive compressed in any of the usual ways; the magic bytes say which
/// (media types and file names lie: docker-archive layers are often plain tar named .tar.gz and vice versa).</summary>
public static class Compression
{
    public static CompressionKind Detect(ReadOnlySpan<byte> head) => head switch
    {
        [0x1f, 0x8b, ..] => CompressionKind.Gzip,
        [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, ..] => CompressionKind.Xz,
        [0x28, 0xb5, 0x2f, 0xfd, ..] => CompressionKind.Zstd,
        [0x42, 0x5a, 0x68, ..] => CompressionKind.Bzip2,
        _ => CompressionKind.None,
    };

    /// <summary>Opens a file for reading as a plain tar stream, decompressing by its magic bytes.</summary>
    public static Stream OpenDecompressed(string path)
    {
        var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        try
        {
            Span<byte> head = stackalloc byte[6];
            var n = file.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
            file.Position = 0;
            return Detect(head[..n]) switch
            {
                CompressionKind.Gzip => new GZipStream(file, CompressionMode.Decompress),
                CompressionKind.Xz => new BufferedStream(new XZStream(file), 1 << 16),
                CompressionKind.Zstd => new BufferedStream(new DecompressionStream(file), 1 << 16),
                CompressionKind.Bzip2 => new BufferedStream(BZip2Stream.Create(file, SharpCompress.Compressors.CompressionMode.Decompress, decompressConcatenated: true), 1 << 16),
                _ => file,
            };
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }
}
