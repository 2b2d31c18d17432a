using System.CommandLine;
using Cnr.Diagnostics;

namespace Cnr.Cli;

/// <summary>runc's global flags. Recursive, so they are accepted before or after the verb.</summary>
internal static class GlobalOptions
{
    public static readonly Option<string> Root = new("--root")
    {
        Description = "root directory for storage of container state (this should be located in tmpfs)",
        DefaultValueFactory = _ => "/run/cnr",
        Recursive = true,
    };
    public static readonly Option<bool> Debug = new("--debug") { Description = "enable debug logging", Recursive = true };
    public static readonly Option<string?> LogFile = new("--log") { Description = "set the log file to write cnr logs to (default is stderr)", Recursive = true };
    public static readonly Option<string> LogFormat = new("--log-format")
    {
        Description = "set the log format ('text' (default), or 'json')",
        DefaultValueFactory = _ => "text",
        Recursive = true,
    };
    public static readonly Option<bool> SystemdCgroup = new("--systemd-cgroup") { Description = "enable systemd cgroup support, expects cgroupsPath to be of form \"slice:prefix:name\" for e.g. \"system.slice:runc:434234\"", Recursive = true };
    // runc's --rootless takes true, false or auto; --criu names the CRIU binary. Accepted so that callers'
    // command lines parse; neither changes what cnr does.
    public static readonly Option<string?> Rootless = new("--rootless") { Description = "ignored; kept for runc compatibility", Recursive = true, Hidden = true };
    public static readonly Option<string?> Criu = new("--criu") { Description = "path to the criu binary (accepted for runc compatibility)", Recursive = true, Hidden = true };
    public static readonly Option<bool> Version = new("--version", "-v") { Description = "print the version" };

    public static IEnumerable<Option> All => [Root, Debug, LogFile, LogFormat, SystemdCgroup, Rootless, Criu];

    /// <summary>Applies the logging flags; every verb calls this first.</summary>
    public static void Apply(ParseResult r)
    {
        var format = r.GetValue(LogFormat);
        if (format is not ("text" or "json"))
            throw new UsageException($"--log-format: \"{format}\" is not a log format (text, json)");
        Log.Configure(r.GetValue(LogFile), format, r.GetValue(Debug));
    }
}

/// <summary>A usage error: printed as one line, exit status 1.</summary>
internal sealed class UsageException(string message) : Exception(message);
