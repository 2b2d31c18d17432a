using System.Security.Cryptography;
using Cnr.IntegrationTests.Harness;
using Xunit;

namespace Cnr.IntegrationTests.Security;

/// <summary>CVE-2019-5736: a container process that gets hold of the init's /proc/PID/exe must not be able to
/// write the host's init image (cnr-init, beside cnr) through it, not even after the init has exec'd away and the
/// file is no longer busy. (cnr execs the init from a read-only bind of cnr-init in the container's own mount
/// namespace, or from a sealed memfd copy of it.)</summary>
public class BinaryProtectionTests
{
    [RootFact]
    public unsafe void Create_InitExeReopenedForWritingAfterExec_IsRefused_AndHostBinaryUnchanged()
    {
        var cnr = new FileInfo(Repo.CnrBinary).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? Repo.CnrBinary;
        var hostBinary = Path.Combine(Path.GetDirectoryName(cnr)!, "cnr-init");
        Assert.True(File.Exists(hostBinary), $"{hostBinary}: the init image is built beside cnr (make all)");
        var hashBefore = SHA256.HashData(File.ReadAllBytes(hostBinary));
        using var b = new TestBundle("sealed").WithArgs("true");
        b.Write();

        var created = b.CnrDetached("create", "--bundle", b.Dir, b.Id);
        Assert.True(created.ExitCode == 0, created.ToString());
        var (pid, status) = Host.State(b);
        Assert.Equal("created", status);
        // The init runs the init image, not cnr: the bind of cnr-init itself, or its sealed copy.
        var initExe = new FileInfo($"/proc/{pid}/exe").LinkTarget ?? "";
        Assert.True(initExe == hostBinary || initExe.StartsWith("/memfd:cnr-init"), $"the waiting init's executable: {initExe}");

        // What an attacker keeps: an O_PATH reference to the init's executable.
        int exe = Cnr.Linux.Libc.open($"/proc/{pid}/exe", Cnr.Linux.Libc.O_PATH | Cnr.Linux.Libc.O_CLOEXEC, 0);
        Assert.True(exe >= 0, $"open /proc/{pid}/exe: errno {Cnr.Linux.Errno.Last}");
        try
        {
            var started = b.Cnr("start", b.Id);
            Assert.True(started.ExitCode == 0, started.ToString());
            Wait.Until(() => !(File.Exists($"/proc/{pid}/exe") && new FileInfo($"/proc/{pid}/exe").LinkTarget is { } t && t.Contains("cnr")),
                "the init to exec the container's process");

            int w = Cnr.Linux.Libc.open($"/proc/self/fd/{exe}", Cnr.Linux.Libc.O_WRONLY | Cnr.Linux.Libc.O_CLOEXEC, 0);
            int errno = Cnr.Linux.Errno.Last;
            if (w >= 0) Cnr.Linux.Libc.close(w);
            // EROFS (read-only bind) or EPERM (sealed copy). ETXTBSY only means that some cnr (another test)
            // runs right now; then the mount the held reference points into must itself be read-only.
            byte* buf = stackalloc byte[120];
            Assert.Equal(0, Cnr.Linux.Libc.fstatfs(exe, buf));
            bool readOnlyMount = (*(ulong*)(buf + 80) & 1 /* ST_RDONLY */) != 0;
            Assert.True(w < 0 && (errno is 30 or 1 || (errno == 26 && readOnlyMount)),
                $"reopening the init's exe for writing: fd {w}, errno {errno}, read-only mount: {readOnlyMount}");
        }
        finally { Cnr.Linux.Libc.close(exe); }

        var del = b.Cnr("delete", "--force", b.Id);
        Assert.True(del.ExitCode == 0, del.ToString());
        Assert.Equal(hashBefore, SHA256.HashData(File.ReadAllBytes(hostBinary)));
    }
}
