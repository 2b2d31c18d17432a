using Cnr.Image;
using Xunit;

namespace Cnr.Tests.Image;

public sealed class WhiteoutsTests
{
    [Theory]
    [InlineData("a/b/.wh.c", WhiteoutKind.Remove, "a/b/c")]
    [InlineData(".wh.top", WhiteoutKind.Remove, "top")]
    [InlineData("a/.wh..wh..opq", WhiteoutKind.Opaque, "a")]
    [InlineData(".wh..wh..opq", WhiteoutKind.Opaque, "")]
    [InlineData("a/b.wh.c", WhiteoutKind.None, "a/b.wh.c")]
    [InlineData("a/.whx", WhiteoutKind.None, "a/.whx")]
    [InlineData("a/.wh.", WhiteoutKind.None, "a/.wh.")]
    public void Parse_ClassifiesEntryNames(string path, WhiteoutKind kind, string target)
        => Assert.Equal((kind, target), Whiteouts.Parse(path));

    [Theory]
    [InlineData("a/.wh...")]
    [InlineData("a/.wh..wh.x")]
    public void Parse_RefusesWhiteoutsOfDotDotOrOtherWhiteouts(string path)
        => Assert.Throws<ImageException>(() => Whiteouts.Parse(path));

    [Fact]
    public void SurvivesOpaque_KeepsOnlyWhatThisLayerWrote()
    {
        var written = new HashSet<string> { "d/new", "d/sub/deep" };
        Assert.True(Whiteouts.SurvivesOpaque("d/new", written, isDirectory: false));
        Assert.True(Whiteouts.SurvivesOpaque("d/sub", written, isDirectory: true));
        Assert.False(Whiteouts.SurvivesOpaque("d/old", written, isDirectory: false));
        Assert.False(Whiteouts.SurvivesOpaque("d/su", written, isDirectory: true));
    }

    [Theory]
    [InlineData("./etc/passwd", "etc/passwd")]
    [InlineData("etc//x/", "etc/x")]
    [InlineData("./", "")]
    [InlineData("a/./b", "a/b")]
    public void Normalize_MakesNamesRelativeToTheRootfs(string name, string path)
        => Assert.Equal(path, TarExtractor.Normalize(name));

    [Theory]
    [InlineData("../etc/passwd")]
    [InlineData("a/../../b")]
    [InlineData("a/..")]
    [InlineData("/etc/passwd")]
    public void Normalize_RefusesNamesThatLeaveTheRootfs(string name)
        => Assert.Throws<ImageException>(() => TarExtractor.Normalize(name));

    [Theory]
    [InlineData(new byte[] { 0x1f, 0x8b, 8 }, CompressionKind.Gzip)]
    [InlineData(new byte[] { 0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00 }, CompressionKind.Xz)]
    [InlineData(new byte[] { 0x28, 0xb5, 0x2f, 0xfd }, CompressionKind.Zstd)]
    [InlineData(new byte[] { 0x42, 0x5a, 0x68, 0x39 }, CompressionKind.Bzip2)]
    [InlineData(new byte[] { 0x2e, 0x2f, 0, 0 }, CompressionKind.None)]
    [InlineData(new byte[0], CompressionKind.None)]
    public void Compression_IsDetectedByMagicBytes(byte[] head, CompressionKind kind)
        => Assert.Equal(kind, Compression.Detect(head));
}
