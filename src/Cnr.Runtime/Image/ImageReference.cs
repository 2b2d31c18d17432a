namespace Cnr.Image;

/// <summary>A registry image reference as docker and podman read it: `alpine` is
/// docker.io/library/alpine:latest; a first component with a dot or colon, or `localhost`, is a registry.</summary>
public sealed record ImageReference(string Registry, string Repository, string? Tag, string? Digest)
{
    public const string DockerHub = "docker.io";

    /// <summary>The reference as it is requested from the registry: the digest wins over the tag.</summary>
    public string Reference => Digest ?? Tag ?? "latest";

    /// <summary>The host the registry API lives on (Docker Hub's is not docker.io).</summary>
    public string ApiHost => Registry == DockerHub ? "registry-1.docker.io" : Registry;

    public override string ToString() => $"{Registry}/{Repository}" + (Tag is null ? "" : ":" + Tag) + (Digest is null ? "" : "@" + Digest);

    public static ImageReference Parse(string text)
    {
        var s = text.StartsWith("docker://", StringComparison.Ordinal) ? text["docker://".Length..] : text;
        if (s.Length == 0 || s.Any(char.IsWhiteSpace))
            throw new ImageException($"\"{text}\" is not an image reference (NAME[:TAG|@DIGEST], e.g. alpine:3.19)");
        string? digest = null;
        var at = s.IndexOf('@');
        if (at >= 0)
        {
            digest = s[(at + 1)..];
            s = s[..at];
            Digests.Validate(digest, $"\"{text}\"");
        }
        string? tag = null;
        var lastColon = s.LastIndexOf(':');
        if (lastColon > s.LastIndexOf('/'))
        {
            tag = s[(lastColon + 1)..];
            s = s[..lastColon];
            if (tag.Length is 0 or > 128 || !tag.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-') || tag[0] is '.' or '-')
                throw new ImageException($"\"{text}\": \"{tag}\" is not a valid tag (letters, digits, _ . -; at most 128)");
        }
        var registry = DockerHub;
        var slash = s.IndexOf('/');
        if (slash > 0 && (s[..slash].Contains('.') || s[..slash].Contains(':') || s[..slash] == "localhost"))
        {
            registry = s[..slash];
            s = s[(slash + 1)..];
        }
        if (registry is "index.docker.io" or "registry-1.docker.io") registry = DockerHub;
        if (registry == DockerHub && !s.Contains('/')) s = "library/" + s;
        if (s.Length == 0 || s.Split('/').Any(c => c.Length == 0 || !c.All(ch => char.IsAsciiLetterLower(ch) || char.IsAsciiDigit(ch) || ch is '.' or '_' or '-')))
            throw new ImageException($"\"{text}\": \"{s}\" is not a valid repository name (lowercase letters, digits, . _ - separated by /)");
        return new ImageReference(registry, s, tag ?? (digest is null ? "latest" : null), digest);
    }
}
