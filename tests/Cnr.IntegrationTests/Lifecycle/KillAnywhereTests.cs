using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Cnr.Cgroups;
using Cnr.IntegrationTests.Harness;
using Cnr.Spec;
using Xunit;

namespace Cnr.IntegrationTests.Lifecycle;

/// <summary>`kill -9` of cnr at any moment of create, run or exec must leave nothing that `delete --force`
/// cannot remove within seconds, and `list` must show whatever is left; an init that dies early is reported
/// with how it ended and where, never as a socket errno.</summary>
public sealed class KillAnywhereTests
{
    private const int Kills = 30;

    [RootFact]
    public void KillNine_AtAnyMomentOfCreate_ListShowsIt_AndDeleteForceRemovesEverything()
        => KillAtEveryMoment("kc", (b, id, dir) => CnrUnderReaper(b, "create", "--bundle", dir, id));

    [RootFact]
    public void KillNine_AtAnyMomentOfRun_ListShowsIt_AndDeleteForceRemovesEverything()
        => KillAtEveryMoment("kr", (b, id, dir) => CnrUnderReaper(b, "run", "--bundle", dir, id));

    [RootFact]
    public void KillNine_AtAnyMomentOfExec_ListShowsIt_AndDeleteForceRemovesEverything()
        => KillAtEveryMoment("ke", (b, id, dir) =>
        {
            var r = b.CnrDetached("run", "--detach", "--bundle", dir, id);
            Assert.True(r.ExitCode == 0, $"run -d {id}: {r}");
            return CnrUnderReaper(b, "exec", id, "sleep", "100");
        });

    /// <summary>The narrowest moment of exec: its child has joined the container's namespaces and waits for the
    /// go-ahead. strace holds cnr's first send (the go-ahead) so that the kill lands there every time.</summary>
    [RootFactWithTool("/usr/bin/strace", "strace holds exec between its steps: apt-get install strace")]
    public void KillNine_OfExecWhileItsChildWaitsForTheGoAhead_TheChildExitsByItself()
    {
        using var b = Running("kg");
        using var strace = new Reaper("strace", "-qq", "-o", "/dev/null", "-e", "trace=sendto", "-e", "inject=sendto:delay_enter=3000000:when=1",
            Repo.CnrBinary, "--root", b.StateRoot, "exec", b.Id, "sleep", "100");
        List<string> cnrs = [];
        Wait.Until(() => (cnrs = strace.Descendants().Where(IsCnr).ToList()).Count >= 2 || strace.HasExited,
            "exec to clone its child", TimeSpan.FromSeconds(20), every: TimeSpan.FromMilliseconds(5));
        Assert.True(cnrs.Count >= 2, $"exec never cloned its child: {string.Join("; ", cnrs)}");
        // cnr is strace's child; its own child is the one waiting
        var parent = cnrs.Select(PidOf).Single(pid => File.ReadAllText($"/proc/{pid}/stat").Split(") ")[1].Split(' ')[1] == strace.Pid.ToString());
        kill(parent, 9);
        strace.WaitForExit();
        var orphans = Settled(() => strace.Descendants().Where(IsCnr).ToList());
        foreach (var p in orphans) kill(PidOf(p), 9);
        Assert.True(orphans.Count == 0, $"still running after exec was killed: {string.Join("; ", orphans)}");
    }

