using Cnr.Diagnostics;
using Cnr.Linux;
using Cnr.Spec;

namespace Cnr.Seccomp;

/// <summary>The libseccomp layer: a <see cref="SeccompProgram"/> turned into a scmp_filter_ctx (seccomp_init,
/// architectures, rules), exported as BPF for the kernel or as pseudo filter code for tests. Never loads.</summary>
internal sealed class SeccompBuilder : IDisposable
{
    private const int EEXIST = 17;

    private readonly LibSeccomp.Context _context;

    /// <summary>The rules libseccomp accepted (names unknown to it are skipped, as runc does).</summary>
    public int RuleCount { get; }

    private SeccompBuilder(LibSeccomp.Context context, int ruleCount)
    {
        _context = context;
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
            foreach (var (path, name) in program.Architectures)
            {
                uint arch = LibSeccomp.seccomp_arch_resolve_name(name);
                if (arch == 0)
                    throw new SpecException($"{path}: libseccomp {LibSeccompVersion.Get()} does not know the architecture {SpecException.Show(name)}");
                int rc = LibSeccomp.seccomp_arch_add(context, arch);
                if (rc != -EEXIST) LibSeccomp.Check(rc, "seccomp_arch_add", $"{path} ({name})");
            }
            return new SeccompBuilder(context, AddRules(context, program.Rules));
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

    /// <summary>The program as struct sock_filter[], what seccomp(SECCOMP_SET_MODE_FILTER) takes.</summary>
    public byte[] ExportBpf() => Export(LibSeccomp.seccomp_export_bpf, "seccomp_export_bpf");

    /// <summary>The program as libseccomp's readable pseudo filter code.</summary>
    public string ExportPfc() => System.Text.Encoding.UTF8.GetString(Export(LibSeccomp.seccomp_export_pfc, "seccomp_export_pfc"));

    private byte[] Export(Func<LibSeccomp.Context, int, int> export, string call)
    {
        using var memfd = SafeFd.Check(Libc.memfd_create("seccomp", Libc.MFD_CLOEXEC), "memfd_create", "seccomp");
        LibSeccomp.Check(export(_context, memfd.Fd), call);
        return File.ReadAllBytes($"/proc/self/fd/{memfd.Fd}");
    }

    public void Dispose() => _context.Dispose();
}
