using System.Text;
using System.Text.Encodings.Web;

namespace Cnr.State;

/// <summary>String escaping for the JSON cnr writes on its hot paths (state.json, `state`, `list`): what JSON
/// requires (control characters, '"', '\') and everything outside printable ASCII as \uXXXX, as System.Text.Json's
/// default does; HTML-sensitive characters (&lt; &gt; &amp; ' + `) stay as they are, as runc and crun write them.
/// Not JavaScriptEncoder.Default, which Utf8JsonWriter asks for every string it writes: its class constructor
/// builds the tables of both built-in encoders, one of them over all of Unicode (~0.3 ms of every `create`
/// and `state`, measured with perf).</summary>
public sealed class AsciiJsonEncoder : JavaScriptEncoder
{
    public static readonly AsciiJsonEncoder Instance = new();

    private AsciiJsonEncoder() { }

    /// <summary>A scalar above U+FFFF: its surrogate pair, \uXXXX\uXXXX.</summary>
    public override int MaxOutputCharactersPerInputCharacter => 12;

    public override bool WillEncode(int unicodeScalar) => unicodeScalar is < 0x20 or > 0x7e or '"' or '\\';

    public override unsafe int FindFirstCharacterToEncode(char* text, int textLength)
    {
        for (int i = 0; i < textLength; i++)
            if (WillEncode(text[i])) return i;
        return -1;
    }

    public override unsafe bool TryEncodeUnicodeScalar(int unicodeScalar, char* buffer, int bufferLength, out int numberOfCharactersWritten)
    {
        var output = new Span<char>(buffer, bufferLength);
        numberOfCharactersWritten = 0;
        if (!WillEncode(unicodeScalar))
        {
            if (output.IsEmpty) return false;
            output[0] = (char)unicodeScalar;
            numberOfCharactersWritten = 1;
            return true;
        }
        if (unicodeScalar is '"' or '\\')
        {
            if (output.Length < 2) return false;
            output[0] = '\\';
            output[1] = (char)unicodeScalar;
            numberOfCharactersWritten = 2;
            return true;
        }
        Span<char> units = stackalloc char[2];
        int count = new Rune(unicodeScalar).EncodeToUtf16(units);
        if (output.Length < 6 * count) return false;
        for (int i = 0; i < count; i++)
        {
            var at = output.Slice(6 * i, 6);
            at[0] = '\\';
            at[1] = 'u';
            ((int)units[i]).TryFormat(at[2..], out _, "x4");
        }
        numberOfCharactersWritten = 6 * count;
        return true;
    }
}
