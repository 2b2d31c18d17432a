using System.Text;
using Cnr.Linux;

namespace Cnr.Process;

/// <summary>The typed message channel between the parent (`cnr create/run/exec`) and the init: a
/// SOCK_SEQPACKET socketpair, a type byte first in every datagram. This is the one description of the protocol;
/// native/cnr_native.c speaks its first four types (a unit test holds its characters equal to these).
/// Each step is a request and what answers it, in the order they come; [fd]: the message carries a file
/// descriptor as SCM_RIGHTS in the same datagram (<see cref="SyncMessages.CarriesFd"/>, the one table of which do).
/// <code>
///  parent (cnr create / run / exec)               child: native/cnr_native.c, then `cnr init` (C#)
///  clone ─────────────────────────────────────►   closes the parent's end, PR_SET_PDEATHSIG(SIGKILL),
///  records the pid (create: state.json)           joins / creates namespaces
///        ◄───────────────────────────────── R     request: in its namespaces, write the id maps now
///  uid_map/gid_map, cgroup.procs
///  G ─────────────────────────────────────────►   answer: setresuid(0) in a user ns, unshare(CLONE_NEWCGROUP),
///                                                 [fork: pid and time namespaces apply to children]
///        ◄───────────────────────────────── P     (after a fork) the real init's pid: recorded again; no answer
///  I &lt;LaunchPlan, PlanCodec&gt; ────────────────►   execve: `cnr init` receives its plan; no answer
///  B [fd] ────────────────────────────────────►   one per bind the plan marks FromParent: its source, cloned in
///                                                 the init's mount namespace (user namespace, root); no answer
///        ◄───────────────────────────────── S     any number: one kernel step each (--debug/--explain); no answer
///        ◄───────────────────────────────── H     request: createRuntime/prestart hooks are due (create)
///  h ─────────────────────────────────────────►   answer: hooks done
///        ◄──────────────────────────── T [fd]     the pty master (process.terminal); no answer
///  to linux.seccomp.listenerPath ◄──── N [fd]     the seccomp listener (SCMP_ACT_NOTIFY); no answer
///        ◄───────────────────────────────── C     request: every fallible step is done; death signal cleared
///  create: state.json says "created"; A ──────►   answer: on its own now, waits on the exec fifo
///  exec: no A; waits for EOF (the init's execve closed its CLOEXEC end) or E
/// </code>
/// Instead of the next message either side may get: X (errno + step, from native/) or E (from the init: a
/// failed call as call, errno, detail, where, or one line; <see cref="InitError"/>) — a failure; or EOF — the other side is dead. The child exits on EOF at every wait (and its death
/// signal kills it in between); the parent reports "container init exited before it was ready (…) after STEP".
/// A message longer than <see cref="MaxDatagram"/> goes as '+' datagrams ['+'][type][piece…] and a last
/// [type][piece]: one datagram is limited by the socket buffer (EMSGSIZE), a config is not.</summary>
public enum SyncMessage : byte
{
    // native/cnr_native.c
    Ready = (byte)'R',        // child → parent: in its namespaces, write the id maps and cgroup now
    Go = (byte)'G',           // parent → child
    Pid = (byte)'P',          // child → parent: the pid of the real init (after a second fork)
    SpawnFailed = (byte)'X',  // child → parent: errno + step name
    // init
    Config = (byte)'I',       // parent → init: the LaunchPlan (PlanCodec)
    BindSource = (byte)'B',   // parent → init: a bind's source cloned in the init's mount namespace, as SCM_RIGHTS
    Step = (byte)'S',         // init → parent: one kernel step for --debug/--explain
    Hooks = (byte)'H',        // init → parent: namespaces exist, run createRuntime/prestart hooks now
    HooksDone = (byte)'h',    // parent → init
    Terminal = (byte)'T',     // init → parent: the pty master, as SCM_RIGHTS
    SeccompListener = (byte)'N', // init → parent: the seccomp filter's listener fd (SCMP_ACT_NOTIFY), as SCM_RIGHTS
    Error = (byte)'E',        // init → parent: what failed (InitError)
    Created = (byte)'C',      // init → parent: set up; now waiting on the exec fifo (or exec'ing for exec)
    Recorded = (byte)'A',     // parent → init (create): the state says created; the init may outlive the parent
    Continued = (byte)'+',    // either way: a piece of a long message, [type][piece], more follows
}

public static class SyncMessages
{
    /// <summary>Whether a message of this type carries a file descriptor: <see cref="SyncSocket.SendFd(int, SyncMessage)"/> sends
    /// only these, <see cref="SyncSocket.Send(SyncMessage, ReadOnlySpan{byte})"/> only the others, and
    /// <see cref="SyncSocket.Receive"/> takes the fd in with the message.</summary>
    public static bool CarriesFd(this SyncMessage type) => type switch
    {
        SyncMessage.Terminal or SyncMessage.SeccompListener or SyncMessage.BindSource => true,
        _ => false,
    };
}

