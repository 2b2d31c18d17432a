using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using Xunit;

namespace Cnr.IntegrationTests.Harness;

/// <summary>A foreground `cnr` (e.g. `run`) started without waiting, so a test can watch its output as it
/// comes and send it signals. Dispose kills it if it still runs.</summary>
public sealed class Background : IDisposable
{
    private readonly System.Diagnostics.Process _p;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();

    public int Pid => _p.Id;

    private Background(System.Diagnostics.Process p)
    {
        _p = p;
        p.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_stdout) _stdout.Append(e.Data).Append('\n'); };
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_stderr) _stderr.Append(e.Data).Append('\n'); };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
    }

    public static Background Start(IEnumerable<string> args)
    {
        var psi = new ProcessStartInfo(Repo.CnrBinary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = Repo.Root,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        return new Background(System.Diagnostics.Process.Start(psi)!);
    }

    public string Stdout { get { lock (_stdout) return _stdout.ToString(); } }
    public string Stderr { get { lock (_stderr) return _stderr.ToString(); } }

    /// <summary>Waits until stdout contains TEXT; fails with the output so far if it does not in time.</summary>
    public void WaitForStdout(string text, TimeSpan? timeout = null)
    {
        // Once cnr has exited and its output is drained (WaitForExit()), waiting longer cannot help.
        Wait.Until(() => Stdout.Contains(text, StringComparison.Ordinal) || _p.HasExited && _p.WaitForExit(1000), $"\"{text}\" on stdout", timeout,
            last: () => $"cnr exited: {_p.HasExited}\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}");
        Assert.True(Stdout.Contains(text, StringComparison.Ordinal), $"\"{text}\" did not appear before cnr exited\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}");
    }

    /// <summary>Sends a signal (SIGTERM = 15, SIGUSR1 = 10, …) to the cnr process.</summary>
    public void Signal(int signal)
    {
        if (kill(Pid, signal) != 0)
            throw new InvalidOperationException($"kill({Pid}, {signal}): errno {Marshal.GetLastPInvokeError()}");
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);

    public CnrResult WaitForExit(TimeSpan? timeout = null)
    {
        if (!_p.WaitForExit(timeout ?? TimeSpan.FromSeconds(30)))
            throw new TimeoutException($"cnr did not exit\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}");
        _p.WaitForExit();
        return new CnrResult(_p.ExitCode, Stdout, Stderr);
    }

    public void Dispose()
    {
        try { if (!_p.HasExited) { _p.Kill(entireProcessTree: true); _p.WaitForExit(5000); } } catch { }
        _p.Dispose();
    }
}
