using System.Text.Json;
using Cnr.Cgroups;
using Cnr.IntegrationTests.Cgroups;
using Cnr.IntegrationTests.Harness;
using Cnr.Spec;
using Xunit;

namespace Cnr.IntegrationTests.Run;

/// <summary>An unprivileged user of the test's own (useradd --system, removed afterwards), with an /etc/subuid
/// and /etc/subgid range of its own that the tests add and remove. The tests become it with setpriv, as a
/// login would, minus the session: no systemd user instance, so no cgroup of its own to write.</summary>
public sealed class RootlessUser : IDisposable
{
    public string Name { get; } = "cnrrl" + Guid.NewGuid().ToString("N")[..8];
    public uint Uid { get; }
    public uint Gid { get; }
    /// <summary>The first of the 65536 subordinate ids the test gives the user.</summary>
    public uint SubStart { get; }
    public const uint SubCount = 65536;

    private readonly bool _made;

    public RootlessUser()
    {
        if (new RootFactAttribute().Skip is not null) return;
        Must("useradd", ["--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "--user-group", Name]);
        _made = true;
        Uid = uint.Parse(Must("id", ["-u", Name]).Trim());
        Gid = uint.Parse(Must("id", ["-g", Name]).Trim());
        // far above any allocation of useradd's (SUB_UID_MIN 100000, 65536 each), and one range per user
        SubStart = 1_000_000_000u + (uint)Random.Shared.Next(0, 30_000) * SubCount;
        foreach (var file in new[] { "/etc/subuid", "/etc/subgid" })
            File.AppendAllText(file, $"{Name}:{SubStart}:{SubCount}\n");
    }

    /// <summary>Runs cnr as this user (setpriv: real and effective ids, no supplementary groups).</summary>
    public CnrResult Cnr(IEnumerable<string> args, IDictionary<string, string>? env = null)
        => Harness.Cnr.Exec("/usr/bin/setpriv", ["--reuid", Uid.ToString(), "--regid", Gid.ToString(), "--clear-groups", Repo.CnrBinary, .. args], env: env);

    /// <summary>A directory of the test's, owned by this user.</summary>
    public string OwnedDir(string path)
    {
        Directory.CreateDirectory(path);
        Must("chown", [$"{Uid}:{Gid}", path]);
        return path;
    }

    /// <summary>Pids of processes still running as this user (zombies aside: a killed init reparented to
    /// the host's init may wait there a moment to be reaped): a test leaves none.</summary>
    public List<int> Processes()
    {
        var pids = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid)) continue;
            try
            {
                var status = File.ReadAllLines($"{dir}/status");
                var uid = status.FirstOrDefault(l => l.StartsWith("Uid:"))?.Split('\t', StringSplitOptions.RemoveEmptyEntries)[1];
                if (uid == Uid.ToString() && !status.Any(l => l.StartsWith("State:\tZ"))) pids.Add(pid);
            }
            catch (IOException) { }
        }
        return pids;
    }

    public void Dispose()
    {
        if (!_made) return;
        foreach (var file in new[] { "/etc/subuid", "/etc/subgid" })
            File.WriteAllLines(file, File.ReadAllLines(file).Where(l => !l.StartsWith(Name + ":", StringComparison.Ordinal)));
        Harness.Cnr.Exec("userdel", [Name]);
    }

    private static string Must(string program, IEnumerable<string> args)
    {
        var r = Harness.Cnr.Exec(program, args);
        if (r.ExitCode != 0) throw new InvalidOperationException($"{program} {string.Join(' ', args)}: {r}");
        return r.Stdout;
    }
}

/// <summary>`cnr spec --rootless` then `cnr run` as an ordinary user: no cgroup where it may write none, one
/// line for a limit it cannot have, and mappings beyond its own id through newuidmap/newgidmap.</summary>
public sealed class RootlessTests(RootlessUser user) : IClassFixture<RootlessUser>
{
    private const string NewUidMap = "/usr/bin/newuidmap";

