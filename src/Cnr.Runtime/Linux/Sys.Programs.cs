using System.Diagnostics;
using Cnr.Plan;

namespace Cnr.Linux;

/// <summary>How a helper program cnr ran to its end went: its exit status and what it wrote.</summary>
public readonly record struct ProgramResult(int Status, string Stdout, string Stderr)
{
    /// <summary>Both streams, for a program that reports on either (CRIU).</summary>
    public string Output => Stdout + Stderr;
}

/// <summary>The programs cnr runs as steps of its own: the OCI hooks (mechanism "hook"); and how a helper program
/// is run to its end (newuidmap, criu check: their steps are in Sys.Namespaces.cs, Sys.Checkpoint.cs).</summary>
public static partial class Sys
{
    /// <summary>Runs <paramref name="path"/> with <paramref name="args"/> to its end, both streams read (stderr
    /// beside stdout, so that neither pipe fills while the other is read). Not a step by itself: the wrappers that
    /// run a program as one report it; a program asked a question (criu --version) is not one.</summary>
    internal static ProgramResult RunProgram(string path, IEnumerable<string> args)
    {
        var psi = new ProcessStartInfo(path) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = System.Diagnostics.Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        var stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return new ProgramResult(p.ExitCode, stdout, stderr.Result);
    }

    /// <summary>posix_spawn of the OCI hook <paramref name="stage"/>[<paramref name="index"/>] with its own argv
    /// and <paramref name="envp"/>, <paramref name="stdin"/> as its fd 0; returns its pid. The step has no shell
    /// line: the hook reads the state on its stdin.</summary>
    public static int SpawnHook(string stage, int index, HookPlan hook, IReadOnlyList<string> envp, SafeFd stdin)
    {
        if (Diagnostics.Steps.On) Diagnostics.Steps.Report("hook", $"{stage}[{index}]: {hook.Path} {string.Join(' ', hook.Args.Skip(1))}", null);
        return Libc.Spawn(hook.Path, hook.Args, envp, [(stdin, 0)]);
    }
}
