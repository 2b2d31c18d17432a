using System.CommandLine;
using Cnr.Diagnostics;
using Cnr.Linux;

namespace Cnr.Cli;

/// <summary>runc's global flags. Recursive, so they are accepted before or after the verb.</summary>
internal static class GlobalOptions
{
    public static readonly Option<string> Root = new("--root")
    {
        Description = "root directory for storage of container state (this should be located in tmpfs); default /run/cnr, "
                      + "for a user other than root $XDG_RUNTIME_DIR/cnr, else /run/user/UID/cnr, else /tmp/cnr-UID",
        DefaultValueFactory = _ => DefaultRoot(Libc.geteuid(), Namespaces.Rootless.Is),
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

    /// <summary>runc's choice: root's state under /run; anyone else's under their runtime directory, which
    /// pam_systemd makes at login ($XDG_RUNTIME_DIR, as runc honours it, when it is the caller's own: a
    /// `setpriv`/`su` from root keeps root's). Without one (no login session) a private /tmp/cnr-UID, made
    /// 0700 here and refused when someone else made it first. Root of a user namespace that is not the host's
    /// (rootless Podman's runtime, which passes no --root) counts as anyone else, as in runc: the user's
    /// runtime directory is then owned by uid 0 as that namespace maps it.</summary>
    internal static string DefaultRoot(uint euid, bool rootless)
    {
        if (!rootless) return "/run/cnr";
        foreach (var dir in new[] { Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR"), $"/run/user/{euid}" })
            if (dir is { Length: > 0 } && Path.IsPathRooted(dir) && OwnedBy(dir, euid, out _)) return Path.Combine(dir, "cnr");
        var tmp = $"/tmp/cnr-{euid}";
        Libc.mkdir(tmp, 0b111_000_000);
        if (!OwnedBy(tmp, euid, out var mode) || (mode & 0b000_111_111) != 0)
            throw new UsageException($"--root: {tmp} is not a directory of uid {euid} that only it may use; pass --root, or set XDG_RUNTIME_DIR to a directory of yours");
        return tmp;
    }

    private static bool OwnedBy(string dir, uint euid, out uint mode)
    {
        int rc = Libc.fstatat(SafeFd.AtCwd, dir, out var st, Libc.AT_SYMLINK_NOFOLLOW);
        mode = st.Mode;
        return rc == 0 && (st.Mode & Libc.S_IFMT) == Libc.S_IFDIR && st.Uid == euid;
    }

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
