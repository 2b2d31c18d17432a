using Cnr.Diagnostics;
using Cnr.Linux;
using Cnr.Spec;

namespace Cnr.Seccomp;

/// <summary>linux.seccomp as a kernel filter, in three steps at three places:
/// <see cref="Validate"/> in the parent, before anything exists, so bad input leaves nothing behind;
/// <see cref="Build"/> in init before pivot_root, because building is what dlopen()s libseccomp.so.2 and that must
/// be the host's library, never a file from the container's rootfs (init still has every capability then);
/// <see cref="Load"/> last, on the thread that calls execve, because a filter belongs to the thread that loads it.</summary>
public sealed class SeccompFilter : IDisposable
{
    private const int EEXIST = 17;

    private readonly LibSeccomp.Context _context;
    private readonly SeccompProgram _program;

    /// <summary>The rules libseccomp accepted (names unknown to it are skipped, as runc does).</summary>
    public int RuleCount { get; }

    private SeccompFilter(LibSeccomp.Context context, SeccompProgram program, int ruleCount)
    {
        _context = context;
        _program = program;
        RuleCount = ruleCount;
    }

    /// <summary>Checks everything that needs no libseccomp: actions, errnoRet, comparisons, argument indexes,
    /// architectures and flags. Errors name the JSON path and the accepted words.</summary>
    public static void Validate(LinuxSeccomp seccomp) => SeccompProgram.Translate(seccomp);

    /// <summary>Builds the filter in memory (seccomp_init, attributes, architectures, rules) without loading it.</summary>
    public static SeccompFilter Build(LinuxSeccomp seccomp)
    {
        var program = SeccompProgram.Translate(seccomp);
        if (!LibSeccomp.TryLoad())
            throw new InvalidOperationException($"linux.seccomp: {LibSeccomp.Lib} not found (install libseccomp2)");
        var context = LibSeccomp.seccomp_init(program.DefaultAction);
        if (context.IsInvalid)
            throw new InvalidOperationException($"linux.seccomp.defaultAction: seccomp_init({program.DefaultActionText}) failed: this kernel or libseccomp does not support the action");
        try
        {
            // The runtime sets no_new_privs itself, only when process.noNewPrivileges asks for it.
            LibSeccomp.Check(LibSeccomp.seccomp_attr_set(context, LibSeccomp.SCMP_FLTATR_CTL_NNP, 0), "seccomp_attr_set", "SCMP_FLTATR_CTL_NNP");
            foreach (var (flag, attribute) in program.Flags)
                LibSeccomp.Check(LibSeccomp.seccomp_attr_set(context, attribute, 1), "seccomp_attr_set", flag);
            foreach (var (path, name) in program.Architectures)
            {
                uint arch = LibSeccomp.seccomp_arch_resolve_name(name);
                if (arch == 0)
                    throw new InvalidDataException($"{path}: libseccomp {LibSeccompVersion.Get()} does not know the architecture \"{name}\"");
                int rc = LibSeccomp.seccomp_arch_add(context, arch);
                if (rc != -EEXIST) LibSeccomp.Check(rc, "seccomp_arch_add", $"{path} ({name})");
            }
            return new SeccompFilter(context, program, AddRules(context, program.Rules));
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
                Log.Debug($"{rule.Path}: system call \"{rule.Syscall}\" is unknown to libseccomp; rule skipped");
                continue;
            }
            fixed (LibSeccomp.ScmpArgCmp* conditions = rule.Conditions)
                LibSeccomp.Check(LibSeccomp.seccomp_rule_add_array(context, rule.Action, nr, (uint)rule.Conditions.Length, conditions),
                    "seccomp_rule_add", $"{rule.Path} ({rule.Syscall})");
            added++;
        }
        return added;
    }

    /// <summary>seccomp(SECCOMP_SET_MODE_FILTER) on the calling thread (all threads with SECCOMP_FILTER_FLAG_TSYNC).
    /// Without no_new_privs the caller must still hold CAP_SYS_ADMIN. Nothing is logged afterwards: the filter may
    /// forbid the very write that logging needs.</summary>
    public void Load()
    {
        if (Steps.On)
        {
            string flags = _program.Flags.Count == 0 ? "0" : string.Join('|', _program.Flags.Select(f => f.Flag));
            Steps.Report("seccomp", $"seccomp(SECCOMP_SET_MODE_FILTER, {flags}, …): {RuleCount} rules, default {_program.DefaultActionText}", null);
        }
        LibSeccomp.Check(LibSeccomp.seccomp_load(_context), "seccomp_load", "(linux.seccomp)");
    }

    /// <summary>The filter as libseccomp's pseudo filter code, for tests: what would be loaded, without loading it.</summary>
    internal string ExportPfc()
    {
        using var memfd = SafeFd.Check(Libc.memfd_create("seccomp-pfc", Libc.MFD_CLOEXEC), "memfd_create", "seccomp-pfc");
        LibSeccomp.Check(LibSeccomp.seccomp_export_pfc(_context, memfd.Fd), "seccomp_export_pfc");
        return File.ReadAllText($"/proc/self/fd/{memfd.Fd}");
    }

    public void Dispose() => _context.Dispose();
}
