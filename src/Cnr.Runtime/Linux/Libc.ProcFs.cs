using System.Runtime.InteropServices;

namespace Cnr.Linux;

/// <summary>What reaching procfs and devices through fds takes: fchdir, a directory listing without a path,
/// a fresh procfs instance (fsopen), the pty peer, and the filesystem magics that say what an fd is.</summary>
public static unsafe partial class Libc
{
    [LibraryImport(Lib, SetLastError = true)] public static partial int fchdir(SafeHandle fd);

    /// <summary>struct linux_dirent64 up to its name, which follows NUL-terminated (Pack = 1: the name starts
    /// right after Type, at byte 19).</summary>
    [StructLayout(LayoutKind.Sequential, Pack = 1)]
    public struct Dirent64 { public ulong Ino; public long Off; public ushort Reclen; public byte Type; }

    public const long PROC_SUPER_MAGIC = 0x9fa0, DEVPTS_SUPER_MAGIC = 0x1cd1;
    public const long SYS_getdents64 = 217, SYS_fsopen = 430, SYS_fsconfig = 431, SYS_fsmount = 432;
    public const int FSOPEN_CLOEXEC = 1, FSCONFIG_CMD_CREATE = 6, FSMOUNT_CLOEXEC = 1;
    /// <summary>ioctl on a pty master: opens its slave without a path lookup (Linux 4.13).</summary>
    public const nuint TIOCGPTPEER = 0x5441;
    /// <summary>UNIX98 pty slaves have majors 136 to 143.</summary>
    public const uint PtySlaveMajorFirst = 136, PtySlaveMajorLast = 143;
}
