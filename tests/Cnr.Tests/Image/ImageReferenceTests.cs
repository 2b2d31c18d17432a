using Cnr.Image;
using Xunit;

namespace Cnr.Tests.Image;

public sealed class ImageReferenceTests
{
    [Theory]
    [InlineData("alpine", "docker.io", "library/alpine", "latest", null)]
    [InlineData("alpine:3.19", "docker.io", "library/alpine", "3.19", null)]
    [InlineData("docker://alpine", "docker.io", "library/alpine", "latest", null)]
    [InlineData("docker.io/library/alpine", "docker.io", "library/alpine", "latest", null)]
    [InlineData("index.docker.io/library/alpine:edge", "docker.io", "library/alpine", "edge", null)]
    [InlineData("bitnami/redis:7", "docker.io", "bitnami/redis", "7", null)]
    [InlineData("localhost/a", "localhost", "a", "latest", null)]
    [InlineData("localhost:5000/a/b@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "localhost:5000", "a/b", null, "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")]
    [InlineData("ghcr.io/o/r:v1@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "ghcr.io", "o/r", "v1", "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")]
    [InlineData("127.0.0.1:5000/test/busybox:1", "127.0.0.1:5000", "test/busybox", "1", null)]
    public void Parse_FollowsDockerNormalization(string text, string registry, string repository, string? tag, string? digest)
    {
        var r = ImageReference.Parse(text);
        Assert.Equal((registry, repository, tag, digest), (r.Registry, r.Repository, r.Tag, r.Digest));
    }

    [Fact]
    public void DockerHub_IsReachedThroughItsApiHost_AndDigestWinsOverTag()
    {
        var r = ImageReference.Parse("alpine:3.19@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
        Assert.Equal("registry-1.docker.io", r.ApiHost);
        Assert.Equal(r.Digest, r.Reference);
        Assert.Equal("docker.io/library/alpine:latest", ImageReference.Parse("alpine").ToString());
    }

    [Theory]
    [InlineData("Alpine", "not a valid repository name")]
    [InlineData("alpine:", "not a valid tag")]
    [InlineData("alpine:-x", "not a valid tag")]
    [InlineData("alpine@sha256:abc", "not a sha256 digest")]
    [InlineData("alpine@md5:0123", "not a sha256 digest")]
    [InlineData("a b", "not an image reference")]
    [InlineData("", "not an image reference")]
    public void Parse_RefusesMalformedReferences(string text, string message)
        => Assert.Contains(message, Assert.Throws<ImageException>(() => ImageReference.Parse(text)).Message);
}
