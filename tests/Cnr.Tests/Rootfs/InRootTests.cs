using Cnr.Linux;
using Cnr.Rootfs;
using Xunit;

namespace Cnr.Tests.Rootfs;

/// <summary>In-root resolution needs no privileges (openat2 and mkdirat on a scratch directory), so the
/// symlink attacks are tested here against real files.</summary>
public sealed class InRootTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cnr-inroot-").FullName;
    private string Rootfs => Path.Combine(_dir, "rootfs");
    private string Outside => Path.Combine(_dir, "outside");

    public InRootTests()
    {
        Directory.CreateDirectory(Rootfs);
        Directory.CreateDirectory(Outside);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("/proc", "/proc")]
    [InlineData("proc/", "/proc")]
    [InlineData("/a//b/./c", "/a/b/c")]
    [InlineData("/a/../../../b", "/b")]
    [InlineData("..", "/")]
    [InlineData("", "/")]
    public void Clean_IsAbsoluteAndNeverAboveRoot(string path, string expected) => Assert.Equal(expected, InRoot.Clean(path));

    [Fact]
    public void OpenOrCreate_MissingDirectories_AreCreatedInsideTheRootfs()
    {
        using var root = new InRoot(Rootfs, Rootfs);
        using var fd = root.OpenOrCreate("/a/b/c", directory: true);
        Assert.True(Directory.Exists(Path.Combine(Rootfs, "a/b/c")));
    }

    [Fact]
    public void OpenOrCreate_File_CreatesParentsAndAnEmptyFile()
    {
        using var root = new InRoot(Rootfs, Rootfs);
        using var fd = root.OpenOrCreate("/etc/resolv.conf", directory: false);
        Assert.True(File.Exists(Path.Combine(Rootfs, "etc/resolv.conf")));
        Assert.Equal(0, new FileInfo(Path.Combine(Rootfs, "etc/resolv.conf")).Length);
    }

    [Fact]
    public void OpenOrCreate_AbsoluteSymlinkToHostDir_StaysInsideTheRootfs()
    {
        File.CreateSymbolicLink(Path.Combine(Rootfs, "evil"), Outside);
        using var root = new InRoot(Rootfs, Rootfs);
        using var fd = root.OpenOrCreate("/evil/sub", directory: true);
        Assert.Empty(Directory.EnumerateFileSystemEntries(Outside));
        Assert.True(Directory.Exists(Rootfs + Outside + "/sub"));
    }

    [Fact]
    public void OpenOrCreate_DotDotSymlink_StaysInsideTheRootfs()
    {
        Directory.CreateDirectory(Path.Combine(Rootfs, "deep/er"));
        File.CreateSymbolicLink(Path.Combine(Rootfs, "deep/er/up"), "../../../../../../outside");
        using var root = new InRoot(Rootfs, Rootfs);
        using var fd = root.OpenOrCreate("/deep/er/up/x", directory: false);
        Assert.Empty(Directory.EnumerateFileSystemEntries(Outside));
        Assert.True(File.Exists(Path.Combine(Rootfs, "outside/x")));
    }

    [Fact]
    public void OpenOrCreate_DanglingRelativeSymlink_IsFollowedFromItsDirectory()
    {
        Directory.CreateDirectory(Path.Combine(Rootfs, "var"));
        File.CreateSymbolicLink(Path.Combine(Rootfs, "var/run"), "../run");
        using var root = new InRoot(Rootfs, Rootfs);
        using var fd = root.OpenOrCreate("/var/run/x", directory: true);
        Assert.True(Directory.Exists(Path.Combine(Rootfs, "run/x")));
    }

    [Fact]
    public void OpenOrCreate_SymlinkLoop_IsELOOP()
    {
        File.CreateSymbolicLink(Path.Combine(Rootfs, "a"), "b");
        File.CreateSymbolicLink(Path.Combine(Rootfs, "b"), "a");
        using var root = new InRoot(Rootfs, Rootfs);
        var e = Assert.Throws<SyscallException>(() => root.OpenOrCreate("/a/x", directory: true));
        Assert.Equal("ELOOP", Errno.Name(e.Number));
    }

    [Fact]
    public void OpenOrCreate_FileInTheWay_SaysWhichPath()
    {
        File.WriteAllText(Path.Combine(Rootfs, "f"), "");
        using var root = new InRoot(Rootfs, Rootfs);
        var e = Assert.Throws<SyscallException>(() => root.OpenOrCreate("/f/x", directory: true));
        Assert.Contains("/f/x", e.Message);
    }

    [Fact]
    public void TryOpen_Missing_IsNull()
    {
        using var root = new InRoot(Rootfs, Rootfs);
        Assert.Null(root.TryOpen("/nope"));
    }
}
