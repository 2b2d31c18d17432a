using System.Text;
using static Cnr.Linux.Libc;

namespace Cnr.Rootfs;

/// <summary>A spec mount's options, sorted into what each kernel call takes.</summary>
/// <param name="Flags">MS_* flags for mount(2) (MS_BIND|MS_REC for rbind, MS_RDONLY for ro…).</param>
/// <param name="ClearFlags">MS_* flags an option asked to turn off (rw, suid, dev, exec…): they win over
/// flags a read-only bind would otherwise keep from its source.</param>
/// <param name="Propagation">MS_PRIVATE/MS_SHARED/MS_SLAVE/MS_UNBINDABLE (with MS_REC for the r- forms), in
/// order; each is its own mount(2) call after the mount.</param>
/// <param name="Data">everything the table does not know, comma-joined for the filesystem (mode=755,size=…).</param>
/// <param name="RecursiveSet">MOUNT_ATTR_* to set on the whole subtree with mount_setattr(AT_RECURSIVE) (rro…).</param>
/// <param name="RecursiveClear">MOUNT_ATTR_* to clear on the whole subtree (rrw, rsuid…).</param>
/// <param name="TmpCopyUp">tmpcopyup was asked for (copy the shadowed directory into the new tmpfs).</param>
public readonly record struct ParsedMountOptions(ulong Flags, ulong ClearFlags, ulong[] Propagation, string? Data,
    ulong RecursiveSet, ulong RecursiveClear, bool TmpCopyUp)
{
    public bool IsBind => (Flags & MS_BIND) != 0;
}

/// <summary>The mount(8) option words of config.json mounts[].options, as runc reads them: parsed once, by the
/// plan compiler in the parent (id-mapped mounts, "idmap", are refused before by the validator).</summary>
public static class MountOptions
{
    private readonly record struct Flag(bool Clear, ulong Value);
    private readonly record struct Attr(bool Clear, ulong Value);

    private static readonly Dictionary<string, Flag> Flags = new()
    {
        ["defaults"] = new(false, 0),
        ["ro"] = new(false, MS_RDONLY), ["rw"] = new(true, MS_RDONLY),
        ["nosuid"] = new(false, MS_NOSUID), ["suid"] = new(true, MS_NOSUID),
        ["nodev"] = new(false, MS_NODEV), ["dev"] = new(true, MS_NODEV),
        ["noexec"] = new(false, MS_NOEXEC), ["exec"] = new(true, MS_NOEXEC),
        ["sync"] = new(false, MS_SYNCHRONOUS), ["async"] = new(true, MS_SYNCHRONOUS),
        ["dirsync"] = new(false, MS_DIRSYNC),
        ["remount"] = new(false, MS_REMOUNT),
        ["mand"] = new(false, MS_MANDLOCK), ["nomand"] = new(true, MS_MANDLOCK),
        ["noatime"] = new(false, MS_NOATIME), ["atime"] = new(true, MS_NOATIME),
        ["nodiratime"] = new(false, MS_NODIRATIME), ["diratime"] = new(true, MS_NODIRATIME),
        ["relatime"] = new(false, MS_RELATIME), ["norelatime"] = new(true, MS_RELATIME),
        ["strictatime"] = new(false, MS_STRICTATIME), ["nostrictatime"] = new(true, MS_STRICTATIME),
        ["lazytime"] = new(false, MS_LAZYTIME), ["nolazytime"] = new(true, MS_LAZYTIME),
        ["iversion"] = new(false, MS_I_VERSION), ["noiversion"] = new(true, MS_I_VERSION),
        ["silent"] = new(false, MS_SILENT), ["loud"] = new(true, MS_SILENT),
        ["nosymfollow"] = new(false, MS_NOSYMFOLLOW), ["symfollow"] = new(true, MS_NOSYMFOLLOW),
        ["bind"] = new(false, MS_BIND), ["rbind"] = new(false, MS_BIND | MS_REC),
    };

    private static readonly Dictionary<string, ulong> PropagationFlags = new()
    {
        ["private"] = MS_PRIVATE, ["rprivate"] = MS_PRIVATE | MS_REC,
        ["shared"] = MS_SHARED, ["rshared"] = MS_SHARED | MS_REC,
        ["slave"] = MS_SLAVE, ["rslave"] = MS_SLAVE | MS_REC,
        ["unbindable"] = MS_UNBINDABLE, ["runbindable"] = MS_UNBINDABLE | MS_REC,
    };

    // The atime modes are one field (MOUNT_ATTR__ATIME): setting any of them means clearing the field first.
    private static readonly Dictionary<string, Attr> RecursiveAttrs = new()
    {
        ["rro"] = new(false, MOUNT_ATTR_RDONLY), ["rrw"] = new(true, MOUNT_ATTR_RDONLY),
        ["rnosuid"] = new(false, MOUNT_ATTR_NOSUID), ["rsuid"] = new(true, MOUNT_ATTR_NOSUID),
        ["rnodev"] = new(false, MOUNT_ATTR_NODEV), ["rdev"] = new(true, MOUNT_ATTR_NODEV),
        ["rnoexec"] = new(false, MOUNT_ATTR_NOEXEC), ["rexec"] = new(true, MOUNT_ATTR_NOEXEC),
        ["rnodiratime"] = new(false, MOUNT_ATTR_NODIRATIME), ["rdiratime"] = new(true, MOUNT_ATTR_NODIRATIME),
        ["rnosymfollow"] = new(false, MOUNT_ATTR_NOSYMFOLLOW), ["rsymfollow"] = new(true, MOUNT_ATTR_NOSYMFOLLOW),
        ["rnoatime"] = new(false, MOUNT_ATTR_NOATIME), ["rstrictatime"] = new(false, MOUNT_ATTR_STRICTATIME),
        ["rrelatime"] = new(false, MOUNT_ATTR_RELATIME), ["ratime"] = new(false, MOUNT_ATTR_RELATIME),
        ["rnostrictatime"] = new(false, MOUNT_ATTR_RELATIME), ["rnorelatime"] = new(false, MOUNT_ATTR_STRICTATIME),
    };

