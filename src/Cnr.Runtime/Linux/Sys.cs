using System.Text;

namespace Cnr.Linux;

/// <summary>The kernel steps that build a container, each one call: it reports itself (for `--explain`,
/// `--explain-script` and `--debug`: the call as made and its shell equivalent), makes the call, and turns a
/// failure into a <see cref="SyscallException"/> naming the call and its argument. The mechanisms (Rootfs/,
/// Process/, Cgroups/…) call these and never <see cref="Diagnostics.Steps"/> themselves: what the views show is
/// what was executed, from one layer. A partial class, a file per mechanism (Sys.Process.cs, Sys.Mount.cs,
/// Sys.Cgroup.cs…); <see cref="Libc"/> below it stays the bare imports.
/// <para>A wrapper formats its step only when <see cref="Diagnostics.Steps.On"/> (off by default, so a plain
/// run pays one static read per call); the step comes before the call, so a failing call is the last step
/// shown, unless the step only exists once the call succeeded (a mkdir that may find the directory there).</para></summary>
public static partial class Sys
{
    /// <summary>sethostname(2): the UTS namespace's hostname (process.hostname).</summary>
    public static void SetHostname(string hostname)
    {
        if (Diagnostics.Steps.On) Diagnostics.Steps.Report("uts", $"sethostname(\"{hostname}\")", $"hostname {hostname}");
        Errno.Check(Libc.sethostname(hostname, Encoding.UTF8.GetByteCount(hostname)), "sethostname", hostname);
    }

    /// <summary>setdomainname(2): the UTS namespace's NIS domain name (linux.domainname).</summary>
    public static void SetDomainname(string domain)
    {
        if (Diagnostics.Steps.On) Diagnostics.Steps.Report("uts", $"setdomainname(\"{domain}\")", $"domainname {domain}");
        Errno.Check(Libc.setdomainname(domain, Encoding.UTF8.GetByteCount(domain)), "setdomainname", domain);
    }
}
