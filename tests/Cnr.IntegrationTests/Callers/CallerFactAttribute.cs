using System.Diagnostics;
using Cnr.IntegrationTests.Harness;
using Xunit;

namespace Cnr.IntegrationTests.Callers;

/// <summary>A root fact that needs a real caller (podman, containerd, dockerd). The Debian packages are installed
/// once per test run when a program is missing (tests/install-deps.sh, which tests/run-all.sh has run before);
/// the test is skipped, naming the reason, when that does not work.</summary>
public sealed class CallerFactAttribute : FactAttribute
{
    public CallerFactAttribute(params string[] programs)
    {
        var root = new RootFactAttribute();
        if (root.Skip is not null) { Skip = root.Skip; return; }
        var missing = CallerPackages.EnsureInstalled().Where(p => programs.Contains(p.Key)).Select(p => p.Value).ToList();
        if (missing.Count > 0) Skip = string.Join("; ", missing);
    }

    /// <summary>Space-separated cgroup v2 controllers the test needs at /sys/fs/cgroup; skipped, naming them, when
    /// the host lacks them (a hybrid host has its controllers on v1).</summary>
    public string? NeedsCgroupV2Controllers
    {
        get => null;
        set
        {
            if (Skip is not null || value is null) return;
            var file = "/sys/fs/cgroup/cgroup.controllers";
            var have = File.Exists(file) ? File.ReadAllText(file).Split() : [];
            var lacking = value.Split(' ').Where(c => !have.Contains(c)).ToList();
            if (lacking.Count > 0)
                Skip = $"needs cgroup v2 controllers {string.Join(", ", lacking)} at /sys/fs/cgroup (this host: {(File.Exists(file) ? "\"" + string.Join(' ', have).Trim() + "\"" : "no cgroup v2 there")})";
        }
    }
}

public static class CallerPackages
{
    /// <summary>Program → Debian package that provides it.</summary>
    private static readonly (string Program, string Package)[] Needed =
    [
        ("podman", "podman"), ("conmon", "podman"),
        ("containerd", "containerd"), ("ctr", "containerd"),
        ("dockerd", "docker.io"),
    ];

    private static readonly Lazy<Dictionary<string, string>> Missing = new(Install);

    /// <summary>Program → why it is unavailable, for the programs still missing after the install attempt.</summary>
    public static IReadOnlyDictionary<string, string> EnsureInstalled() => Missing.Value;

    /// <summary>How the install went (time, packages), for the report; null when nothing had to be installed.</summary>
    public static string? InstallReport { get; private set; }

    public static string? Which(string program) =>
        new[] { "/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin" }
            .Select(d => Path.Combine(d, program)).FirstOrDefault(File.Exists);

    private static Dictionary<string, string> Install()
    {
        var packages = Needed.Where(n => Which(n.Program) is null).Select(n => n.Package).Distinct().ToList();
        if (packages.Count > 0)
        {
            var sw = Stopwatch.StartNew();
            var r = Harness.Cnr.Exec(Path.Combine(Repo.Root, "tests", "install-deps.sh"), ["--for", "the caller tests", .. packages],
                timeout: TimeSpan.FromMinutes(20));
            InstallReport = $"tests/install-deps.sh {string.Join(' ', packages)}: exit {r.ExitCode} in {sw.Elapsed.TotalSeconds:F0}s";
            File.AppendAllText(Path.Combine(Repo.Scratch, "callers-install.txt"), InstallReport + "\n" + (r.ExitCode != 0 ? r.ToString() : "") + "\n");
        }
        return Needed.Where(n => Which(n.Program) is null)
            .ToDictionary(n => n.Program, n => $"{n.Program} not installed and `apt-get install {n.Package}` failed (see {Repo.Scratch}/callers-install.txt)");
    }
}
