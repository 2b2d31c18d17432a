using Cnr.Linux;
using Cnr.Process;
using Xunit;

namespace Cnr.Tests.Process;

/// <summary>The init's failure reaches the user in the parent's one format.</summary>
public class InitErrorTests
{
    [Fact]
    public void SyscallFailure_CrossesAsItsParts()
    {
        var sent = new SyscallException("mount", Error.EINVAL, "tmpfs to /mnt", "mounts[3]");
        var got = Assert.IsType<SyscallException>(InitError.Decode(InitError.Encode(sent)));
        Assert.Equal((sent.Call, sent.Number, sent.Detail, sent.Where, sent.Message), (got.Call, got.Number, got.Detail, got.Where, got.Message));
        Assert.StartsWith("mounts[3]: mount tmpfs to /mnt: EINVAL (", got.Message);
    }

    [Fact]
    public void OtherFailure_CrossesAsItsMessage()
    {
        var got = InitError.Decode(InitError.Encode(new InvalidOperationException("mounts[0]: proc on /proc: is a symlink")));
        Assert.Equal("mounts[0]: proc on /proc: is a symlink", Assert.IsType<InitFailedException>(got).Message);
    }

    [Fact]
    public void DamagedPayload_IsStillAnError()
        => Assert.Contains("damaged", InitError.Decode([1, 5]).Message);
}
