using Cnr.Linux;

namespace Cnr.Cgroups;

/// <summary>cgroup v2 has no devices.allow file: device access is decided by an eBPF program of type
/// BPF_PROG_TYPE_CGROUP_DEVICE attached to the cgroup. This compiles <see cref="DeviceRule"/>s to that program
/// (the same shape as runc's libcontainer/cgroups/devices/ebpf devicefilter) and attaches it.
///
/// The program gets struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor; } in r1, where
/// access_type = (access &lt;&lt; 16) | type, type BPF_DEVCG_DEV_BLOCK=1 / CHAR=2, access MKNOD=1 / READ=2 / WRITE=4.
/// It returns 1 to allow, 0 to deny (EPERM). Rules are emitted last-first, so the first block that matches is
/// the config's last matching rule; no match denies. A rule matches when every requested access bit is in
/// the rule's access.</summary>
public static class DeviceFilter
{
    public const string License = "Apache";

    // eBPF opcodes used (include/uapi/linux/bpf.h, bpf_common.h)
    internal const byte LdxMemW = 0x61;   // BPF_LDX | BPF_MEM | BPF_W:  dst = *(u32 *)(src + off)
    internal const byte And32K = 0x54;    // BPF_ALU | BPF_AND | BPF_K:  dst &= imm (32-bit)
    internal const byte Rsh32K = 0x74;    // BPF_ALU | BPF_RSH | BPF_K
    internal const byte Mov32X = 0xbc;    // BPF_ALU | BPF_MOV | BPF_X:  dst = src (32-bit)
    internal const byte Mov64K = 0xb7;    // BPF_ALU64 | BPF_MOV | BPF_K
    internal const byte JneK = 0x55;      // BPF_JMP | BPF_JNE | BPF_K:  if dst != imm goto pc + 1 + off
    internal const byte JneX = 0x5d;      // BPF_JMP | BPF_JNE | BPF_X
    internal const byte Exit = 0x95;      // BPF_JMP | BPF_EXIT: return r0

    public static ulong Insn(byte op, int dst, int src, short off, int imm)
        => op | (ulong)((dst & 0xf) | ((src & 0xf) << 4)) << 8 | (ulong)(ushort)off << 16 | (ulong)(uint)imm << 32;

    public static uint AccessBits(string access)
        => (access.Contains('m') ? 1u : 0) | (access.Contains('r') ? 2u : 0) | (access.Contains('w') ? 4u : 0);

    /// <summary>The program for <paramref name="rules"/>. Registers: r2 = type, r3 = access, r4 = major,
    /// r5 = minor, r1 scratch.</summary>
    public static ulong[] Compile(IReadOnlyList<DeviceRule> rules)
    {
        var p = new List<ulong>
        {
            Insn(LdxMemW, 2, 1, 0, 0), Insn(And32K, 2, 0, 0, 0xffff),
            Insn(LdxMemW, 3, 1, 0, 0), Insn(Rsh32K, 3, 0, 0, 16),
            Insn(LdxMemW, 4, 1, 4, 0),
            Insn(LdxMemW, 5, 1, 8, 0),
        };
        for (int i = rules.Count - 1; i >= 0; i--)
        {
            var r = rules[i];
            var access = AccessBits(r.Access);
            // each test jumps past the rest of this block when it fails; built backwards so offsets are known
            var block = new List<ulong> { Insn(Mov64K, 0, 0, 0, r.Allow ? 1 : 0), Insn(Exit, 0, 0, 0, 0) };
            if (r.Minor >= 0) block.Insert(0, Insn(JneK, 5, 0, (short)block.Count, (int)r.Minor));
            if (r.Major >= 0) block.Insert(0, Insn(JneK, 4, 0, (short)block.Count, (int)r.Major));
            if (access != 7)
            {
                block.Insert(0, Insn(JneX, 1, 3, (short)block.Count, 0));
                block.InsertRange(0, [Insn(Mov32X, 1, 3, 0, 0), Insn(And32K, 1, 0, 0, (int)access)]);
            }
            if (r.Type != 'a') block.Insert(0, Insn(JneK, 2, 0, (short)block.Count, r.Type == 'b' ? 1 : 2));
            p.AddRange(block);
            // a rule that matches everything ends the program: the verifier refuses unreachable code
            if (block.Count == 2) return [.. p];
        }
        p.Add(Insn(Mov64K, 0, 0, 0, 0));
        p.Add(Insn(Exit, 0, 0, 0, 0));
        return [.. p];
    }

    /// <summary>Loads the program for <paramref name="rules"/> and makes it the only device program of the
    /// cgroup: attach the new one (BPF_F_ALLOW_MULTI), then detach the ones that were there (an update).
    /// While both are attached both must allow, so the swap never widens access.</summary>
    public static void Apply(string cgroupDir, IReadOnlyList<DeviceRule> rules)
    {
        var insns = Compile(rules);
        using var prog = Sys.LoadDeviceProgram(insns, rules);
        using var dir = SafeFd.Check(Libc.open(cgroupDir, Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_CLOEXEC, 0), "open", cgroupDir);
        var old = Libc.BpfProgQuery(dir, Libc.BPF_CGROUP_DEVICE, cgroupDir);
        Sys.AttachDeviceProgram(dir, prog, cgroupDir);
        foreach (var id in old)
        {
            // Another cnr replacing the same cgroup's program may have freed it since the query: gone is fine.
            SafeFd o;
            try { o = Libc.BpfProgGetFdById(id); }
            catch (SyscallException e) when (e.Number == Error.ENOENT) { continue; }
            using var _ = o;
            Sys.DetachDeviceProgram(dir, o, id, cgroupDir);
        }
    }
}
