using System.Buffers;
using System.Text;
using System.Text.Unicode;
using System.Text.Json;
using Cnr.Linux;

namespace Cnr.Spec;

/// <summary>Reads a bundle's config.json and validates it. Every failure is one line that names the file,
/// where in it the problem is, and what to do about it.</summary>
public static class SpecLoader
{
    public const string ConfigFile = "config.json";

    public static RuntimeSpec Load(string bundleDir) => Load(ReadConfig(bundleDir, out var file), file, bundleDir);

    /// <summary>The bytes of <paramref name="file"/> (config.json of <paramref name="bundleDir"/>), parsed and validated.</summary>
    internal static RuntimeSpec Load(byte[] json, string file, string bundleDir)
    {
        var spec = Parse(json, file);
        try
        {
            SpecValidator.Validate(spec, bundleDir);
        }
        catch (SpecException e)
        {
            throw e.InFile(file);
        }
        return spec;
    }

    /// <summary>The bytes of the bundle's config.json, unparsed.</summary>
    internal static byte[] ReadConfig(string bundleDir) => ReadConfig(bundleDir, out _);

    private static byte[] ReadConfig(string bundleDir, out string file)
    {
        file = Path.Combine(bundleDir, ConfigFile);
        if (!Directory.Exists(bundleDir))
            throw new SpecException($"bundle {bundleDir}: no such directory (pass the bundle directory with --bundle/-b, or run cnr from inside it)");
        // A FIFO would block the read forever and /dev/zero would never end: only a regular file is read.
        if (Libc.StatMode(SafeFd.AtCwd, file, 0, out uint mode) == 0
            && (mode & Libc.S_IFMT) is not (Libc.S_IFREG or Libc.S_IFDIR))
            throw new SpecException($"{file}: is not a regular file (config.json must be a file; write a default one with `cnr spec --bundle {bundleDir}`)");
        try
        {
            return File.ReadAllBytes(file);
        }
        catch (FileNotFoundException)
        {
            throw new SpecException($"{file}: no such file (write a default one with `cnr spec --bundle {bundleDir}`)");
        }
        // The trimmed binary's exception texts are resource keys, so the message is written here.
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SpecException(Directory.Exists(file)
                ? $"{file}: is a directory (config.json must be a file; write a default one with `cnr spec --bundle {bundleDir}`)"
                : $"{file}: cannot read it: {(e is UnauthorizedAccessException ? "permission denied" : IoError(e))} (check that it is a readable file)");
        }
    }

    /// <summary>An IOException's errno, as .NET keeps it in HResult on Unix ("EIO (Input/output error)").</summary>
    private static string IoError(Exception e)
        => e.HResult is > 0 and < 4096 ? $"{Errno.Name((Error)e.HResult)} ({Errno.Describe((Error)e.HResult)})" : e.GetType().Name;

    /// <summary>Deserializes config.json. Every way the bytes can be wrong becomes one line written here (the
    /// trimmed binary's System.Text.Json texts are resource keys): not UTF-8 (byte offset), not JSON (line and
    /// column), a value of the wrong type or a null where the field takes none (its JSON path).</summary>
    internal static RuntimeSpec Parse(byte[] json, string file)
    {
        RequireUtf8(json, file);
        // Editors on Windows write a byte-order mark; the JSON reader would call it an invalid character.
        if (json.AsSpan().StartsWith("\uFEFF"u8)) json = json[3..];
        if (json.AsSpan().Trim(" \t\r\n"u8).IsEmpty)
            throw new SpecException($"{file}: the file is empty (write a default one with `cnr spec`)");
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip, MaxDepth = MaxDepth });
        }
        catch (JsonException e)
        {
            throw SyntaxError(json, file, e);
        }
        using (document)
        {
            if (document.RootElement.ValueKind == JsonValueKind.Null) throw NullDocument(file);
            try
            {
                return SpecReader.Read(document.RootElement);
            }
            catch (SpecReader.TopLevelException e)
            {
                throw new SpecException($"{file}: expected a JSON object at the top level, found {e.Found} (write a default one with `cnr spec`)");
            }
            catch (SpecException e)
            {
                throw e.InFile(file);
            }
        }
    }

    /// <summary>A config.json that <see cref="Load(byte[], string, string)"/> accepted before (the copy in a
    /// container's state directory, written by cnr): not checked again.</summary>
    public static RuntimeSpec ParseSaved(byte[] json, string file)
    {
        var bytes = json.AsMemory();
        if (bytes.Span.StartsWith("\uFEFF"u8)) bytes = bytes[3..];
        try
        {
            using var document = JsonDocument.Parse(bytes, new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip, MaxDepth = MaxDepth });
            return SpecReader.Read(document.RootElement);
        }
        catch (Exception e) when (e is JsonException or SpecException or SpecReader.TopLevelException)
        {
            throw new InvalidDataException($"{file}: damaged container config (only cnr writes this file: was it edited by hand?)");
        }
    }

    private const int MaxDepth = 64;

    private static SpecException NullDocument(string file)
        => new($"{file}: the file holds null, not a JSON object (write a default one with `cnr spec`)");

    /// <summary>The JSON reader checks UTF-8 only when it turns a string into text, and then names neither the
    /// file nor the place; this names both.</summary>
    private static void RequireUtf8(byte[] json, string file)
    {
        if (Utf8.IsValid(json)) return;
        if (json.AsSpan().StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE]) || json.AsSpan().StartsWith((ReadOnlySpan<byte>)[0xFE, 0xFF]))
            throw new SpecException($"{file}: the file is UTF-16 text (config.json must be UTF-8: convert it, e.g. with `iconv -f UTF-16 -t UTF-8`)");
        var rest = json.AsSpan();
        while (Rune.DecodeFromUtf8(rest, out _, out int length) == OperationStatus.Done) rest = rest[length..];
        int offset = json.Length - rest.Length;
        var before = json.AsSpan(0, offset);
        int line = before.Count((byte)'\n') + 1, column = offset - (before.LastIndexOf((byte)'\n') + 1) + 1;
        throw new SpecException($"{file}: byte offset {offset} (line {line}, column {column}): invalid UTF-8 (byte 0x{json[offset]:X2}) "
            + "(config.json must be UTF-8 text: re-save it as UTF-8, or write the character as a \\u escape)");
    }

    private static SpecException SyntaxError(byte[] json, string file, JsonException e)
    {
        long line = e.LineNumber ?? 0, column = e.BytePositionInLine ?? 0;
        int offset = Offset(json, line, column);
        string what = offset >= json.Length || json.AsSpan(offset).Trim(" \t\r\n"u8).IsEmpty
            ? "unexpected end of file (the file is truncated, or a { or [ is not closed)"
            : Depth(json, offset) >= MaxDepth
            ? $"objects and arrays are nested more than {MaxDepth} deep (no config.json field needs that: check the brackets)"
            : $"invalid JSON at {Excerpt(json, offset)} (check quotes, commas and brackets, e.g. with `jq . {ConfigFile}`)";
        return new SpecException($"{file}: line {line + 1}, column {column + 1}: {what}");
    }

    /// <summary>How many objects and arrays are open before <paramref name="offset"/> (strings skipped).</summary>
    private static int Depth(byte[] json, int offset)
    {
        int depth = 0;
        bool inString = false;
        for (int i = 0; i < offset; i++)
        {
            byte b = json[i];
            if (inString)
            {
                if (b == '\\') i++;
                else if (b == '"') inString = false;
            }
            else if (b == '"') inString = true;
            else if (b == '/' && i + 1 < offset && json[i + 1] == '/') { while (i < offset && json[i] != '\n') i++; }
            else if (b == '/' && i + 1 < offset && json[i + 1] == '*')
            {
                int end = json.AsSpan(i + 2, offset - i - 2).IndexOf("*/"u8);
                i = end < 0 ? offset : i + 2 + end + 1;
            }
            else if (b is (byte)'{' or (byte)'[') depth++;
            else if (b is (byte)'}' or (byte)']') depth--;
        }
        return depth;
    }

    private static int Offset(byte[] json, long line, long column)
    {
        int offset = 0;
        for (long l = 0; l < line && offset < json.Length; offset++)
            if (json[offset] == '\n') l++;
        return (int)Math.Min(json.Length, offset + column);
    }

    private static string Excerpt(byte[] json, int offset)
    {
        int end = offset;
        while (end < json.Length && end - offset < 20 && json[end] is not ((byte)'\n' or (byte)'\r')) end++;
        return $"'{Encoding.UTF8.GetString(json, offset, end - offset)}'";
    }
}