    /// <summary>Kills the command at moments spread over its own duration (measured once, undisturbed), then
    /// checks: `list` and `state` answer and show what exists; `delete --force` finishes in 5 s and leaves no
    /// process that descends from the command (orphans included: <see cref="Reaper"/>), no cgroup and no state
    /// directory.</summary>
    private static void KillAtEveryMoment(string name, Func<TestBundle, string, string, Reaper> start)
    {
        using var b = new TestBundle(name).WithArgs("sleep", "100");
        var cgroupRoot = CgroupHierarchy.Find(out _)?.Root;
        var sw = Stopwatch.StartNew();
        var failures = new List<string>();
        double spanMs = 0;
        for (int i = -1; i < Kills; i++)
        {
            var id = $"{b.Id[..20]}-{i + 1}";
            var dir = Path.Combine(b.Dir, id);
            Directory.CreateDirectory(dir);
            b.Spec.Linux!.CgroupsPath = $"/cnr-test/{id}";
            b.Write(dir);

            using var cnr = start(b, id, dir);
            var t0 = Stopwatch.StartNew();
            if (i < 0)
            {
                // The first round is not killed: how long the whole command takes here sets the moments.
                WaitUntilStarted(cnr, id);
                spanMs = t0.Elapsed.TotalMilliseconds;
            }
            else
            {
                var at = spanMs * 1.2 * (i + 0.5) / Kills;
                while (t0.Elapsed.TotalMilliseconds < at) Thread.SpinWait(1000);
                kill(cnr.Pid, 9);
            }
            cnr.WaitForExit();

            var exists = Directory.Exists(Path.Combine(b.StateRoot, id));
            var list = Bounded(failures, i, id, b.StateRoot, "list", "-q");
            if (exists && list is not null && !list.Stdout.Split('\n').Contains(id)) failures.Add($"kill {i} ({id}): list does not show it: {list}");
            var state = Bounded(failures, i, id, b.StateRoot, "state", id);
            if (exists && state is not null && state.ExitCode != 0) failures.Add($"kill {i} ({id}): state fails: {state}");

            // Whatever cnr made before its recorded init (create/run) must end with it, by itself: the forked
            // child (cnr's command line) and an init not yet recorded ("cnr init").
            int recorded = state is { ExitCode: 0 } ? JsonDocument.Parse(state.Stdout).RootElement.GetProperty("pid").GetInt32() : 0;
            var orphans = Settled(() => cnr.Descendants().Where(p => IsCnr(p) && PidOf(p) != recorded).ToList());
            if (orphans.Count > 0) failures.Add($"kill {i} ({id}): still running after cnr was killed: {string.Join("; ", orphans)}");

            var delete = Bounded(failures, i, id, b.StateRoot, "delete", "--force", id);
            if (delete is { ExitCode: not 0 }) failures.Add($"kill {i} ({id}): delete --force: {delete}");
            if (Directory.Exists(Path.Combine(b.StateRoot, id))) failures.Add($"kill {i} ({id}): state dir left");
            if (cgroupRoot is not null && Directory.Exists($"{cgroupRoot}/cnr-test/{id}")) failures.Add($"kill {i} ({id}): cgroup left");
            var left = Settled(() => cnr.Descendants());
            if (left.Count > 0)
            {
                failures.Add($"kill {i} ({id}): processes left: {string.Join("; ", left)}");
                foreach (var p in left) kill(PidOf(p), 9);
            }
        }
        Assert.True(failures.Count == 0, $"{failures.Count} failures in {Kills} kills spread over {spanMs:0} ms ({sw.Elapsed.TotalSeconds:0} s):\n{string.Join("\n", failures)}");
    }

    /// <summary>`cnr --root STATE ARGS…` that must answer within 5 s; null (and a failure) when it hangs.</summary>
    private static CnrResult? Bounded(List<string> failures, int i, string id, string stateRoot, params string[] args)
    {
        try { return Harness.Cnr.Run(["--root", stateRoot, .. args], timeout: TimeSpan.FromSeconds(5)); }
        catch (TimeoutException e) { failures.Add($"kill {i} ({id}): {args[0]} hangs: {e.Message}"); return null; }
    }

    /// <summary>A process SIGKILLed a moment ago may still be exiting: the list once it is empty, or after 2 s.</summary>
    private static List<string> Settled(Func<List<string>> list)
    {
        var l = list();
        Wait.For(() => (l = list()).Count == 0, TimeSpan.FromSeconds(2));
        return l;
    }

    private static bool IsCnr(string process) => process[(process.IndexOf(": ") + 2)..] is var cmd && (cmd.StartsWith(Repo.CnrBinary) || cmd.StartsWith("cnr init"));

    private static int PidOf(string process) => int.Parse(process[..process.IndexOf(':')]);