    /// <summary>A bundle the user owns, its config written by `cnr spec --rootless` as that user, running the
    /// mybox rootfs.</summary>
    private (TestBundle Bundle, RuntimeSpec Spec, string State) RootlessBundle(string name, params string[] args)
    {
        var b = new TestBundle(name);
        user.OwnedDir(b.Dir);
        var state = user.OwnedDir(Path.Combine(b.Dir, "state"));
        var r = user.Cnr(["spec", "--rootless", "--bundle", b.Dir]);
        Assert.True(r.ExitCode == 0, r.ToString());
        var spec = JsonSerializer.Deserialize(File.ReadAllText(Path.Combine(b.Dir, "config.json")), SpecJson.Default.RuntimeSpec)!;
        spec.Root = new Root { Path = Repo.MyboxRootfs, Readonly = true };
        spec.Process!.Terminal = false;
        spec.Process.Args = [.. args];
        return (b, spec, state);
    }

    private static void Write(TestBundle b, RuntimeSpec spec)
        => File.WriteAllText(Path.Combine(b.Dir, "config.json"), JsonSerializer.Serialize(spec, SpecJson.Default.RuntimeSpec));

    private CnrResult Run(TestBundle b, RuntimeSpec spec, string state, params string[] global)
    {
        Write(b, spec);
        return user.Cnr([.. global, "--root", state, "run", "--bundle", b.Dir, b.Id]);
    }

    private void AssertNothingLeft(TestBundle b, string state)
    {
        Assert.False(Directory.Exists(Path.Combine(state, b.Id)), "state dir left behind");
        Assert.Empty(user.Processes());
    }

    [RootFact]
    public void SpecRootless_ThenRun_AsAnOrdinaryUser_RunsAsRootInItsUserNamespace_WithoutACgroup()
    {
        var (b, spec, state) = RootlessBundle("rl-run", "sh", "-c", "id -u; cat /proc/self/uid_map; echo ok");
        using var _ = b;
        var r = Run(b, spec, state, "--debug");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Matches($@"^0\n\s+0\s+{user.Uid}\s+1\nok\n$", r.Stdout);
        // the cgroup it could not make is said once, in --debug, with why
        Assert.Single(r.Stderr.Split('\n'), l => l.Contains("gets no cgroup") && l.Contains("rootless"));
        AssertNothingLeft(b, state);
    }

    [RootFact]
    public void Rootless_WithALimit_AndNoDelegatedCgroup_IsRefusedInOneLine_LeavingNothing()
    {
        var (b, spec, state) = RootlessBundle("rl-limit", "true");
        using var _ = b;
        spec.Linux!.Resources = new LinuxResources { Pids = new LinuxPids { Limit = 10 } };
        var r = Run(b, spec, state);
        Assert.NotEqual(0, r.ExitCode);
        var line = Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("linux.resources.pids", line);
        Assert.Contains("--systemd-cgroup", line);
        AssertNothingLeft(b, state);
    }

    [RootFact]
    public void Rootless_DefaultRoot_IsUnderTheUsersRuntimeDir()
    {
        var (b, spec, _) = RootlessBundle("rl-xdg", "sleep", "30");
        using var _ = b;
        var xdg = user.OwnedDir(Path.Combine(b.Dir, "xdg"));
        var env = new Dictionary<string, string> { ["XDG_RUNTIME_DIR"] = xdg };
        Write(b, spec);
        var r = user.Cnr(["create", "--bundle", b.Dir, b.Id], env);
        try
        {
            Assert.True(r.ExitCode == 0, r.ToString());
            Assert.True(Directory.Exists(Path.Combine(xdg, "cnr", b.Id)), $"no state under {xdg}/cnr");
            Assert.Contains(b.Id, user.Cnr(["list"], env).Stdout);
        }
        finally
        {
            var d = user.Cnr(["delete", "--force", b.Id], env);
            Assert.True(d.ExitCode == 0, d.ToString());
        }
        AssertNothingLeft(b, Path.Combine(xdg, "cnr"));
    }

