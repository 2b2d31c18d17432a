using Cnr.Diagnostics;
using Cnr.Linux;
using static Cnr.Linux.Libc;

namespace Cnr.Rootfs;

/// <summary>The "tmpcopyup" mount option: a tmpfs mounted over a directory of the image starts with that
/// directory's content (podman asks for it on --tmpfs mounts such as /run or /tmp), as in runc.</summary>
internal static class TmpCopyUp
{
    /// <param name="below">the destination, opened before the tmpfs covered it: an fd still reaches the
    /// covered directory, so no temporary mount point is needed</param>
    /// <param name="top">the destination opened again, now the new tmpfs</param>
    public static void Copy(SafeFd below, SafeFd top, string dest, string shellDest)
    {
        if (Steps.On) Steps.Report("mount", $"copy the content of the covered {dest} into the new tmpfs", $"cp -a <covered {shellDest}>/. {shellDest}/");
        CopyDirectory("/proc/self/fd/" + below.Fd, "/proc/self/fd/" + top.Fd);
    }

    /// <summary>cp -a without xattrs: type, content, mode and owner; symlinks are copied, never followed.</summary>
    private static void CopyDirectory(string from, string to)
    {
        foreach (var entry in Directory.EnumerateFileSystemEntries(from))
        {
            string target = to + "/" + Path.GetFileName(entry);
            Errno.Check(StatX(SafeFd.AtCwd, entry, AT_SYMLINK_NOFOLLOW, out var st), "stat", entry);
            uint type = st.Mode & S_IFMT, perm = st.Mode & 0xfff;
            switch (type)
            {
                case S_IFDIR:
                    Errno.Check(mkdirat(SafeFd.AtCwd, target, perm), "mkdir", target);
                    CopyDirectory(entry, target);
                    break;
                case S_IFREG:
                    File.Copy(entry, target);
                    break;
                case S_IFLNK:
                    var link = InRoot.ReadLink(SafeFd.AtCwd, entry) ?? throw new SyscallException("readlink", Errno.Last, entry);
                    Errno.Check(symlinkat(link, SafeFd.AtCwd, target), "symlink", target);
                    break;
                default:
                    Errno.Check(mknodat(SafeFd.AtCwd, target, st.Mode, makedev(st.RdevMajor, st.RdevMinor)), "mknod", target);
                    break;
            }
            Errno.Check(fchownat(SafeFd.AtCwd, target, st.Uid, st.Gid, AT_SYMLINK_NOFOLLOW), "chown", target);
            // After chown, which clears setuid/setgid; symlinks have no mode of their own.
            if (type != S_IFLNK) Errno.Check(fchmodat(SafeFd.AtCwd, target, perm, 0), "chmod", target);
        }
    }
}
