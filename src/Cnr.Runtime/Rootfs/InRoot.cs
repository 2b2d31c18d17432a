using System.Text;
using Cnr.Linux;
using static Cnr.Linux.Libc;

namespace Cnr.Rootfs;

/// <summary>Paths of the container resolved inside its root, the way the kernel would resolve them once the
/// root is "/": every lookup is openat2(root, path, RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS), so a symlink in the
/// image ("evil" → /etc, "x" → ../../..) stays inside the rootfs. Callers act on the resulting O_PATH fd
/// through /proc/self/fd/N of the runtime's own procfs (mount(2) takes no fd; <see cref="ProcFs"/>), never on a
/// host path that a symlink could redirect, nor through the container's /proc.</summary>
internal sealed class InRoot : IDisposable
{
    private const ulong Resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
    private const int MaxSymlinks = 40;

    public SafeFd Root { get; }

    /// <summary>What to print in front of a container path so the shell line names the same file: the rootfs
    /// before pivot_root, "" after.</summary>
    public string ShellPrefix { get; }

    public InRoot(string root, string shellPrefix)
    {
        Root = SafeFd.Check(open(root, O_PATH | O_DIRECTORY | O_CLOEXEC, 0), "open", root);
        ShellPrefix = shellPrefix;
    }

    public void Dispose() => Root.Dispose();

    /// <summary>The path <see cref="Sys.Mount"/> should be given for an fd this class opened (resolved through the
    /// runtime's procfs, <see cref="ProcFs.WithPaths"/>).</summary>
    public string PathOf(SafeFd fd) => ProcFs.SelfFd(fd);

    public string Shell(string cleanPath) => ShellPrefix + cleanPath;

    /// <summary>The object at <paramref name="path"/>, or null if it does not exist.</summary>
    public SafeFd? TryOpen(string path)
    {
        var fd = openat2(Root, path, O_PATH | O_CLOEXEC, Resolve);
        if (!fd.IsInvalid) return fd;
        return Errno.Last == Error.ENOENT ? null : throw new SyscallException("openat2", Errno.Last, path);
    }

    public SafeFd Open(string path)
        => SafeFd.Check(openat2(Root, path, O_PATH | O_CLOEXEC, Resolve), "openat2", path);

    /// <summary>openat2 of <paramref name="path"/> with no symlink allowed anywhere on the way: the fd, or an
    /// invalid one with errno (ELOOP: a symlink; ENOTDIR; ENOENT).</summary>
    public SafeFd OpenNoSymlinks(string path, int flags)
        => openat2(Root, path, O_PATH | O_CLOEXEC | flags, RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS);

    /// <summary>Makes <paramref name="name"/> in <paramref name="parent"/> an empty regular file (the target of a
    /// file bind mount), replacing what the image has there unless it is a regular file already: a symlink
    /// (which would redirect the mount), a device, a fifo (which an open would block on). A directory is an error.</summary>
    public static SafeFd ReplaceWithFile(SafeFd parent, string name, string path)
    {
        if (StatMode(parent, name, AT_SYMLINK_NOFOLLOW, out var mode) == 0 && (mode & S_IFMT) != S_IFREG)
            Unlink(parent, name, path, mode);
        using (var created = openat(parent, name, O_CREAT | O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0))
            if (created.IsInvalid) throw new SyscallException("create", Errno.Last, path);
        return SafeFd.Check(openat(parent, name, O_PATH | O_NOFOLLOW | O_CLOEXEC, 0), "open", path);
    }

    /// <summary>Removes what the image has at <paramref name="name"/> so the runtime can put its own there.</summary>
    public static void Unlink(SafeFd parent, string name, string path, uint mode)
    {
        if ((mode & S_IFMT) == S_IFDIR)
            throw new SyscallException("create", Error.EISDIR, $"{path}: the rootfs has a directory there");
        Sys.UnlinkAt(parent, name, path);
    }

    /// <summary>Opens <paramref name="path"/>, first creating what is missing as `mkdir -p` would (0755), and
    /// the last component as a directory or, for <paramref name="directory"/> false, an empty file (the
    /// target of a file bind mount). Dangling symlinks on the way are followed inside the root.</summary>
    public SafeFd OpenOrCreate(string path, bool directory)
    {
        path = Clean(path);
        for (int hops = 0; ; hops++)
        {
            if (TryOpen(path) is { } existing) return existing;
            if (hops == MaxSymlinks) throw new SyscallException("openat2", Error.ELOOP, path);
            var (created, redirect) = CreateMissing(path, directory);
            if (created is not null) return created;
            // A dangling symlink on the way: resolve again through its target.
            path = redirect!;
        }
    }

    private (SafeFd? Created, string? Redirect) CreateMissing(string path, bool directory)
    {
        var parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        // The deepest ancestor that exists; "/" always does.
        int have = parts.Length - 1;
        SafeFd? parent = null;
        for (; have > 0; have--)
            if ((parent = TryOpen("/" + string.Join('/', parts, 0, have))) is not null) break;
        parent ??= Open("/");
        for (int i = have; i < parts.Length; i++)
        {
            bool last = i == parts.Length - 1;
            string name = parts[i];
            string made = "/" + string.Join('/', parts, 0, i + 1);
            var errno = !last || directory ? Sys.TryMkdirAt(parent, name, 0x1ed, Shell(made)) : Sys.TryCreateFileAt(parent, name, Shell(made));
            if (errno == Error.EEXIST && ReadLink(parent, name) is { } target)
            {
                string baseDir = target.StartsWith('/') ? "" : RootRelative(parent);
                parent.Dispose();
                return (null, Clean(baseDir + "/" + target + "/" + string.Join('/', parts, i + 1, parts.Length - i - 1)));
            }
            if (errno != 0) { parent.Dispose(); throw new SyscallException(last && !directory ? "create" : "mkdir", errno, made); }
            var next = SafeFd.Check(openat(parent, name, O_PATH | O_NOFOLLOW | O_CLOEXEC, 0), "open", name);
            parent.Dispose();
            parent = next;
        }
        return (parent, null);
    }

    /// <summary>readlinkat(2), or null with errno set (EINVAL: not a symlink).</summary>
    public static unsafe string? ReadLink(SafeFd dirfd, string name)
    {
        byte* buf = stackalloc byte[4096];
        nint n = readlinkat(dirfd, name, buf, 4096);
        return n < 0 ? null : Encoding.UTF8.GetString(buf, (int)n);
    }

    /// <summary>Where an fd under the root is, as a path inside the root (to resolve a relative symlink).</summary>
    private string RootRelative(SafeFd fd)
    {
        string root = ProcFs.FdTarget(Root) ?? "/";
        string at = ProcFs.FdTarget(fd) ?? root;
        return root == "/" ? at : at.StartsWith(root, StringComparison.Ordinal) ? at[root.Length..] : "/";
    }

    /// <summary>The absolute, lexically clean form of a container path: "." and empty parts dropped, ".."
    /// applied, never above "/" (as in the container, where "/.." is "/").</summary>
    public static string Clean(string path)
    {
        var parts = new List<string>();
        foreach (var p in path.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            if (p == ".") continue;
            if (p == "..") { if (parts.Count > 0) parts.RemoveAt(parts.Count - 1); continue; }
            parts.Add(p);
        }
        return "/" + string.Join('/', parts);
    }
}
