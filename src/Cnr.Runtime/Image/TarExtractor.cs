using System.Formats.Tar;
using System.Text;
using Cnr.Diagnostics;
using Cnr.Linux;

namespace Cnr.Image;

/// <summary>Applies layer tarballs, in order, onto one rootfs directory. Every entry is created with *at calls
/// relative to a parent directory opened with openat2(RESOLVE_BENEATH) on the rootfs, so no name, symlink or
/// hardlink in a tarball can make it write outside the rootfs: such entries are refused with an error.
/// Entries keep their type, mode (setuid/setgid/sticky too), owner, mtime, xattrs and links. As non-root,
/// device nodes and ownership are skipped and reported once in <see cref="Warnings"/>.</summary>
public sealed class TarExtractor : IDisposable
{
    private const ulong Beneath = Libc.RESOLVE_BENEATH | Libc.RESOLVE_NO_MAGICLINKS;
    private readonly SafeFd _root;
    private readonly bool _privileged = Libc.geteuid() == 0;
    private readonly uint _uid = Libc.geteuid(), _gid = Libc.getegid();
    private int _skippedDevices, _skippedOwners, _skippedXattrs;
    private HashSet<string> _written = [];
    private readonly List<(string Path, DateTimeOffset Mtime)> _directoryTimes = [];
    private string _layer = "";

    public TarExtractor(string rootfs)
    {
        Directory.CreateDirectory(rootfs);
        _root = SafeFd.Check(Libc.open(rootfs, Libc.O_PATH | Libc.O_DIRECTORY | Libc.O_CLOEXEC, 0), "open", rootfs);
    }

    /// <summary>What was not restored, one line per cause (empty when everything was).</summary>
    public IEnumerable<string> Warnings
    {
        get
        {
            if (_skippedDevices > 0 || _skippedOwners > 0)
                yield return $"not root: skipped {_skippedDevices} device node(s) and left {_skippedOwners} entries owned by you instead of the owners in the image (needs CAP_MKNOD, CAP_CHOWN: run as root for an exact copy)";
            if (_skippedXattrs > 0) yield return $"{_skippedXattrs} extended attribute(s) could not be restored (binary value, or not permitted/supported here)";
        }
    }

    /// <summary>Applies one layer; <paramref name="layerName"/> names it in errors ("layer 2 (sha256:…)").</summary>
    public void Apply(Stream tar, string layerName)
    {
        _layer = layerName;
        _written = [];
        _directoryTimes.Clear();
        using var reader = new TarReader(tar, leaveOpen: true);
        try
        {
            while (reader.GetNextEntry() is { } entry) ApplyEntry(entry);
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or FormatException)
        {
            throw new ImageException($"{layerName}: not a valid tar archive: {e.Message}", e);
        }
        // Directory mtimes last, deepest first: creating their contents changed them.
        for (var i = _directoryTimes.Count - 1; i >= 0; i--)
        {
            var (path, mtime) = _directoryTimes[i];
            var (dir, name) = Split(path);
            using var parent = OpenDirectory(path, dir, create: false);
            SetTime(parent, name, mtime, path);
        }
    }

    /// <summary>Creates a directory (and its parents, 0755) inside the rootfs unless it exists: docker and podman
    /// create the image's WorkingDir at run time; a bundle must have it, or the runtime's chdir fails.</summary>
    public void EnsureDirectory(string path)
    {
        _layer = "the image's WorkingDir";
        using var _ = OpenDirectory(path, Normalize(path.TrimStart('/'), _layer), create: true);
    }

    /// <summary>A tar entry name as a path relative to the rootfs ("" is the rootfs itself). Absolute names
    /// and ".." components are refused rather than stripped: a layer that has them was crafted.</summary>
    public static string Normalize(string name, string layerName = "layer")
    {
        if (name.StartsWith('/'))
            throw new ImageException($"{layerName}: tar entry \"{name}\" is an absolute path (refused: entries must stay inside the rootfs)");
        var parts = name.Split('/', StringSplitOptions.RemoveEmptyEntries).Where(p => p != ".").ToArray();
        if (parts.Contains(".."))
            throw new ImageException($"{layerName}: tar entry \"{name}\" leads outside the rootfs with \"..\" (refused)");
        return string.Join('/', parts);
    }

