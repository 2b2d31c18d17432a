namespace Cnr.Process;

/// <summary>process.rlimits[].type names and their resource numbers for setrlimit/prlimit (asm-generic/resource.h).</summary>
public static class RlimitTable
{
    private static readonly string[] Names =
    [
        "RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_DATA", "RLIMIT_STACK", "RLIMIT_CORE", "RLIMIT_RSS", "RLIMIT_NPROC",
        "RLIMIT_NOFILE", "RLIMIT_MEMLOCK", "RLIMIT_AS", "RLIMIT_LOCKS", "RLIMIT_SIGPENDING", "RLIMIT_MSGQUEUE",
        "RLIMIT_NICE", "RLIMIT_RTPRIO", "RLIMIT_RTTIME",
    ];

    /// <summary>Every known name, for error messages.</summary>
    public static IReadOnlyList<string> All => Names;

    /// <summary>Parses a type exactly as the spec writes it ("RLIMIT_NOFILE").</summary>
    public static bool TryParse(string name, out int resource)
    {
        resource = Array.IndexOf(Names, name);
        return resource >= 0;
    }

    public static string Name(int resource) => (uint)resource < (uint)Names.Length ? Names[resource] : resource.ToString();
}
