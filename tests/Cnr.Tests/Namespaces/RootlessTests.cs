using Cnr.Namespaces;
using Xunit;

namespace Cnr.Tests.Namespaces;

public class RootlessTests
{
    [Fact]
    public void TheHostsUserNamespace_IsNotRootless_AndKeepsTheUid()
        => Assert.Equal((false, 0u), Rootless.Parse("         0          0 4294967295\n", 0));

    [Fact]
    public void RootOfPodmansUserNamespace_IsRootless_AsTheUsersUid()
        => Assert.Equal((true, 1001u), Rootless.Parse("         0       1001          1\n         1     100000      65536\n", 0));

    [Fact]
    public void AnIdOfTheSubordinateRange_MapsIntoIt()
        => Assert.Equal((true, 100999u), Rootless.Parse("0 1001 1\n1 100000 65536\n", 1000));

    [Fact]
    public void AnUnreadableMap_CountsAsTheHosts()
        => Assert.Equal((false, 7u), Rootless.Parse(null, 7));
}
