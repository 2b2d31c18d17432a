using System.Diagnostics;
using Cnr.IntegrationTests.Harness;
using Xunit;

namespace Cnr.IntegrationTests.Lifecycle;

/// <summary>`checkpoint` / `restore` where CRIU cannot work: one line naming CRIU and why, the container left
/// running, nothing made. The working checkpoint/restore runs in a guest with Debian's 6.1 kernel
/// (tests/vm/check-checkpoint.sh): this host's 6.18 kernel is too new for Debian 12's CRIU 3.17.</summary>
public sealed class CheckpointRefusalTests
{
    [RootFactWhereCriuCheckFails]
    public void Checkpoint_WhereCriuCheckFails_IsOneLineNamingCriusError_AndTheContainerStillRuns()
    {
        using var b = new TestBundle("ckf").WithArgs("sleep", "100");
        Assert.Equal(0, b.Create().ExitCode);
        Assert.Equal(0, b.Cnr("start", b.Id).ExitCode);
        var images = Path.Combine(b.Dir, "images");
        var r = b.Cnr("checkpoint", "--image-path", images, b.Id);
        Assert.Equal(1, r.ExitCode);
        var lines = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, r.ToString());
        Assert.Contains("CRIU cannot work on this host: `criu check` fails: ", r.Stderr);
        Assert.Contains(RootFactWhereCriuCheckFailsAttribute.FirstError!, r.Stderr);
        Assert.Equal("running", b.Status());
        Assert.False(Directory.Exists(images), "nothing written before CRIU was checked");
        b.Cnr("delete", "--force", b.Id);
    }

    /// <summary>What CRIU needs of every container (and runc's nsexec does): the init leads a session of its own,
    /// terminal or not — else CRIU refuses "A session leader of PID(1) is outside of its pid namespace".</summary>
    [RootFact]
    public void Init_WithoutATerminal_LeadsItsOwnSession()
    {
        using var b = new TestBundle("sid").WithArgs("cat", "/proc/self/stat");
        var r = b.Run();
        Assert.True(r.ExitCode == 0, r.ToString());
        var stat = r.Stdout.Trim();
        var f = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        // pid 1 of its pid namespace; a session or process group led from outside reads as 0 there
        Assert.True(stat.StartsWith("1 ") && f[2] == "1" && f[3] == "1", $"want pid, pgrp and session 1: {stat}");
    }

    /// <summary>Stdio that is the host's /dev/null becomes the container's /dev/null, as runc's reOpenDevNull: an fd
    /// on a mount outside the container is one CRIU cannot dump ("Can't lookup mount"); Podman's conmon gives a
    /// container without -i the host's /dev/null. The init's fd 0 must be on a mount of the container's own.</summary>
    [RootFact]
    public void Init_StdinFromTheHostsDevNull_IsTheContainersDevNull()
    {
        using var b = new TestBundle("dvn").WithArgs("sh", "-c",
            "m=$(sed -n 's/^mnt_id:[[:space:]]*//p' /proc/1/fdinfo/0); grep \"^$m \" /proc/1/mountinfo | cut -d' ' -f5; readlink /proc/1/fd/0");
        b.Write();
        var r = Harness.Cnr.Exec("/bin/sh", ["-c", "exec \"$@\" </dev/null", "sh", Repo.CnrBinary, "--root", b.StateRoot, "run", "--bundle", b.Dir, b.Id]);
        Assert.True(r.ExitCode == 0, r.ToString());
        // the mount point of fd 0's mount in the container's mount table (none for a mount of the host's): its /dev
        Assert.Equal("/dev\n/dev/null", r.Stdout.Trim());
    }

    [RootFact]
    public void Checkpoint_WithoutCriu_NamesDebiansPackage_AndTheContainerStillRuns()
    {
        using var b = new TestBundle("ckm").WithArgs("sleep", "100");
        Assert.Equal(0, b.Create().ExitCode);
        Assert.Equal(0, b.Cnr("start", b.Id).ExitCode);
        var r = Harness.Cnr.Run(["--root", b.StateRoot, "checkpoint", "--image-path", Path.Combine(b.Dir, "images"), b.Id],
            env: new Dictionary<string, string> { ["PATH"] = "/nonexistent" });
        Assert.Equal(1, r.ExitCode);
        Assert.Equal("cnr: checkpoint: CRIU is not installed (no criu on PATH): install Debian's criu package (apt-get install criu)", r.Stderr.Trim());
        Assert.Equal("running", b.Status());
        b.Cnr("delete", "--force", b.Id);
    }

    [RootFact]
    public void Restore_WithoutAnImageDir_IsOneLine_AndLeavesNoContainer()
    {
        using var b = new TestBundle("rsn").WithArgs("sleep", "100");
        b.Write();
        var r = b.Cnr("restore", "--detach", "--bundle", b.Dir, "--image-path", Path.Combine(b.Dir, "nothing"), b.Id);
        Assert.Equal(1, r.ExitCode);
        Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("--image-path", r.Stderr);
        Assert.Contains("no such directory", r.Stderr);
        Assert.False(Directory.Exists(Path.Combine(b.StateRoot, b.Id)));
    }

    [RootFact]
    public void Checkpoint_OfACreatedContainer_IsRefused()
    {
        using var b = new TestBundle("ckc").WithArgs("sleep", "100");
        Assert.Equal(0, b.Create().ExitCode);
        var r = b.Cnr("checkpoint", "--image-path", Path.Combine(b.Dir, "images"), b.Id);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("it is created (only a running container can be checkpointed)", r.Stderr);
        Assert.Equal("created", b.Status());
        b.Cnr("delete", "--force", b.Id);
    }
}

/// <summary>Runs where CRIU is installed and its own `criu check` fails (this machine: kernel 6.18 with
/// CRIU 3.17, "vdso: Unexpected rt vDSO area bounds"); skipped with the reason elsewhere.</summary>
public sealed class RootFactWhereCriuCheckFailsAttribute : FactAttribute
{
    /// <summary>The "what" of `criu check`'s first "Error (file:line): what" line.</summary>
    public static readonly string? FirstError;
    private static readonly string? Why;

    static RootFactWhereCriuCheckFailsAttribute()
    {
        var criu = new[] { "/usr/sbin/criu", "/usr/bin/criu", "/usr/local/sbin/criu" }.FirstOrDefault(File.Exists);
        if (criu is null) { Why = "CRIU is not installed (apt-get install criu)"; return; }
        var p = System.Diagnostics.Process.Start(new ProcessStartInfo(criu, "check") { RedirectStandardError = true, RedirectStandardOutput = true })!;
        var output = p.StandardOutput.ReadToEnd() + p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode == 0) { Why = "`criu check` passes on this host (tests/vm/check-checkpoint.sh tests checkpoint/restore where CRIU works)"; return; }
        var line = output.Split('\n').FirstOrDefault(l => l.Contains("Error ("));
        FirstError = line is null ? output.Trim() : line[(line.IndexOf("): ", StringComparison.Ordinal) + 3)..].Trim();
    }

    public RootFactWhereCriuCheckFailsAttribute() => Skip = RootFactAttribute.Unmet ?? Why;
}
