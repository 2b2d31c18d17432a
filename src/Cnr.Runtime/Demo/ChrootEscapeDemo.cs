using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using Cnr.Spec;

namespace Cnr.Demo;

/// <summary>One run of the escape program: where it ran, what it printed, and what that shows.</summary>
public sealed record EscapeOutcome(string Label, string Setup, string Verdict, string Expected, string Output, string Why)
{
    public bool AsExpected => Verdict == Expected;
}

/// <summary>`cnr demo chroot-escape`: the classic chroot escape (native/chroot_escape.c) run three ways
/// against a marker file on the host — under plain chroot(2), under cnr (pivot_root in a mount namespace),
/// and under cnr without CAP_SYS_CHROOT — and optionally a fourth, `cnr run --no-pivot`. Everything it
/// makes (a rootfs copy, bundles, a private state root, the marker) lives under /var/tmp and is removed.</summary>
public static class ChrootEscapeDemo
{
    public const string ProgramInRootfs = "/chroot-escape";

    /// <summary>Rootfs null: an empty root holding only the program, which is static and needs nothing else.</summary>
    public sealed record Options(string CnrBinary, string? Rootfs, string EscapeProgram, bool NoPivot);

    /// <summary>The marker's path and content, and the outcomes in order.</summary>
    public sealed record Result(string MarkerPath, string MarkerContent, List<EscapeOutcome> Outcomes);

    public static Result Run(Options o)
    {
        if (o.Rootfs is not null && !Directory.Exists(Path.Combine(o.Rootfs, "bin")))
            throw new DirectoryNotFoundException($"{o.Rootfs}: no root filesystem there (run `make bundles`, or leave out --rootfs)");
        if (!File.Exists(o.EscapeProgram))
            throw new FileNotFoundException($"{o.EscapeProgram}: the escape program is not built (make -C native build/chroot-escape)");

        var suffix = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
        var work = Path.Combine("/var/tmp", $"cnr-demo-{suffix}");
        var marker = Path.Combine("/var/tmp", $"cnr-demo-marker-{suffix}");
        var content = $"host secret {Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8))}";
        var state = Path.Combine(work, "state");
        var ids = new List<string>();
        try
        {
            Directory.CreateDirectory(work);
            File.WriteAllText(marker, content + "\n");
            var rootfs = Path.Combine(work, "rootfs");
            if (o.Rootfs is null) Directory.CreateDirectory(rootfs);
            else Check(Exec("cp", ["-a", Path.GetFullPath(o.Rootfs), rootfs]), "cp -a");
            File.Copy(o.EscapeProgram, rootfs + ProgramInRootfs);
            File.SetUnixFileMode(rootfs + ProgramInRootfs, (UnixFileMode)0b111_101_101);

            var outcomes = new List<EscapeOutcome>
            {
                Classify("(a)", "chroot(2) only", Exec("chroot", [rootfs, ProgramInRootfs, marker]), "ESCAPED",
                    "chroot moves only the process's root, not its working directory, so \"..\" climbs past it to the host's real root."),
            };
            (int Exit, string Output) RunInCnr(string name, bool withChroot, bool noPivot)
            {
                var id = $"cnr-demo-{suffix}-{name}";
                ids.Add(id);
                var bundle = Path.Combine(work, name);
                Directory.CreateDirectory(bundle);
                File.WriteAllText(Path.Combine(bundle, "config.json"),
                    JsonSerializer.Serialize(Config(marker, withChroot), SpecJson.Default.RuntimeSpec));
                string[] args = ["--root", state, "run", "--bundle", bundle, .. noPivot ? new[] { "--no-pivot" } : [], id];
                return Exec(o.CnrBinary, args);
            }
            outcomes.Add(Classify("(b)", "cnr run (pivot_root)", RunInCnr("pivot", withChroot: true, noPivot: false), "CONTAINED",
                "pivot_root made the rootfs the root of the container's own mount tree: \"..\" at its top stays there, and the host's files are not in that tree."));
            outcomes.Add(Classify("(c)", "cnr run, no CAP_SYS_CHROOT", RunInCnr("nocap", withChroot: false, noPivot: false), "EPERM",
                "without CAP_SYS_CHROOT the kernel refuses chroot(2) itself, so the escape cannot even start."));
            if (o.NoPivot)
                outcomes.Add(Classify("(d)", "cnr run --no-pivot", RunInCnr("nopivot", withChroot: true, noPivot: true), "CONTAINED",
                    "the rootfs was moved (MS_MOVE) onto / of the container's own mount namespace and chroot-ed: \"..\" from its top crosses to the mount underneath and lands back on the rootfs stacked there. Weaker than pivot_root all the same: the host's root mount is still in the container's mount tree, under the rootfs."));
            return new Result(marker, content, outcomes);
        }
        finally
        {
            foreach (var id in ids) Exec(o.CnrBinary, ["--root", state, "delete", "--force", id]);
            File.Delete(marker);
            try { Directory.Delete(work, recursive: true); } catch (IOException) { }
        }
    }

    /// <summary>The default spec with a writable root (the program makes its jail directory at /) and the
    /// escape as process.args; CAP_SYS_CHROOT added or not.</summary>
    private static RuntimeSpec Config(string marker, bool withChroot)
    {
        var spec = DefaultSpec.Create();
        spec.Root = new Root { Path = "../rootfs", Readonly = false };
        var p = spec.Process!;
        p.Terminal = false;
        p.Args = [ProgramInRootfs, marker];
        var caps = p.Capabilities ??= new LinuxCapabilities();
        foreach (var set in new[] { caps.Bounding ??= [], caps.Effective ??= [], caps.Permitted ??= [] })
        {
            set.Remove("CAP_SYS_CHROOT");
            if (withChroot) set.Add("CAP_SYS_CHROOT");
        }
        return spec;
    }

    /// <summary>The program's first line says what happened: "escaped: …", "contained: …" or "chroot: …".
    /// The explanation is for the expected verdict; another verdict says so instead of explaining it away.</summary>
    private static EscapeOutcome Classify(string label, string setup, (int Exit, string Output) run, string expected, string why)
    {
        var line = run.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .FirstOrDefault(l => l.StartsWith("escaped:") || l.StartsWith("contained:") || l.StartsWith("chroot:"));
        var verdict = line switch
        {
            null => "FAILED",
            _ when line.StartsWith("escaped:") => "ESCAPED",
            _ when line.StartsWith("contained:") => "CONTAINED",
            _ when line.Contains("Operation not permitted") => "EPERM",
            _ => "CHROOT FAILED",
        };
        var output = line ?? $"exit {run.Exit}: {run.Output.Trim()}";
        return new EscapeOutcome(label, setup, verdict, expected, output,
            verdict == expected ? why : $"expected {expected}, because {why} This run shows {verdict} instead: look at its output.");
    }

    private static (int Exit, string Output) Exec(string program, IEnumerable<string> args)
    {
        var psi = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = System.Diagnostics.Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        var stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, stdout + stderr.Result);
    }

    private static void Check((int Exit, string Output) r, string what)
    {
        if (r.Exit != 0) throw new InvalidOperationException($"{what}: exit {r.Exit}: {r.Output.Trim()}");
    }
}
