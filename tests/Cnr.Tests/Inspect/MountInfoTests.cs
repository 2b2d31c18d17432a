using Cnr.Inspect;
using Xunit;

namespace Cnr.Tests.Inspect;

public sealed class MountInfoTests
{
    [Fact]
    public void ReadMountInfo_SplitsAtTheDash_SkipsOptionalFields_AndUnescapesSpaces()
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path,
                "612 611 254:0 /work/my\\040box/rootfs / ro,relatime master:1 shared:2 - ext4 /dev/vda rw\n" +
                "613 612 0:61 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw\n");
            var mounts = Inspector.ReadMountInfo(path);
            Assert.Equal(2, mounts.Count);
            Assert.Equal("/", mounts[0].MountPoint);
            Assert.Equal("/work/my box/rootfs", mounts[0].FsRoot);
            Assert.Equal("ext4", mounts[0].FsType);
            Assert.Equal("/dev/vda", mounts[0].Source);
            Assert.Equal("ro,relatime", mounts[0].Options);
            Assert.Equal("proc", mounts[1].FsType);
            Assert.Equal("/proc", mounts[1].MountPoint);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void ReadMountInfo_MissingFile_IsEmpty() => Assert.Empty(Inspector.ReadMountInfo("/nonexistent/mountinfo"));
}
