using System.Runtime.InteropServices;
using Cnr.Spec;

namespace Cnr.Linux;

/// <summary>The namespace steps the parent takes for a new init: its user namespace's id maps (mechanism
/// "user"), and the loopback of its new network namespace (mechanism "network").</summary>
public static partial class Sys
{
    /// <summary>Writes <paramref name="content"/> to /proc/PID/<paramref name="file"/> of the init waiting in its
    /// new user namespace (uid_map, gid_map, setgroups); the step shows a map's lines as one.</summary>
    public static void WriteIdMapFile(int pid, string file, string content)
    {
        var path = $"/proc/{pid}/{file}";
        if (Diagnostics.Steps.On) Diagnostics.Steps.Report("user", $"write {path}: {content.Trim().Replace("\n", ", ")}", $"echo '{content.Trim()}' > {path}");
        try { File.WriteAllText(path, content); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException($"write {path} ({content.Trim()}): {e.Message}", e);
        }
    }

    /// <summary>Runs the setuid <paramref name="helper"/> (newuidmap or newgidmap) to write the init's map of
    /// <paramref name="maps"/>, which it checks against /etc/subuid or /etc/subgid; its exit status and stderr
    /// (what it refused, for the caller's message).</summary>
    public static ProgramResult RunIdMapHelper(string helper, int pid, IReadOnlyList<LinuxIdMapping> maps)
    {
        var args = new List<string> { pid.ToString() };
        foreach (var m in maps) args.AddRange([m.ContainerID.ToString(), m.HostID.ToString(), m.Size.ToString()]);
        if (Diagnostics.Steps.On) Diagnostics.Steps.Report("user", $"{helper} {string.Join(' ', args)}", $"{Path.GetFileName(helper)} {string.Join(' ', args)}");
        return RunProgram(helper, args);
    }

    /// <summary>struct ifreq: the name, then the union; ifr_flags is its first short.</summary>
    [StructLayout(LayoutKind.Sequential, Size = 40)]
    private unsafe struct IfReq
    {
        public fixed byte Name[16];
        public short Flags;
    }

    /// <summary>ioctl(SIOCSIFFLAGS) of "lo" with IFF_UP, in the caller's network namespace, unless it is up.</summary>
    public static unsafe void SetLoopbackUp()
    {
        const int AF_INET = 2, SOCK_DGRAM = 2;
        const nuint SIOCGIFFLAGS = 0x8913, SIOCSIFFLAGS = 0x8914;
        const short IFF_UP = 0x1;
        if (Diagnostics.Steps.On) Diagnostics.Steps.Report("network", "ioctl(socket(AF_INET), SIOCSIFFLAGS, {\"lo\", IFF_UP}) (a new network namespace's loopback, as runc)", "ip link set lo up");
        using var sock = SafeFd.Check(Libc.socket(AF_INET, SOCK_DGRAM | Libc.SOCK_CLOEXEC, 0), "socket", "AF_INET (to bring lo up)");
        var req = new IfReq();
        req.Name[0] = (byte)'l';
        req.Name[1] = (byte)'o';
        Errno.Check(Libc.ioctl(sock, SIOCGIFFLAGS, (nint)(&req)), "ioctl", "SIOCGIFFLAGS lo");
        if ((req.Flags & IFF_UP) != 0) return;
        req.Flags |= IFF_UP;
        Errno.Check(Libc.ioctl(sock, SIOCSIFFLAGS, (nint)(&req)), "ioctl", "SIOCSIFFLAGS lo up");
    }
}
