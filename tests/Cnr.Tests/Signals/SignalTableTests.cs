using Cnr.Signals;
using Xunit;

namespace Cnr.Tests.Signals;

public class SignalTableTests
{
    [Theory]
    [InlineData("KILL", 9)]
    [InlineData("SIGKILL", 9)]
    [InlineData("kill", 9)]
    [InlineData("sigterm", 15)]
    [InlineData("TERM", 15)]
    [InlineData("9", 9)]
    [InlineData("15", 15)]
    [InlineData("HUP", 1)]
    [InlineData("USR1", 10)]
    [InlineData("CHLD", 17)]
    [InlineData("CLD", 17)]
    [InlineData("IOT", 6)]
    [InlineData("WINCH", 28)]
    [InlineData("SIGSYS", 31)]
    [InlineData("RTMIN", 34)]
    [InlineData("SIGRTMIN+3", 37)]
    [InlineData("RTMAX", 64)]
    [InlineData("rtmax-2", 62)]
    [InlineData("64", 64)]
    public void TryParse_AcceptsRuncSpellings(string text, int signal)
    {
        Assert.True(SignalTable.TryParse(text, out int parsed));
        Assert.Equal(signal, parsed);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("65")]
    [InlineData("-9")]
    [InlineData("FOO")]
    [InlineData("SIG")]
    [InlineData("")]
    [InlineData("RTMIN+31")]
    [InlineData("RTMIN-1")]
    [InlineData("RTMAX+1")]
    public void TryParse_RefusesOthers(string text) => Assert.False(SignalTable.TryParse(text, out _));

    [Fact]
    public void Parse_ErrorNamesWhatIsAccepted()
    {
        var e = Assert.Throws<FormatException>(() => SignalTable.Parse("FOO"));
        Assert.Equal("\"FOO\" is not a signal (use a name like KILL, SIGTERM, RTMIN+1, or a number from 1 to 64)", e.Message);
    }

    [Theory]
    [InlineData(9, "SIGKILL")]
    [InlineData(15, "SIGTERM")]
    [InlineData(34, "SIGRTMIN")]
    [InlineData(36, "SIGRTMIN+2")]
    [InlineData(62, "SIGRTMAX-2")]
    [InlineData(64, "SIGRTMAX")]
    [InlineData(32, "32")]
    public void Name_IsTheSigName(int signal, string name) => Assert.Equal(name, SignalTable.Name(signal));

    [Fact]
    public void Name_AndTryParse_RoundTripEverySignal()
    {
        for (int s = 1; s <= 64; s++)
        {
            if (s is 32 or 33) continue;
            Assert.True(SignalTable.TryParse(SignalTable.Name(s), out int back));
            Assert.Equal(s, back);
        }
    }
}
