using System.Diagnostics;
using Cnr.IntegrationTests.Harness;

namespace Cnr.IntegrationTests.Callers;

/// <summary>Everything one caller's test class runs in, private to it:
/// a scratch dir; a mount namespace of its own (held by a shell in `unshare -m --propagation private` that waits on
/// a pipe from us, so that it ends with the test run even when Dispose never comes; with a
/// fresh tmpfs on /run so the daemons' hard-coded /run/containerd, /run/docker, /run/runc paths vanish with it);
/// a wrapper around bin/cnr that logs each invocation's argv (what the caller asked of the runtime);
/// and a cgroup parent /cnr-test/&lt;caller&gt;-&lt;id&gt; that is removed afterwards.
/// Daemons are started through <see cref="StartDaemon"/> and stopped by their pid.</summary>
public sealed class CallerSandbox : IDisposable
{
    public string Dir { get; }
    public string Runtime { get; }
    public string ArgvLog { get; }
    public string CgroupParent { get; }
    private readonly System.Diagnostics.Process _holder;
    private readonly List<(System.Diagnostics.Process Process, string Name)> _daemons = [];

    public CallerSandbox(string caller)
    {
        var id = Guid.NewGuid().ToString("N")[..8];
        Dir = Path.Combine(Repo.Scratch, $"{caller}-{id}");
        Directory.CreateDirectory(Dir);
        CgroupParent = $"/cnr-test/{caller}-{id}";
        ArgvLog = Path.Combine(Dir, "runtime-argv.log");
        Runtime = Path.Combine(Dir, "bin", "cnr");
        Directory.CreateDirectory(Path.GetDirectoryName(Runtime)!);
        // Not exec: the wrapper also records a failing call's exit status (callers often drop it).
        File.WriteAllText(Runtime, $"""
            #!/bin/sh
            printf '%s\n' "$*" >> '{ArgvLog}'
            '{Repo.CnrBinary}' "$@"
            rc=$?
            [ $rc = 0 ] || printf '  -> exit %s\n' $rc >> '{ArgvLog}'
            exit $rc

            """);
        File.SetUnixFileMode(Runtime, (UnixFileMode)0b111_101_101);

        var psi = new ProcessStartInfo("unshare")
        {
            UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardInput = true,
        };
        foreach (var a in new[] { "-m", "--propagation", "private", "--", "sh", "-c",
                     "mount -t tmpfs -o mode=755 cnr-callers /run && echo ready && read _" })
            psi.ArgumentList.Add(a);
        _holder = System.Diagnostics.Process.Start(psi)!;
        var line = _holder.StandardOutput.ReadLine();
        if (line != "ready") throw new InvalidOperationException("private mount namespace did not come up: " + line);
    }

    /// <summary>Whether cgroup v2 at /sys/fs/cgroup has this controller. cnr manages cgroup v2 only and refuses
    /// linux.resources it cannot apply, so on a hybrid host (v1 controllers) the callers' default limits must be
    /// turned off for a container to start at all.</summary>
    public static bool HasCgroupV2Controller(string controller) =>
        File.Exists("/sys/fs/cgroup/cgroup.controllers") && File.ReadAllText("/sys/fs/cgroup/cgroup.controllers").Split().Contains(controller);

    /// <summary>nsenter's arguments that put a program into this sandbox's mount namespace.</summary>
    private IEnumerable<string> Enter(string program, IEnumerable<string> args) =>
        [$"--mount=/proc/{_holder.Id}/ns/mnt", "--", program, .. args];

    /// <summary>Runs a program inside the sandbox's mount namespace.</summary>
    public CnrResult Exec(string program, IEnumerable<string> args, string? stdin = null, TimeSpan? timeout = null,
        IDictionary<string, string>? env = null)
        => Harness.Cnr.Exec("nsenter", Enter(program, args), stdin, Dir, timeout ?? TimeSpan.FromSeconds(90), env);

    /// <summary>Starts a daemon inside the namespace, its output in DIR/NAME.log; waits for <paramref name="ready"/>.</summary>
    public void StartDaemon(string name, string program, IEnumerable<string> args, Func<bool> ready, TimeSpan timeout)
    {
        var log = Path.Combine(Dir, name + ".log");
        var cgroups = DaemonCgroups(name);
        var psi = new ProcessStartInfo("nsenter") { UseShellExecute = false, WorkingDirectory = Dir };
        // nsenter (mount namespace only) execs in place, and sh's exec too: the pid is the daemon's. The shell
        // first moves itself into the daemon's cgroups, so the daemon, its shims and (as long as the runtime does
        // not move them) its containers stay out of the test run's own cgroup.
        foreach (var a in Enter("sh", ["-c", "for p in $CGROUPS; do echo $$ > \"$p/cgroup.procs\"; done; exec \"$0\" \"$@\" >>\"$LOGFILE\" 2>&1", program, .. args]))
            psi.ArgumentList.Add(a);
        psi.Environment["LOGFILE"] = log;
        psi.Environment["CGROUPS"] = string.Join(' ', cgroups);
        var p = System.Diagnostics.Process.Start(psi)!;
        _daemons.Add((p, name));
        if (!Wait.For(() => ready() || p.HasExited, timeout, TimeSpan.FromMilliseconds(100)) || !ready())
            throw p.HasExited ? new InvalidOperationException($"{name} exited with {p.ExitCode}:\n{Tail(log)}")
                : new TimeoutException($"{name} not ready after {timeout}:\n{Tail(log)}");
    }

