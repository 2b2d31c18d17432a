using System.Text.Json;
using Cnr.IntegrationTests.Harness;

namespace Cnr.IntegrationTests.Lifecycle;

/// <summary>Steps shared by the lifecycle tests: `create` and detached `exec` with their stdio in files (a
/// container that inherits the harness's pipes would keep them open past cnr's exit), and state polling.</summary>
internal static class Lifecycle
{
    /// <summary>`cnr --root STATE VERB ARGS…` with stdin /dev/null and stdout/stderr in files of the bundle dir,
    /// which the container's own output keeps going to.</summary>
    public static CnrResult Detached(this TestBundle b, params string[] verbAndArgs)
    {
        var tag = Guid.NewGuid().ToString("N")[..6];
        var (o, e) = (Path.Combine(b.Dir, $"out-{tag}"), Path.Combine(b.Dir, $"err-{tag}"));
        var r = Harness.Cnr.Exec("sh", ["-c", "exec \"$@\" </dev/null >\"$OUT\" 2>\"$ERR\"", "sh", Repo.CnrBinary, "--root", b.StateRoot, .. verbAndArgs],
            env: new Dictionary<string, string> { ["OUT"] = o, ["ERR"] = e });
        return r with { Stdout = File.ReadAllText(o), Stderr = File.ReadAllText(e) };
    }

    /// <summary>Writes config.json and runs `cnr create --bundle DIR ID EXTRA…`.</summary>
    public static CnrResult Create(this TestBundle b, params string[] extra)
    {
        b.Write();
        return b.Detached(["create", "--bundle", b.Dir, .. extra, b.Id]);
    }

    public static JsonElement State(this TestBundle b, string? id = null)
    {
        var r = b.Cnr("state", id ?? b.Id);
        if (r.ExitCode != 0) throw new InvalidOperationException("state: " + r);
        return JsonDocument.Parse(r.Stdout).RootElement;
    }

    public static string Status(this TestBundle b, string? id = null) => b.State(id).GetProperty("status").GetString()!;

    /// <summary>Polls `state` until the status is <paramref name="status"/> (5 s at most); returns the last one.</summary>
    public static string WaitForStatus(this TestBundle b, string status, string? id = null)
    {
        string s = "";
        for (int i = 0; i < 50; i++)
        {
            s = b.Status(id);
            if (s == status) break;
            Thread.Sleep(100);
        }
        return s;
    }

    public static bool ProcessExists(int pid) => Directory.Exists($"/proc/{pid}");
}

/// <summary>A theory that needs root, skipped for the same reasons as <see cref="RootFactAttribute"/>.</summary>
public sealed class RootTheoryAttribute : Xunit.TheoryAttribute
{
    public RootTheoryAttribute() => Skip = new RootFactAttribute().Skip;
}
