using Cnr.IntegrationTests.Harness;
using Xunit;

namespace Cnr.IntegrationTests.Errors;

/// <summary>Container ids are names, not paths, and are unique under one --root.</summary>
public class IdErrorTests
{
    [RootTheory]
    [InlineData("../x")]
    [InlineData("a/b")]
    [InlineData("..")]
    public void Run_IdThatIsAPath_IsRefused(string id)
    {
        using var b = new TestBundle("badid").WithArgs("true");
        b.Write();
        var before = Entries(b.Dir);
        var r = b.Cnr("run", "--bundle", b.Dir, id);
        Assert.True(r.ExitCode != 0, r.ToString());
        Assert.Contains(id, Host.OneErrorLine(r));
        // Nothing was made where the id, taken as a path under --root, would lead (--root itself may be made).
        Assert.Equal(before, Entries(b.Dir).Where(e => e != b.StateRoot || Directory.EnumerateFileSystemEntries(e).Any()));
        Assert.Empty(Host.ProcessesMentioning(b.Dir));
        Assert.Empty(Host.MountsMentioning(b.Dir));
    }

    private static string[] Entries(string dir) => [.. Directory.EnumerateFileSystemEntries(dir, "*", SearchOption.AllDirectories).Order()];

    [RootFact]
    public void Run_DuplicateId_IsRefusedAndFirstContainerKeepsRunning()
    {
        using var b = new TestBundle("dupid").WithArgs("sleep", "100");
        b.Write();
        var first = b.CnrDetached("run", "--detach", "--bundle", b.Dir, b.Id);
        Assert.True(first.ExitCode == 0, first.ToString());
        var (pid, _) = Host.State(b);

        var second = b.Cnr("run", "--bundle", b.Dir, b.Id);
        Assert.True(second.ExitCode != 0, second.ToString());
        var line = Host.OneErrorLine(second);
        Assert.Contains("exists", line);
        Assert.Contains(b.Id, line);

        Assert.True(Host.IsAlive(pid), "the first container died");
        Assert.Equal((pid, "running"), Host.State(b));
    }
}
