using Cnr.IntegrationTests.Harness;
using Cnr.Spec;
using Xunit;

namespace Cnr.IntegrationTests.Errors;

/// <summary>A bad bundle or config fails before anything is created: non-zero exit, one line on stderr that
/// names what is wrong, and nothing left behind (state, processes, mounts).</summary>
public class ConfigErrorTests
{
    private static string FailsCleanly(TestBundle b, CnrResult r)
    {
        Assert.True(r.ExitCode != 0, $"expected a failure:\n{r}");
        var line = Host.OneErrorLine(r);
        Host.AssertNothingLeftBehind(b);
        return line;
    }

    private static CnrResult RunRaw(TestBundle b, string configJson)
    {
        File.WriteAllText(Path.Combine(b.Dir, "config.json"), configJson);
        return b.Cnr("run", "--bundle", b.Dir, b.Id);
    }

    [RootFact]
    public void Run_MissingRootfs_NamesRootPath()
    {
        using var b = new TestBundle("norootfs").WithArgs("true");
        b.Spec.Root!.Path = "no-such-rootfs";
        var line = FailsCleanly(b, b.Run());
        Assert.Contains("root.path", line);
        Assert.Contains("no-such-rootfs", line);
    }

    [RootFact]
    public void Run_MalformedJson_NamesConfigFile()
    {
        using var b = new TestBundle("badjson");
        var line = FailsCleanly(b, RunRaw(b, "{ \"ociVersion\": \"1.2.0\", \"process\": { \"args\": [\"sh\" } }"));
        Assert.Contains("config.json", line);
    }

    [RootFact]
    public void Run_TruncatedJson_NamesConfigFile()
    {
        using var b = new TestBundle("truncjson").WithArgs("true");
        b.Write();
        var full = File.ReadAllText(Path.Combine(b.Dir, "config.json"));
        var line = FailsCleanly(b, RunRaw(b, full[..(full.Length / 2)]));
        Assert.Contains("config.json", line);
    }

    [RootFact]
    public void Run_UnknownCapability_NamesFieldAndValue()
    {
        using var b = new TestBundle("badcap").WithArgs("true");
        b.Spec.Process!.Capabilities ??= new LinuxCapabilities();
        b.Spec.Process.Capabilities.Bounding = [.. b.Spec.Process.Capabilities.Bounding ?? [], "CAP_FOO"];
        var line = FailsCleanly(b, b.Run());
        Assert.Contains("process.capabilities.bounding", line);
        Assert.Contains("CAP_FOO", line);
    }

    [RootFact]
    public void Run_UnknownRlimit_NamesFieldAndValue()
    {
        using var b = new TestBundle("badrlimit").WithArgs("true");
        b.Spec.Process!.Rlimits = [.. b.Spec.Process.Rlimits ?? [], new PosixRlimit { Type = "RLIMIT_FOO", Hard = 1, Soft = 1 }];
        var line = FailsCleanly(b, b.Run());
        Assert.Contains("process.rlimits", line);
        Assert.Contains("RLIMIT_FOO", line);
    }

    [RootFact]
    public void Run_UnknownNamespaceType_NamesFieldAndValue()
    {
        using var b = new TestBundle("badns").WithArgs("true");
        b.Spec.Linux!.Namespaces = [.. b.Spec.Linux.Namespaces ?? [], new LinuxNamespace { Type = "foo" }];
        var line = FailsCleanly(b, b.Run());
        Assert.Contains("linux.namespaces", line);
        Assert.Contains("foo", line);
    }

    [RootFact]
    public void Run_MissingBundleDir_NamesBundle()
    {
        using var b = new TestBundle("nobundle");
        var missing = Path.Combine(b.Dir, "no-such-bundle");
        var line = FailsCleanly(b, b.Cnr("run", "--bundle", missing, b.Id));
        Assert.Contains(missing, line);
    }
}
