using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Cnr.CriTests;

/// <summary>What the check looks at on the node itself, beside the CRI's answers: cnr's own state (`cnr --root
/// &lt;the shim's root&gt; list`), the cgroup files, the processes.</summary>
internal sealed class Node(string cnr, string shimRoot)
{
    private const string CgroupRoot = "/sys/fs/cgroup";

    /// <summary>id -> status of every container in cnr's state under the shim's root.</summary>
    public Dictionary<string, string> CnrList()
    {
        var psi = new ProcessStartInfo(cnr) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "--root", shimRoot, "list", "--format", "json" }) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEnd();
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"cnr --root {shimRoot} list: exit {p.ExitCode}: {stderr.Trim()}");
        using var doc = JsonDocument.Parse(string.IsNullOrWhiteSpace(stdout) || stdout.Trim() == "null" ? "[]" : stdout);
        return doc.RootElement.EnumerateArray().ToDictionary(e => e.GetProperty("id").GetString()!, e => e.GetProperty("status").GetString()!);
    }

    /// <summary>`systemctl is-active UNIT`: active, inactive, failed…</summary>
    public static string SystemctlIsActive(string unit)
    {
        var psi = new ProcessStartInfo("systemctl") { RedirectStandardOutput = true };
        psi.ArgumentList.Add("is-active");
        psi.ArgumentList.Add(unit);
        using var p = Process.Start(psi)!;
        var state = p.StandardOutput.ReadToEnd().Trim();
        p.WaitForExit();
        return state;
    }

    /// <summary>The cgroup v2 directory of a process, from its /proc/PID/cgroup ("0::/path").</summary>
    public static string CgroupOf(int pid)
    {
        var line = File.ReadAllLines($"/proc/{pid}/cgroup").Single(l => l.StartsWith("0::", StringComparison.Ordinal));
        return CgroupRoot + line[3..];
    }

    public static string ReadCgroupFile(string dir, string file) => File.ReadAllText(Path.Combine(dir, file)).Trim();

    /// <summary>The oom_kill count of a cgroup's memory.events (hierarchical: its descendants' kills too).</summary>
    public static long OomKills(string dir) =>
        File.ReadAllLines(Path.Combine(dir, "memory.events")).Select(l => l.Split(' ')).Where(f => f[0] == "oom_kill").Select(f => long.Parse(f[1])).Single();

    /// <summary>Cgroup directories whose name holds the id (cgroupfs: .../ID, systemd: cri-containerd-ID.scope).</summary>
    public static List<string> CgroupsNamed(string id)
    {
        var found = new List<string>();
        var pending = new Stack<string>([CgroupRoot]);
        while (pending.Count > 0)
        {
            foreach (var dir in Directory.EnumerateDirectories(pending.Pop()))
            {
                if (Path.GetFileName(dir).Contains(id, StringComparison.Ordinal)) found.Add(dir);
                pending.Push(dir);
            }
        }
        return found;
    }

    /// <summary>Processes whose cgroup path holds the id: what a container left running.</summary>
    public static List<int> ProcessesInCgroupsNamed(string id)
    {
        var found = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid)) continue;
            try
            {
                if (File.ReadAllText(Path.Combine(dir, "cgroup")).Contains(id, StringComparison.Ordinal)) found.Add(pid);
            }
            catch (IOException) { } // exited meanwhile
        }
        return found;
    }

    /// <summary>Processes whose command line holds the id (the shim is started with `-id ID`).</summary>
    public static List<int> ProcessesNamed(string id)
    {
        var found = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid) || pid == Environment.ProcessId) continue;
            try
            {
                if (File.ReadAllText(Path.Combine(dir, "cmdline")).Contains(id, StringComparison.Ordinal)) found.Add(pid);
            }
            catch (IOException) { }
        }
        return found;
    }

    public static bool Alive(int pid) => Directory.Exists($"/proc/{pid}");

    /// <summary>A process's arguments joined by spaces; "" once it is gone.</summary>
    public static string CommandLine(int pid)
    {
        try { return File.ReadAllText($"/proc/{pid}/cmdline").TrimEnd('\0').Replace('\0', ' '); }
        catch (IOException) { return ""; }
    }

    public static string NamespaceOf(int pid, string ns) => new FileInfo($"/proc/{pid}/ns/{ns}").LinkTarget ?? "";
}

/// <summary>The parts of containerd's verbose status info that the check reads: the init's pid and the OCI
/// runtime spec containerd generated from the CRI request (so every request field the check sets is seen
/// to arrive: a wrong field number in cri.proto would be silently dropped).</summary>
internal sealed record VerboseInfo(int Pid, JsonElement RuntimeSpec)
{
    public static VerboseInfo Parse(IDictionary<string, string> info)
    {
        using var doc = JsonDocument.Parse(info["info"]);
        var root = doc.RootElement;
        return new VerboseInfo(root.GetProperty("pid").GetInt32(), root.GetProperty("runtimeSpec").Clone());
    }

    /// <summary>The spec value at a path of property names, or null.</summary>
    public JsonElement? At(params string[] path)
    {
        var e = RuntimeSpec;
        foreach (var p in path)
        {
            if (e.ValueKind != JsonValueKind.Object || !e.TryGetProperty(p, out e)) return null;
        }
        return e;
    }
}

[JsonSerializable(typeof(TerminalSize))]
internal sealed partial class CriJson : JsonSerializerContext;
