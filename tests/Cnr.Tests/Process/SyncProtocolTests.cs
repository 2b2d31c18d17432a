using System.Text.RegularExpressions;
using Cnr.Process;
using Cnr.Tests.Plan;
using Xunit;

namespace Cnr.Tests.Process;

/// <summary>native/cnr_native.c and SyncSocket.cs speak one protocol from two languages: the characters the C
/// child sends and expects must be the C# enum's, name for name.</summary>
public class SyncProtocolTests
{
    private static readonly string Native = File.ReadAllText(Path.Combine(PlanCodecTests.RepoRoot(), "native", "cnr_native.c"));

    [Fact]
    public void NativeMessageCharacters_AreTheEnumsValues()
    {
        var defines = Regex.Matches(Native, @"^#define SYNC_([A-Z_]+) '(.)'", RegexOptions.Multiline);
        Assert.NotEmpty(defines);
        foreach (Match d in defines)
        {
            // SYNC_SPAWN_FAILED → SpawnFailed
            var name = string.Concat(d.Groups[1].Value.Split('_').Select(w => w[0] + w[1..].ToLowerInvariant()));
            Assert.True(Enum.TryParse<SyncMessage>(name, out var member), $"native/cnr_native.c defines SYNC_{d.Groups[1].Value}, SyncMessage has no {name}");
            Assert.Equal((char)member, d.Groups[2].Value[0]);
        }
    }

    [Fact]
    public void NativeCode_UsesOnlyTheNamedCharacters()
    {
        // A literal in a send or a comparison would escape the test above.
        Assert.DoesNotMatch(@"send_msg\([^,]+,\s*'", Native);
        Assert.DoesNotMatch(@"go\s*[!=]=\s*'", Native);
    }

    [Fact]
    public void TheMessagesThatCarryAnFd_AreThePtyMasterTheSeccompListenerAndTheBindSources()
    {
        var carrying = Enum.GetValues<SyncMessage>().Where(m => m.CarriesFd()).ToArray();
        Assert.Equal([SyncMessage.BindSource, SyncMessage.SeccompListener, SyncMessage.Terminal], carrying);
    }
}
