namespace Cnr.CriTests;

/// <summary>One line per check (PASS/FAIL/SKIP name: detail) and the closing "N passed, N failed, N skipped"
/// line that tests/run-all.sh parses.</summary>
internal sealed class Report
{
    private int _passed, _failed, _skipped;

    public bool Failed => _failed > 0;

    public bool Expect(string name, bool ok, string detail)
    {
        if (ok) _passed++; else _failed++;
        Console.WriteLine($"{(ok ? "PASS" : "FAIL")} {name}: {detail}");
        return ok;
    }

    public bool Equal<T>(string name, T expected, T actual) =>
        Expect(name, EqualityComparer<T>.Default.Equals(expected, actual), $"expected {Show(expected)}, got {Show(actual)}");

    public void Skip(string name, string reason)
    {
        _skipped++;
        Console.WriteLine($"SKIP {name}: {reason}");
    }

    /// <summary>A step whose failure (an exception: a CRI error, a timeout) fails it with the reason and lets the
    /// next steps run; what depends on it then fails on its own.</summary>
    public async Task Step(string name, Func<Task> body)
    {
        try
        {
            await body();
        }
        catch (Exception e)
        {
            Expect(name, false, OneLine(e));
        }
    }

    public static void Time(string what, TimeSpan took) => Console.WriteLine($"time {what}: {took.TotalSeconds:F2} s");

    public static string OneLine(Exception e) => e switch
    {
        Grpc.Core.RpcException r => $"CRI error {r.StatusCode}: {r.Status.Detail}",
        _ => $"{e.GetType().Name}: {e.Message}",
    };

    public void Close() => Console.WriteLine($"{_passed} passed, {_failed} failed, {_skipped} skipped");

    private static string Show<T>(T v) => v is string s ? $"\"{s.Trim()}\"" : $"{v}";
}
