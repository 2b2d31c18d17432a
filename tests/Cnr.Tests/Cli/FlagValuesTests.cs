using Cnr.Cli;
using Xunit;

namespace Cnr.Tests.Cli;

public class FlagValuesTests
{
    [Theory]
    [InlineData("0", 0L)]
    [InlineData("100", 100L)]
    [InlineData("64m", 64L << 20)]
    [InlineData("64M", 64L << 20)]
    [InlineData("64mb", 64L << 20)]
    [InlineData("64MiB", 64L << 20)]
    [InlineData("64 m", 64L << 20)]
    [InlineData("1k", 1024L)]
    [InlineData("1KB", 1024L)]
    [InlineData("2g", 2L << 30)]
    [InlineData("1.5g", 3L << 29)]
    [InlineData("1t", 1L << 40)]
    [InlineData("1p", 1L << 50)]
    [InlineData("512b", 512L)]
    [InlineData("-1", -1L)]
    public void TryParseSize_TakesRuncsUnits(string text, long bytes)
    {
        Assert.True(FlagValues.TryParseSize(text, out var parsed));
        Assert.Equal(bytes, parsed);
    }

    [Theory]
    [InlineData("")]
    [InlineData("64x")]
    [InlineData("m")]
    [InlineData("-2")]
    [InlineData("-64m")]
    [InlineData("1.2.3")]
    [InlineData("64  m")]
    [InlineData("0x10")]
    [InlineData("99999999p")]
    public void TryParseSize_RefusesOthers(string text) => Assert.False(FlagValues.TryParseSize(text, out _));
}