    private void ApplyEntry(TarEntry entry)
    {
        if (entry.EntryType is TarEntryType.GlobalExtendedAttributes) return;
        var path = Normalize(entry.Name, _layer);
        var (kind, target) = Whiteouts.Parse(path);
        if (kind == WhiteoutKind.Remove) { RemoveFromLowerLayers(target); return; }
        if (kind == WhiteoutKind.Opaque) { ClearOpaque(target); return; }

        var (dir, name) = Split(path);
        using var parent = OpenDirectory(path, dir, create: true);
        _written.Add(path);
        var isDirectory = entry.EntryType == TarEntryType.Directory;
        if (path.Length > 0) RemoveExisting(parent, name, keepDirectory: isDirectory);

        switch (entry.EntryType)
        {
            case TarEntryType.Directory:
                if (Libc.mkdirat(parent, name, 0700) < 0 && Errno.Last != Error.EEXIST) Fail("mkdirat", path);
                break;
            case TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile:
                WriteFile(parent, name, path, entry.DataStream);
                break;
            case TarEntryType.SymbolicLink:
                // The target is kept verbatim: absolute targets mean the container's root, not the host's.
                if (Libc.symlinkat(entry.LinkName, parent, name) < 0) Fail("symlinkat", path);
                break;
            case TarEntryType.HardLink:
                Link(parent, name, path, entry.LinkName);
                return; // a hardlink shares its target's inode and attributes
            case TarEntryType.Fifo:
                if (Libc.mknodat(parent, name, Libc.S_IFIFO | 0600, 0) < 0) Fail("mknodat", path);
                break;
            case TarEntryType.CharacterDevice or TarEntryType.BlockDevice:
                var posix = (PosixTarEntry)entry;
                var type = entry.EntryType == TarEntryType.CharacterDevice ? Libc.S_IFCHR : Libc.S_IFBLK;
                if (Libc.mknodat(parent, name, type | 0600, Libc.makedev((uint)posix.DeviceMajor, (uint)posix.DeviceMinor)) < 0)
                {
                    if (Errno.Last != Error.EPERM) Fail("mknodat", path);
                    _skippedDevices++;
                    return;
                }
                break;
            default:
                Log.Warn($"{_layer}: tar entry \"{entry.Name}\": type {entry.EntryType} is not supported, skipped");
                return;
        }
        SetAttributes(parent, name, path, entry);
        if (isDirectory) _directoryTimes.Add((path, entry.ModificationTime));
    }

    private void SetAttributes(SafeFd parent, string name, string path, TarEntry entry)
    {
        var isSymlink = entry.EntryType == TarEntryType.SymbolicLink;
        if (_privileged)
        {
            if (Libc.fchownat(parent, name, (uint)entry.Uid, (uint)entry.Gid, Libc.AT_SYMLINK_NOFOLLOW) < 0) Fail("fchownat", path);
        }
        else if ((uint)entry.Uid != _uid || (uint)entry.Gid != _gid) _skippedOwners++;
        // chmod after chown: chown clears setuid/setgid.
        if (!isSymlink && Libc.fchmodat(parent, name, (uint)entry.Mode, 0) < 0) Fail("fchmodat", path);
        if (entry is PaxTarEntry pax) SetXattrs(parent, name, pax.ExtendedAttributes);
        if (entry.EntryType != TarEntryType.Directory) SetTime(parent, name, entry.ModificationTime, path);
    }

    private unsafe void SetXattrs(SafeFd parent, string name, IReadOnlyDictionary<string, string> pax)
    {
        const string prefix = "SCHILY.xattr.";
        foreach (var (key, value) in pax)
        {
            if (!key.StartsWith(prefix, StringComparison.Ordinal)) continue;
            // System.Formats.Tar decodes PAX values as UTF-8; a binary value (security.capability) arrives
            // mangled and is not written rather than written wrong.
            if (value.Contains('\uFFFD')) { _skippedXattrs++; continue; }
            var bytes = Encoding.UTF8.GetBytes(value);
            fixed (byte* p = bytes)
                if (Libc.lsetxattr($"/proc/self/fd/{parent.Fd}/{name}", key[prefix.Length..], p, bytes.Length, 0) < 0)
                    _skippedXattrs++;
        }
    }

    private static unsafe void SetTime(SafeFd parent, string name, DateTimeOffset mtime, string path)
    {
        var ns = (mtime.UtcTicks - DateTime.UnixEpoch.Ticks) * 100;
        var times = stackalloc Libc.Timespec[2];
        times[0] = times[1] = new Libc.Timespec { Sec = Math.DivRem(ns, 1_000_000_000, out var rem), Nsec = rem };
        if (times[0].Nsec < 0) { times[0].Sec--; times[0].Nsec += 1_000_000_000; times[1] = times[0]; }
        Errno.Check(Libc.utimensat(parent, name, times, Libc.AT_SYMLINK_NOFOLLOW), "utimensat", path);
    }

    private void WriteFile(SafeFd parent, string name, string path, Stream? data)
    {
        var fd = Libc.openat(parent, name, Libc.O_WRONLY | Libc.O_CREAT | Libc.O_EXCL | Libc.O_NOFOLLOW | Libc.O_CLOEXEC, 0600);
        if (fd.IsInvalid) Fail("openat", path);
        using var file = fd.ToStream(FileAccess.Write, 1 << 16);
        data?.CopyTo(file);
    }

    private void Link(SafeFd parent, string name, string path, string linkName)
    {
        string target;
        try { target = Normalize(linkName, _layer); }
        catch (ImageException)
        {
            throw new ImageException($"{_layer}: tar entry \"{path}\" is a hardlink to \"{linkName}\", outside the rootfs (refused)");
        }
        var (targetDir, targetName) = Split(target);
        using var targetParent = OpenDirectory(path, targetDir, create: false);
        if (Libc.linkat(targetParent, targetName, parent, name, 0) < 0) Fail("linkat", $"{path} => {linkName}");
    }

