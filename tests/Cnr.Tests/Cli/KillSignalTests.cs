using Cnr.Cli;
using Xunit;

namespace Cnr.Tests.Cli;

public class KillSignalTests
{
    [Theory]
    [InlineData("0", 0)]
    [InlineData(" 0", 0)]
    [InlineData("KILL", 9)]
    [InlineData("SIGTERM", 15)]
    [InlineData("rtmin+1", 35)]
    [InlineData("64", 64)]
    public void ParseSignal_TakesZeroAndEverySignal(string text, int signal) => Assert.Equal(signal, KillCommand.ParseSignal(text));

    [Theory]
    [InlineData("FOO")]
    [InlineData("65")]
    [InlineData("-9")]
    [InlineData("00x")]
    public void ParseSignal_RefusesOthersInOneLine(string text)
    {
        var e = Assert.Throws<UsageException>(() => KillCommand.ParseSignal(text));
        Assert.Equal($"kill: \"{text}\" is not a signal (a name like KILL, SIGTERM, RTMIN+1, a number from 1 to 64, or 0 to check that the container runs)", e.Message);
    }
}
