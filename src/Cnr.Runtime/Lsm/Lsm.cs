using Cnr.Diagnostics;
using Cnr.Linux;
using Cnr.Spec;

namespace Cnr.Lsm;

/// <summary>The labels the init arranges for its execve, decided by the parent: which LSMs are enabled is read
/// from the host's /sys and /proc, which the init (inside the container's mount namespace once it execs) must
/// not read. Null fields: nothing to write.</summary>
public sealed class ExecLabels
{
    public string? AppArmorProfile { get; set; }
    public string? SelinuxLabel { get; set; }
}

/// <summary>AppArmor and SELinux on this host, as runc asks (libcontainer/apparmor, go-selinux): a label asked
/// for where its LSM is not enabled is ignored, said in --debug.</summary>
public static class HostLsm
{
    private const string AppArmorFs = "/sys/kernel/security/apparmor";
    private const long SELINUX_MAGIC = 0xf97cff8c;

    private static bool? _appArmor, _selinux;

    /// <summary>As runc's apparmor.IsEnabled: securityfs shows apparmor and the module says "Y".</summary>
    public static bool AppArmorEnabled => _appArmor ??= Directory.Exists(AppArmorFs)
        && ReadText("/sys/module/apparmor/parameters/enabled") is { Length: > 0 } y && y[0] == 'Y';

    /// <summary>As go-selinux's GetEnabled: selinuxfs is mounted and this process has a label other than
    /// "kernel" (a policy is loaded).</summary>
    public static bool SelinuxEnabled => _selinux ??= IsSelinuxFs("/sys/fs/selinux")
        && ReadText("/proc/self/attr/current")?.TrimEnd('\0', '\n') is { Length: > 0 } label && label != "kernel";

    /// <summary>What the init writes for <paramref name="process"/>; a profile AppArmor has not loaded is a
    /// config error here, before anything exists (the kernel would refuse it only in the init).</summary>
    public static ExecLabels? Plan(Spec.Process process)
    {
        string? profile = null, label = null;
        if (process.ApparmorProfile is { Length: > 0 } p)
        {
            if (!AppArmorEnabled)
                Log.Debug($"process.apparmorProfile {SpecException.Show(p)}: AppArmor is not enabled on this host, nothing to apply (as runc)");
            else
            {
                if (LoadedProfiles() is { } loaded && !IsKnown(p, loaded))
                    throw new SpecException("process.apparmorProfile", $"profile {SpecException.Show(p)} is not loaded in AppArmor (not in {AppArmorFs}/profiles)",
                        "load it with `apparmor_parser -r FILE`, or name a loaded profile");
                profile = p;
            }
        }
        if (process.SelinuxLabel is { Length: > 0 } l)
        {
            if (SelinuxEnabled) label = l;
            else Log.Debug($"process.selinuxLabel {SpecException.Show(l)}: SELinux is not enabled on this host, ignored (as runc)");
        }
        return profile is null && label is null ? null : new ExecLabels { AppArmorProfile = profile, SelinuxLabel = label };
    }

    /// <summary>linux.mountLabel as `context="LABEL"` in the data of the container's mounts that take it (as
    /// runc's label.FormatMountLabel): not bind mounts, whose filesystem is already labelled, nor proc, sysfs
    /// and cgroup, which refuse it.</summary>
    public static void ApplyMountLabel(RuntimeSpec spec)
    {
        if (spec.Linux?.MountLabel is not { Length: > 0 } label) return;
        if (!SelinuxEnabled)
        {
            Log.Debug($"linux.mountLabel {SpecException.Show(label)}: SELinux is not enabled on this host, ignored (as runc)");
            return;
        }
        foreach (var m in spec.Mounts ?? [])
            if (TakesMountLabel(m)) m.Options = [.. m.Options ?? [], MountContext(label)];
    }

    public static string MountContext(string label) => $"context=\"{label}\"";

    public static bool TakesMountLabel(Spec.Mount m)
        => m.Type is not ("bind" or "proc" or "sysfs" or "cgroup" or "cgroup2")
           && m.Options?.Any(o => o is "bind" or "rbind" || o.StartsWith("context=", StringComparison.Ordinal)) != true;

    /// <summary>The names in AppArmor's profiles file ("NAME (MODE)" a line), or null where it cannot be read
    /// (not root): the kernel then decides, in the init.</summary>
    public static HashSet<string>? LoadedProfiles()
        => ReadText(AppArmorFs + "/profiles") is { } text ? ParseProfiles(text) : null;

    public static HashSet<string> ParseProfiles(string text)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            int mode = line.LastIndexOf(" (", StringComparison.Ordinal);
            names.Add(mode > 0 ? line[..mode] : line);
        }
        return names;
    }

    /// <summary>"unconfined" is no profile yet always there; a namespaced (":ns:NAME") or stacked ("A//&amp;B")
    /// name is the kernel's to resolve.</summary>
    public static bool IsKnown(string profile, HashSet<string> loaded)
        => profile == "unconfined" || profile.StartsWith(':') || profile.Contains("//", StringComparison.Ordinal) || loaded.Contains(profile);

    private static string? ReadText(string path)
    {
        try { return File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }

    private static bool IsSelinuxFs(string path)
    {
        using var dir = Libc.open(path, Libc.O_PATH | Libc.O_DIRECTORY | Libc.O_CLOEXEC, 0);
        return !dir.IsInvalid && Libc.FsFlags(dir, out long magic, out _) == 0 && magic == SELINUX_MAGIC;
    }
}

/// <summary>The init's side: the labels go to the calling thread's attr files (an LSM takes them from the task
/// that calls execve, and .NET has other threads), each opened through the runtime's trusted procfs and
/// checked to be procfs (runc CVE-2025-52881: a write redirected by a mount over /proc).</summary>
public static class ExecLabelWriter
{
    public static void Apply(ExecLabels? labels)
    {
        if (labels is null) return;
        if (labels.AppArmorProfile is { } profile) Sys.SetAppArmorExecProfile(profile);
        if (labels.SelinuxLabel is { } label) Sys.SetSelinuxExecLabel(label);
    }
}
