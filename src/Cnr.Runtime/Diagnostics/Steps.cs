namespace Cnr.Diagnostics;

/// <summary>One kernel step cnr takes: what it called, and what a student would type to do the same.</summary>
/// <param name="Mechanism">clone, mount, pivot_root, cgroup, capabilities, rlimit, seccomp, exec…</param>
/// <param name="Call">the system call as cnr made it, e.g. mount("proc", "/proc", "proc", MS_NOSUID|MS_NODEV)</param>
/// <param name="Shell">the shell equivalent, e.g. mount -t proc proc /proc; null when there is none</param>
public readonly record struct Step(string Mechanism, string Call, string? Shell);

/// <summary>The single place every kernel step is reported, for `--debug` logs and the `--explain` view.
/// Off by default: callers test <see cref="On"/> before formatting anything, so it costs nothing then.</summary>
public static class Steps
{
    private static Action<Step>? _sink;

    public static bool On => _sink is not null;

    public static void SetSink(Action<Step>? sink) => _sink = sink;

    /// <summary>A second sink beside the first (`--explain-script` with `--explain` or `--debug`).</summary>
    public static void AddSink(Action<Step> sink) => _sink += sink;

    public static void Report(string mechanism, string call, string? shell = null)
        => _sink?.Invoke(new Step(mechanism, call, shell));
}
