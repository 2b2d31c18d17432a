using Cnr.IntegrationTests.Harness;
using Cnr.Spec;
using Xunit;

namespace Cnr.IntegrationTests.Lab;

/// <summary>The committed lab bundles (bundles/NAME) run as a test: the bundle's own config.json in a
/// <see cref="TestBundle"/> (private id and --root), with root.path made absolute against the bundle and
/// the interactive shell replaced by the command the README tells the student to type.</summary>
public static class LabBundle
{
    public static string DirOf(string name) => Path.Combine(Repo.Root, "bundles", name);

    public static TestBundle Open(string name, params string[] args) => Open(name, null, args);

    /// <param name="lab">the bundle's config as the test read it (default: loaded and validated; bundles/net's
    /// names a hook at /usr/local/bin/cnr, which only `make install` puts there)</param>
    public static TestBundle Open(string name, RuntimeSpec? lab, params string[] args)
    {
        var dir = DirOf(name);
        // A second config of a bundle (caps/without, readonly/writable) shares its bundle's prepared rootfs.
        var prepare = Path.Combine(DirOf(name.Split('/')[0]), "prepare.sh");
        if (File.Exists(prepare))
        {
            var prep = Harness.Cnr.Exec(prepare, [], timeout: TimeSpan.FromMinutes(2));
            Assert.True(prep.ExitCode == 0, $"{prepare} failed\n{prep}");
        }
        lab ??= SpecLoader.Load(dir);
        var b = new TestBundle(name.Replace('/', '-'));
        b.Spec.Process = lab.Process;
        b.Spec.Root = lab.Root;
        b.Spec.Root!.Path = Path.GetFullPath(lab.Root!.Path, dir);
        b.Spec.Hostname = lab.Hostname;
        b.Spec.Mounts = lab.Mounts;
        b.Spec.Linux = lab.Linux;
        b.Spec.Process!.Terminal = false;
        if (args.Length > 0) b.Spec.Process.Args = [.. args];
        return b;
    }

    /// <summary>A lab bundle whose rootfs is a private copy (cp -a keeps owners), for a test that writes.</summary>
    public static TestBundle OpenWritable(string name, params string[] args)
    {
        var b = Open(name, args);
        var copy = Path.Combine(b.Dir, "rootfs");
        var r = Harness.Cnr.Exec("cp", ["-a", b.Spec.Root!.Path, copy]);
        Assert.True(r.ExitCode == 0, r.ToString());
        b.Spec.Root.Path = copy;
        b.Spec.Root.Readonly = false;
        return b;
    }
}