    /// <summary>CgroupParent/NAME in every mounted hierarchy (v1 controllers, the named systemd one, the unified
    /// one), created; a v1 cpuset group gets its parent's cpus and mems, without which no task may join it.</summary>
    private List<string> DaemonCgroups(string name)
    {
        var made = new List<string>();
        foreach (var hierarchy in Directory.Exists("/sys/fs/cgroup") ? Directory.GetDirectories("/sys/fs/cgroup") : [])
        {
            if (!File.Exists(Path.Combine(hierarchy, "cgroup.procs"))) continue;
            var parent = hierarchy;
            try
            {
                foreach (var part in (CgroupParent + "/" + name).Split('/', StringSplitOptions.RemoveEmptyEntries))
                {
                    var dir = Path.Combine(parent, part);
                    Directory.CreateDirectory(dir);
                    foreach (var f in new[] { "cpuset.cpus", "cpuset.mems" })
                        if (File.Exists(Path.Combine(dir, f)) && File.ReadAllText(Path.Combine(dir, f)).Trim().Length == 0)
                            File.WriteAllText(Path.Combine(dir, f), File.ReadAllText(Path.Combine(parent, f)));
                    parent = dir;
                }
                made.Add(parent);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { } // a hierarchy we cannot use: the daemon stays put there
        }
        return made;
    }

    public int DaemonPid(string name) => _daemons.Single(d => d.Name == name).Process.Id;

    public string DaemonLog(string name) => Tail(Path.Combine(Dir, name + ".log"));

    /// <summary>What the caller asked of the runtime so far, one invocation a line; for failure messages.</summary>
    public string RuntimeCalls() => File.Exists(ArgvLog) ? File.ReadAllText(ArgvLog) : "(the runtime was never called)";

    public static string Tail(string file, int chars = 4000)
    {
        if (!File.Exists(file)) return "(no " + file + ")";
        var s = File.ReadAllText(file);
        return s.Length <= chars ? s : s[^chars..];
    }

    /// <summary>Pids of processes whose command line mentions this sandbox's directory (shims, conmon, containers'
    /// runtimes): ours by construction, since the directory name is unique.</summary>
    private IEnumerable<int> OwnStragglers()
    {
        foreach (var d in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(d), out var pid) || pid == Environment.ProcessId) continue;
            string cmdline;
            try { cmdline = File.ReadAllText(Path.Combine(d, "cmdline")); } catch { continue; }
            if (cmdline.Contains(Dir)) yield return pid;
        }
    }

    public void Dispose()
    {
        foreach (var (p, _) in _daemons.AsEnumerable().Reverse())
        {
            try
            {
                if (p.HasExited) continue;
                Harness.Cnr.Exec("kill", ["-TERM", p.Id.ToString()]);
                if (!p.WaitForExit(15_000)) { p.Kill(); p.WaitForExit(5_000); }
            }
            catch { }
        }
        foreach (var pid in OwnStragglers().ToList())
            try { System.Diagnostics.Process.GetProcessById(pid).Kill(); } catch { }
        try { _holder.Kill(); _holder.WaitForExit(5_000); } catch { }
        RemoveCgroups();
        try { Directory.Delete(Dir, recursive: true); } catch { }
    }

    /// <summary>rmdir, deepest first, of what the callers created under our cgroup parent in every hierarchy.</summary>
    private void RemoveCgroups()
    {
        foreach (var hierarchy in Directory.Exists("/sys/fs/cgroup") ? Directory.GetDirectories("/sys/fs/cgroup") : [])
        {
            var top = hierarchy + CgroupParent;
            if (!Directory.Exists(top)) continue;
            var dirs = Directory.GetDirectories(top, "*", SearchOption.AllDirectories).OrderByDescending(d => d.Length).Append(top);
            Wait.For(() =>
            {
                foreach (var d in dirs) try { Directory.Delete(d); } catch { }
                return !Directory.Exists(top);
            }, TimeSpan.FromSeconds(2), TimeSpan.FromMilliseconds(100));
        }
    }
}
