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
        Assert.Equal($"container id \"{id.Replace("\n", "\\n")}\" is invalid (use letters, digits, '_', '+', '-', '.'; not \".\" or \"..\")", e.Message);
    }

    [Fact]
    public void Validate_RefusesEmpty() => Assert.Contains("empty", Assert.Throws<ArgumentException>(() => ContainerId.Validate("")).Message);

    // 255 is what mkdir under --root takes (NAME_MAX): runc 1.1 accepts a 300-character id and then fails with
    // "lstat …: file name too long"; the old limit here, 1024, was never reachable.
    [Fact]
    public void Validate_TooLong_StatesTheRealLimit()
    {
        var e = Assert.Throws<ArgumentException>(() => ContainerId.Validate(new string('a', 300)));
        Assert.Equal($"container id \"{new string('a', 20)}…\" is 300 characters long (at most 255: the id names a directory under --root, and a file name is at most 255 bytes)", e.Message);
        Assert.Throws<ArgumentException>(() => ContainerId.Validate(new string('a', 256)));
        ContainerId.Validate(new string('a', 255));
    }

    [Theory]
    [InlineData("my-box.1")]
    [InlineData("mybox")]
    [InlineData("a_b+c")]
    [InlineData("...")]
    [InlineData("0")]
    public void Validate_AcceptsRuncIds(string id) => ContainerId.Validate(id);
}
