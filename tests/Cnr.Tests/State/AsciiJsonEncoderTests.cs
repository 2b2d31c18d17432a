using System.Buffers;
using System.Text;
using System.Text.Json;
using Cnr.State;
using Xunit;

namespace Cnr.Tests.State;

/// <summary>The escaping cnr's own JSON writers use instead of JavaScriptEncoder.Default: what JSON requires,
/// non-ASCII as \u escapes, everything else as it is; any string comes back unchanged through a JSON reader.</summary>
public sealed class AsciiJsonEncoderTests
{
    private static string Write(string value)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = AsciiJsonEncoder.Instance }))
            w.WriteStringValue(value);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    [Theory]
    [InlineData("/run/cnr/box", "\"/run/cnr/box\"")]
    [InlineData("a<b>&c'd+e`f", "\"a<b>&c'd+e`f\"")]
    [InlineData("say \"hi\" \\o/", "\"say \\\"hi\\\" \\\\o/\"")]
    [InlineData("tab\there\n", "\"tab\\u0009here\\u000a\"")]
    [InlineData("ünï ☃", "\"\\u00fcn\\u00ef \\u2603\"")]
    [InlineData("\U0001F600", "\"\\ud83d\\ude00\"")]
    [InlineData("\u007f", "\"\\u007f\"")]
    public void Escapes_WhatJsonNeeds_AndNonAscii(string value, string json) => Assert.Equal(json, Write(value));

    [Fact]
    public void EveryString_ReadsBackUnchanged()
    {
        var random = new Random(7);
        for (int n = 0; n < 500; n++)
        {
            var chars = new StringBuilder();
            for (int i = random.Next(0, 40); i > 0; i--)
            {
                var scalar = random.Next(4) switch { 0 => random.Next(0, 0x80), 1 => random.Next(0x80, 0xd800), 2 => random.Next(0xe000, 0x10000), _ => random.Next(0x10000, 0x110000) };
                chars.Append(char.ConvertFromUtf32(scalar));
            }
            var value = chars.ToString();
            var json = Write(value);
            Assert.All(json, c => Assert.InRange(c, ' ', '~'));
            var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(json));
            Assert.True(reader.Read());
            Assert.Equal(value, reader.GetString());
        }
    }
}
