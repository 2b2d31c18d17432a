using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Cnr.Cli;

/// <summary>Flags with a typed value. Each parses its value itself, so that a bad value is one line naming the
/// flag and the form it wants (System.CommandLine would name a .NET type and print the help).</summary>
internal static partial class FlagValues
{
    public const string SizeForm = "a size in bytes, or with a unit k, m, g, t or p (64m, 1.5g), or -1 for unlimited";

    /// <summary>A memory size as runc's `update` takes it: go-units' RAMInBytes (binary units, the "b" and
    /// "i" optional, any case), and -1 for unlimited.</summary>
    public static Option<long?> Size(string name, string description)
        => Typed<long?>(name, description, (string s, out long? v) => { v = TryParseSize(s, out var n) ? n : null; return v is not null; }, SizeForm);

    public static Option<long?> Int64(string name, string description, string form = "a whole number")
        => Typed<long?>(name, description, (string s, out long? v) => { v = long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) ? n : null; return v is not null; }, form);

    public static Option<ulong?> UInt64(string name, string description, string form = "a whole number, 0 or more")
        => Typed<ulong?>(name, description, (string s, out ulong? v) => { v = ulong.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : null; return v is not null; }, form);

    public static Option<ushort?> UInt16(string name, string description, string form)
        => Typed<ushort?>(name, description, (string s, out ushort? v) => { v = ushort.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : null; return v is not null; }, form);

    public static Option<int> Count(string name, string description)
        => Typed<int>(name, description, (string s, out int v) => int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out v), "a whole number, 0 or more");

    public delegate bool TryParse<T>(string text, out T value);

    private static Option<T> Typed<T>(string name, string description, TryParse<T> parse, string form) => new(name)
    {
        Description = description,
        CustomParser = result =>
        {
            var text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
            if (parse(text, out var value)) return value;
            result.AddError(Error(name, text, form));
            return default;
        },
    };

    /// <summary>`--memory: "64x" is not a size in bytes, …`: the one shape of every bad flag value.</summary>
    public static string Error(string flag, string text, string form) => $"{flag}: \"{text}\" is not {form}";

    public static bool TryParseSize(string text, out long bytes)
    {
        bytes = 0;
        if (text == "-1") { bytes = -1; return true; }
        var m = SizePattern().Match(text);
        if (!m.Success || !double.TryParse(m.Groups[1].Value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var size))
            return false;
        size *= char.ToLowerInvariant(m.Groups[2].Value is [var unit] ? unit : 'b') switch
        {
            'k' => 1L << 10, 'm' => 1L << 20, 'g' => 1L << 30, 't' => 1L << 40, 'p' => 1L << 50, _ => 1,
        };
        if (size >= long.MaxValue) return false;
        bytes = (long)size;
        return true;
    }

    // go-units: (?i)^(\d+(\.\d+)*) ?([kmgtp])?i?b?$ — "1.2.3" matches there and then fails ParseFloat, as here.
    [GeneratedRegex(@"^(\d+(?:\.\d+)*) ?([kmgtpKMGTP])?[iI]?[bB]?$", RegexOptions.CultureInvariant)]
    private static partial Regex SizePattern();
}
