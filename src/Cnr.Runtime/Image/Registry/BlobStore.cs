using System.Security.Cryptography;

namespace Cnr.Image.Registry;

/// <summary>Blobs by digest under STORE/sha256/HEX, shared by every pull. A download goes to a private temp
/// file that is hashed as it is written and renamed into place only once its digest and size check out, so
/// the store holds complete, verified blobs only. The temp file's name is fixed per digest and locked while
/// written: an interrupted download is simply started again over it, and two pulls never write one file.</summary>
public sealed class BlobStore(string root)
{
    public string Root { get; } = root;

    public string PathOf(string digest) => Path.Combine(Root, "sha256", digest[7..]);

    /// <summary>The cached blob if present and intact (a damaged one is removed).</summary>
    public string? TryGet(Descriptor d)
    {
        var path = PathOf(d.Digest);
        if (!File.Exists(path)) return null;
        if (new FileInfo(path).Length == d.Size && Digests.OfFile(path) == d.Digest) return path;
        File.Delete(path);
        return null;
    }

    /// <summary>Writes <paramref name="content"/> as blob <paramref name="d"/>, reporting bytes written.</summary>
    public string Put(Descriptor d, Stream content, string what, Action<long>? progress = null)
    {
        var final = PathOf(d.Digest);
        Directory.CreateDirectory(Path.GetDirectoryName(final)!);
        var temp = final + ".partial";
        FileStream file;
        try { file = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16); }
        catch (IOException e)
        {
            throw new ImageException($"{what}: {temp} is being written by another cnr ({e.Message}); try again when it is done", e);
        }
        using (file)
        {
            try
            {
                using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                long size = 0;
                var buffer = new byte[1 << 16];
                for (int n; (n = content.Read(buffer)) > 0;)
                {
                    hash.AppendData(buffer, 0, n);
                    file.Write(buffer, 0, n);
                    size += n;
                    progress?.Invoke(size);
                    if (d.Size > 0 && size > d.Size) break;
                }
                file.Flush();
                Digests.Verify(what, d, "sha256:" + Convert.ToHexStringLower(hash.GetHashAndReset()), size);
                // Renamed and, on failure, removed while still locked, so no other pull's file is touched.
                File.Move(temp, final, overwrite: true);
                return final;
            }
            catch
            {
                File.Delete(temp);
                throw;
            }
        }
    }
}
