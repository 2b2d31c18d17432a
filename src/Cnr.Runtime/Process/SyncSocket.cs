using System.Runtime.InteropServices;
using System.Text;
using Cnr.Linux;

namespace Cnr.Process;

/// <summary>The typed message channel between the parent (`cnr create/run/exec`) and the init: a
/// SOCK_SEQPACKET socketpair, one datagram per message, a type byte first. The native helper speaks the
/// first three types; the init speaks the rest.</summary>
public enum SyncMessage : byte
{
    // native/cnr_native.c
    Ready = (byte)'R',        // child → parent: in its namespaces, write the id maps and cgroup now
    Go = (byte)'G',           // parent → child
    Pid = (byte)'P',          // child → parent: the pid of the real init (after a second fork)
    SpawnFailed = (byte)'X',  // child → parent: errno + step name
    // init
    Config = (byte)'I',       // parent → init: the InitConfig JSON
    Step = (byte)'S',         // init → parent: one kernel step for --debug/--explain
    Hooks = (byte)'H',        // init → parent: namespaces exist, run createRuntime/prestart hooks now
    HooksDone = (byte)'h',    // parent → init
    Terminal = (byte)'T',     // init → parent: the pty master, as SCM_RIGHTS
    Error = (byte)'E',        // init → parent: what failed, one line
    Created = (byte)'C',      // init → parent: set up; now waiting on the exec fifo (or exec'ing for exec)
}

public sealed unsafe class SyncSocket : IDisposable
{
    private readonly SafeFd _fd;

    public SyncSocket(SafeFd fd) => _fd = fd;

    public int Fd => _fd.Fd;

    public static (SyncSocket Parent, SyncSocket Child) CreatePair()
    {
        int* sv = stackalloc int[2];
        Errno.Check(Libc.socketpair(Libc.AF_UNIX, Libc.SOCK_SEQPACKET | Libc.SOCK_CLOEXEC, 0, sv), "socketpair");
        return (new SyncSocket(new SafeFd(sv[0])), new SyncSocket(new SafeFd(sv[1])));
    }

    public void Send(SyncMessage type, ReadOnlySpan<byte> payload = default)
    {
        var buf = payload.Length < 4096 ? stackalloc byte[payload.Length + 1] : new byte[payload.Length + 1];
        buf[0] = (byte)type;
        payload.CopyTo(buf[1..]);
        fixed (byte* p = buf)
        {
            nint n;
            do n = Libc.send(_fd.Fd, p, buf.Length, Libc.MSG_NOSIGNAL);
            while (n < 0 && Errno.Last == 4);
            if (n < 0) throw new SyscallException("send", Errno.Last, "(sync socket)");
        }
    }

    public void Send(SyncMessage type, string text) => Send(type, Encoding.UTF8.GetBytes(text));

    /// <summary>The next message; null at EOF (the other side is gone).</summary>
    public (SyncMessage Type, byte[] Payload)? Receive()
    {
        const int MSG_PEEK = 2, MSG_TRUNC = 0x20;
        byte probe;
        nint size;
        do size = Libc.recv(_fd.Fd, &probe, 1, MSG_PEEK | MSG_TRUNC);
        while (size < 0 && Errno.Last == 4);
        if (size < 0) throw new SyscallException("recv", Errno.Last, "(sync socket)");
        if (size == 0) return null;
        // An fd-carrying message stays queued: ReceiveFd reads it with its control data.
        if (probe == (byte)SyncMessage.Terminal) return (SyncMessage.Terminal, []);
        var buf = new byte[size];
        fixed (byte* p = buf)
        {
            nint n;
            do n = Libc.recv(_fd.Fd, p, size, 0);
            while (n < 0 && Errno.Last == 4);
            if (n <= 0) return null;
        }
        return ((SyncMessage)buf[0], buf[1..]);
    }

    /// <summary>Sends an fd with SCM_RIGHTS (the pty master to the parent, or to a --console-socket).</summary>
    public static void SendFd(int socket, int fd, byte type)
    {
        byte data = type;
        var iov = new Iovec { Base = &data, Len = 1 };
        byte* control = stackalloc byte[CmsgSpace];
        new Span<byte>(control, CmsgSpace).Clear();
        var cmsg = (Cmsghdr*)control;
        cmsg->Len = (nuint)(sizeof(Cmsghdr) + sizeof(int));
        cmsg->Level = 1;  // SOL_SOCKET
        cmsg->Type = 1;   // SCM_RIGHTS
        *(int*)(control + sizeof(Cmsghdr)) = fd;
        var msg = new Msghdr { Iov = &iov, IovLen = 1, Control = control, ControlLen = (nuint)CmsgSpace };
        Errno.Check((int)Libc.sendmsg(socket, &msg, Libc.MSG_NOSIGNAL), "sendmsg", "(SCM_RIGHTS)");
    }

    public void SendFd(int fd, SyncMessage type) => SendFd(_fd.Fd, fd, (byte)type);

    /// <summary>Receives an fd sent with <see cref="SendFd(int,int,byte)"/>; the fd arrives O_CLOEXEC.</summary>
    public SafeFd ReceiveFd()
    {
        const int MSG_CMSG_CLOEXEC = 0x40000000;
        byte data;
        var iov = new Iovec { Base = &data, Len = 1 };
        byte* control = stackalloc byte[CmsgSpace];
        var msg = new Msghdr { Iov = &iov, IovLen = 1, Control = control, ControlLen = (nuint)CmsgSpace };
        Errno.Check((int)Libc.recvmsg(_fd.Fd, &msg, MSG_CMSG_CLOEXEC), "recvmsg", "(SCM_RIGHTS)");
        var cmsg = (Cmsghdr*)control;
        if (msg.ControlLen < (nuint)sizeof(Cmsghdr) || cmsg->Type != 1)
            throw new IOException("expected a file descriptor on the sync socket");
        return new SafeFd(*(int*)(control + sizeof(Cmsghdr)));
    }

    private static int CmsgSpace => sizeof(Cmsghdr) + 8;

    [StructLayout(LayoutKind.Sequential)] private struct Iovec { public byte* Base; public nuint Len; }
    [StructLayout(LayoutKind.Sequential)] private struct Cmsghdr { public nuint Len; public int Level; public int Type; }
    [StructLayout(LayoutKind.Sequential)]
    private struct Msghdr
    {
        public void* Name; public uint NameLen; public Iovec* Iov; public nuint IovLen;
        public void* Control; public nuint ControlLen; public int Flags;
    }

    public void Dispose() => _fd.Dispose();
}
