using System.Text;
using Cnr.Linux;
using Cnr.Process;

namespace Cnr.Terminal;

/// <summary>`--console-socket PATH`: the caller (containerd's shim, podman's conmon) listens on a unix socket
/// and receives the pty master over SCM_RIGHTS. Connected before anything is created, so a wrong path is a
/// clean error.</summary>
public sealed unsafe class ConsoleSocket : IDisposable
{
    private readonly SafeFd _fd;
    private ConsoleSocket(SafeFd fd) => _fd = fd;

    public static ConsoleSocket Connect(string path)
    {
        var fd = SafeFd.Check(Libc.socket(Libc.AF_UNIX, Libc.SOCK_STREAM | Libc.SOCK_CLOEXEC, 0), "socket");
        byte* addr = stackalloc byte[110];
        new Span<byte>(addr, 110).Clear();
        *(ushort*)addr = Libc.AF_UNIX;
        var bytes = Encoding.UTF8.GetBytes(path);
        if (bytes.Length > 107) throw new ArgumentException($"--console-socket: path too long: {path}");
        bytes.CopyTo(new Span<byte>(addr + 2, 108));
        if (Libc.connect(fd.Fd, addr, 2 + bytes.Length + 1) < 0)
        {
            int err = Errno.Last;
            fd.Dispose();
            throw new SyscallException("connect", err, $"--console-socket {path}");
        }
        return new ConsoleSocket(fd);
    }

    public void Send(SafeFd master) => SyncSocket.SendFd(_fd.Fd, master.Fd, (byte)'c');

    public void Dispose() => _fd.Dispose();
}