    private static readonly HashSet<string> AtimeModes = ["rnoatime", "rstrictatime", "rrelatime", "ratime", "rnostrictatime", "rnorelatime"];

    public static ParsedMountOptions Parse(IEnumerable<string>? options)
    {
        ulong flags = 0, clear = 0, set = 0, unset = 0;
        List<ulong>? propagation = null;
        StringBuilder? data = null;
        bool tmpCopyUp = false;
        if (options is not null)
            foreach (var o in options)
            {
                if (Flags.TryGetValue(o, out var f))
                {
                    // Later words win, as with mount(8): "ro,rw" is rw.
                    if (f.Clear) { flags &= ~f.Value; clear |= f.Value; }
                    else { flags |= f.Value; clear &= ~f.Value; }
                }
                else if (PropagationFlags.TryGetValue(o, out var p)) (propagation ??= []).Add(p);
                else if (RecursiveAttrs.TryGetValue(o, out var a))
                {
                    if (AtimeModes.Contains(o)) { unset |= MOUNT_ATTR__ATIME; set = (set & ~MOUNT_ATTR__ATIME) | a.Value; }
                    else if (a.Clear) { unset |= a.Value; set &= ~a.Value; }
                    else { set |= a.Value; unset &= ~a.Value; }
                }
                else if (o == "tmpcopyup") tmpCopyUp = true;
                else (data is null ? data = new StringBuilder() : data.Append(',')).Append(o);
            }
        return new(flags, clear, propagation?.ToArray() ?? [], data?.ToString(), set, unset, tmpCopyUp);
    }

    private static readonly (ulong Flag, string Name, string Option)[] Names =
    [
        (MS_RDONLY, "MS_RDONLY", "ro"), (MS_NOSUID, "MS_NOSUID", "nosuid"), (MS_NODEV, "MS_NODEV", "nodev"),
        (MS_NOEXEC, "MS_NOEXEC", "noexec"), (MS_SYNCHRONOUS, "MS_SYNCHRONOUS", "sync"),
        (MS_REMOUNT, "MS_REMOUNT", "remount"), (MS_MANDLOCK, "MS_MANDLOCK", "mand"),
        (MS_DIRSYNC, "MS_DIRSYNC", "dirsync"), (MS_NOSYMFOLLOW, "MS_NOSYMFOLLOW", "nosymfollow"),
        (MS_NOATIME, "MS_NOATIME", "noatime"), (MS_NODIRATIME, "MS_NODIRATIME", "nodiratime"),
        (MS_BIND, "MS_BIND", "bind"), (MS_MOVE, "MS_MOVE", "move"), (MS_REC, "MS_REC", "rec"),
        (MS_SILENT, "MS_SILENT", "silent"), (MS_UNBINDABLE, "MS_UNBINDABLE", "unbindable"),
        (MS_PRIVATE, "MS_PRIVATE", "private"), (MS_SLAVE, "MS_SLAVE", "slave"), (MS_SHARED, "MS_SHARED", "shared"),
        (MS_RELATIME, "MS_RELATIME", "relatime"), (MS_I_VERSION, "MS_I_VERSION", "iversion"),
        (MS_STRICTATIME, "MS_STRICTATIME", "strictatime"), (MS_LAZYTIME, "MS_LAZYTIME", "lazytime"),
    ];

    /// <summary>"MS_NOSUID|MS_NODEV", or "0": mount(2)'s flags argument as C would spell it.</summary>
    public static string FlagNames(ulong flags)
    {
        var sb = new StringBuilder();
        foreach (var (flag, name, _) in Names)
            if ((flags & flag) != 0) (sb.Length > 0 ? sb.Append('|') : sb).Append(name);
        return sb.Length > 0 ? sb.ToString() : "0";
    }

    /// <summary>mount(8)'s -o list for the same flags and data: "nosuid,nodev,mode=755" (empty when none).</summary>
    public static string OptionString(ulong flags, string? data)
    {
        var sb = new StringBuilder();
        foreach (var (flag, _, option) in Names)
            if ((flags & flag) != 0 && flag is not (MS_BIND or MS_REC or MS_MOVE)) (sb.Length > 0 ? sb.Append(',') : sb).Append(option);
        if (!string.IsNullOrEmpty(data)) (sb.Length > 0 ? sb.Append(',') : sb).Append(data);
        return sb.ToString();
    }

    /// <summary>mount(8)'s --make-* word for a propagation flag: "rslave", "private"…</summary>
    public static string PropagationName(ulong flag)
    {
        foreach (var (name, value) in PropagationFlags) if (value == flag) return name;
        return FlagNames(flag);
    }

    /// <summary>linux.rootfsPropagation's value as a mount(2) flag, or null for a word that is not one.</summary>
    public static ulong? Propagation(string word) => PropagationFlags.TryGetValue(word, out var f) ? f : null;
}
