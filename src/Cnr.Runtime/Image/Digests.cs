using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace Cnr.Image;

/// <summary>Content addressing: "sha256:" + 64 lowercase hex digits. Every blob is checked against its
/// descriptor's digest and size before it is used.</summary>
public static class Digests
{
    public static void Validate(string digest, string context)
    {
        if (!digest.StartsWith("sha256:", StringComparison.Ordinal) || digest.Length != 71 || !digest[7..].All(c => char.IsAsciiDigit(c) || c is >= 'a' and <= 'f'))
            throw new ImageException($"{context}: \"{digest}\" is not a sha256 digest (sha256:<64 hex digits>; other algorithms are not supported)");
    }

    public static string Of(ReadOnlySpan<byte> data) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(data));

    public static string OfFile(string path)
    {
        using var f = File.OpenRead(path);
        return "sha256:" + Convert.ToHexStringLower(SHA256.HashData(f));
    }

    /// <summary>Throws unless <paramref name="actualDigest"/>/<paramref name="actualSize"/> match the descriptor.</summary>
    public static void Verify(string what, Descriptor expected, string actualDigest, long actualSize)
    {
        if (expected.Size > 0 && actualSize != expected.Size)
            throw new ImageException($"{what}: size {actualSize} does not match the manifest's {expected.Size} (corrupted or truncated; refused)");
        if (actualDigest != expected.Digest)
            throw new ImageException($"{what}: content digest {actualDigest} does not match {expected.Digest} (corrupted or tampered; refused)");
    }
}

/// <summary>Which manifest of an index runs here: linux and the host's architecture (or --platform).</summary>
public static class Platforms
{
    public static Platform Host => new()
    {
        Os = "linux",
        Architecture = RuntimeInformation.OSArchitecture switch
        {
            Architecture.X64 => "amd64", Architecture.Arm64 => "arm64", Architecture.Arm => "arm",
            Architecture.X86 => "386", Architecture.S390x => "s390x", Architecture.Ppc64le => "ppc64le",
            Architecture.RiscV64 => "riscv64", var a => a.ToString().ToLowerInvariant(),
        },
        Variant = RuntimeInformation.OSArchitecture == Architecture.Arm64 ? "v8" : null,
    };

    /// <summary>Parses OS/ARCH[/VARIANT] ("linux/amd64", "linux/arm64/v8").</summary>
    public static Platform Parse(string text)
    {
        var parts = text.Split('/');
        if (parts.Length is < 2 or > 3 || parts.Any(p => p.Length == 0))
            throw new ImageException($"--platform: \"{text}\" is not OS/ARCH[/VARIANT] (e.g. linux/amd64, linux/arm64/v8)");
        return new Platform { Os = parts[0], Architecture = parts[1], Variant = parts.Length == 3 ? parts[2] : null };
    }

    /// <summary>Picks the index entry for <paramref name="wanted"/>: OS and architecture must match; a variant
    /// must match when both name one (arm64's "v8" is its default and may be omitted on either side).</summary>
    public static Descriptor Select(IReadOnlyList<Descriptor> manifests, Platform wanted, string image)
    {
        static string? Variant(Platform p) => p.Architecture == "arm64" && p.Variant is null ? "v8" : p.Variant;
        var candidates = manifests.Where(m => m.Platform is { } p && p.Os == wanted.Os && p.Architecture == wanted.Architecture).ToList();
        var match = candidates.FirstOrDefault(m => Variant(m.Platform!) == Variant(wanted))
            ?? candidates.FirstOrDefault(m => wanted.Variant is null);
        if (match is not null) return match;
        var offered = string.Join(", ", manifests.Where(m => m.Platform is not null).Select(m => m.Platform!.ToString()).Distinct());
        throw new ImageException($"{image}: no image for platform {wanted} (the index offers: {(offered.Length == 0 ? "none" : offered)}; choose one with --platform)");
    }
}
