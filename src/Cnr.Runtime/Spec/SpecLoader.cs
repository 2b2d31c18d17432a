using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Cnr.Spec;

/// <summary>Reads a bundle's config.json and validates it. Every failure is one line that names the file,
/// where in it the problem is, and what to do about it.</summary>
public static class SpecLoader
{
    public const string ConfigFile = "config.json";

    public static RuntimeSpec Load(string bundleDir)
    {
        var spec = Parse(ReadConfig(bundleDir, out var file), file);
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

    private static byte[] ReadConfig(string bundleDir, out string file)
    {
        file = Path.Combine(bundleDir, ConfigFile);
        if (!Directory.Exists(bundleDir))
            throw new SpecException($"bundle {bundleDir}: no such directory (pass the bundle directory with --bundle/-b, or run cnr from inside it)");
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
                : $"{file}: cannot read it: {(e is UnauthorizedAccessException ? "permission denied" : e.GetType().Name)} (check that it is a readable file)");
        }
    }

    /// <summary>Deserializes config.json, turning System.Text.Json's exceptions (whose texts are resource keys
    /// in the trimmed binary) into messages written here from the exception's position and path.</summary>
    internal static RuntimeSpec Parse(byte[] json, string file)
    {
        // Editors on Windows write a byte-order mark; the JSON reader would call it an invalid character.
        if (json.AsSpan().StartsWith("\uFEFF"u8)) json = json[3..];
        if (json.AsSpan().Trim(" \t\r\n"u8).IsEmpty)
            throw new SpecException($"{file}: the file is empty (write a default one with `cnr spec`)");
        try
        {
            return JsonSerializer.Deserialize(json, SpecJson.Default.RuntimeSpec)
                ?? throw new SpecException($"{file}: the file holds null, not a JSON object (write a default one with `cnr spec`)");
        }
        catch (JsonException e)
        {
            throw Describe(json, file, e);
        }
    }

    private static SpecException Describe(byte[] json, string file, JsonException e)
    {
        // The serializer reports syntax and type errors alike; a syntax-only parse tells them apart.
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        }
        catch (JsonException syntax)
        {
            return SyntaxError(json, file, syntax);
        }
        using (document)
            return TypeError(document, file, e.Path ?? "$");
    }

    private static SpecException SyntaxError(byte[] json, string file, JsonException e)
    {
        long line = e.LineNumber ?? 0, column = e.BytePositionInLine ?? 0;
        int offset = Offset(json, line, column);
        string what = offset >= json.Length || json.AsSpan(offset).Trim(" \t\r\n"u8).IsEmpty
            ? "unexpected end of file (the file is truncated, or a { or [ is not closed)"
            : $"invalid JSON at {Excerpt(json, offset)} (check quotes, commas and brackets, e.g. with `jq . {ConfigFile}`)";
        return new SpecException($"{file}: line {line + 1}, column {column + 1}: {what}");
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
        string path = jsonPath.StartsWith("$.", StringComparison.Ordinal) ? jsonPath[2..] : jsonPath[1..];
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
        if (type == typeof(long)) return "a number";
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
        JsonValueKind.String => $"the string {value.GetRawText()}",
        JsonValueKind.Number => $"the number {value.GetRawText()}",
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
