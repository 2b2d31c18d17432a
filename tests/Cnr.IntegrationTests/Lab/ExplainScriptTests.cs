using Cnr.IntegrationTests.Harness;
using Xunit;

namespace Cnr.IntegrationTests.Lab;

/// <summary>`cnr run --explain-script FILE`: the script builds the container cnr built. Both run the same probe
/// on mybox, and what the process sees must be the same. The test runs in its own mount namespace (the
/// integration tests run under `unshare -m`), so that neither leaves a mount on the host.</summary>
public sealed class ExplainScriptTests
{
    /// <summary>What the process sees: capability sets, ids, hostname, the mount table (target, type, options),
    /// each namespace, and the resource limits.</summary>
    private const string Probe =
        "grep -E '^(CapEff|CapBnd|CapPrm|CapInh|CapAmb|Uid|Gid|Groups|NoNewPrivs):' /proc/self/status; echo hostname $(hostname); "
        + "awk '{ for (i = 7; $i != \"-\"; i++); print \"mount\", $5, $(i + 1), $6 }' /proc/self/mountinfo; "
        + "for n in /proc/self/ns/*; do echo ns ${n##*/} $(readlink $n); done; cat /proc/self/limits";

    /// <summary>The probe's lines, each namespace as "own" or "the host's" against this test's namespaces.</summary>
    private static List<string> Seen(string stdout)
        => [.. stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => line.Split(' ') is ["ns", var type, var link]
            ? $"ns {type} {(link == Host.Namespace(type) ? "the host's" : "own")}"
            : line)];

    [RootFact]
    public void ExplainScript_OnMybox_BuildsAProcessThatSeesWhatCnrsSees()
    {
        using var b = LabBundle.Open("mybox", "sh", "-c", Probe);
        b.Write();
        var file = Path.Combine(b.Dir, "mybox.sh");
        var r = Harness.Cnr.Run(["--root", b.StateRoot, "run", "--explain-script", file, "--bundle", b.Dir, b.Id]);
        Assert.True(r.ExitCode == 0, r.ToString());
        var script = File.ReadAllText(file);
        Assert.Contains("\npivot_root . .\n", script);

        var s = Harness.Cnr.Exec("bash", [file]);
        Assert.True(s.ExitCode == 0, $"{s}\n--- the script\n{script}");
        var cnr = Seen(r.Stdout);
        Assert.Equal(cnr, Seen(s.Stdout));
        // Not two empty outputs: mybox's three capabilities, its hostname, its mounts and namespaces.
        Assert.Contains("CapBnd:\t0000000020000420", cnr);
        Assert.Contains("hostname mybox", cnr);
        Assert.Contains(cnr, l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^mount / \S+ ro,"));  // root.readonly
        Assert.Contains("mount /proc/acpi tmpfs ro,relatime", cnr);                                          // a masked path
        Assert.Contains("ns mnt own", cnr);
        Assert.Contains("ns user the host's", cnr);
        Assert.Contains(cnr, l => l.StartsWith("Max open files            1024                 1024", StringComparison.Ordinal));
    }
}
