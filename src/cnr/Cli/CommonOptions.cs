using System.CommandLine;
using Cnr.Diagnostics;
using Cnr.State;

namespace Cnr.Cli;

/// <summary>Options and arguments several verbs share, with runc's names.</summary>
internal static class CommonOptions
{
    public static Argument<string> Id() => new("container-id") { Description = "the container's id" };
    public static Option<string> Bundle() => new("--bundle", "-b") { Description = "path to the root of the bundle directory", DefaultValueFactory = _ => "." };
    public static Option<string?> PidFile() => new("--pid-file") { Description = "file to write the process id to" };
    public static Option<string?> ConsoleSocket() => new("--console-socket") { Description = "path to an AF_UNIX socket which will receive the pty master fd" };
    public static Option<bool> NoPivot() => new("--no-pivot")
    {
        Description = "do not use pivot_root: move the rootfs onto / and chroot (for a rootfs on a ramdisk). Still contained "
                      + "by its own mount namespace, but the host's root mount stays in that namespace's tree, under the rootfs",
    };
    public static Option<bool> NoNewKeyring() => new("--no-new-keyring") { Description = "accepted for runc compatibility (cnr creates no session keyring)" };
    public static Option<int> PreserveFds() => FlagValues.Count("--preserve-fds", "pass N additional file descriptors (3…3+N-1) to the container");
    public static Option<bool> Detach() => new("--detach", "-d") { Description = "detach from the container's process" };
    public static Option<bool> Explain() => new("--explain") { Description = "print each kernel step and the shell command that does the same, to stderr" };

    public static ContainerStore Store(ParseResult r) => new(r.GetValue(GlobalOptions.Root)!);

    /// <summary>--pid-file's value, refused before anything is started when its directory is missing.</summary>
    public static string? PidFilePath(ParseResult r, Option<string?> pidFile)
    {
        if (r.GetValue(pidFile) is not { } path) return null;
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null && !Directory.Exists(dir))
            throw new UsageException($"--pid-file {path}: the directory {dir} does not exist");
        return path;
    }

    /// <summary>Routes kernel steps to the debug log and/or the --explain view (one mechanism for both).</summary>
    public static void ConfigureSteps(bool explain)
    {
        if (!explain && !Log.DebugEnabled) return;
        Steps.SetSink(step =>
        {
            if (Log.DebugEnabled) Log.Debug($"{step.Mechanism}: {step.Call}");
            if (explain)
                Console.Error.WriteLine(step.Shell is null
                    ? $"[{step.Mechanism}] {step.Call}"
                    : $"[{step.Mechanism}] {step.Call}\n{new string(' ', step.Mechanism.Length + 3)}≈ {step.Shell}");
        });
    }
}
