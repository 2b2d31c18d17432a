using System.Runtime.InteropServices;

namespace Cnr.Linux;

// Process attributes applied by init just before exec: identity, capabilities, limits, scheduling, fds.
// setresuid/setresgid/setgroups are the raw syscalls (SYS_*), which change only the calling thread's
// credentials, not glibc's wrappers, which signal every other thread to change its own (the setxid broadcast):
// see ProcessAttributes.SetUser for why the init wants the former.
public static unsafe partial class Libc
{
    [LibraryImport(Lib, SetLastError = true)] public static partial int prlimit(int pid, int resource, Rlimit* newLimit, Rlimit* oldLimit);
    [LibraryImport(Lib, SetLastError = true)] public static partial uint umask(uint mask);
    [LibraryImport(Lib, SetLastError = true)] public static partial int capset(CapUserHeader* header, CapUserData* data);
    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int access(string path, int mode);
    [LibraryImport(Lib, SetLastError = true)] public static partial int fchown(SafeHandle fd, uint owner, uint group);
    [LibraryImport(Lib, SetLastError = true)] public static partial int personality(nuint persona);
    /// <summary>pid 0: the calling thread (a clone made by it inherits the mask).</summary>
    [LibraryImport(Lib, SetLastError = true)] public static partial int sched_setaffinity(int pid, nuint size, ulong* mask);
    [LibraryImport(Lib, SetLastError = true)] public static partial int sched_getaffinity(int pid, nuint size, ulong* mask);

    [StructLayout(LayoutKind.Sequential)]
    public struct Rlimit { public ulong Cur, Max; }

    [StructLayout(LayoutKind.Sequential)]
    public struct CapUserHeader { public uint Version; public int Pid; }

    /// <summary>One 32-bit word of each set; version 3 takes two of these (capabilities 0–31, 32–63).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct CapUserData { public uint Effective, Permitted, Inheritable; }

    /// <summary>struct sched_attr, SCHED_ATTR_SIZE_VER0 (48 bytes): glibc before 2.41 has no wrapper.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct SchedAttr
    {
        public uint Size, Policy;
        public ulong Flags;
        public int Nice;
        public uint Priority;
        public ulong Runtime, Deadline, Period;
    }

    public const uint _LINUX_CAPABILITY_VERSION_3 = 0x20080522;
    public const ulong RLIM_INFINITY = ulong.MaxValue;
    public const int X_OK = 1, FD_CLOEXEC = 1;
    public const uint S_IFSOCK = 0xC000;
    public const uint CLOSE_RANGE_CLOEXEC = 4;
    public const int IOPRIO_WHO_PROCESS = 1, IOPRIO_CLASS_SHIFT = 13;
    public const long SYS_sched_setattr = 314, SYS_ioprio_set = 251;
    public const long SYS_setgroups = 116, SYS_setresuid = 117, SYS_setresgid = 119;
}