    /// <summary>Rootless Podman's way: cnr runs as uid 0 of a user namespace the user made (Podman's, from
    /// /etc/subuid), with a config that asks for no user namespace of its own, and no --root. Every call joins
    /// that one namespace (nsenter, as Podman's calls join its pause process's), so `exec` finds the
    /// container's namespaces its own. The state goes under the user's runtime dir, as a rootless caller's.</summary>
    [RootFact]
    public void AsRootOfTheUsersOwnUserNamespace_LikeRootlessPodman_CreatesExecsAndDeletes()
    {
        var (b, spec, _) = RootlessBundle("rl-podman", "sleep", "1000");
        using var _ = b;
        spec.Linux!.Namespaces = [.. spec.Linux.Namespaces!.Where(n => n.Type != "user")];
        spec.Linux.UidMappings = null;
        spec.Linux.GidMappings = null;
        Write(b, spec);
        var xdg = user.OwnedDir(Path.Combine(b.Dir, "xdg"));
        var env = new Dictionary<string, string> { ["XDG_RUNTIME_DIR"] = xdg };
        string[] asUser = ["--reuid", user.Uid.ToString(), "--regid", user.Gid.ToString(), "--clear-groups"];
        using var holder = System.Diagnostics.Process.Start("/usr/bin/setpriv", [.. asUser, "/usr/bin/unshare", "--user", "--map-root-user", "sleep", "1000"]);
        try
        {
            string ns(string pid) => File.ResolveLinkTarget($"/proc/{pid}/ns/user", false)?.ToString() ?? "";
            // unshare(1) writes the maps after unshare(2): entering before that fails (seen once in a full run)
            string map(string pid) { try { return File.ReadAllText($"/proc/{pid}/uid_map").Trim(); } catch (IOException) { return ""; } }
            for (int i = 0; i < 1000 && (ns(holder.Id.ToString()) == ns("self") || map(holder.Id.ToString()) == ""); i++) Thread.Sleep(10);
            Assert.NotEqual(ns("self"), ns(holder.Id.ToString()));
            Assert.NotEqual("", map(holder.Id.ToString()));
            CnrResult InNs(params string[] args)
            {
                // nsenter's own setns into the holder's namespace once failed EINVAL in a full run, before cnr ran
                // (the holder still setting itself up): only that failure, which ran nothing of cnr, is tried again.
                for (int attempt = 0; ; attempt++)
                {
                    var r = Harness.Cnr.Exec("/usr/bin/setpriv",
                        [.. asUser, "/usr/bin/nsenter", "--preserve-credentials", "--user", "--target", holder.Id.ToString(), Repo.CnrBinary, .. args], env: env);
                    if (attempt >= 20 || !r.Stderr.StartsWith("nsenter: reassociate to namespace 'ns/user' failed", StringComparison.Ordinal)) return r;
                    Thread.Sleep(50);
                }
            }

            var r = InNs("create", "--bundle", b.Dir, b.Id);
            Assert.True(r.ExitCode == 0, r.ToString());
            Assert.True(Directory.Exists(Path.Combine(xdg, "cnr", b.Id)), $"no state under {xdg}/cnr");
            r = InNs("start", b.Id);
            Assert.True(r.ExitCode == 0, r.ToString());
            r = InNs("exec", b.Id, "sh", "-c", "id -u; cat /proc/self/uid_map");
            Assert.True(r.ExitCode == 0, r.ToString());
            Assert.Matches($@"^0\n\s+0\s+{user.Uid}\s+1\n$", r.Stdout);
            r = InNs("kill", b.Id, "KILL");
            Assert.True(r.ExitCode == 0, r.ToString());
            r = InNs("delete", "--force", b.Id);
            Assert.True(r.ExitCode == 0, r.ToString());
        }
        finally
        {
            holder.Kill();
            holder.WaitForExit();
        }
        AssertNothingLeft(b, Path.Combine(xdg, "cnr"));
    }

    private LinuxIdMapping[] SubMappings(uint own, uint first, uint size)
        => [new() { ContainerID = 0, HostID = own, Size = 1 }, new() { ContainerID = 1, HostID = first, Size = size }];

