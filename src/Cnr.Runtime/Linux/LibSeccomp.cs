using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Cnr.Linux;

/// <summary>libseccomp.so.2 bindings (the library runc, crun and youki build filters with), used by the parent
/// only: it compiles the filter to BPF and init loads that with seccomp() itself, so no library is ever opened
/// inside the container's root. Loaded with dlopen on first use, not linked: a config without linux.seccomp never
/// pays for it, and the binary still starts on a machine without libseccomp2. libseccomp returns -errno instead of
/// setting errno, so callers turn a negative result into a <see cref="SyscallException"/> with <see cref="Check"/>.</summary>
public static unsafe partial class LibSeccomp
{
    public const string Lib = "libseccomp.so.2";

    /// <summary>__NR_SCMP_ERROR: the name is unknown to this libseccomp.</summary>
    public const int NR_SCMP_ERROR = -1;

    [StructLayout(LayoutKind.Sequential)]
    public struct ScmpVersion { public uint Major, Minor, Micro; }

    /// <summary>struct scmp_arg_cmp: for SCMP_CMP_MASKED_EQ, DatumA is the mask and DatumB the value.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct ScmpArgCmp { public uint Arg; public int Op; public ulong DatumA, DatumB; }

    /// <summary>A scmp_filter_ctx, released with seccomp_release.</summary>
    public sealed class Context : SafeHandleZeroOrMinusOneIsInvalid
    {
        public Context() : base(true) { }
        protected override bool ReleaseHandle() { seccomp_release(handle); return true; }
    }

    [LibraryImport(Lib)] public static partial ScmpVersion* seccomp_version();
    [LibraryImport(Lib)] public static partial Context seccomp_init(uint defAction);
    [LibraryImport(Lib)] public static partial void seccomp_release(nint ctx);
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)] public static partial uint seccomp_arch_resolve_name(string name);
    [LibraryImport(Lib)] public static partial int seccomp_arch_add(Context ctx, uint arch);
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)] public static partial int seccomp_syscall_resolve_name(string name);
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)] public static partial int seccomp_syscall_resolve_name_arch(uint arch, string name);
    [LibraryImport(Lib)] public static partial uint seccomp_arch_native();
    [LibraryImport(Lib)] public static partial int seccomp_rule_add_array(Context ctx, uint action, int syscall, uint argCount, ScmpArgCmp* args);
    [LibraryImport(Lib)] public static partial int seccomp_export_bpf(Context ctx, SafeHandle fd);
    [LibraryImport(Lib)] public static partial int seccomp_export_pfc(Context ctx, SafeHandle fd);

    /// <summary>dlopen()s the library if this machine has it (a probe: the [LibraryImport]s resolve it themselves).</summary>
    public static bool TryLoad() => NativeLibrary.TryLoad(Lib, out _);

    /// <summary>Throws for a negative libseccomp result (-errno).</summary>
    public static int Check(int rc, string call, string? detail = null)
        => rc < 0 ? throw new SyscallException(call, (Error)(-rc), detail) : rc;
}