/// <summary>A message as received: <see cref="Fd"/> is the descriptor it carried (see
/// <see cref="SyncMessages.CarriesFd"/>), the receiver's to close.</summary>
public readonly record struct SyncReceived(SyncMessage Type, byte[] Payload, SafeFd? Fd = null);

/// <summary>The other side of the sync socket is gone (EOF, EPIPE or ECONNRESET): it died or was killed.</summary>
public sealed class SyncPeerGoneException(string message) : IOException(message);

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

    /// <summary>One datagram must fit the sender's socket buffer (net.core.wmem_default, 208 KiB by default, and
    /// never below 4 KiB less overhead): 32 KiB pieces fit any sane setting.</summary>
    public const int MaxDatagram = 32 * 1024;

    public void Send(SyncMessage type, ReadOnlySpan<byte> payload = default)
    {
        if (type.CarriesFd()) throw new ArgumentException($"sync message '{(char)type}' carries an fd: SendFd sends it", nameof(type));
        const int piece = MaxDatagram - 2;
        while (payload.Length + 1 > MaxDatagram)
        {
            Span<byte> head = [(byte)SyncMessage.Continued, (byte)type];
            SendDatagram(head, payload[..piece]);
            payload = payload[piece..];
        }
        SendDatagram([(byte)type], payload);
    }

    private void SendDatagram(ReadOnlySpan<byte> head, ReadOnlySpan<byte> payload)
    {
        var buf = head.Length + payload.Length <= 4096 ? stackalloc byte[head.Length + payload.Length] : new byte[head.Length + payload.Length];
        head.CopyTo(buf);
        payload.CopyTo(buf[head.Length..]);
        fixed (byte* p = buf)
        {
            nint n;
            do n = Libc.send(_fd.Fd, p, buf.Length, Libc.MSG_NOSIGNAL);
            while (n < 0 && Errno.Last == Error.EINTR);
            if (n < 0)
            {
                var errno = Errno.Last;
                if (errno is Error.EPIPE or Error.ECONNRESET) throw new SyncPeerGoneException($"send (sync socket): {Errno.Name(errno)}");
                throw new SyscallException("send", errno, "(sync socket)");
            }
        }
    }

    public void Send(SyncMessage type, string text) => Send(type, Encoding.UTF8.GetBytes(text));

    /// <summary>The next message, with its fd if its type carries one; null at EOF (the other side is gone).
    /// With <paramref name="dontWait"/>, null also when nothing is queued.</summary>
    public SyncReceived? Receive(bool dontWait = false)
    {
        MemoryStream? pieces = null;
        while (true)
        {
            var buf = ReceiveDatagram(dontWait);
            if (buf is null) return null;
            if (((SyncMessage)buf[0]).CarriesFd()) return new SyncReceived((SyncMessage)buf[0], [], ReceiveFd());
            if (buf[0] == (byte)SyncMessage.Continued && buf.Length >= 2)
            {
                (pieces ??= new MemoryStream()).Write(buf, 2, buf.Length - 2);
                dontWait = false; // the rest of a message already begun is on its way
                continue;
            }
            if (pieces is null) return new SyncReceived((SyncMessage)buf[0], buf[1..]);
            pieces.Write(buf, 1, buf.Length - 1);
            return new SyncReceived((SyncMessage)buf[0], pieces.ToArray());
        }
    }

    /// <summary>Whether a message (or EOF) is there to receive within <paramref name="timeoutMs"/>.</summary>
    public bool WaitReadable(int timeoutMs)
    {
        var pfd = new Libc.PollFd { Fd = _fd.Fd, Events = Libc.POLLIN };
        int n;
        do n = Libc.poll(&pfd, 1, timeoutMs);
        while (n < 0 && Errno.Last == Error.EINTR);
        if (n < 0) throw new SyscallException("poll", Errno.Last, "(sync socket)");
        return n > 0;
    }

    /// <summary>One datagram; for a message that carries an fd only its type, the message staying queued for
    /// <see cref="ReceiveFd"/> to read with its control data.</summary>
    private byte[]? ReceiveDatagram(bool dontWait)
    {
        const int MSG_PEEK = 2, MSG_TRUNC = 0x20, MSG_DONTWAIT = 0x40;
        int flags = dontWait ? MSG_DONTWAIT : 0;
        byte probe;
        nint size;
        do size = Libc.recv(_fd.Fd, &probe, 1, MSG_PEEK | MSG_TRUNC | flags);
        while (size < 0 && Errno.Last == Error.EINTR);
        if (size < 0)
        {
            var errno = Errno.Last;
            // ECONNRESET: the other side died with our last message unread — as dead as EOF.
            if (errno is Error.ECONNRESET || (dontWait && errno == Error.EAGAIN)) return null;
            throw new SyscallException("recv", errno, "(sync socket)");
        }
        if (size == 0) return null;
        if (((SyncMessage)probe).CarriesFd()) return [probe];
        var buf = new byte[size];
        fixed (byte* p = buf)
        {
            nint n;
            do n = Libc.recv(_fd.Fd, p, size, 0);
            while (n < 0 && Errno.Last == Error.EINTR);
            if (n <= 0) return null;
        }
        return buf;
    }

    /// <summary>Sends an fd with SCM_RIGHTS (the pty master to the parent, or to a --console-socket).</summary>
    public static void SendFd(int socket, int fd, byte type) => SendFd(socket, fd, [type]);

    /// <summary>Sends an fd with SCM_RIGHTS along with <paramref name="data"/> in the same message (the seccomp
    /// listener fd with the container's state).</summary>
    public static void SendFd(int socket, int fd, ReadOnlySpan<byte> data)
    {
        fixed (byte* bytes = data)
            SendFd(socket, fd, bytes, data.Length);
    }

    private static void SendFd(int socket, int fd, byte* data, int length)
    {
        var iov = new Libc.Iovec { Base = data, Len = (nuint)length };
        byte* control = stackalloc byte[CmsgSpace];
        new Span<byte>(control, CmsgSpace).Clear();
        var cmsg = (Libc.Cmsghdr*)control;
        cmsg->Len = (nuint)(sizeof(Libc.Cmsghdr) + sizeof(int));
        cmsg->Level = Libc.SOL_SOCKET;
        cmsg->Type = Libc.SCM_RIGHTS;
        *(int*)(control + sizeof(Libc.Cmsghdr)) = fd;
        var msg = new Libc.Msghdr { Iov = &iov, IovLen = 1, Control = control, ControlLen = (nuint)CmsgSpace };
        Errno.Check((int)Libc.sendmsg(socket, &msg, Libc.MSG_NOSIGNAL), "sendmsg", "(SCM_RIGHTS)");
    }

    /// <summary>A message that carries an fd (<see cref="SyncMessages.CarriesFd"/>): its type and the fd.</summary>
    public void SendFd(int fd, SyncMessage type)
    {
        if (!type.CarriesFd()) throw new ArgumentException($"sync message '{(char)type}' carries no fd: Send sends it", nameof(type));
        SendFd(_fd.Fd, fd, (byte)type);
    }

    /// <summary>The fd of the queued message (sent with <see cref="SendFd(int,int,byte)"/>); it arrives O_CLOEXEC.</summary>
    private SafeFd ReceiveFd()
    {
        byte data;
        ReceiveMessage(&data, 1, out var fd);
        return fd ?? throw new IOException("expected a file descriptor on the sync socket");
    }

    /// <summary>recvmsg of one datagram into <paramref name="buf"/>, with the fd that came with it as SCM_RIGHTS
    /// (O_CLOEXEC), if any.</summary>
    private void ReceiveMessage(byte* buf, nint length, out SafeFd? fd)
    {
        fd = null;
        var iov = new Libc.Iovec { Base = buf, Len = (nuint)length };
        byte* control = stackalloc byte[CmsgSpace];
        var msg = new Libc.Msghdr { Iov = &iov, IovLen = 1, Control = control, ControlLen = (nuint)CmsgSpace };
        nint n;
        do n = Libc.recvmsg(_fd.Fd, &msg, Libc.MSG_CMSG_CLOEXEC);
        while (n < 0 && Errno.Last == Error.EINTR);
        if (n < 0) throw new SyscallException("recvmsg", Errno.Last, "(socket)");
        var cmsg = (Libc.Cmsghdr*)control;
        if (msg.ControlLen >= (nuint)sizeof(Libc.Cmsghdr) && cmsg->Level == Libc.SOL_SOCKET && cmsg->Type == Libc.SCM_RIGHTS)
            fd = new SafeFd(*(int*)(control + sizeof(Libc.Cmsghdr)));
    }

    /// <summary>One whole datagram as it is, with no type byte (another program's protocol on a socketpair:
    /// CRIU's RPC), and the fd that came with it as SCM_RIGHTS, if any; null at EOF.</summary>
    public byte[]? ReceiveRaw(out SafeFd? fd)
    {
        const int MSG_PEEK = 2, MSG_TRUNC = 0x20;
        fd = null;
        byte probe;
        nint size;
        do size = Libc.recv(_fd.Fd, &probe, 1, MSG_PEEK | MSG_TRUNC);
        while (size < 0 && Errno.Last == Error.EINTR);
        if (size < 0 && Errno.Last != Error.ECONNRESET) throw new SyscallException("recv", Errno.Last, "(socket)");
        if (size <= 0) return null;
        var buf = new byte[size];
        fixed (byte* p = buf)
            ReceiveMessage(p, size, out fd);
        return buf;
    }

    /// <summary>Sends <paramref name="datagram"/> as it is (see <see cref="ReceiveRaw"/>).</summary>
    public void SendRaw(ReadOnlySpan<byte> datagram) => SendDatagram([], datagram);

    private static int CmsgSpace => sizeof(Libc.Cmsghdr) + 8;

    public void Dispose() => _fd.Dispose();
}
