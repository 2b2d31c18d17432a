using Cnr.Linux;

namespace Cnr.Seccomp;

/// <summary>The libseccomp on this machine, as `cnr --version` reports it (like runc's "libseccomp: 2.5.4").</summary>
public static class LibSeccompVersion
{
    /// <summary>"2.5.4", or null when libseccomp.so.2 is not installed.</summary>
    public static unsafe string? Get()
    {
        if (!LibSeccomp.TryLoad()) return null;
        var v = LibSeccomp.seccomp_version();
        return $"{v->Major}.{v->Minor}.{v->Micro}";
    }
}
