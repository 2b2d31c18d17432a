using Cnr.IntegrationTests.Harness;

namespace Cnr.IntegrationTests.Security;

/// <summary>The setting of the /proc attacks: a config that mounts procfs at /hostproc, not /proc, so that /proc
/// is the image's own directory. /proc/self leads to the real procfs, so that everything the attack does not aim
/// at works as before.</summary>
internal static class FakeProcImage
{
    /// <summary>Makes the bundle's rootfs (a copy) so; returns the host path of the image's /proc.</summary>
    public static string Apply(TestBundle b)
    {
        var proc = Path.Combine(b.Dir, "rootfs", "proc");
        Directory.CreateDirectory(proc);
        File.CreateSymbolicLink(Path.Combine(proc, "self"), "/hostproc/self");
        b.Spec.Mounts!.Single(m => m.Type == "proc").Destination = "/hostproc";
        return proc;
    }

    /// <summary>Writes an image file under its /proc, e.g. ("sys/kernel/cap_last_cap", "-1\n").</summary>
    public static void Plant(string proc, string path, string text)
    {
        var file = Path.Combine(proc, path);
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        File.WriteAllText(file, text);
    }
}