    [RootFactWithTool(NewUidMap, "the uidmap package: tests/install-deps.sh uidmap")]
    public void Rootless_MultiRangeMappings_FromSubuid_GoThroughNewuidmap()
    {
        var (b, spec, state) = RootlessBundle("rl-multi", "sh", "-c", "cat /proc/self/uid_map /proc/self/gid_map; echo $(id -u):$(id -g)");
        using var _ = b;
        spec.Linux!.UidMappings = [.. SubMappings(user.Uid, user.SubStart, RootlessUser.SubCount)];
        spec.Linux.GidMappings = [.. SubMappings(user.Gid, user.SubStart, RootlessUser.SubCount)];
        // an id of the subordinate range is usable inside: the process runs as container uid and gid 1000
        spec.Process!.User = new User { Uid = 1000, Gid = 1000 };
        var r = Run(b, spec, state);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal(4, r.Stdout.Split('\n').Count(l => System.Text.RegularExpressions.Regex.IsMatch(l, $@"^\s+(0\s+{user.Uid}|0\s+{user.Gid}|1\s+{user.SubStart})\s+(1|{RootlessUser.SubCount})$")));
        Assert.EndsWith("1000:1000\n", r.Stdout);
        AssertNothingLeft(b, state);
    }

    [RootFactWithTool(NewUidMap, "the uidmap package: tests/install-deps.sh uidmap")]
    public void Rootless_RangeNotInSubuid_IsRefusedByNewuidmap_InOneLine_LeavingNothing()
    {
        var (b, spec, state) = RootlessBundle("rl-refused", "true");
        using var _ = b;
        // a range next to the user's, not in /etc/subuid
        spec.Linux!.UidMappings = [.. SubMappings(user.Uid, user.SubStart + RootlessUser.SubCount, 10)];
        var r = Run(b, spec, state);
        Assert.NotEqual(0, r.ExitCode);
        var line = Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("linux.uidMappings", line);
        Assert.Contains("newuidmap", line);
        Assert.Contains($"hostID {user.SubStart + RootlessUser.SubCount}", line);
        Assert.Contains("/etc/subuid", line);
        AssertNothingLeft(b, state);
    }

    [RootFact]
    public void Rootless_MultiRange_WithoutNewuidmap_NamesThePackage_BeforeAnythingExists()
    {
        var (b, spec, state) = RootlessBundle("rl-nohelper", "true");
        using var _ = b;
        spec.Linux!.UidMappings = [.. SubMappings(user.Uid, user.SubStart, RootlessUser.SubCount)];
        Write(b, spec);
        // no newuidmap on this PATH
        var r = user.Cnr(["--root", state, "run", "--bundle", b.Dir, b.Id], new Dictionary<string, string> { ["PATH"] = "/nonexistent" });
        Assert.NotEqual(0, r.ExitCode);
        var line = Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("linux.uidMappings", line);
        Assert.Contains("newuidmap", line);
        Assert.Contains("uidmap", line.Replace("newuidmap", ""));
        AssertNothingLeft(b, state);
    }
}

/// <summary>Rootless on a pure cgroup v2 host (tests/vm/run-cgroup-tests.sh runs these in its guest): without a
/// cgroup of its own the user's container runs without one; in a subtree delegated to the user (what systemd's
/// Delegate=yes gives: the directory and its cgroup.procs, cgroup.subtree_control chowned to it) it gets its
/// cgroup and its limits there.</summary>
[Trait("Category", "CgroupV2")]
public sealed class RootlessCgroupV2Tests(RootlessUser user) : IClassFixture<RootlessUser>
{
    /// <summary>The bundle in the shared scratch dir; the state in this kernel's own /tmp, because the user
    /// must own what it makes there, and in the UML guest the scratch dir is the host's (hostfs), where
    /// everything made belongs to the host's root.</summary>
    private (TestBundle, string) Bundle(string name, string script, Action<RuntimeSpec>? change = null)
    {
        var b = new TestBundle(name);
        var state = user.OwnedDir(Path.Combine(Path.GetTempPath(), "cnr-" + b.Id));
        var spec = DefaultSpec.Create(rootless: true);
        spec.Linux!.UidMappings = [new LinuxIdMapping { ContainerID = 0, HostID = user.Uid, Size = 1 }];
        spec.Linux.GidMappings = [new LinuxIdMapping { ContainerID = 0, HostID = user.Gid, Size = 1 }];
        spec.Root = new Root { Path = Repo.MyboxRootfs, Readonly = true };
        spec.Process!.Terminal = false;
        spec.Process.Args = ["sh", "-c", script];
        change?.Invoke(spec);
        File.WriteAllText(Path.Combine(b.Dir, "config.json"), JsonSerializer.Serialize(spec, SpecJson.Default.RuntimeSpec));
        return (b, state);
    }

