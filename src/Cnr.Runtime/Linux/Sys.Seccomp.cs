using Cnr.Seccomp;

namespace Cnr.Linux;

/// <summary>The seccomp step (mechanism "seccomp"): loading the filter the parent compiled.</summary>
public static partial class Sys
{
    /// <summary>seccomp(SECCOMP_SET_MODE_FILTER) of <paramref name="filter"/> on the calling thread (on all
    /// threads with SECCOMP_FILTER_FLAG_TSYNC); returns its listener fd, or null without
    /// SECCOMP_FILTER_FLAG_NEW_LISTENER. The step has no shell equivalent: no tool loads a BPF filter.</summary>
    public static unsafe SafeFd? LoadSeccompFilter(CompiledFilter filter)
    {
        const int SECCOMP_SET_MODE_FILTER = 1;
        string flags = filter.Flags == 0 ? "0" : string.Join('|', SeccompNames.Flags.Where(f => (filter.Flags & f.Value) != 0).Select(f => f.Key)
            .Append(filter.NewListener ? "SECCOMP_FILTER_FLAG_NEW_LISTENER" : null).OfType<string>());
        if (Diagnostics.Steps.On)
            Diagnostics.Steps.Report("seccomp", $"seccomp(SECCOMP_SET_MODE_FILTER, {flags}, …): {filter.Rules} rules, default {filter.DefaultAction}", null);
        fixed (byte* bpf = filter.Bpf)
        {
            var program = new SockFprog { Len = (ushort)(filter.Bpf.Length / 8), Filter = bpf };
            long rc = Libc.syscall(Libc.SYS_seccomp, SECCOMP_SET_MODE_FILTER, (nint)filter.Flags, (nint)(&program), 0, 0, 0);
            Errno.Check(rc, "seccomp", $"(SECCOMP_SET_MODE_FILTER, {flags}) linux.seccomp");
            if (filter.NewListener) return SafeFd.Own((int)rc);
            // With TSYNC, a positive result is the thread that could not be synchronised.
            if (rc > 0) throw new InvalidOperationException($"seccomp (SECCOMP_SET_MODE_FILTER, {flags}): thread {rc} has a conflicting filter");
            return null;
        }
    }

    /// <summary>struct sock_fprog</summary>
    private unsafe struct SockFprog
    {
        public ushort Len;
        public byte* Filter;
    }
}
