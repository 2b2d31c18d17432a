using System.Runtime.InteropServices;

namespace Cnr.Linux;

/// <summary>The structs of sendmsg(2)/recvmsg(2), for passing an fd as SCM_RIGHTS ancillary data.</summary>
public static unsafe partial class Libc
{
    [StructLayout(LayoutKind.Sequential)] public struct Iovec { public byte* Base; public nuint Len; }
    [StructLayout(LayoutKind.Sequential)] public struct Cmsghdr { public nuint Len; public int Level; public int Type; }
    [StructLayout(LayoutKind.Sequential)]
    public struct Msghdr
    {
        public void* Name; public uint NameLen; public Iovec* Iov; public nuint IovLen;
        public void* Control; public nuint ControlLen; public int Flags;
    }

    public const int SOL_SOCKET = 1, SCM_RIGHTS = 1, MSG_CMSG_CLOEXEC = 0x40000000;
}
