using System.Security.Cryptography;
using Cnr.IntegrationTests.Harness;
using Xunit;

namespace Cnr.IntegrationTests.Security;

/// <summary>CVE-2019-5736: a container must never reach the host's cnr binary through /proc/PID/exe of the
/// runtime's init, which runs inside the container's namespaces. The init must run from a sealed copy.</summary>
public class BinaryProtectionTests
{
    [RootFact]
    public void Create_WaitingInitDoesNotExecuteHostBinary_AndCannotBeWritten()
    {
        var hostBinary = new FileInfo(Repo.CnrBinary).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? Repo.CnrBinary;
        var hashBefore = SHA256.HashData(File.ReadAllBytes(hostBinary));
        using var b = new TestBundle("sealed").WithArgs("true");
        b.Write();

        var created = b.CnrDetached("create", "--bundle", b.Dir, b.Id);
        Assert.True(created.ExitCode == 0, created.ToString());
        var (pid, status) = Host.State(b);
        Assert.Equal("created", status);

        var exe = $"/proc/{pid}/exe";
        var target = new FileInfo(exe).LinkTarget;
        Assert.NotEqual(hostBinary, target);
        Assert.NotEqual(Identity(hostBinary), Identity(exe));

        var writeError = Record.Exception(() =>
        {
            using var f = new FileStream(exe, FileMode.Open, FileAccess.Write);
            f.Write("#!/bin/sh\n"u8);
            f.Flush();
        });
        Assert.True(writeError is IOException or UnauthorizedAccessException, $"writing {exe} (-> {target}) did not fail: {writeError}");

        var del = b.Cnr("delete", "--force", b.Id);
        Assert.True(del.ExitCode == 0, del.ToString());
        Assert.Equal(hashBefore, SHA256.HashData(File.ReadAllBytes(hostBinary)));
    }

    /// <summary>device:inode of the file a path (or /proc magic link) leads to.</summary>
    private static string Identity(string path) => Harness.Cnr.Exec("stat", ["-L", "-c", "%d:%i", path]).Stdout.Trim();
}
