using System.CommandLine;
using System.Text.Json;
using Cnr.Linux;
using Cnr.Spec;

namespace Cnr.Cli;

/// <summary>`cnr spec`: writes the default config.json (runc's defaults) into a bundle, never over an existing one.</summary>
internal static class SpecCommand
{
    public static Command Create()
    {
        var bundle = new Option<string?>("--bundle", "-b") { Description = "path to the root of the bundle directory" };
        var rootless = new Option<bool>("--rootless") { Description = "generate a configuration for a rootless container" };
        var seccomp = new Option<string?>("--seccomp") { Description = "add a seccomp profile: \"default\" (an allowlist in the spirit of Docker's; see README)" };
        seccomp.AcceptOnlyFromAmong("default");
        var cmd = new Command("spec", "create a new specification file (config.json)") { Options = { bundle, rootless, seccomp } };
        Verbs.SetAction(cmd, r => Write(r.GetValue(bundle), r.GetValue(rootless), r.GetValue(seccomp)));
        return cmd;
    }

    private static int Write(string? bundleDir, bool rootless, string? seccompProfile)
    {
        if (bundleDir is not null && !Directory.Exists(bundleDir))
            throw new UsageException($"bundle {bundleDir}: no such directory (create it first, e.g. `mkdir -p {bundleDir}/rootfs`)");
        // runc's wording, with the bundle's path when one was given.
        var file = bundleDir is null ? SpecLoader.ConfigFile : Path.Combine(bundleDir, SpecLoader.ConfigFile);
        // O_EXCL: an existing config is never overwritten, even by a concurrent `cnr spec`.
        var fd = Libc.open(file, Libc.O_WRONLY | Libc.O_CREAT | Libc.O_EXCL | Libc.O_CLOEXEC, 0x1b6 /* 0666, less umask */);
        if (fd.IsInvalid)
            throw Errno.Last == Error.EEXIST
                ? new UsageException($"File {file} exists. Remove it first")
                : new SyscallException("open", Errno.Last, file);
        using var stream = fd.ToStream(FileAccess.Write);
        // Tabs, as `runc spec` indents.
        var spec = DefaultSpec.Create(rootless);
        if (seccompProfile == "default") spec.Linux!.Seccomp = Cnr.Seccomp.DefaultProfile.Create();
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, IndentCharacter = '\t', IndentSize = 1 }))
            JsonSerializer.Serialize(writer, spec, SpecJson.Default.RuntimeSpec);
        stream.WriteByte((byte)'\n');
        return 0;
    }
}
