using System.Text;

namespace Cnr.Spec;

/// <summary>A config.json that cnr cannot run. The message is one line for the user: where (a JSON path
/// such as <c>linux.namespaces[2].type</c>, or the file), what is wrong, and in parentheses how to fix it.</summary>
public sealed class SpecException : Exception
{
    /// <summary>Values are cut to this many characters in messages: a 5 MB string stays one readable line.</summary>
    public const int ShownLength = 80;

    /// <summary>The JSON path of the offending value ("process.args"), or null for file-level errors.</summary>
    public string? JsonPath { get; }

    public SpecException(string message) : base(OneLine(message)) { }

    public SpecException(string jsonPath, string problem, string fix) : this($"{jsonPath}: {problem} ({fix})", jsonPath) { }

    private SpecException(string message, string? jsonPath) : base(OneLine(message)) => JsonPath = jsonPath;

    /// <summary>The same error, prefixed with the file it was found in.</summary>
    public SpecException InFile(string file) => new($"{file}: {Message}", JsonPath);

    /// <summary>Paths are shown whole up to PATH_MAX: their end is what the user needs to see.</summary>
    public const int ShownPathLength = 4096;

    /// <summary>A value from the config as a message shows it: quoted, control characters escaped, and cut
    /// after <paramref name="max"/> characters with the full length said.</summary>
    public static string Show(string? value, int max = ShownLength) => value is null ? "null" : "\"" + Shorten(value, max) + "\"";

    /// <summary><see cref="Show"/> without the quotes.</summary>
    public static string Shorten(string value, int max = ShownLength)
        => value.Length <= max ? Escape(value) : $"{Escape(value[..max])}… ({value.Length} characters)";

    /// <summary>Whatever a message quotes, it stays one line: a newline inside a value must not start a second.</summary>
    private static string OneLine(string message) => Escape(message);

    private static string Escape(string value)
    {
        if (value.AsSpan().IndexOfAnyInRange('\0', '\x1f') < 0 && !value.Contains('\x7f')) return value;
        var sb = new StringBuilder(value.Length + 8);
        foreach (char c in value)
            sb.Append(c switch
            {
                '\n' => "\\n", '\r' => "\\r", '\t' => "\\t",
                < ' ' or '\x7f' => $"\\u{(int)c:x4}",
                _ => c.ToString(),
            });
        return sb.ToString();
    }
}