    /// <summary>An init killed while the parent runs the createRuntime hooks: the parent's next message
    /// (hooks done) meets a dead socket, and the user reads how the init ended and after which step.</summary>
    [RootFact]
    public void InitKilledBeforeItIsReady_CreateSaysHowItEndedAndAfterWhichStep()
    {
        using var b = new TestBundle("ed").WithArgs("true");
        var pidFile = Path.Combine(b.Dir, "init.pid");
        var hook = Path.Combine(b.Dir, "kill-init.sh");
        // The hook reads the state on stdin: its "pid" is the init, waiting for the hooks to finish.
        File.WriteAllText(hook, "#!/bin/sh\nsed -n 's/.*\"pid\": *\\([0-9]*\\).*/\\1/p' > " + pidFile + "\nkill -9 $(cat " + pidFile + ")\n");
        File.SetUnixFileMode(hook, (UnixFileMode)0b111_101_101);
        b.Spec.Hooks = new global::Cnr.Spec.Hooks { CreateRuntime = [new Hook { Path = hook }] };
        b.Write();
        var r = b.CnrDetached("create", "--bundle", b.Dir, b.Id);
        Assert.Equal(1, r.ExitCode);
        var line = Host.OneErrorLine(r);
        Assert.Matches(@"container init exited before it was ready \(killed by signal 9 \(SIGKILL\)\) after \S", line);
        Assert.DoesNotContain("sync socket", line);
        Assert.False(Directory.Exists(Path.Combine(b.StateRoot, b.Id)), "state dir left behind");
    }

    /// <summary>A delete between exec's status check and its joins: the exec says so, not a socket errno.
    /// strace stretches exec's setns calls so that the delete lands in between every time.</summary>
    [RootFactWithTool("/usr/bin/strace", "strace holds exec between its steps: apt-get install strace")]
    public void ExecRacingDelete_SaysTheContainerWasDeleted()
    {
        using var b = Running("xd");
        var exec = Task.Run(() => Harness.Cnr.Exec("strace", ["-f", "-qq", "-o", "/dev/null", "-e", "trace=setns", "-e", "inject=setns:delay_enter=400000",
            Repo.CnrBinary, "--root", b.StateRoot, "exec", b.Id, "true"], timeout: TimeSpan.FromSeconds(30)));
        // Two processes with exec's command line: cnr and its cloned child, held in its first setns.
        var held = false;
        Wait.Until(() => (held = Host.ProcessesMentioning($"exec {b.Id} true").Count(p => p.Split(": ", 2)[1].StartsWith(Repo.CnrBinary)) >= 2) || exec.IsCompleted,
            "exec to reach its setns calls", TimeSpan.FromSeconds(20), every: TimeSpan.FromMilliseconds(5));
        Assert.True(held, $"exec never reached its setns calls: {(exec.IsCompleted ? exec.Result : null)}");
        var d = b.Cnr("delete", "--force", b.Id);
        Assert.True(d.ExitCode == 0, d.ToString());
        var e = exec.Result;
        Assert.True(e.ExitCode != 0, $"exec into a deleted container succeeded: {e}");
        Assert.Contains($"container {b.Id} was deleted while exec was starting", e.Stderr);
        Assert.DoesNotContain("sync socket", e.Stderr);
    }

    /// <summary>A 5 MB annotation: the config is far bigger than one datagram of the sync socket.</summary>
    [RootFact]
    public void FiveMegabyteAnnotation_RunAndExecWork()
    {
        using var b = Running("ba", t => t.Spec.Annotations = new Dictionary<string, string> { ["org.example.big"] = new string('x', 5 * 1024 * 1024) });
        var e = b.Cnr("exec", b.Id, "echo", "hello");
        Assert.True(e.ExitCode == 0, e.ToString());
        Assert.Equal("hello", e.Stdout.Trim());
    }

