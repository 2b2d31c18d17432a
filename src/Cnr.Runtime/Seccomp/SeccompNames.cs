namespace Cnr.Seccomp;

/// <summary>The OCI spec's seccomp words and the libseccomp values they stand for (seccomp.h, libseccomp 2.5).</summary>
internal static class SeccompNames
{
    public const uint SCMP_ACT_KILL_THREAD = 0x00000000, SCMP_ACT_KILL_PROCESS = 0x80000000, SCMP_ACT_TRAP = 0x00030000,
        SCMP_ACT_ERRNO = 0x00050000, SCMP_ACT_TRACE = 0x7ff00000, SCMP_ACT_LOG = 0x7ffc0000, SCMP_ACT_ALLOW = 0x7fff0000,
        SCMP_ACT_NOTIFY = 0x7fc00000;

    public const int SCMP_CMP_NE = 1, SCMP_CMP_LT = 2, SCMP_CMP_LE = 3, SCMP_CMP_EQ = 4, SCMP_CMP_GE = 5, SCMP_CMP_GT = 6,
        SCMP_CMP_MASKED_EQ = 7;

    /// <summary>The kernel clamps SECCOMP_RET_ERRNO data to MAX_ERRNO.</summary>
    public const uint MaxErrno = 4095;

    /// <summary>Action values without their 16-bit data (the errno for ERRNO and TRACE).</summary>
    public static readonly Dictionary<string, uint> Actions = new()
    {
        ["SCMP_ACT_KILL"] = SCMP_ACT_KILL_THREAD,
        ["SCMP_ACT_KILL_PROCESS"] = SCMP_ACT_KILL_PROCESS,
        ["SCMP_ACT_KILL_THREAD"] = SCMP_ACT_KILL_THREAD,
        ["SCMP_ACT_TRAP"] = SCMP_ACT_TRAP,
        ["SCMP_ACT_ERRNO"] = SCMP_ACT_ERRNO,
        ["SCMP_ACT_TRACE"] = SCMP_ACT_TRACE,
        ["SCMP_ACT_ALLOW"] = SCMP_ACT_ALLOW,
        ["SCMP_ACT_LOG"] = SCMP_ACT_LOG,
        ["SCMP_ACT_NOTIFY"] = SCMP_ACT_NOTIFY,
    };

    public static readonly Dictionary<string, int> Ops = new()
    {
        ["SCMP_CMP_NE"] = SCMP_CMP_NE,
        ["SCMP_CMP_LT"] = SCMP_CMP_LT,
        ["SCMP_CMP_LE"] = SCMP_CMP_LE,
        ["SCMP_CMP_EQ"] = SCMP_CMP_EQ,
        ["SCMP_CMP_GE"] = SCMP_CMP_GE,
        ["SCMP_CMP_GT"] = SCMP_CMP_GT,
        ["SCMP_CMP_MASKED_EQ"] = SCMP_CMP_MASKED_EQ,
    };

    /// <summary>SCMP_ARCH_* → the name seccomp_arch_resolve_name() knows.</summary>
    public static readonly Dictionary<string, string> Architectures = new()
    {
        ["SCMP_ARCH_X86"] = "x86",
        ["SCMP_ARCH_X86_64"] = "x86_64",
        ["SCMP_ARCH_X32"] = "x32",
        ["SCMP_ARCH_ARM"] = "arm",
        ["SCMP_ARCH_AARCH64"] = "aarch64",
        ["SCMP_ARCH_MIPS"] = "mips",
        ["SCMP_ARCH_MIPS64"] = "mips64",
        ["SCMP_ARCH_MIPS64N32"] = "mips64n32",
        ["SCMP_ARCH_MIPSEL"] = "mipsel",
        ["SCMP_ARCH_MIPSEL64"] = "mipsel64",
        ["SCMP_ARCH_MIPSEL64N32"] = "mipsel64n32",
        ["SCMP_ARCH_PPC"] = "ppc",
        ["SCMP_ARCH_PPC64"] = "ppc64",
        ["SCMP_ARCH_PPC64LE"] = "ppc64le",
        ["SCMP_ARCH_S390"] = "s390",
        ["SCMP_ARCH_S390X"] = "s390x",
        ["SCMP_ARCH_PARISC"] = "parisc",
        ["SCMP_ARCH_PARISC64"] = "parisc64",
        ["SCMP_ARCH_RISCV64"] = "riscv64",
        ["SCMP_ARCH_LOONGARCH64"] = "loongarch64",
        ["SCMP_ARCH_M68K"] = "m68k",
        ["SCMP_ARCH_SH"] = "sh",
        ["SCMP_ARCH_SHEB"] = "sheb",
    };

    /// <summary>SECCOMP_FILTER_FLAG_* (linux/seccomp.h): passed by cnr to seccomp() itself, not part of the program.</summary>
    public static readonly Dictionary<string, uint> Flags = new()
    {
        ["SECCOMP_FILTER_FLAG_TSYNC"] = 1,
        ["SECCOMP_FILTER_FLAG_LOG"] = 2,
        ["SECCOMP_FILTER_FLAG_SPEC_ALLOW"] = 4,
    };

    public static string List<T>(Dictionary<string, T> table) => string.Join(", ", table.Keys);
}