    [CgroupV2Fact(NeedsCnr = true)]
    public void Rootless_WithoutADelegatedCgroup_RunsWithoutOne()
    {
        var (b, state) = Bundle("rl-v2", "id -u; echo ok");
        using var _ = b;
        var r = user.Cnr(["--debug", "--root", state, "run", "--bundle", b.Dir, b.Id]);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("0\nok\n", r.Stdout);
        Assert.Contains("gets no cgroup", r.Stderr);
        Assert.False(Directory.Exists(Path.Combine(state, b.Id)), "state dir left behind");
        Directory.Delete(state, recursive: true);
    }

    [CgroupV2Fact("pids", NeedsCnr = true)]
    public void Rootless_InADelegatedSubtree_GetsItsCgroupAndLimits()
    {
        var h = CgroupHierarchy.Find(out var mode) ?? throw new InvalidOperationException(mode);
        var parent = $"{h.Root}/cnr-test";
        var deleg = $"{parent}/rl-deleg-{Guid.NewGuid():N}"[..(parent.Length + 17)];
        var (b, state) = Bundle("rl-deleg", "sleep 1000", s =>
        {
            s.Linux!.CgroupsPath = deleg[h.Root.Length..] + "/ctr";
            s.Linux.Resources = new LinuxResources { Pids = new LinuxPids { Limit = 10 } };
        });
        using var _ = b;
        // as systemd delegates: pids offered down to the delegated directory, which is the user's to manage
        Directory.CreateDirectory(parent);
        foreach (var dir in new[] { h.Root, parent })
            if (!File.ReadAllText($"{dir}/cgroup.subtree_control").Contains("pids")) File.WriteAllText($"{dir}/cgroup.subtree_control", "+pids");
        Directory.CreateDirectory(deleg);
        Directory.CreateDirectory($"{deleg}/shell");
        try
        {
            foreach (var p in new[] { deleg, $"{deleg}/cgroup.procs", $"{deleg}/cgroup.subtree_control", $"{deleg}/shell", $"{deleg}/shell/cgroup.procs" })
                Assert.Equal(0, Harness.Cnr.Exec("chown", [$"{user.Uid}:{user.Gid}", p]).ExitCode);
            // the user's shell lives in the delegated subtree (as under systemd --user), the container beside it
            var r = Harness.Cnr.Exec("sh", ["-c", $"echo $$ > {deleg}/shell/cgroup.procs && exec /usr/bin/setpriv --reuid {user.Uid} --regid {user.Gid} --clear-groups {Repo.CnrBinary} --root {state} run -d --bundle {b.Dir} {b.Id} </dev/null"]);
            Assert.True(r.ExitCode == 0, r.ToString());
            Assert.Equal("10", File.ReadAllText($"{deleg}/ctr/pids.max").Trim());
            Assert.NotEmpty(File.ReadAllText($"{deleg}/ctr/cgroup.procs").Trim());
            var d = user.Cnr(["--root", state, "delete", "--force", b.Id]);
            Assert.True(d.ExitCode == 0, d.ToString());
            Assert.False(Directory.Exists($"{deleg}/ctr"), "the container's cgroup is left");
        }
        finally
        {
            foreach (var dir in new[] { $"{deleg}/ctr", $"{deleg}/shell", deleg })
                if (Directory.Exists(dir)) Directory.Delete(dir);
            Directory.Delete(state, recursive: true);
        }
    }
}
