using Cnr.Process;
using Xunit;

namespace Cnr.Tests.Process;

public class RlimitTableTests
{
    [Theory]
    [InlineData("RLIMIT_CPU", 0)]
    [InlineData("RLIMIT_CORE", 4)]
    [InlineData("RLIMIT_NPROC", 6)]
    [InlineData("RLIMIT_NOFILE", 7)]
    [InlineData("RLIMIT_MEMLOCK", 8)]
    [InlineData("RLIMIT_AS", 9)]
    [InlineData("RLIMIT_RTTIME", 15)]
    public void TryParse_MatchesLinuxNumbers(string name, int number)
    {
        Assert.True(RlimitTable.TryParse(name, out int resource));
        Assert.Equal(number, resource);
        Assert.Equal(name, RlimitTable.Name(number));
    }

    [Fact]
    public void Table_HasAllSixteen() => Assert.Equal(16, RlimitTable.All.Count);

    [Theory]
    [InlineData("rlimit_nofile")]
    [InlineData("NOFILE")]
    [InlineData("RLIMIT_FOO")]
    public void TryParse_IsExact(string name) => Assert.False(RlimitTable.TryParse(name, out _));
}
