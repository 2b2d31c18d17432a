using System.Buffers;
using System.Text;
using System.Text.Unicode;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
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
        if (Libc.StatMode(Libc.AT_FDCWD, file, 0, out uint mode) == 0
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
        => e.HResult is > 0 and < 4096 ? $"{Errno.Name(e.HResult)} ({Errno.Describe(e.HResult)})" : e.GetType().Name;

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
                CheckValues(document.RootElement, SpecJson.Default.RuntimeSpec, "");
            }
            catch (SpecException e)
            {
                throw e.InFile(file);
            }
            try
            {
                return document.Deserialize(SpecJson.Default.RuntimeSpec) ?? throw NullDocument(file);
            }
            catch (JsonException e)
            {
                throw TypeError(document, file, e.Path is { Length: > 0 } p ? p : "$");
            }
        }
    }

    /// <summary>A config.json that <see cref="Load(byte[], string, string)"/> accepted before (the copy in a
    /// container's state directory, written by cnr): not checked again.</summary>
    public static RuntimeSpec ParseSaved(byte[] json, string file)
    {
        var bytes = json.AsSpan();
        if (bytes.StartsWith("\uFEFF"u8)) bytes = bytes[3..];
        return JsonSerializer.Deserialize(bytes, SpecJson.Default.RuntimeSpec) ?? throw new InvalidDataException($"{file}: holds null");
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

    /// <summary>What the serializer would let through to code that cannot take it: null where a field or a list
    /// entry takes none, a NUL character (no path or name can hold one), a \u escape that is half a UTF-16
    /// surrogate pair. Only fields cnr reads are checked: unknown ones are ignored, as the spec says.</summary>
    private static void CheckValues(JsonElement value, JsonTypeInfo type, string path)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Object when type.Kind == JsonTypeInfoKind.Dictionary:
                foreach (var entry in value.EnumerateObject())
                {
                    var entryPath = $"{path}[{SpecException.Show(Key(entry, path))}]";
                    if (Info(type.ElementType) is { } element)
                    {
                        if (entry.Value.ValueKind == JsonValueKind.Null)
                            throw new SpecException(entryPath, $"expected {Expected(element.Type)}, found null", "give a value, or remove the entry");
                        CheckValues(entry.Value, element, entryPath);
                    }
                }
                break;
            case JsonValueKind.Object when type.Kind == JsonTypeInfoKind.Object:
                foreach (var field in value.EnumerateObject())
                {
                    var name = Key(field, path);
                    if (type.Properties.FirstOrDefault(p => p.Name == name) is not { } property || Info(property.PropertyType) is not { } fieldType)
                        continue;
                    var fieldPath = path.Length == 0 ? name : $"{path}.{name}";
                    if (field.Value.ValueKind == JsonValueKind.Null)
                    {
                        if (!property.IsSetNullable)
                            throw new SpecException(fieldPath, $"expected {Expected(property.PropertyType)}, found null", "give a value, or leave the field out");
                        continue;
                    }
                    CheckValues(field.Value, fieldType, fieldPath);
                }
                break;
            case JsonValueKind.Array when type.Kind == JsonTypeInfoKind.Enumerable && Info(type.ElementType) is { } element:
                int i = 0;
                foreach (var item in value.EnumerateArray())
                {
                    var itemPath = $"{path}[{i++}]";
                    if (item.ValueKind == JsonValueKind.Null)
                        throw new SpecException(itemPath, $"expected {Expected(element.Type)}, found null", "remove the entry");
                    CheckValues(item, element, itemPath);
                }
                break;
            case JsonValueKind.String when type.Type == typeof(string):
                string text;
                try { text = value.GetString()!; }
                catch (InvalidOperationException) { throw BadEscape(path); }
                if (text.Contains('\0'))
                    throw new SpecException(path, "contains a NUL character (\\u0000)", "remove it: no path, name or value can hold one");
                break;
        }
    }

    /// <summary>An object's key, checked as a string value is.</summary>
    private static string Key(JsonProperty property, string path)
    {
        string key;
        try { key = property.Name; }
        catch (InvalidOperationException) { throw BadEscape(path.Length == 0 ? "a key at the top level" : $"a key in {path}"); }
        if (key.Contains('\0'))
            throw new SpecException(path.Length == 0 ? "a key at the top level" : $"a key in {path}", $"{SpecException.Show(key)} contains a NUL character", "remove it: no name can hold one");
        return key;
    }

    private static SpecException BadEscape(string path)
        => new(path, "holds a \\u escape that is half of a UTF-16 surrogate pair (\\uD800–\\uDFFF alone)", "write the character itself, or both halves of the pair");

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

    private static SpecException TypeError(JsonDocument document, string file, string jsonPath)
    {
        var segments = JsonPathSegments(jsonPath);
        JsonElement value = document.RootElement;
        JsonTypeInfo? type = SpecJson.Default.RuntimeSpec;
        foreach (var segment in segments)
        {
            if (value.ValueKind == JsonValueKind.Object && segment.Name is { } name && value.TryGetProperty(name, out var child))
            {
                value = child;
                type = type is null ? null
                    : type.Kind == JsonTypeInfoKind.Dictionary ? Info(type.ElementType)
                    : Info(type.Properties.FirstOrDefault(p => p.Name == name)?.PropertyType);
            }
            else if (value.ValueKind == JsonValueKind.Array && segment.Index is int i && i < value.GetArrayLength())
            {
                value = value[i];
                type = type is null ? null : Info(type.ElementType);
            }
            else break;
        }
        string found = Found(value);
        if (jsonPath == "$")
            return new SpecException($"{file}: expected a JSON object at the top level, found {found} (write a default one with `cnr spec`)");
        string path = jsonPath.StartsWith("$.", StringComparison.Ordinal) ? jsonPath[2..] : jsonPath.StartsWith('$') ? jsonPath[1..] : jsonPath;
        string expected = type is null ? "another type" : Expected(type.Type);
        string fix = value.ValueKind == JsonValueKind.String && expected.Contains("number") ? " (write the number without quotes)" : "";
        return new SpecException($"{file}: {path}: expected {expected}, found {found}{fix}");
    }

    private static JsonTypeInfo? Info(Type? type) => type is null ? null : SpecJson.Default.GetTypeInfo(type);

    private static string Expected(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (type == typeof(string)) return "a string";
        if (type == typeof(bool)) return "true or false";
        if (type == typeof(uint)) return "a number from 0 to 4294967295";
        if (type == typeof(ushort)) return "a number from 0 to 65535";
        if (type == typeof(ulong)) return "a number from 0 to 18446744073709551615";
        if (type == typeof(int)) return "a number from -2147483648 to 2147483647";
        if (type == typeof(long)) return "a number from -9223372036854775808 to 9223372036854775807";
        var info = SpecJson.Default.GetTypeInfo(type);
        return info?.Kind switch
        {
            JsonTypeInfoKind.Enumerable => "an array",
            JsonTypeInfoKind.Object or JsonTypeInfoKind.Dictionary => "an object",
            _ => "another type",
        };
    }

    private static string Found(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => $"the string {SpecException.Shorten(value.GetRawText())}",
        JsonValueKind.Number => $"the number {SpecException.Shorten(value.GetRawText())}",
        JsonValueKind.True or JsonValueKind.False => value.GetRawText(),
        JsonValueKind.Null => "null",
        JsonValueKind.Array => "an array",
        _ => "an object",
    };

    private readonly record struct Segment(string? Name, int? Index);

    /// <summary>Splits System.Text.Json's path ("$.linux.namespaces[2].type", "$.annotations['a.b']").</summary>
    private static List<Segment> JsonPathSegments(string path)
    {
        var segments = new List<Segment>();
        int i = 1; // past '$'
        while (i < path.Length)
        {
            if (path[i] == '.')
            {
                int end = path.IndexOfAny(['.', '['], i + 1);
                if (end < 0) end = path.Length;
                segments.Add(new Segment(path[(i + 1)..end], null));
                i = end;
            }
            else if (path.AsSpan(i).StartsWith("['"))
            {
                int end = path.IndexOf("']", i + 2, StringComparison.Ordinal);
                if (end < 0) break;
                segments.Add(new Segment(path[(i + 2)..end], null));
                i = end + 2;
            }
            else if (path[i] == '[')
            {
                int end = path.IndexOf(']', i);
                if (end < 0 || !int.TryParse(path.AsSpan(i + 1, end - i - 1), out int index)) break;
                segments.Add(new Segment(null, index));
                i = end + 1;
            }
            else break;
        }
        return segments;
    }
}
