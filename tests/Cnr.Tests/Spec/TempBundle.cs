namespace Cnr.Tests.Spec;

/// <summary>A throwaway bundle directory with an empty rootfs/, for loader and validator tests.</summary>
public sealed class TempBundle : IDisposable
{
    public string Dir { get; } = Directory.CreateTempSubdirectory("cnr-spec-test-").FullName;

    public TempBundle(bool withRootfs = true)
    {
        if (withRootfs) Directory.CreateDirectory(Path.Combine(Dir, "rootfs"));
    }

    public string Config => Path.Combine(Dir, "config.json");

    public TempBundle WithConfig(string json)
    {
        File.WriteAllText(Config, json);
        return this;
    }

    public void Dispose() => Directory.Delete(Dir, recursive: true);
}
