using Cnr.Checkpoint;
using Cnr.Checkpoint.Rpc;
using Google.Protobuf;
using Xunit;

namespace Cnr.Tests.Checkpoint;

public sealed class CriuTests
{
    [Theory]
    [InlineData("Version: 3.17.1\n", 31701)]
    [InlineData("Version: 3.14\nGitID: v3.14\n", 31400)]
    [InlineData("Version: 4.0\n", 40000)]
    public void ParseVersion_ReadsCriusVersionLine(string output, int want) => Assert.Equal(want, Criu.ParseVersion(output));

    [Theory]
    [InlineData("")]
    [InlineData("criu: unknown option\n")]
    [InlineData("Version: x.y\n")]
    public void ParseVersion_WithoutAVersion_IsNull(string output) => Assert.Null(Criu.ParseVersion(output));

    [Fact]
    public void CheckError_IsTheFirstErrorsText()
    {
        const string output = "Error (criu/vdso.c:381): vdso: Unexpected rt vDSO area bounds\n"
                              + "Error (criu/vdso.c:613): vdso: Failed to fill self vdso symtable\n";
        Assert.Equal("vdso: Unexpected rt vDSO area bounds", Criu.CheckError(output));
    }

    [Fact]
    public void CheckError_WithoutAnErrorLine_IsTheFirstLine() => Assert.Equal("something odd", Criu.CheckError("\nsomething odd\nmore\n"));

    [Theory]
    [InlineData("soft", "Soft")]
    [InlineData("full", "Full")]
    [InlineData("strict", "Strict")]
    [InlineData("ignore", "Ignore")]
    public void ManageCgroupsMode_RuncsWords(string word, string want) => Assert.Equal(want, CriuFlags.ParseCgroupsMode(word).ToString());

    [Fact]
    public void ManageCgroupsMode_Unknown_NamesTheFlagAndTheWords()
    {
        var e = Assert.Throws<ArgumentException>(() => new CheckpointOptions { ManageCgroupsMode = "soft-ish" }.Validate());
        Assert.Equal("--manage-cgroups-mode soft-ish: not a mode (soft, full, strict or ignore)", e.Message);
    }

    [Fact]
    public void EmptyNs_OnlyNetwork()
    {
        Assert.Equal(0x40000000u, CriuFlags.ParseEmptyNs("network"));
        Assert.Equal(0u, CriuFlags.ParseEmptyNs(null));
        Assert.Contains("--empty-ns ipc", Assert.Throws<ArgumentException>(() => CriuFlags.ParseEmptyNs("ipc")).Message);
    }

    /// <summary>What CRIU reads is CRIU's schema: a request serializes to the field numbers of its rpc.proto.</summary>
    [Fact]
    public void Request_UsesCriusFieldNumbers()
    {
        var opts = new criu_opts { ImagesDirFd = 5, LeaveRunning = true, Root = "/r" };
        opts.ExtMnt.Add(new ext_mount_map { Key = "/data", Val = "/data" });
        var bytes = new criu_req { Type = criu_req_type.Dump, Opts = opts }.ToByteArray();
        // type = 1 (varint): DUMP = 1; opts = 2 (length-delimited): images_dir_fd = 1, leave_running = 3, root = 13, ext_mnt = 23
        Assert.Equal([0x08, 0x01, 0x12], bytes[..3]);
        var inner = bytes[4..];
        Assert.Equal([0x08, 0x05, 0x18, 0x01], inner[..4]);
        Assert.Contains((byte)(13 << 3 | 2), inner);
        Assert.Equal(new byte[] { 0xba, 0x01 }, inner.AsSpan().Slice(inner.Length - 17, 2).ToArray());
    }

    [Fact]
    public void CheckpointFlags_ApplyAsRuncSetsThem()
    {
        var opts = new criu_opts { ImagesDirFd = 3 };
        new CheckpointOptions { TcpEstablished = true, ShellJob = true, ManageCgroupsMode = "full" }.Apply(opts);
        Assert.True(opts.TcpEstablished);
        Assert.True(opts.ShellJob);
        Assert.True(opts.ManageCgroups);
        Assert.Equal(criu_cg_mode.Full, opts.ManageCgroupsMode);
        Assert.True(opts.NotifyScripts);
        Assert.True(opts.OrphanPtsMaster);
        Assert.False(opts.ExtUnixSk);
    }
}
