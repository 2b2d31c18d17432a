using Cnr.IntegrationTests.Harness;
using Xunit;

namespace Cnr.IntegrationTests.Lab;

/// <summary>The README's first look inside mybox: the commands a student types, and what they see.</summary>
public sealed class LookAroundTests
{
    [RootFact]
    public void Mybox_LookAround_ShowsOnlyItsOwnProcesses_Loopback_Proc_AndItsHostname()
    {
        using var b = LabBundle.Open("mybox", "sh", "-c", "ps; echo ---; ip a; echo ---; mount; echo ---; hostname; ls -l /proc/1/ns");
        var r = b.Run();
        Assert.True(r.ExitCode == 0, r.ToString());
        var parts = r.Stdout.Split("---\n");
        Assert.Matches(@"(?m)^\s*1\s+\S+\s+.*sh -c", parts[0]);                        // the shell is pid 1
        Assert.Equal(3, parts[0].Trim().Split('\n').Length);                            // header, sh, ps: nothing of the host's
        Assert.Contains("1: lo:", parts[1]);
        Assert.DoesNotContain("2: ", parts[1]);                                          // a network namespace of its own: lo only
        Assert.Matches(@"(?m)^proc on /proc type proc", parts[2]);
        Assert.StartsWith("mybox\n", parts[3]);
        Assert.Contains("pid -> pid:[", parts[3]);
    }

    [RootFact]
    public void Mybox_RunWithExplain_PrintsTheKernelStepsAndTheirShellEquivalents()
    {
        using var b = LabBundle.Open("mybox", "true");
        b.Write();
        var r = b.Cnr("run", "--explain", "--bundle", b.Dir, b.Id);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("[clone]", r.Stderr);
        Assert.Contains("pivot_root", r.Stderr);
        Assert.Contains("≈ ", r.Stderr);
    }
}
