using System.Runtime.InteropServices;

namespace Cnr.Linux;

/// <summary>bpf(2): just what the cgroup v2 device controller needs (load a BPF_PROG_TYPE_CGROUP_DEVICE
/// program, attach/detach/query it on a cgroup directory). union bpf_attr is laid out by hand: the fields
/// used here have had fixed offsets since Linux 4.15; the rest of the buffer stays zero as the kernel demands.
/// bpf(2) always returns its fds with O_CLOEXEC. The fds bpf_attr names are numbers in the buffer: the caller's
/// SafeFds stay open across the call (their <see cref="SafeFd.Fd"/> is read, the handle kept by the caller).</summary>
public static unsafe partial class Libc
{
    public const long SYS_bpf = 321;

    public const int BPF_PROG_LOAD = 5, BPF_PROG_ATTACH = 8, BPF_PROG_DETACH = 9, BPF_PROG_GET_FD_BY_ID = 13,
        BPF_PROG_QUERY = 16;
    public const uint BPF_PROG_TYPE_CGROUP_DEVICE = 15;
    public const uint BPF_CGROUP_DEVICE = 6;
    public const uint BPF_F_ALLOW_MULTI = 2;

    /// <summary>Size handed to the kernel: bigger than any field used, all unused bytes zero.</summary>
    private const int BpfAttrSize = 128;

    private static int Bpf(int cmd, byte* attr, string what)
        => (int)Errno.Check(syscall(SYS_bpf, cmd, (nint)attr, BpfAttrSize, 0, 0, 0), "bpf", what);

    /// <summary>BPF_PROG_LOAD of a cgroup device program. Loaded without the verifier's log, which costs more
    /// than the load itself (the verifier prints every instruction's state into it: ~1 ms of every `run`); only
    /// when the kernel refuses is it loaded again with the log, and the exception carries the log's text, which
    /// names the offending instruction.</summary>
    public static SafeFd BpfProgLoadCgroupDevice(ReadOnlySpan<ulong> insns, string license)
    {
        var lic = System.Text.Encoding.ASCII.GetBytes(license + "\0");
        var rc = BpfProgLoad(insns, lic, default);
        if (rc >= 0) return SafeFd.Own((int)rc);
        var errno = Errno.Last;
        var log = new byte[64 * 1024];
        if (BpfProgLoad(insns, lic, log) is var again and >= 0)
            return SafeFd.Own((int)again);  // refused once, then loaded: what the kernel said the first time is gone
        var text = System.Text.Encoding.ASCII.GetString(log).TrimEnd('\0').Trim();
        throw new SyscallException("bpf", errno,
            $"BPF_PROG_LOAD (cgroup device program, {insns.Length} instructions){(text.Length > 0 ? ": verifier: " + text : "")}");
    }

    private static long BpfProgLoad(ReadOnlySpan<ulong> insns, byte[] license, Span<byte> log)
    {
        var attr = stackalloc byte[BpfAttrSize];
        new Span<byte>(attr, BpfAttrSize).Clear();
        fixed (ulong* ip = insns)
        fixed (byte* lp = license)
        fixed (byte* logp = log)
        {
            *(uint*)(attr + 0) = BPF_PROG_TYPE_CGROUP_DEVICE;  // prog_type
            *(uint*)(attr + 4) = (uint)insns.Length;            // insn_cnt
            *(ulong*)(attr + 8) = (ulong)ip;                    // insns
            *(ulong*)(attr + 16) = (ulong)lp;                   // license
            if (log.Length > 0)
            {
                *(uint*)(attr + 24) = 1;                        // log_level
                *(uint*)(attr + 28) = (uint)log.Length;         // log_size
                *(ulong*)(attr + 32) = (ulong)logp;             // log_buf
            }
            return syscall(SYS_bpf, BPF_PROG_LOAD, (nint)attr, BpfAttrSize, 0, 0, 0);
        }
    }

    public static void BpfProgAttach(SafeFd cgroupFd, SafeFd progFd, uint attachType, uint flags, string cgroupPath)
    {
        var attr = stackalloc byte[BpfAttrSize];
        new Span<byte>(attr, BpfAttrSize).Clear();
        *(uint*)(attr + 0) = (uint)cgroupFd.Fd;   // target_fd
        *(uint*)(attr + 4) = (uint)progFd.Fd;     // attach_bpf_fd
        *(uint*)(attr + 8) = attachType;       // attach_type
        *(uint*)(attr + 12) = flags;           // attach_flags
        Bpf(BPF_PROG_ATTACH, attr, $"BPF_PROG_ATTACH to {cgroupPath}");
    }

    public static void BpfProgDetach(SafeFd cgroupFd, SafeFd progFd, uint attachType, string cgroupPath)
    {
        var attr = stackalloc byte[BpfAttrSize];
        new Span<byte>(attr, BpfAttrSize).Clear();
        *(uint*)(attr + 0) = (uint)cgroupFd.Fd;
        *(uint*)(attr + 4) = (uint)progFd.Fd;
        *(uint*)(attr + 8) = attachType;
        Bpf(BPF_PROG_DETACH, attr, $"BPF_PROG_DETACH from {cgroupPath}");
    }

    /// <summary>The ids of the programs of <paramref name="attachType"/> attached to the cgroup itself.</summary>
    public static uint[] BpfProgQuery(SafeFd cgroupFd, uint attachType, string cgroupPath)
    {
        var ids = new uint[64];
        var attr = stackalloc byte[BpfAttrSize];
        new Span<byte>(attr, BpfAttrSize).Clear();
        fixed (uint* idp = ids)
        {
            *(uint*)(attr + 0) = (uint)cgroupFd.Fd;     // target_fd
            *(uint*)(attr + 4) = attachType;         // attach_type
            *(ulong*)(attr + 16) = (ulong)idp;       // prog_ids
            *(uint*)(attr + 24) = (uint)ids.Length;  // prog_cnt (in: room, out: count)
            Bpf(BPF_PROG_QUERY, attr, $"BPF_PROG_QUERY on {cgroupPath}");
            return ids[..(int)Math.Min(*(uint*)(attr + 24), (uint)ids.Length)];
        }
    }

    public static SafeFd BpfProgGetFdById(uint id)
    {
        var attr = stackalloc byte[BpfAttrSize];
        new Span<byte>(attr, BpfAttrSize).Clear();
        *(uint*)(attr + 0) = id;  // prog_id
        return SafeFd.Own(Bpf(BPF_PROG_GET_FD_BY_ID, attr, $"BPF_PROG_GET_FD_BY_ID {id}"));
    }
}