    /// <summary>The exec init's runtime start-up reads /sys/devices/system/cpu/* by path: with no sysfs mounted,
    /// the image answers — here with FIFOs that nobody writes, which would hang `cnr exec` for ever.</summary>
    [RootFact]
    public void ExecInit_StartUpReadsNothingOfTheImage_FifosInItsSysDoNotHangExec()
    {
        using var b = Running("ff", t =>
        {
            t.CopyRootfs();
            t.Spec.Mounts = t.Spec.Mounts!.Where(m => m.Destination is not ("/sys" or "/sys/fs/cgroup")).ToList();
            var cpu = Path.Combine(t.Dir, "rootfs", "sys", "devices", "system", "cpu");
            Directory.CreateDirectory(cpu);
            foreach (var f in new[] { "online", "possible" }) Assert.Equal(0, mkfifo(Path.Combine(cpu, f), 0b110_100_100));
        });
        var e = Harness.Cnr.Run(["--root", b.StateRoot, "exec", b.Id, "echo", "in"], timeout: TimeSpan.FromSeconds(20));
        Assert.True(e.ExitCode == 0, e.ToString());
        Assert.Equal("in", e.Stdout.Trim());
    }

    /// <summary>A container running `sleep 100`, made with `run --detach` after <paramref name="configure"/>.</summary>
    private static TestBundle Running(string name, Action<TestBundle>? configure = null)
    {
        var b = new TestBundle(name).WithArgs("sleep", "100");
        try
        {
            configure?.Invoke(b);
            b.Write();
            var r = b.CnrDetached("run", "--detach", "--bundle", b.Dir, b.Id);
            Assert.True(r.ExitCode == 0, r.ToString());
            return b;
        }
        catch
        {
            b.Dispose();
            throw;
        }
    }

    /// <summary>cnr under a <see cref="Reaper"/>: every process it makes, and every orphan of those, stays a
    /// descendant of the reaper, whatever session or process group it moves to.</summary>
    private static Reaper CnrUnderReaper(TestBundle b, params string[] verbAndArgs)
        => new([Repo.CnrBinary, "--root", b.StateRoot, .. verbAndArgs]);

    private static void WaitUntilStarted(Reaper cnr, string id)
    {
        // create ends by itself; run and exec (sleep 100) run on: wait for the sleep to be there.
        var started = false;
        Wait.Until(() => cnr.HasExited || (started = cnr.Descendants().Any(p => p.EndsWith(": sleep 100"))),
            $"cnr ({id}) to get its process started", every: TimeSpan.FromMilliseconds(2));
        if (started) kill(cnr.Pid, 9);
    }

    /// <summary>The reaper finds what a session would miss: a process that left for a session of its own, whose
    /// parent is gone (the container's init calls setsid(), as runc's does).</summary>
    [RootFact]
    public void Reaper_FindsAnOrphanThatLeftForItsOwnSession()
    {
        using var r = new Reaper("sh", "-c", "setsid sleep 100 &");
        r.WaitForExit();
        List<string> left = [];
        Wait.Until(() => (left = r.Descendants()).Any(p => p.EndsWith(": sleep 100")), "the orphaned sleep to show", TimeSpan.FromSeconds(10));
        var pid = PidOf(left.Single());
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var f = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        Assert.Equal(r.ReaperPid.ToString(), f[1]);          // reparented to the reaper…
        Assert.Equal(pid.ToString(), f[3]);                  // …from a session of its own
        kill(pid, 9);
        Assert.Empty(Settled(r.Descendants));
    }

    /// <summary>Runs a command under a child subreaper (prctl(PR_SET_CHILD_SUBREAPER), a small python3
    /// program: no fork from .NET): an orphan of any of its descendants reparents to the reaper (or to the init of
    /// its own pid namespace, itself a descendant) instead of the host's init, so a command's leftovers are the
    /// reaper's live descendants — a process cannot leave that tree by setsid(), setpgid() or a double fork.
    /// The reaper reaps whatever reparents to it until disposed; the command's stdio are /dev/null.</summary>
    private sealed class Reaper : IDisposable
    {
        private const string Program = """
            import ctypes, os, select, sys
            libc = ctypes.CDLL(None, use_errno=True)
            if libc.prctl(36, 1, 0, 0, 0) != 0:  # PR_SET_CHILD_SUBREAPER
                sys.exit("prctl(PR_SET_CHILD_SUBREAPER): " + os.strerror(ctypes.get_errno()))
            child = os.fork()
            if child == 0:
                null = os.open("/dev/null", os.O_RDWR)
                for fd in (0, 1, 2):
                    os.dup2(null, fd)
                try:
                    os.execvp(sys.argv[1], sys.argv[1:])
                finally:
                    os._exit(127)
            print("pid", child, flush=True)
            # Polls rather than waits for SIGCHLD: a Python handler runs only when the main thread gets to it,
            # and once the command's exit went unreported (zombie, the reaper blocked in a read).
            def reap():
                while True:
                    try:
                        pid, status = os.waitpid(-1, os.WNOHANG)
                    except ChildProcessError:
                        return
                    if pid == 0:
                        return
                    if pid == child:
                        print("exit", status, flush=True)
            while True:  # until the test is done with the leftovers (EOF on stdin)
                reap()
                if select.select([0], [], [], 0.05)[0] and not os.read(0, 4096):
                    break
            reap()
            """;

