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
        // The init runs the init image, not cnr (a bind of cnr-init or its sealed copy: the same bytes; the link's
        // name is no help, pivot_root leaves the bind out of the host's view).
        Assert.True(hashBefore.AsSpan().SequenceEqual(SHA256.HashData(File.ReadAllBytes($"/proc/{pid}/exe"))),
            $"the waiting init executes {hostBinary}");

        // What an attacker keeps: an O_PATH reference to the init's executable.
        using (var exe = Cnr.Linux.Libc.open($"/proc/{pid}/exe", Cnr.Linux.Libc.O_PATH | Cnr.Linux.Libc.O_CLOEXEC, 0))
        {
            Assert.False(exe.IsInvalid, $"open /proc/{pid}/exe: errno {Cnr.Linux.Errno.Last}");
            var started = b.Cnr("start", b.Id);
            Assert.True(started.ExitCode == 0, started.ToString());
            Wait.Until(() => !(File.Exists($"/proc/{pid}/exe") && new FileInfo($"/proc/{pid}/exe").LinkTarget is { } t && t.Contains("cnr")),
                "the init to exec the container's process");

            bool opened;
            using (var w = Cnr.Linux.Libc.open($"/proc/self/fd/{exe.Fd}", Cnr.Linux.Libc.O_WRONLY | Cnr.Linux.Libc.O_CLOEXEC, 0))
                opened = !w.IsInvalid;
            var errno = Cnr.Linux.Errno.Last;
            // EROFS (read-only bind) or EPERM (sealed copy). ETXTBSY only means that some cnr (another test)
            // runs right now; then the mount the held reference points into must itself be read-only.
            Assert.Equal(0, Cnr.Linux.Libc.FsFlags(exe, out _, out ulong flags));
            bool readOnlyMount = (flags & Cnr.Linux.Libc.ST_RDONLY) != 0;
            Assert.True(!opened && (errno is Cnr.Linux.Error.EROFS or Cnr.Linux.Error.EPERM || (errno == Cnr.Linux.Error.ETXTBSY && readOnlyMount)),
                $"reopening the init's exe for writing: opened {opened}, errno {errno}, read-only mount: {readOnlyMount}");
        }

        var del = b.Cnr("delete", "--force", b.Id);
        Assert.True(del.ExitCode == 0, del.ToString());
        Assert.Equal(hashBefore, SHA256.HashData(File.ReadAllBytes(hostBinary)));
    }
}
