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

    // runc 1.1 takes a 300-character id and fails at `lstat …: file name too long`; cnr states the real limit
    // (a file name under --root is at most 255 bytes) before it makes anything.
    [RootFact]
    public void Run_300CharacterId_StatesTheRealLimitBeforeMkdir()
    {
        using var b = new TestBundle("longid").WithArgs("true");
        b.Write();
        var id = new string('a', 300);
        var r = b.Cnr("run", "--bundle", b.Dir, id);
        Assert.True(r.ExitCode != 0, r.ToString());
        Assert.Equal($"cnr: container id \"{id[..20]}…\" is 300 characters long (at most 255: the id names a directory under --root, and a file name is at most 255 bytes)",
            Host.OneErrorLine(r));
        Assert.False(Directory.Exists(b.StateRoot) && Directory.EnumerateFileSystemEntries(b.StateRoot).Any(), "something was made under --root");
        Assert.Empty(Host.ProcessesMentioning(id));
    }

    [RootFact]
    public void Run_255CharacterId_Runs()
    {
        using var b = new TestBundle("maxid").WithArgs("true");
        b.Write();
        var id = new string('b', 255);
        var r = b.Cnr("run", "--bundle", b.Dir, id);
        Assert.True(r.ExitCode == 0, r.ToString());
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
