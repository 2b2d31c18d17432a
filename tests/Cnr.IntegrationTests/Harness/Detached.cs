namespace Cnr.IntegrationTests.Harness;

/// <summary>Runs cnr for verbs that leave a process behind (`create`, `run --detach`, `exec --detach`): its
/// stdio goes to files, not pipes, because the container inherits stdio and would otherwise hold the call
/// open until it exits. Returns when cnr itself exits, with what the files held then.</summary>
public static class Detached
{
    public static CnrResult Run(IEnumerable<string> args, TimeSpan? timeout = null) => Exec([Repo.CnrBinary, .. args], timeout);

    /// <summary><see cref="Run"/> for a command line that starts cnr through another program (nsenter…).</summary>
    public static CnrResult Exec(IEnumerable<string> command, TimeSpan? timeout = null)
    {
        var dir = Directory.CreateTempSubdirectory("cnr-detached-");
        try
        {
            var stdout = Path.Combine(dir.FullName, "stdout");
            var stderr = Path.Combine(dir.FullName, "stderr");
            var r = Cnr.Exec("/bin/sh", ["-c", "out=$1 err=$2; shift 2; exec \"$@\" </dev/null >\"$out\" 2>\"$err\"", "sh",
                stdout, stderr, .. command], timeout: timeout);
            return new CnrResult(r.ExitCode, File.ReadAllText(stdout), File.ReadAllText(stderr) + r.Stderr);
        }
        finally { dir.Delete(recursive: true); }
    }

    /// <summary>`cnr --root STATE VERB ARGS…` with stdin /dev/null and stdout/stderr in files of the bundle
    /// dir, which the container's own output keeps going to.</summary>
    public static CnrResult CnrDetached(this TestBundle b, params string[] verbAndArgs)
    {
        var tag = Guid.NewGuid().ToString("N")[..6];
        var (o, e) = (Path.Combine(b.Dir, $"out-{tag}"), Path.Combine(b.Dir, $"err-{tag}"));
        var r = Cnr.Exec("/bin/sh", ["-c", "exec \"$@\" </dev/null >\"$OUT\" 2>\"$ERR\"", "sh", Repo.CnrBinary, "--root", b.StateRoot, .. verbAndArgs],
            env: new Dictionary<string, string> { ["OUT"] = o, ["ERR"] = e });
        return r with { Stdout = File.ReadAllText(o), Stderr = File.ReadAllText(e) + r.Stderr };
    }
}
