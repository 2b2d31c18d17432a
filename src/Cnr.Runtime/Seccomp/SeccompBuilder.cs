using System.Runtime.InteropServices;
using Cnr.Diagnostics;
using Cnr.Linux;
using Cnr.Spec;
using static Cnr.Seccomp.SeccompNames;

namespace Cnr.Seccomp;

/// <summary>The libseccomp layer: a <see cref="SeccompProgram"/> turned into a scmp_filter_ctx (seccomp_init,
/// architectures, rules), exported as BPF for the kernel or as pseudo filter code for tests. Never loads.</summary>
internal sealed class SeccompBuilder : IDisposable
{

    private readonly LibSeccomp.Context _context;
    private readonly byte[] _enosysStub;

    /// <summary>The rules libseccomp accepted (names unknown to it are skipped, as runc does).</summary>
    public int RuleCount { get; }

    private SeccompBuilder(LibSeccomp.Context context, int ruleCount, byte[] enosysStub)
    {
        _context = context;
        _enosysStub = enosysStub;
        RuleCount = ruleCount;
    }

    public static SeccompBuilder Build(SeccompProgram program)
    {
        if (!LibSeccomp.TryLoad())
            throw new SpecException($"linux.seccomp: {LibSeccomp.Lib} not found (install libseccomp2)");
        var context = LibSeccomp.seccomp_init(program.DefaultAction);
        if (context.IsInvalid)
            throw new SpecException($"linux.seccomp.defaultAction: seccomp_init({program.DefaultActionText}) failed: this kernel or libseccomp does not support the action");
        try
        {
            var arches = new List<uint> { LibSeccomp.seccomp_arch_native() };
            foreach (var (path, name) in program.Architectures)
            {
                uint arch = LibSeccomp.seccomp_arch_resolve_name(name);
                if (arch == 0)
                    throw new SpecException($"{path}: libseccomp {LibSeccompVersion.Get()} does not know the architecture {SpecException.Show(name)}");
                int rc = LibSeccomp.seccomp_arch_add(context, arch);
                if (rc != -(int)Error.EEXIST) LibSeccomp.Check(rc, "seccomp_arch_add", $"{path} ({name})");
                arches.Add(arch);
            }
            var stub = program.NeedsEnosysStub ? EnosysStub(arches.Distinct(), program.Names) : [];
            return new SeccompBuilder(context, AddRules(context, program.Rules), stub);
        }
        catch
        {
            context.Dispose();
            throw;
        }
    }

    private static unsafe int AddRules(LibSeccomp.Context context, IReadOnlyList<SeccompRule> rules)
    {
        int added = 0;
        foreach (var rule in rules)
        {
            int nr = LibSeccomp.seccomp_syscall_resolve_name(rule.Syscall);
            if (nr == LibSeccomp.NR_SCMP_ERROR)
            {
                Log.Debug($"{rule.Path}: system call {rule.Syscall} is unknown to libseccomp; rule skipped");
                continue;
            }
            fixed (LibSeccomp.ScmpArgCmp* conditions = rule.Conditions)
                LibSeccomp.Check(LibSeccomp.seccomp_rule_add_array(context, rule.Action, nr, (uint)rule.Conditions.Length, conditions),
                    "seccomp_rule_add", $"{rule.Path} ({rule.Syscall})");
            added++;
        }
        return added;
    }

    /// <summary>The program as struct sock_filter[], what seccomp(SECCOMP_SET_MODE_FILTER) takes, behind the
    /// ENOSYS stub.</summary>
    public byte[] ExportBpf() => [.. _enosysStub, .. Export(LibSeccomp.seccomp_export_bpf, "seccomp_export_bpf")];

    private const ushort BPF_LD_W_ABS = 0x20, BPF_JEQ_K = 0x15, BPF_JGT_K = 0x25, BPF_JGE_K = 0x35, BPF_JA = 0x05, BPF_RET_K = 0x06;
    private const uint AUDIT_ARCH_X86_64 = 0xc000003e, X32_SYSCALL_BIT = 0x40000000, SCMP_ARCH_X32 = 0x4000003e;

    /// <summary>runc's patchbpf: a system call numbered above every call the profile names (for that
    /// architecture) is newer than the profile, and gets ENOSYS instead of the default action, so that libc
    /// falls back to an older call (clone3 → clone, statx → stat…). Runs before libseccomp's program, which
    /// starts by loading the architecture itself, so the stub only ever returns or jumps forward to it.</summary>
    private static byte[] EnosysStub(IEnumerable<uint> arches, IReadOnlyList<string> names)
    {
        var code = new List<(ushort Code, byte Jt, byte Jf, uint K)> { (BPF_LD_W_ABS, 0, 0, 4) };
        var toEnd = new List<int>();      // instructions whose jt or jf must land after the ENOSYS return
        var toEnosys = new List<int>();   // …and whose jt must land on it
        // x32 shares x86_64's audit value; its calls carry X32_SYSCALL_BIT and are left to libseccomp.
        foreach (uint arch in arches.Where(a => a != SCMP_ARCH_X32))
        {
            int max = names.Select(n => LibSeccomp.seccomp_syscall_resolve_name_arch(arch, n)).DefaultIfEmpty(-1).Max();
            if (max < 0) continue;
            bool x86_64 = arch == AUDIT_ARCH_X86_64;
            byte blockLength = (byte)(x86_64 ? 3 : 2);
            code.Add((BPF_JEQ_K, 0, blockLength, arch));   // another architecture: try the next block
            code.Add((BPF_LD_W_ABS, 0, 0, 0));
            if (x86_64) { toEnd.Add(code.Count); code.Add((BPF_JGE_K, 0, 0, X32_SYSCALL_BIT)); }
            toEnosys.Add(code.Count);
            code.Add((BPF_JGT_K, 0, 0, (uint)max));
        }
        code.Add((BPF_JA, 0, 0, 1));
        int enosys = code.Count;
        code.Add((BPF_RET_K, 0, 0, SCMP_ACT_ERRNO | (uint)Error.ENOSYS));
        int end = code.Count;
        foreach (int i in toEnd) code[i] = code[i] with { Jt = (byte)(end - i - 1) };
        foreach (int i in toEnosys) code[i] = code[i] with { Jt = (byte)(enosys - i - 1), Jf = (byte)(end - i - 1) };

        var bytes = new byte[code.Count * 8];
        for (int i = 0; i < code.Count; i++)
        {
            var (op, jt, jf, k) = code[i];
            BitConverter.TryWriteBytes(bytes.AsSpan(i * 8), op);
            bytes[i * 8 + 2] = jt;
            bytes[i * 8 + 3] = jf;
            BitConverter.TryWriteBytes(bytes.AsSpan(i * 8 + 4), k);
        }
        return bytes;
    }

    /// <summary>The program as libseccomp's readable pseudo filter code.</summary>
    public string ExportPfc() => System.Text.Encoding.UTF8.GetString(Export(LibSeccomp.seccomp_export_pfc, "seccomp_export_pfc"));

    private byte[] Export(Func<LibSeccomp.Context, SafeHandle, int> export, string call)
    {
        using var memfd = SafeFd.Check(Libc.memfd_create("seccomp", Libc.MFD_CLOEXEC), "memfd_create", "seccomp");
        LibSeccomp.Check(export(_context, memfd), call);
        return File.ReadAllBytes($"/proc/self/fd/{memfd.Fd}");
    }

    public void Dispose() => _context.Dispose();
}
