using Cnr.Diagnostics;
using Cnr.Signals;

namespace Cnr.Linux;

/// <summary>The signals cnr sends to a container's processes (mechanism "signal"): `kill`, and the SIGKILL of
/// `delete --force`.</summary>
public static partial class Sys
{
    /// <summary>kill(2) of <paramref name="pid"/>; 0 or the errno (ESRCH: gone, which the caller may well expect).</summary>
    public static Error TryKill(int pid, int signal)
    {
        if (Steps.On) Steps.Report("signal", $"kill({pid}, {SignalTable.Name(signal)})", KillShell(pid, signal));
        return Libc.kill(pid, signal) < 0 ? Errno.Last : 0;
    }

    /// <summary>kill(1) for one signal: `kill -KILL 1234`, `kill -RTMIN+2 1234`, `kill -0 1234` (only checks).</summary>
    internal static string KillShell(int pid, int signal)
    {
        var name = SignalTable.Name(signal);
        return $"kill -{(name.StartsWith("SIG", StringComparison.Ordinal) ? name[3..] : name)} {pid}";
    }
}
