using Cnr.Rootfs;
using Xunit;
using static Cnr.Linux.Libc;

namespace Cnr.Tests.Rootfs;

public class MountOptionsTests
{
    [Fact]
    public void Parse_DefaultDevTmpfs_SplitsFlagsFromData()
    {
        var o = MountOptions.Parse(["nosuid", "strictatime", "mode=755", "size=65536k"]);
        Assert.Equal(MS_NOSUID | MS_STRICTATIME, o.Flags);
        Assert.Equal("mode=755,size=65536k", o.Data);
        Assert.False(o.IsBind);
        Assert.Empty(o.Propagation);
    }

    [Fact]
    public void Parse_Devpts_PassesUnknownWordsAsDataInOrder()
    {
        var o = MountOptions.Parse(["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]);
        Assert.Equal(MS_NOSUID | MS_NOEXEC, o.Flags);
        Assert.Equal("newinstance,ptmxmode=0666,mode=0620,gid=5", o.Data);
    }

    [Theory]
    [InlineData("ro", MS_RDONLY)]
    [InlineData("nosuid", MS_NOSUID)]
    [InlineData("nodev", MS_NODEV)]
    [InlineData("noexec", MS_NOEXEC)]
    [InlineData("sync", MS_SYNCHRONOUS)]
    [InlineData("dirsync", MS_DIRSYNC)]
    [InlineData("remount", MS_REMOUNT)]
    [InlineData("mand", MS_MANDLOCK)]
    [InlineData("noatime", MS_NOATIME)]
    [InlineData("nodiratime", MS_NODIRATIME)]
    [InlineData("relatime", MS_RELATIME)]
    [InlineData("strictatime", MS_STRICTATIME)]
    [InlineData("bind", MS_BIND)]
    [InlineData("rbind", MS_BIND | MS_REC)]
    [InlineData("nosymfollow", MS_NOSYMFOLLOW)]
    public void Parse_SetWord_SetsFlag(string word, ulong flag)
    {
        var o = MountOptions.Parse([word]);
        Assert.Equal(flag, o.Flags);
        Assert.Equal(0UL, o.ClearFlags);
        Assert.Null(o.Data);
    }

    [Theory]
    [InlineData("rw", MS_RDONLY)]
    [InlineData("suid", MS_NOSUID)]
    [InlineData("dev", MS_NODEV)]
    [InlineData("exec", MS_NOEXEC)]
    [InlineData("async", MS_SYNCHRONOUS)]
    [InlineData("nomand", MS_MANDLOCK)]
    [InlineData("atime", MS_NOATIME)]
    [InlineData("diratime", MS_NODIRATIME)]
    [InlineData("norelatime", MS_RELATIME)]
    [InlineData("nostrictatime", MS_STRICTATIME)]
    public void Parse_ClearWord_RecordsClearFlag(string word, ulong flag)
    {
        var o = MountOptions.Parse([word]);
        Assert.Equal(0UL, o.Flags);
        Assert.Equal(flag, o.ClearFlags);
    }

    [Fact]
    public void Parse_LaterWordWins()
    {
        Assert.Equal(0UL, MountOptions.Parse(["ro", "rw"]).Flags & MS_RDONLY);
        var o = MountOptions.Parse(["rw", "ro"]);
        Assert.Equal(MS_RDONLY, o.Flags);
        Assert.Equal(0UL, o.ClearFlags);
    }

    [Fact]
    public void Parse_Defaults_IsNoFlag()
    {
        var o = MountOptions.Parse(["defaults"]);
        Assert.Equal(0UL, o.Flags);
        Assert.Null(o.Data);
    }

    [Theory]
    [InlineData("private", MS_PRIVATE)]
    [InlineData("rprivate", MS_PRIVATE | MS_REC)]
    [InlineData("shared", MS_SHARED)]
    [InlineData("rshared", MS_SHARED | MS_REC)]
    [InlineData("slave", MS_SLAVE)]
    [InlineData("rslave", MS_SLAVE | MS_REC)]
    [InlineData("unbindable", MS_UNBINDABLE)]
    [InlineData("runbindable", MS_UNBINDABLE | MS_REC)]
    public void Parse_PropagationWord_IsSeparateStep(string word, ulong flag)
    {
        var o = MountOptions.Parse(["rbind", word]);
        Assert.Equal(MS_BIND | MS_REC, o.Flags);
        Assert.Equal([flag], o.Propagation);
        Assert.Equal(flag, MountOptions.Propagation(word));
    }

    [Fact]
    public void Parse_RecursiveAttributes_GoToMountSetattr()
    {
        var o = MountOptions.Parse(["rbind", "rro", "rnosuid", "rdev"]);
        Assert.Equal(MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID, o.RecursiveSet);
        Assert.Equal(MOUNT_ATTR_NODEV, o.RecursiveClear);
        Assert.Equal(MS_BIND | MS_REC, o.Flags);
        Assert.Null(o.Data);
    }

    [Fact]
    public void Parse_RecursiveAtime_ClearsTheWholeAtimeField()
    {
        var o = MountOptions.Parse(["rnoatime"]);
        Assert.Equal(MOUNT_ATTR_NOATIME, o.RecursiveSet);
        Assert.Equal(MOUNT_ATTR__ATIME, o.RecursiveClear);
        Assert.Equal(MOUNT_ATTR_STRICTATIME, MountOptions.Parse(["rnoatime", "rstrictatime"]).RecursiveSet);
    }

    [Fact]
    public void Parse_TmpCopyUp_IsFlaggedNotPassedAsData()
    {
        var o = MountOptions.Parse(["tmpcopyup", "mode=755"]);
        Assert.True(o.TmpCopyUp);
        Assert.Equal("mode=755", o.Data);
    }

    [Fact]
    public void Parse_Null_IsEmpty()
    {
        var o = MountOptions.Parse(null);
        Assert.Equal(0UL, o.Flags);
        Assert.Null(o.Data);
    }

    [Fact]
    public void Propagation_UnknownWord_IsNull() => Assert.Null(MountOptions.Propagation("sharedd"));

    [Fact]
    public void FlagNames_SpellsFlagsAsC()
    {
        Assert.Equal("MS_NOSUID|MS_NODEV|MS_NOEXEC", MountOptions.FlagNames(MS_NOSUID | MS_NODEV | MS_NOEXEC));
        Assert.Equal("MS_REC|MS_SLAVE", MountOptions.FlagNames(MS_REC | MS_SLAVE));
        Assert.Equal("0", MountOptions.FlagNames(0));
    }

    [Fact]
    public void OptionString_IsMountDashO()
        => Assert.Equal("ro,nosuid,mode=755", MountOptions.OptionString(MS_RDONLY | MS_NOSUID | MS_BIND, "mode=755"));
}
