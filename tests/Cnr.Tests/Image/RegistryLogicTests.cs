using System.Text;
using Cnr.Image;
using Cnr.Image.Registry;
using Xunit;

namespace Cnr.Tests.Image;

public sealed class RegistryLogicTests
{
    private static Descriptor Entry(string os, string arch, string? variant = null) => new()
    {
        Digest = $"sha256:{os}-{arch}-{variant}",
        Platform = new Platform { Os = os, Architecture = arch, Variant = variant },
    };

    private static readonly Descriptor[] Index =
        [Entry("linux", "amd64"), Entry("linux", "arm", "v6"), Entry("linux", "arm", "v7"), Entry("linux", "arm64", "v8"), Entry("windows", "amd64")];

    [Theory]
    [InlineData("linux/amd64", 0)]
    [InlineData("linux/arm/v7", 2)]
    [InlineData("linux/arm/v6", 1)]
    [InlineData("linux/arm64", 3)]
    [InlineData("linux/arm64/v8", 3)]
    [InlineData("windows/amd64", 4)]
    public void Select_PicksTheMatchingPlatform(string wanted, int index)
        => Assert.Same(Index[index], Platforms.Select(Index, Platforms.Parse(wanted), "img"));

    [Fact]
    public void Select_WithoutMatch_NamesWhatTheIndexOffers()
    {
        var e = Assert.Throws<ImageException>(() => Platforms.Select(Index, Platforms.Parse("linux/s390x"), "img"));
        Assert.Contains("no image for platform linux/s390x", e.Message);
        Assert.Contains("linux/arm/v7", e.Message);
    }

    [Theory]
    [InlineData("linux")]
    [InlineData("linux/")]
    [InlineData("a/b/c/d")]
    public void ParsePlatform_RefusesMalformed(string text) => Assert.Throws<ImageException>(() => Platforms.Parse(text));

    [Fact]
    public void Verify_RefusesWrongDigestOrSize()
    {
        var data = "hello"u8.ToArray();
        var d = new Descriptor { Digest = Digests.Of(data), Size = data.Length };
        Digests.Verify("blob", d, Digests.Of(data), data.Length);
        Assert.Contains("does not match", Assert.Throws<ImageException>(() => Digests.Verify("blob", d, Digests.Of("hellO"u8), 5)).Message);
        Assert.Contains("size 4", Assert.Throws<ImageException>(() => Digests.Verify("blob", d, d.Digest, 4)).Message);
    }

    [Fact]
    public void BlobStore_KeepsOnlyVerifiedBlobs()
    {
        var root = Path.Combine(Path.GetTempPath(), "cnr-blobs-" + Guid.NewGuid().ToString("N"));
        try
        {
            var store = new BlobStore(root);
            var data = Encoding.UTF8.GetBytes("layer bytes");
            var d = new Descriptor { Digest = Digests.Of(data), Size = data.Length };

            Assert.Throws<ImageException>(() => store.Put(d, new MemoryStream(Encoding.UTF8.GetBytes("layer bytez")), "blob"));
            Assert.Throws<ImageException>(() => store.Put(d, new MemoryStream(Encoding.UTF8.GetBytes("layer bytes and more")), "blob"));
            Assert.Null(store.TryGet(d));
            Assert.Empty(Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories));

            var path = store.Put(d, new MemoryStream(data), "blob");
            Assert.Equal(path, store.TryGet(d));
            File.WriteAllText(path, "layer bytez");
            Assert.Null(store.TryGet(d));
            Assert.False(File.Exists(path));
        }
        finally { if (Directory.Exists(root)) Directory.Delete(root, recursive: true); }
    }

    private sealed class BrokenStream(byte[] first) : MemoryStream(first)
    {
        private bool _served;
        public override int Read(byte[] buffer, int offset, int count)
        {
            if (_served) throw new IOException("connection reset");
            _served = true;
            return base.Read(buffer, offset, count);
        }
    }

    [Fact]
    public void BlobStore_InterruptedDownload_LeavesNothingAndRestartsCleanly()
    {
        var root = Path.Combine(Path.GetTempPath(), "cnr-blobs-" + Guid.NewGuid().ToString("N"));
        try
        {
            var store = new BlobStore(root);
            var data = Encoding.UTF8.GetBytes("a layer that arrives in two tries");
            var d = new Descriptor { Digest = Digests.Of(data), Size = data.Length };
            Directory.CreateDirectory(Path.GetDirectoryName(store.PathOf(d.Digest))!);
            File.WriteAllText(store.PathOf(d.Digest) + ".partial", "left by a killed pull");

            Assert.Throws<IOException>(() => store.Put(d, new BrokenStream(data[..5]), "blob"));
            Assert.Empty(Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories));

            Assert.Equal(store.PathOf(d.Digest), store.Put(d, new MemoryStream(data), "blob"));
            Assert.Equal(data, File.ReadAllBytes(store.PathOf(d.Digest)));
        }
        finally { if (Directory.Exists(root)) Directory.Delete(root, recursive: true); }
    }

    [Fact]
    public void ParseChallenge_ReadsQuotedParametersWithCommas()
    {
        var p = RegistryClient.ParseChallenge("realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\",scope=\"repository:library/alpine:pull,push\"");
        Assert.Equal("https://auth.docker.io/token", p["realm"]);
        Assert.Equal("registry.docker.io", p["service"]);
        Assert.Equal("repository:library/alpine:pull,push", p["scope"]);
    }

    [Theory]
    [InlineData("app", 1000u, 1001u, "10")]
    [InlineData("1000", 1000u, 1001u, "10")]
    [InlineData("4242", 4242u, 0u, null)]
    [InlineData("app:wheel", 1000u, 10u, null)]
    [InlineData("app:0", 1000u, 0u, "10")]
    [InlineData("5:7", 5u, 7u, null)]
    public void Users_ResolveNamesAgainstTheRootfs(string user, uint uid, uint gid, string? additional)
    {
        const string passwd = "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1001::/home/app:/bin/sh\n";
        const string group = "root:x:0:\nwheel:x:10:root,app\napp:x:1001:\n";
        var u = Users.Resolve(user, passwd, group, "img");
        Assert.Equal((uid, gid, additional), (u.Uid, u.Gid, u.AdditionalGids is null ? null : string.Join(',', u.AdditionalGids)));
    }

    [Theory]
    [InlineData("nobody", "no user \"nobody\"")]
    [InlineData("app:staff", "no group \"staff\"")]
    public void Users_UnknownNames_AreErrors(string user, string message)
        => Assert.Contains(message, Assert.Throws<ImageException>(() => Users.Resolve(user, "app:x:1000:1001::/:/bin/sh\n", "app:x:1001:\n", "img")).Message);
}
