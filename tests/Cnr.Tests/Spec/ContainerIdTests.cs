using Cnr.Spec;
using Xunit;

namespace Cnr.Tests.Spec;

public class ContainerIdTests
{
    [Theory]
    [InlineData("../x")]
    [InlineData("a/b")]
    [InlineData("..")]
    [InlineData(".")]
    [InlineData("a b")]
    [InlineData("é")]
    [InlineData("x\n")]
    public void Validate_RefusesIdsThatAreNotPlainNames(string id)
    {
        var e = Assert.Throws<ArgumentException>(() => ContainerId.Validate(id));
        Assert.Equal($"container id \"{id}\" is invalid (use letters, digits, '_', '+', '-', '.'; at most 1024 characters; not \".\" or \"..\")", e.Message);
    }

    [Fact]
    public void Validate_RefusesEmptyAndTooLong()
    {
        Assert.Contains("empty", Assert.Throws<ArgumentException>(() => ContainerId.Validate("")).Message);
        Assert.Throws<ArgumentException>(() => ContainerId.Validate(new string('a', 1025)));
        ContainerId.Validate(new string('a', 1024));
    }

    [Theory]
    [InlineData("my-box.1")]
    [InlineData("mybox")]
    [InlineData("a_b+c")]
    [InlineData("...")]
    [InlineData("0")]
    public void Validate_AcceptsRuncIds(string id) => ContainerId.Validate(id);
}
