using System.Runtime.InteropServices;
using Cnr.Diagnostics;
using Cnr.Linux;

namespace Cnr.Namespaces;

/// <summary>The loopback interface of a network namespace the container created, brought up as runc does (its
/// default "loopback" network for a new network namespace): 127.0.0.1 works inside even with no other network.
/// A joined network namespace is left as it is: it belongs to whoever made it.</summary>
public static unsafe class Loopback
{
    private const int AF_INET = 2, SOCK_DGRAM = 2;
    private const nuint SIOCGIFFLAGS = 0x8913, SIOCSIFFLAGS = 0x8914;
    private const short IFF_UP = 0x1;

    /// <summary>struct ifreq: the name, then the union; ifr_flags is its first short.</summary>
    [StructLayout(LayoutKind.Sequential, Size = 40)]
    private struct IfReq
    {
        public fixed byte Name[16];
        public short Flags;
    }

    public static void Up()
    {
        if (Steps.On) Steps.Report("network", "ioctl(socket(AF_INET), SIOCSIFFLAGS, {\"lo\", IFF_UP}) (a new network namespace's loopback, as runc)", "ip link set lo up");
        using var sock = SafeFd.Check(Libc.socket(AF_INET, SOCK_DGRAM | Libc.SOCK_CLOEXEC, 0), "socket", "AF_INET (to bring lo up)");
        var req = new IfReq();
        req.Name[0] = (byte)'l';
        req.Name[1] = (byte)'o';
        Errno.Check(Libc.ioctl(sock, SIOCGIFFLAGS, (nint)(&req)), "ioctl", "SIOCGIFFLAGS lo");
        if ((req.Flags & IFF_UP) != 0) return;
        req.Flags |= IFF_UP;
        Errno.Check(Libc.ioctl(sock, SIOCSIFFLAGS, (nint)(&req)), "ioctl", "SIOCSIFFLAGS lo up");
    }
}
