using System.Diagnostics;
using System.Text;

namespace Cnr.IntegrationTests.Harness;

/// <summary>What one `cnr` invocation did.</summary>
public sealed record CnrResult(int ExitCode, string Stdout, string Stderr)
{
    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}";
}

/// <summary>Paths of the repository and of the built binary under test.</summary>
public static class Repo
{
    public static readonly string Root = FindRoot();

    /// <summary>The published NativeAOT binary: $CNR_BINARY, else bin/cnr of this checkout.</summary>
    public static string CnrBinary => Environment.GetEnvironmentVariable("CNR_BINARY") is { Length: > 0 } b ? b : Path.Combine(Root, "bin", "cnr");

    /// <summary>The busybox rootfs that `make bundles` builds.</summary>
    public static string MyboxRootfs => Path.Combine(Root, "bundles", "mybox", "rootfs");

    /// <summary>Scratch space for bundles and state roots; outside /tmp so that a test kernel sharing this
    /// tree sees it too. $CNR_TEST_SCRATCH overrides.</summary>
    public static string Scratch
    {
        get
        {
            var dir = Environment.GetEnvironmentVariable("CNR_TEST_SCRATCH") is { Length: > 0 } s ? s : Path.Combine(Root, "tests", ".scratch");
            Directory.CreateDirectory(dir);
            return dir;
        }
    }

    private static string FindRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "Runtime.sln"))) return d.FullName;
        throw new InvalidOperationException("Runtime.sln not found above " + AppContext.BaseDirectory);
    }
}

/// <summary>Runs the cnr binary (or any program) with a timeout, optional stdin, and captured output.</summary>
public static class Cnr
{
    public static CnrResult Run(IEnumerable<string> args, string? stdin = null, string? workingDirectory = null,
        TimeSpan? timeout = null, IDictionary<string, string>? env = null)
        => Exec(Repo.CnrBinary, args, stdin, workingDirectory, timeout, env);

    public static CnrResult Exec(string program, IEnumerable<string> args, string? stdin = null,
        string? workingDirectory = null, TimeSpan? timeout = null, IDictionary<string, string>? env = null)
    {
        var psi = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Repo.Root,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        if (env is not null) foreach (var (k, v) in env) psi.Environment[k] = v;
        using var p = System.Diagnostics.Process.Start(psi)!;
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        // A created or detached container keeps cnr's stdout/stderr open: wait for EOF only a little while.
        var outClosed = new ManualResetEventSlim(); // not disposed: the handlers may fire after we return
        var errClosed = new ManualResetEventSlim();
        p.OutputDataReceived += (_, e) => { if (e.Data is null) outClosed.Set(); else lock (stdout) stdout.Append(e.Data).Append('\n'); };
        p.ErrorDataReceived += (_, e) => { if (e.Data is null) errClosed.Set(); else lock (stderr) stderr.Append(e.Data).Append('\n'); };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        if (stdin is not null) p.StandardInput.Write(stdin);
        p.StandardInput.Close();
        if (!p.WaitForExit(timeout ?? TimeSpan.FromSeconds(60)))
        {
            p.Kill(entireProcessTree: true);
            p.WaitForExit();
            throw new TimeoutException($"{program} {string.Join(' ', args)} did not finish in time\n{stdout}\n{stderr}");
        }
        outClosed.Wait(TimeSpan.FromSeconds(5)); // output of a finished process, on a loaded machine
        errClosed.Wait(TimeSpan.FromSeconds(5));
        return new CnrResult(p.ExitCode, stdout.ToString(), stderr.ToString());
    }
}