        private readonly System.Diagnostics.Process _reaper;
        private readonly TaskCompletionSource _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>The command's pid (the reaper's child).</summary>
        public int Pid { get; }
        public int ReaperPid => _reaper.Id;
        public bool HasExited => _exited.Task.IsCompleted;

        public Reaper(params string[] argv)
        {
            var psi = new ProcessStartInfo("python3") { UseShellExecute = false, RedirectStandardInput = true, RedirectStandardOutput = true };
            psi.ArgumentList.Add("-c");
            psi.ArgumentList.Add(Program);
            foreach (var a in argv) psi.ArgumentList.Add(a);
            _reaper = System.Diagnostics.Process.Start(psi)!;
            var first = _reaper.StandardOutput.ReadLine();
            if (first is null || !first.StartsWith("pid ")) throw new InvalidOperationException($"the reaper did not start the command: {first}");
            Pid = int.Parse(first[4..]);
            _ = Task.Run(() =>
            {
                while (_reaper.StandardOutput.ReadLine() is { } line)
                    if (line.StartsWith("exit ")) { _exited.TrySetResult(); return; }
                _exited.TrySetResult();
            });
        }

        public void WaitForExit()
        {
            if (!_exited.Task.Wait(TimeSpan.FromSeconds(60)))
                throw new TimeoutException($"the command (pid {Pid}) under the reaper (pid {ReaperPid}, {(_reaper.HasExited ? "exited" : "running")}) did not exit in 60 s; below the reaper: {string.Join("; ", Descendants())}; the command's stat: {(File.Exists($"/proc/{Pid}/stat") ? File.ReadAllText($"/proc/{Pid}/stat") : "gone")}");
        }

        /// <summary>Live processes (not zombies) that descend from the reaper, as "pid: cmdline".</summary>
        public List<string> Descendants()
        {
            var parent = new Dictionary<int, int>();
            var line = new Dictionary<int, string>();
            foreach (var d in Directory.EnumerateDirectories("/proc"))
            {
                if (!int.TryParse(Path.GetFileName(d), out int pid)) continue;
                try
                {
                    var stat = File.ReadAllText($"{d}/stat");
                    var f = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                    if (f[0] == "Z") continue;
                    parent[pid] = int.Parse(f[1]);
                    line[pid] = $"{pid}: {File.ReadAllText($"{d}/cmdline").Replace('\0', ' ').Trim()}";
                }
                catch (IOException) { }
                catch (UnauthorizedAccessException) { }
            }
            var found = new List<string>();
            foreach (var pid in parent.Keys)
            {
                // walk up to the reaper (a descendant) or to the top (not one)
                for (int p = parent[pid], hops = 0; hops < 4096 && p > 1; p = parent.GetValueOrDefault(p), hops++)
                    if (p == ReaperPid) { found.Add(line[pid]); break; }
            }
            return found;
        }

        /// <summary>Ends the reaper: whatever is still below it then goes to the host's init, so the tests kill
        /// the leftovers they report first.</summary>
        public void Dispose()
        {
            try { _reaper.StandardInput.Close(); } catch (IOException) { }
            if (!_reaper.WaitForExit(10_000)) _reaper.Kill();
            _reaper.Dispose();
        }
    }

    [DllImport("libc", SetLastError = true)] private static extern int kill(int pid, int sig);
    [DllImport("libc", SetLastError = true)] private static extern int mkfifo(string path, int mode);
}
