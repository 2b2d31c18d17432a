using System.Text;
using Cnr.Linux;
using Cnr.Process;

namespace Cnr.Terminal;

/// <summary>`--console-socket PATH`: the caller (containerd's shim, podman's conmon) listens on a unix socket
/// and receives the pty master over SCM_RIGHTS. Connected before anything is created, so a wrong path is a
/// clean error. linux.seccomp.listenerPath is the same kind of socket, for the seccomp listener fd.</summary>
public sealed unsafe class ConsoleSocket : IDisposable
{
    private readonly SafeFd _fd;
    private ConsoleSocket(SafeFd fd) => _fd = fd;

    /// <param name="what">the flag or config field that named the socket, for messages</param>
    public static ConsoleSocket Connect(string path, string what = "--console-socket")
    {
        var fd = SafeFd.Check(Libc.socket(Libc.AF_UNIX, Libc.SOCK_STREAM | Libc.SOCK_CLOEXEC, 0), "socket");
        byte* addr = stackalloc byte[110];
        new Span<byte>(addr, 110).Clear();
        *(ushort*)addr = Libc.AF_UNIX;
        var bytes = Encoding.UTF8.GetBytes(path);
        if (bytes.Length > 107) throw new ArgumentException($"{what}: path too long: {path}");
        bytes.CopyTo(new Span<byte>(addr + 2, 108));
        if (Libc.connect(fd, addr, 2 + bytes.Length + 1) < 0)
        {
            var err = Errno.Last;
            fd.Dispose();
            throw new SyscallException("connect", err, $"{what} {path}");
        }
        return new ConsoleSocket(fd);
    }

    public void Send(SafeFd master) => SyncSocket.SendFd(_fd, master, (byte)'c');

    /// <summary>An fd with a message in the same sendmsg (the seccomp listener with the container's state).</summary>
    public void Send(SafeFd fd, ReadOnlySpan<byte> message) => SyncSocket.SendFd(_fd, fd, message);

    public void Dispose() => _fd.Dispose();
}
