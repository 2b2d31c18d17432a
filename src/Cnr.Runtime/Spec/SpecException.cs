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

    /// <summary>A value from the config as a message shows it: quoted, control characters escaped, and cut
    /// after <see cref="ShownLength"/> characters with the full length said.</summary>
    public static string Show(string? value) => value is null ? "null" : "\"" + Shorten(value) + "\"";

    /// <summary><see cref="Show"/> without the quotes.</summary>
    public static string Shorten(string value)
        => value.Length <= ShownLength ? Escape(value) : $"{Escape(value[..ShownLength])}… ({value.Length} characters)";

    /// <summary>A path as a message shows it: whole up to 3 × <see cref="ShownLength"/> characters, else its
    /// start and its end (the part the user needs to see), with the full length said.</summary>
    public static string ShortenPath(string path)
        => path.Length <= 3 * ShownLength ? Escape(path)
         : $"{Escape(path[..ShownLength])}…{Escape(path[^ShownLength..])} ({path.Length} characters)";

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
