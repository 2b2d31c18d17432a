using System.Diagnostics;
using System.Text.Json;
using Cnr.Diagnostics;
using Cnr.Process;
using Cnr.Spec;

namespace Cnr.Hooks;

/// <summary>OCI hooks: each gets the container's state JSON on stdin, its own args/env, and its timeout.
/// prestart/createRuntime/poststart/poststop run in the runtime's namespaces (from the parent);
/// createContainer/startContainer run from the init, in the container's namespaces.</summary>
public static class HookRunner
{
    /// <summary>Runs hooks in order; the first failure throws (the caller decides whether it aborts or warns).</summary>
    public static void Run(string stage, IReadOnlyList<Hook>? hooks, ContainerState state)
    {
        if (hooks is null || hooks.Count == 0) return;
        var stdin = JsonSerializer.Serialize(state, SpecJson.Default.ContainerState);
        for (int i = 0; i < hooks.Count; i++)
        {
            var hook = hooks[i];
            if (Steps.On) Steps.Report("hook", $"{stage}[{i}]: {hook.Path} {string.Join(' ', hook.Args?.Skip(1) ?? [])}", null);
            var psi = new ProcessStartInfo(hook.Path)
            {
                RedirectStandardInput = true,
                RedirectStandardOutput = false,
                RedirectStandardError = false,
                UseShellExecute = false,
            };
            foreach (var a in hook.Args?.Skip(1) ?? []) psi.ArgumentList.Add(a);
            if (hook.Env is not null)
            {
                psi.Environment.Clear();
                foreach (var e in hook.Env)
                {
                    int eq = e.IndexOf('=');
                    if (eq > 0) psi.Environment[e[..eq]] = e[(eq + 1)..];
                }
            }
            System.Diagnostics.Process p;
            try { p = System.Diagnostics.Process.Start(psi)!; }
            catch (Exception e) { throw new InvalidOperationException($"hooks.{stage}[{i}]: cannot run {hook.Path}: {e.Message}"); }
            using (p)
            {
                try { p.StandardInput.Write(stdin); p.StandardInput.Close(); } catch (IOException) { }
                var timeout = hook.Timeout is > 0 ? hook.Timeout.Value * 1000 : -1;
                if (!p.WaitForExit(timeout))
                {
                    p.Kill(entireProcessTree: true);
                    throw new InvalidOperationException($"hooks.{stage}[{i}]: {hook.Path} timed out after {hook.Timeout}s");
                }
                if (p.ExitCode != 0)
                    throw new InvalidOperationException($"hooks.{stage}[{i}]: {hook.Path} exited with status {p.ExitCode}");
            }
        }
    }

    /// <summary>createContainer/startContainer, from inside the init.</summary>
    public static void RunInContainer(string stage, IReadOnlyList<Hook>? hooks, InitConfig config)
    {
        if (hooks is null || hooks.Count == 0) return;
        Run(stage, hooks, new ContainerState
        {
            OciVersion = config.Spec.OciVersion,
            Id = config.ContainerId,
            Status = stage == "startContainer" ? "running" : "creating",
            Pid = Environment.ProcessId,
            Bundle = config.Bundle,
            Annotations = config.Spec.Annotations,
        });
    }

    /// <summary>poststart/poststop: failures are warnings, as the spec says.</summary>
    public static void RunWarnOnly(string stage, IReadOnlyList<Hook>? hooks, ContainerState state)
    {
        try { Run(stage, hooks, state); }
        catch (Exception e) { Log.Warn(e.Message); }
    }
}
