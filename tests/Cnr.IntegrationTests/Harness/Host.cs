using Cnr.Cgroups;
using Xunit;

namespace Cnr.IntegrationTests.Harness;

/// <summary>What the host sees: namespaces, mounts, processes, files. Used to check a container from outside.</summary>
public static class Host
{
    /// <summary>The namespace link of this test process, e.g. "net:[4026531840]".</summary>
    public static string Namespace(string type) => new FileInfo($"/proc/self/ns/{type}").LinkTarget
        ?? throw new InvalidOperationException($"/proc/self/ns/{type} is not a link");

    /// <summary>Whether any mount in this test's mount namespace or in the host's (pid 1's) has PATH as its
    /// mount point or mentions it at all.</summary>
    public static IReadOnlyList<string> MountsMentioning(string path)
    {
        var lines = new List<string>();
        foreach (var mountinfo in new[] { "/proc/self/mountinfo", "/proc/1/mountinfo" })
            lines.AddRange(File.ReadLines(mountinfo).Where(l => l.Contains(path, StringComparison.Ordinal)).Select(l => $"{mountinfo}: {l}"));
        return lines;
    }

    /// <summary>Live processes (other than zombies) whose command line contains TEXT.</summary>
    public static IReadOnlyList<string> ProcessesMentioning(string text)
    {
        var found = new List<string>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            var name = Path.GetFileName(dir);
            if (!int.TryParse(name, out var pid) || pid == Environment.ProcessId) continue;
            try
            {
                var cmdline = File.ReadAllText(Path.Combine(dir, "cmdline")).Replace('\0', ' ');
                if (cmdline.Contains(text, StringComparison.Ordinal) && !IsZombie(pid))
                    found.Add($"{pid}: {cmdline}");
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
        return found;
    }

    /// <summary>Whether PID runs (or sleeps, or is stopped). A zombie is dead: it only waits for its reaper,
    /// which for a container's init is outside the test's control.</summary>
    public static bool IsAlive(int pid)
    {
        try { return !IsZombie(pid); }
        catch (IOException) { return false; }
    }

    /// <summary>Whether PID has a handler installed for SIGNAL (its SigCgt mask), e.g. once a shell's trap is set.</summary>
    public static bool Catches(int pid, int signal)
    {
        var line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("SigCgt:", StringComparison.Ordinal));
        return (Convert.ToUInt64(line["SigCgt:".Length..].Trim(), 16) & 1UL << (signal - 1)) != 0;
    }

    /// <summary>Whether this test process runs as root (integration tests run real containers).</summary>
    public static bool IsRoot => File.ReadAllText("/proc/self/status").Contains("\nUid:\t0\t");

    private static bool IsZombie(int pid)
    {
        // The state follows the parenthesised comm, which may itself contain spaces or parentheses.
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        return stat[(stat.LastIndexOf(')') + 2)..].StartsWith('Z');
    }

    /// <summary>uid:gid of a file as the host sees it.</summary>
    public static string Owner(string path)
    {
        var r = Cnr.Exec("stat", ["-c", "%u:%g", path]);
        Assert.True(r.ExitCode == 0, r.ToString());
        return r.Stdout.Trim();
    }

    /// <summary>"pid" and "status" of `cnr state ID`.</summary>
    public static (int Pid, string Status) State(TestBundle b)
    {
        var state = b.State();
        return (state.GetProperty("pid").GetInt32(), state.GetProperty("status").GetString() ?? "");
    }

    /// <summary>What a failed command must leave: no state dir for the id, no process naming the id or the
    /// bundle, no mount naming the bundle.</summary>
    public static void AssertNothingLeftBehind(TestBundle b)
    {
        Assert.False(Directory.Exists(Path.Combine(b.StateRoot, b.Id)), $"state dir {Path.Combine(b.StateRoot, b.Id)} left behind");
        Assert.Empty(ProcessesMentioning(b.Id));
        Assert.Empty(MountsMentioning(b.Dir));
    }

    /// <summary>The single line a failing command printed on stderr (fails if there were more or none).</summary>
    public static string OneErrorLine(CnrResult r)
    {
        var lines = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.True(lines.Length == 1, $"expected one line on stderr:\n{r}");
        return lines[0];
    }
}

/// <summary>The cgroup side of "nothing left behind", kept apart from <see cref="Host"/>'s process and mount checks.</summary>
public static class HostCgroups
{
    /// <summary>Removes the cgroup a test chose (a linux.cgroupsPath under /cnr-test/, nothing else) and the
    /// cgroups below it, deepest first, in the cgroup2 hierarchy cnr uses. rmdir removes only a cgroup without
    /// processes or children, so what still has processes stays, after a second for them to go.</summary>
    public static void RemoveEmpty(string cgroupsPath)
    {
        var parts = cgroupsPath.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (!cgroupsPath.StartsWith("/cnr-test/", StringComparison.Ordinal) || parts.Length < 2 || parts.Any(p => p is "." or ".."))
            return;
        if (CgroupHierarchy.Find(out _) is not { } hierarchy) return;
        var dir = hierarchy.Root + "/" + string.Join('/', parts);
        if (Directory.Exists(dir)) RemoveTree(dir);
    }

    private static void RemoveTree(string dir)
    {
        foreach (var child in Directory.GetDirectories(dir)) RemoveTree(child);
        for (var deadline = DateTime.UtcNow.AddSeconds(1); ; Thread.Sleep(50))
        {
            try { Directory.Delete(dir); return; }  // rmdir(2)
            catch (DirectoryNotFoundException) { return; }
            catch (IOException) when (DateTime.UtcNow < deadline) { }  // EBUSY: processes still leaving
        }
    }

    /// <summary>No cgroup directory of the test's own cgroupsPath (/cnr-test/ID) under any cgroup2 mount cnr uses.</summary>
    public static void AssertNoneLeft(TestBundle b)
    {
        foreach (var mount in new[] { "/sys/fs/cgroup", "/sys/fs/cgroup/unified" })
        {
            var dir = Path.Combine(mount, "cnr-test", b.Id);
            Assert.False(Directory.Exists(dir), $"cgroup {dir} left behind");
        }
    }
}
