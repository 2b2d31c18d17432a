namespace Cnr.Image;

/// <summary>What a layer entry's name means under the OCI image spec's whiteout rules
/// (image-spec layer.md): `.wh.NAME` deletes NAME from the layers below, `.wh..wh..opq` makes its
/// directory opaque (the lower layers' contents of it are cleared). Whiteout entries are never written.</summary>
public enum WhiteoutKind { None, Remove, Opaque }

public static class Whiteouts
{
    public const string Prefix = ".wh.";
    public const string OpaqueMarker = ".wh..wh..opq";

    /// <summary>Classifies a normalized entry path ("a/b/.wh.c"); Target is the path the whiteout applies to:
    /// the removed path for Remove, the opaque directory for Opaque ("" is the rootfs itself).</summary>
    public static (WhiteoutKind Kind, string Target) Parse(string path)
    {
        var slash = path.LastIndexOf('/');
        var dir = slash < 0 ? "" : path[..slash];
        var name = path[(slash + 1)..];
        if (name == OpaqueMarker) return (WhiteoutKind.Opaque, dir);
        if (name.StartsWith(Prefix, StringComparison.Ordinal) && name.Length > Prefix.Length)
        {
            var target = name[Prefix.Length..];
            if (target is "." or ".." || target.StartsWith(Prefix, StringComparison.Ordinal))
                throw new ImageException($"tar entry \"{path}\": \"{name}\" is not a valid whiteout");
            return (WhiteoutKind.Remove, dir.Length == 0 ? target : dir + "/" + target);
        }
        return (WhiteoutKind.None, path);
    }

    /// <summary>Whiteouts hide only what lower layers put there: a path the current layer itself wrote
    /// (or a directory that holds such a path) survives an opaque whiteout of its parent.</summary>
    public static bool SurvivesOpaque(string path, IReadOnlySet<string> writtenByThisLayer, bool isDirectory)
        => writtenByThisLayer.Contains(path) || (isDirectory && writtenByThisLayer.Any(p => p.StartsWith(path + "/", StringComparison.Ordinal)));
}

/// <summary>An image or layer that cannot be turned into a bundle; the message is for the user.</summary>
public sealed class ImageException(string message, Exception? inner = null) : Exception(message, inner);
