using Cnr.Diagnostics;

namespace Cnr.Process;

/// <summary>The executable that becomes every container's init: cnr-init, a NativeAOT image of its own that holds
/// only the plan executor (src/cnr-init), found on the host beside cnr's own file, then in ../libexec/cnr/ (make
/// install). Only cnr's own location decides: nothing of a container or of the environment can name it. A cnr
/// copied alone re-executes itself as it did before cnr-init existed.</summary>
public static class InitImage
{
    public const string FileName = "cnr-init";

    private static string? _path;

    /// <summary>The init image's absolute path on the host, or null where cnr itself cannot be found.</summary>
    public static string? Path => _path ??= Find();

    private static string? Find()
    {
        // /proc/self/exe: the kernel's resolved path of the running file, whatever symlink started it.
        var self = Environment.ProcessPath;
        if (self is not { Length: > 0 } || !self.StartsWith('/')) return null;
        var dir = System.IO.Path.GetDirectoryName(self)!;
        foreach (var candidate in new[] { System.IO.Path.Combine(dir, FileName), System.IO.Path.Combine(dir, "..", "libexec", "cnr", FileName) })
        {
            if (File.Exists(candidate)) return System.IO.Path.GetFullPath(candidate);
        }
        Log.Debug($"no {FileName} beside {self} nor in {dir}/../libexec/cnr: the init is cnr itself, re-executed "
            + "(every container's init then starts and keeps the whole cnr image: a few ms and MiB more)");
        return self;
    }
}
