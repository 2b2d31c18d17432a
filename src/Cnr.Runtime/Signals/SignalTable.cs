namespace Cnr.Signals;

/// <summary>Signal names and numbers (x86-64 / generic Linux), parsed the way runc's `kill` does: a number,
/// or a name with or without SIG in any case ("KILL", "SIGKILL", "kill"), plus RTMIN+n and RTMAX-n.</summary>
public static class SignalTable
{
    // Index = signal number; 32 and 33 are reserved by glibc for its threads, so they have no name.
    private static readonly string?[] Names =
    [
        null, "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2", "PIPE",
        "ALRM", "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG", "XCPU", "XFSZ", "VTALRM",
        "PROF", "WINCH", "IO", "PWR", "SYS",
    ];

    /// <summary>SIGRTMIN as glibc (and runc's signal map) defines it; the kernel's 32 and 33 belong to libc.</summary>
    public const int RtMin = 34;
    public const int RtMax = 64;

    public static bool TryParse(string text, out int signal)
    {
        signal = 0;
        var s = text.AsSpan().Trim();
        if (s.Length > 0 && char.IsAsciiDigit(s[0]))
            return int.TryParse(s, out signal) && signal is > 0 and <= RtMax;
        if (s.StartsWith("SIG", StringComparison.OrdinalIgnoreCase)) s = s[3..];
        for (int n = 1; n < Names.Length; n++)
            if (s.Equals(Names[n], StringComparison.OrdinalIgnoreCase)) { signal = n; return true; }
        // Aliases kept by kill(1) and runc's map.
        if (s.Equals("IOT", StringComparison.OrdinalIgnoreCase)) { signal = 6; return true; }
        if (s.Equals("CLD", StringComparison.OrdinalIgnoreCase)) { signal = 17; return true; }
        if (s.Equals("POLL", StringComparison.OrdinalIgnoreCase)) { signal = 29; return true; }
        return TryParseRealtime(s, out signal);
    }

    private static bool TryParseRealtime(ReadOnlySpan<char> s, out int signal)
    {
        signal = 0;
        if (s.Length < 5) return false;
        bool min = s.StartsWith("RTMIN", StringComparison.OrdinalIgnoreCase);
        if (!min && !s.StartsWith("RTMAX", StringComparison.OrdinalIgnoreCase)) return false;
        var rest = s[5..];
        int offset = 0;
        if (rest.Length > 0)
        {
            if (rest[0] != (min ? '+' : '-') || !int.TryParse(rest[1..], out offset) || offset < 0) return false;
        }
        signal = min ? RtMin + offset : RtMax - offset;
        return signal is >= RtMin and <= RtMax;
    }

    /// <summary>Like <see cref="TryParse"/>, throwing a one-line error naming what is accepted.</summary>
    public static int Parse(string text)
        => TryParse(text, out int signal) ? signal
            : throw new FormatException($"\"{text}\" is not a signal (use a name like KILL, SIGTERM, RTMIN+1, or a number from 1 to {RtMax})");

    /// <summary>"SIGKILL" for 9, "SIGRTMIN+2" for 36; a number outside the table is returned as digits.</summary>
    public static string Name(int signal)
    {
        if ((uint)signal < (uint)Names.Length && Names[signal] is { } name) return "SIG" + name;
        if (signal is >= RtMin and <= RtMax)
            return signal - RtMin <= RtMax - signal
                ? (signal == RtMin ? "SIGRTMIN" : $"SIGRTMIN+{signal - RtMin}")
                : (signal == RtMax ? "SIGRTMAX" : $"SIGRTMAX-{RtMax - signal}");
        return signal.ToString();
    }
}
