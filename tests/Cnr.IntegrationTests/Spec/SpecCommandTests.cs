using System.Text.Json;
using Cnr.IntegrationTests.Harness;
using Cnr.Spec;
using Xunit;

namespace Cnr.IntegrationTests.Spec;

public sealed class SpecCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cnr-spec-").FullName;
    private string ConfigPath => Path.Combine(_dir, "config.json");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static RuntimeSpec Parse(string path) => JsonSerializer.Deserialize(File.ReadAllText(path), SpecJson.Default.RuntimeSpec)!;

    [RootFact]
    public void Spec_InEmptyDirectory_WritesRuncsDefaultConfig()
    {
        var r = Harness.Cnr.Run(["spec"], workingDirectory: _dir);

        Assert.True(r.ExitCode == 0, r.ToString());
        var spec = Parse(ConfigPath);
        Assert.Equal(["sh"], spec.Process!.Args!);
        Assert.Equal("rootfs", spec.Root!.Path);
        Assert.Contains(spec.Linux!.Namespaces!, n => n.Type == "pid");
        Assert.DoesNotContain(spec.Linux.Namespaces!, n => n.Type == "user");
        Assert.StartsWith("{\n\t\"ociVersion\": \"1.2.0\",", File.ReadAllText(ConfigPath));
    }

    [RootFact]
    public void Spec_WhenConfigExists_FailsAndLeavesItUntouched()
    {
        File.WriteAllText(ConfigPath, "{\"mine\": true}");

        var r = Harness.Cnr.Run(["spec", "--bundle", _dir]);

        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("config.json exists. Remove it first", r.Stderr);
        Assert.Equal("{\"mine\": true}", File.ReadAllText(ConfigPath));
    }

    [RootFact]
    public void Spec_Twice_SecondFailsAndFirstStays()
    {
        Assert.Equal(0, Harness.Cnr.Run(["spec", "-b", _dir]).ExitCode);
        var first = File.ReadAllText(ConfigPath);

        var r = Harness.Cnr.Run(["spec", "-b", _dir]);

        Assert.Equal(1, r.ExitCode);
        Assert.Equal(first, File.ReadAllText(ConfigPath));
    }

    [RootFact]
    public void Spec_Rootless_HasUserNamespaceMappingCallerToRoot()
    {
        var r = Harness.Cnr.Run(["spec", "--rootless", "--bundle", _dir]);

        Assert.True(r.ExitCode == 0, r.ToString());
        var spec = Parse(ConfigPath);
        Assert.Contains(spec.Linux!.Namespaces!, n => n.Type == "user");
        Assert.DoesNotContain(spec.Linux.Namespaces!, n => n.Type == "network");
        Assert.Equal(0u, Assert.Single(spec.Linux.UidMappings!).ContainerID);
        Assert.Null(spec.Linux.Resources);
    }

    [RootFact]
    public void Spec_MissingBundleDirectory_SaysSo()
    {
        var r = Harness.Cnr.Run(["spec", "--bundle", Path.Combine(_dir, "nope")]);

        Assert.Equal(1, r.ExitCode);
        Assert.Contains("no such directory", r.Stderr);
    }
}
