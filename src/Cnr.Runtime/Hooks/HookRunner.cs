using System.Text.Json;
using Cnr.Diagnostics;
using Cnr.Linux;
using Cnr.Plan;
using Cnr.Spec;

namespace Cnr.Hooks;

/// <summary>OCI hooks: each gets the container's state JSON on stdin, its own args/env, and its timeout.
/// prestart/createRuntime/poststart/poststop run in the runtime's namespaces (from the parent);
/// createContainer/startContainer run from the init, in the container's namespaces.</summary>
public static class HookRunner
{
    /// <summary>Runs hooks in order; the first failure throws (the caller decides whether it aborts or warns).</summary>
    public static void Run(string stage, IReadOnlyList<Hook>? hooks, ContainerState state) => RunAll(stage, hooks, state, warnOnly: false);

    /// <summary>Runs every hook in order; a failure either throws (stopping the rest) or, when
    /// <paramref name="warnOnly"/>, is logged and the next hook still runs.</summary>
    private static void RunAll(string stage, IReadOnlyList<Hook>? hooks, ContainerState state, bool warnOnly)
    {
        if (hooks is null || hooks.Count == 0) return;
        var stdin = JsonSerializer.SerializeToUtf8Bytes(state, SpecJson.Default.ContainerState);
        for (int i = 0; i < hooks.Count; i++)
        {
            try { RunOne(stage, i, PlanCompiler.HookPlan(hooks[i]), stdin); }
            catch (Exception e) when (warnOnly) { Log.Warn(e.Message); }
        }
    }

    private static void RunOne(string stage, int i, HookPlan hook, byte[] stdin)
    {
        int status;
        bool timedOut;
        try { status = Spawn(stage, i, hook, stdin, out timedOut); }
        catch (SyscallException e) when (e.Call == "posix_spawn")
        {
            throw new InvalidOperationException($"hooks.{stage}[{i}].path: cannot run {hook.Path}: {Errno.Name(e.Number)} ({Errno.Describe(e.Number)}) "
                + (e.Number is Error.ENOENT or Error.ENOTDIR ? "(install the hook there, or fix the path)" : "(check that it is an executable file)"));
        }
        if (timedOut) throw new InvalidOperationException($"hooks.{stage}[{i}]: {hook.Path} timed out after {hook.Timeout}s");
        if (status != 0) throw new InvalidOperationException($"hooks.{stage}[{i}]: {hook.Path} exited with status {status}");
    }

    /// <summary>Runs one hook with its own argv (args[0] is its argv[0], as runc does: dockerd's
    /// libnetwork-setkey hook depends on it) and env, the state on stdin; returns its exit status.</summary>
    private static unsafe int Spawn(string stage, int i, HookPlan hook, byte[] stdin, out bool timedOut)
    {
        timedOut = false;
        IReadOnlyList<string> envp = hook.Env ?? Libc.CurrentEnvironment();
        var pipe = Libc.Pipe(hook.Path);
        using var readEnd = pipe.Read;
        using var writeEnd = pipe.Write;
        int pid = Sys.SpawnHook(stage, i, hook, envp, readEnd);
        readEnd.Dispose();
        fixed (byte* b = stdin) Libc.write(writeEnd, b, stdin.Length); // EPIPE if the hook ignores stdin: fine
        writeEnd.Dispose();

        var deadline = hook.Timeout > 0 ? DateTime.UtcNow.AddSeconds(hook.Timeout) : DateTime.MaxValue;
        for (int delay = 1; ; delay = Math.Min(delay * 2, 20))
        {
            int r = Libc.waitpid(pid, out int status, Libc.WNOHANG);
            if (r == pid) return Libc.ExitStatus(status);
            if (r < 0 && Errno.Last != Error.EINTR) throw new SyscallException("waitpid", Errno.Last, hook.Path);
            if (DateTime.UtcNow > deadline)
            {
                Libc.kill(pid, 9);
                Libc.waitpid(pid, out _, 0);
                timedOut = true;
                return -1;
            }
            Thread.Sleep(delay);
        }
    }

    /// <summary>createContainer/startContainer, from inside the init: the state the parent rendered, with the
    /// init's pid as the container sees it (runc's getpid() there).</summary>
    public static void RunInContainer(string stage, HookPlan[] hooks, HookState? state)
    {
        if (hooks.Length == 0) return;
        byte[] stdin = [.. state!.Head, .. System.Text.Encoding.ASCII.GetBytes(Environment.ProcessId.ToString()), .. state.Tail];
        for (int i = 0; i < hooks.Length; i++) RunOne(stage, i, hooks[i], stdin);
    }

    /// <summary>poststart/poststop: failures are warnings, as the spec says.</summary>
    public static void RunWarnOnly(string stage, IReadOnlyList<Hook>? hooks, ContainerState state) => RunAll(stage, hooks, state, warnOnly: true);
}