    /// <summary>Opens a directory of the rootfs as O_PATH, creating missing components (0755) when asked:
    /// tarballs may name a file before, or without, its directories.</summary>
    private SafeFd OpenDirectory(string entryPath, string dir, bool create)
    {
        const int flags = Libc.O_PATH | Libc.O_DIRECTORY | Libc.O_CLOEXEC;
        var fd = Libc.openat2(_root, dir.Length == 0 ? "." : dir, flags, Beneath);
        if (!fd.IsInvalid) return fd;
        var errno = Errno.Last;
        if (errno != Error.ENOENT || !create) ResolveFailed(entryPath, dir, errno);

        // Each prefix is resolved from the rootfs again, so a relative symlink on the way ("lib -> ../usr/lib")
        // is followed like in the fast path; only the missing directories are created, as real directories.
        var current = SafeFd.Check(Libc.openat2(_root, ".", flags, Beneath), "openat2", ".");
        var prefix = "";
        foreach (var part in dir.Split('/'))
        {
            prefix = prefix.Length == 0 ? part : prefix + "/" + part;
            fd = Libc.openat2(_root, prefix, flags, Beneath);
            if (fd.IsInvalid && Errno.Last == Error.ENOENT)
            {
                if (Libc.mkdirat(current, part, 0755) < 0 && Errno.Last != Error.EEXIST) { current.Dispose(); Fail("mkdirat", prefix); }
                fd = Libc.openat2(_root, prefix, flags, Beneath);
            }
            if (fd.IsInvalid) { errno = Errno.Last; current.Dispose(); ResolveFailed(entryPath, prefix, errno); }
            current.Dispose();
            current = fd;
        }
        return current;
    }

    private void ResolveFailed(string entryPath, string dir, Error errno)
    {
        if (errno is Error.EXDEV or Error.ELOOP) // a symlink on the way points out of the rootfs
            throw new ImageException($"{_layer}: tar entry \"{entryPath}\": \"{dir}\" passes through a symlink that leads outside the rootfs (refused)");
        throw new ImageException($"{_layer}: tar entry \"{entryPath}\": " + new SyscallException("openat2", errno, dir).Message);
    }

    private void RemoveFromLowerLayers(string target)
    {
        if (_written.Contains(target)) return;
        var (dir, name) = Split(target);
        var fd = Libc.openat2(_root, dir.Length == 0 ? "." : dir, Libc.O_PATH | Libc.O_DIRECTORY | Libc.O_CLOEXEC, Beneath);
        using var parent = fd;
        if (parent.IsInvalid) return; // nothing below to hide
        RemoveExisting(parent, name, keepDirectory: false);
    }

    private void ClearOpaque(string dir)
    {
        using var fd = OpenDirectory(dir + "/" + Whiteouts.OpaqueMarker, dir, create: true);
        ClearOpaque(fd, dir);
    }

    private void ClearOpaque(SafeFd dirFd, string dir)
    {
        foreach (var child in Directory.EnumerateFileSystemEntries($"/proc/self/fd/{dirFd.Fd}"))
        {
            var name = Path.GetFileName(child);
            var path = dir.Length == 0 ? name : dir + "/" + name;
            var isDirectory = Libc.fstatat(dirFd, name, out var st, Libc.AT_SYMLINK_NOFOLLOW) == 0 && (st.Mode & Libc.S_IFMT) == Libc.S_IFDIR;
            if (!Whiteouts.SurvivesOpaque(path, _written, isDirectory)) RemoveExisting(dirFd, name, keepDirectory: false);
            else if (isDirectory)
            {
                using var sub = SafeFd.Check(Libc.openat2(dirFd, name, Libc.O_PATH | Libc.O_DIRECTORY | Libc.O_CLOEXEC, Beneath | Libc.RESOLVE_NO_SYMLINKS), "openat2", path);
                ClearOpaque(sub, path);
            }
        }
    }

    /// <summary>Makes room for a new entry: an existing entry of another kind is removed (a directory with
    /// its contents); an existing directory is kept when the new entry is a directory too.</summary>
    private static void RemoveExisting(SafeFd parent, string name, bool keepDirectory)
    {
        if (Libc.fstatat(parent, name, out var st, Libc.AT_SYMLINK_NOFOLLOW) < 0) return;
        if ((st.Mode & Libc.S_IFMT) != Libc.S_IFDIR) { Errno.Check(Libc.unlinkat(parent, name, 0), "unlinkat", name); return; }
        if (keepDirectory) return;
        // The path goes through the parent's fd (already resolved inside the rootfs) and the name is a real
        // directory, not a symlink; recursive delete does not follow symlinks inside it.
        Directory.Delete($"/proc/self/fd/{parent.Fd}/{name}", recursive: true);
    }

    private static (string Dir, string Name) Split(string path)
    {
        var slash = path.LastIndexOf('/');
        return slash < 0 ? ("", path.Length == 0 ? "." : path) : (path[..slash], path[(slash + 1)..]);
    }

    private void Fail(string call, string path)
        => throw new ImageException($"{_layer}: tar entry \"{path}\": " + new SyscallException(call, Errno.Last, path).Message);

    public void Dispose() => _root.Dispose();
}
