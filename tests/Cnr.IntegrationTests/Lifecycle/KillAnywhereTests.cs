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
        => KillAtEveryMoment("kc", (b, id, dir) => CnrInSession(b, "create", "--bundle", dir, id));

    [RootFact]
    public void KillNine_AtAnyMomentOfRun_ListShowsIt_AndDeleteForceRemovesEverything()
        => KillAtEveryMoment("kr", (b, id, dir) => CnrInSession(b, "run", "--bundle", dir, id));

    [RootFact]
    public void KillNine_AtAnyMomentOfExec_ListShowsIt_AndDeleteForceRemovesEverything()
        => KillAtEveryMoment("ke", (b, id, dir) =>
        {
            var r = b.CnrDetached("run", "--detach", "--bundle", dir, id);
            Assert.True(r.ExitCode == 0, $"run -d {id}: {r}");
            return CnrInSession(b, "exec", id, "sleep", "100");
        });

    /// <summary>The narrowest moment of exec: its child has joined the container's namespaces and waits for the
    /// go-ahead. strace holds cnr's first send (the go-ahead) so that the kill lands there every time.</summary>
    [RootFactWithTool("/usr/bin/strace", "strace holds exec between its steps: apt-get install strace")]
    public void KillNine_OfExecWhileItsChildWaitsForTheGoAhead_TheChildExitsByItself()
    {
        using var b = Running("kg");
        using var strace = InSession("strace", "-qq", "-o", "/dev/null", "-e", "trace=sendto", "-e", "inject=sendto:delay_enter=3000000:when=1",
            Repo.CnrBinary, "--root", b.StateRoot, "exec", b.Id, "sleep", "100");
        List<string> cnrs = [];
        Wait.Until(() => (cnrs = SessionProcesses(strace.Id).Where(IsCnr).ToList()).Count >= 2 || strace.HasExited,
            "exec to clone its child", TimeSpan.FromSeconds(20), every: TimeSpan.FromMilliseconds(5));
        Assert.True(cnrs.Count >= 2, $"exec never cloned its child: {string.Join("; ", cnrs)}");
        // cnr is strace's child; its own child is the one waiting
        var parent = cnrs.Select(PidOf).Single(pid => File.ReadAllText($"/proc/{pid}/stat").Split(") ")[1].Split(' ')[1] == strace.Id.ToString());
        kill(parent, 9);
        strace.WaitForExit();
        var orphans = Settled(() => SessionProcesses(strace.Id).Where(IsCnr).ToList());
        foreach (var p in orphans) kill(PidOf(p), 9);
        Assert.True(orphans.Count == 0, $"still running after exec was killed: {string.Join("; ", orphans)}");
    }

    /// <summary>Kills the command at moments spread over its own duration (measured once, undisturbed), then
    /// checks: `list` and `state` answer and show what exists; `delete --force` finishes in 5 s and leaves no
    /// process of the command's session, no cgroup and no state directory.</summary>
    private static void KillAtEveryMoment(string name, Func<TestBundle, string, string, System.Diagnostics.Process> start)
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
            File.WriteAllText(Path.Combine(dir, "config.json"), JsonSerializer.Serialize(b.Spec, SpecJson.Default.RuntimeSpec));

            using var cnr = start(b, id, dir);
            var t0 = Stopwatch.StartNew();
            int sid = cnr.Id;
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
                kill(sid, 9);
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
            var orphans = Settled(() => SessionProcesses(sid).Where(p => IsCnr(p) && PidOf(p) != recorded).ToList());
            if (orphans.Count > 0) failures.Add($"kill {i} ({id}): still running after cnr was killed: {string.Join("; ", orphans)}");

            var delete = Bounded(failures, i, id, b.StateRoot, "delete", "--force", id);
            if (delete is { ExitCode: not 0 }) failures.Add($"kill {i} ({id}): delete --force: {delete}");
            if (Directory.Exists(Path.Combine(b.StateRoot, id))) failures.Add($"kill {i} ({id}): state dir left");
            if (cgroupRoot is not null && Directory.Exists($"{cgroupRoot}/cnr-test/{id}")) failures.Add($"kill {i} ({id}): cgroup left");
            var left = Settled(() => SessionProcesses(sid));
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

    /// <summary>Starts cnr in a session of its own (setsid), stdio to /dev/null: every process it makes
    /// inherits the session, which is how the leftovers are found. Returns its pid, the session id.</summary>
    private static System.Diagnostics.Process CnrInSession(TestBundle b, params string[] verbAndArgs)
        => InSession([Repo.CnrBinary, "--root", b.StateRoot, .. verbAndArgs]);

    private static System.Diagnostics.Process InSession(params string[] argv)
    {
        var psi = new ProcessStartInfo("/usr/bin/setsid") { UseShellExecute = false, RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in argv) psi.ArgumentList.Add(a);
        // stdio as /dev/null through a shell would add a process; pipes are fine: nobody reads them, and the
        // container's few bytes fit.
        var p = System.Diagnostics.Process.Start(psi)!;
        p.StandardInput.Close();
        return p;
    }

    private static void WaitUntilStarted(System.Diagnostics.Process cnr, string id)
    {
        // create ends by itself; run and exec (sleep 100) run on: wait for the sleep to be there.
        var started = false;
        Wait.Until(() => cnr.HasExited || (started = SessionProcesses(cnr.Id).Any(p => p.Contains("sleep 100"))),
            $"cnr ({id}) to get its process started", every: TimeSpan.FromMilliseconds(2));
        if (started) kill(cnr.Id, 9);
    }

    /// <summary>Live processes (not zombies) of session SID, as "pid: cmdline".</summary>
    private static List<string> SessionProcesses(int sid)
    {
        var found = new List<string>();
        foreach (var d in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(d), out int pid)) continue;
            try
            {
                var stat = File.ReadAllText($"{d}/stat");
                var f = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                if (f[0] == "Z" || int.Parse(f[3]) != sid) continue;
                found.Add($"{pid}: {File.ReadAllText($"{d}/cmdline").Replace('\0', ' ').Trim()}");
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
        return found;
    }

    [DllImport("libc", SetLastError = true)] private static extern int kill(int pid, int sig);
    [DllImport("libc", SetLastError = true)] private static extern int mkfifo(string path, int mode);
}
