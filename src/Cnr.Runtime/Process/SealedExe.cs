using Cnr.Linux;

namespace Cnr.Process;

/// <summary>The init is exec'd from a sealed in-memory copy of the init image (<see cref="InitImage"/>), never from
/// the host file: a container process that gets hold of /proc/PID/exe of the init can then only reach the copy,
/// which the seals make unwritable (the CVE-2019-5736 class of attack on the host binary).</summary>
internal static class SealedExe
{
    public static unsafe SafeFd Create(string image)
    {
        string name = Path.GetFileName(image);
        var memfd = SafeFd.Check(Libc.memfd_create(name, Libc.MFD_CLOEXEC | Libc.MFD_ALLOW_SEALING), "memfd_create");
        using var file = SafeFd.Check(Libc.open(image, Libc.O_RDONLY | Libc.O_CLOEXEC, 0), "open", image);
        long offset = 0;
        while (true)
        {
            nint n = Libc.sendfile(memfd, file, &offset, 1 << 30);
            if (n < 0) throw new SyscallException("sendfile", Errno.Last, $"{image} → memfd");
            if (n == 0) break;
        }
        Errno.Check(Libc.fcntl(memfd, Libc.F_ADD_SEALS,
            Libc.F_SEAL_SEAL | Libc.F_SEAL_SHRINK | Libc.F_SEAL_GROW | Libc.F_SEAL_WRITE), "fcntl(F_ADD_SEALS)", "memfd:" + name);
        return memfd;
    }
}
