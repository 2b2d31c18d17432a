using Cnr.IntegrationTests.Harness;
using Xunit;

namespace Cnr.IntegrationTests.Lifecycle;

/// <summary>The state directory keeps a small record for every verb and the config for the few that need it:
/// `state`, `list`, `kill` and `delete` never parse the config; `exec` does.</summary>
public sealed class StateRecordTests
{
    [RootFact]
    public void LightVerbs_DoNotReadTheKeptConfig_ExecDoes()
    {
        using var b = new TestBundle("sr").WithArgs("sleep", "100");
        var r = b.Create();
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal(0, b.Cnr("start", b.Id).ExitCode);
        var kept = Path.Combine(b.StateRoot, b.Id, "config.json");
        Assert.True(File.Exists(kept), "create keeps the validated config.json in the state directory");
        File.WriteAllText(kept, "not json");

        Assert.Equal("running", b.Status());
        r = b.Cnr("list", "--format", "json");
        Assert.True(r.ExitCode == 0 && r.Stdout.Contains($"\"id\":\"{b.Id}\""), r.ToString());
        r = b.Cnr("kill", b.Id, "0");
        Assert.True(r.ExitCode == 0, r.ToString());

        r = b.Cnr("exec", b.Id, "true");
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains(kept, r.Stderr);

        r = b.Cnr("delete", "--force", b.Id);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.False(Directory.Exists(Path.Combine(b.StateRoot, b.Id)), "state dir left after delete");
    }
}
