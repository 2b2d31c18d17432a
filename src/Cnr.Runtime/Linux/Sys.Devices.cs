using static Cnr.Linux.Libc;

namespace Cnr.Linux;

/// <summary>The nodes of the container's /dev: devices, the symlinks programs expect, and the removal of what the
/// image has where the runtime puts its own.</summary>
public static partial class Sys
{
    /// <summary>mknodat(2) of the device or fifo <paramref name="d"/>: 0, or the errno (EEXIST and EPERM have
    /// fallbacks in the caller).</summary>
    /// <param name="shellPath">the node's path as the shell line should show it</param>
    public static Error TryMknodAt(SafeFd parent, string name, Plan.DeviceNode d, string shellPath)
    {
        if (Diagnostics.Steps.On)
        {
            string t = d.TypeLetter, perm = Convert.ToString(d.Mode & 0xfff, 8);
            Diagnostics.Steps.Report("mknod", $"mknod(\"{d.Path}\", S_IF{(t == "b" ? "BLK" : t == "p" ? "IFO" : "CHR")}|0{perm}, makedev({d.Major}, {d.Minor}))",
                $"mknod -m {perm} {shellPath} {t}{(t == "p" ? "" : $" {d.Major} {d.Minor}")}");
        }
        return mknodat(parent, name, d.Mode, makedev(d.Major, d.Minor)) < 0 ? Errno.Last : 0;
    }

    /// <summary>symlinkat(2); an entry already there (the image's own /dev/fd…) is left as it is.</summary>
    /// <param name="path">the link's path in the container, for the call as shown and errors</param>
    public static void SymlinkAt(string target, SafeFd dir, string name, string path, string shellPath)
    {
        if (Diagnostics.Steps.On) Diagnostics.Steps.Report("mknod", $"symlink(\"{target}\", \"{path}\")", $"ln -s {target} {shellPath}");
        if (symlinkat(target, dir, name) < 0 && Errno.Last != Error.EEXIST)
            throw new SyscallException("symlink", Errno.Last, path);
    }

    /// <summary>unlinkat(2) of what the image has where the runtime makes its own node (a device, /dev/console).</summary>
    public static void UnlinkAt(SafeFd parent, string name, string path)
    {
        if (Diagnostics.Steps.On) Diagnostics.Steps.Report("mknod", $"unlinkat(\"{name}\") (the image's, not the runtime's)", null);
        Errno.Check(unlinkat(parent, name, 0), "unlink", path);
    }
}
