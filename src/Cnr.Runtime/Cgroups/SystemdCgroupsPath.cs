using System.Text;
using System.Text.RegularExpressions;

namespace Cnr.Cgroups;

/// <summary>linux.cgroupsPath as the systemd cgroup driver reads it (runc's "slice:prefix:name"): the
/// container gets the transient scope unit PREFIX-NAME.scope in SLICE. Parsed and checked in the parent,
/// before anything exists.</summary>
public sealed partial record SystemdCgroupsPath(string Slice, string Prefix, string Name)
{
    /// <summary>The scope unit, e.g. docker-abc.scope (runc's name; without a prefix, NAME.scope).</summary>
    public string Unit => Prefix.Length > 0 ? $"{Prefix}-{Name}.scope" : $"{Name}.scope";

    private const string Form = "the systemd form \"slice:prefix:name\" (like \"system.slice:docker:ID\", or \":cnr:ID\" for the default slice)";

    /// <summary>No cgroupsPath: runc's default ":runc:ID", here ":cnr:ID". An empty slice is system.slice, or
    /// user.slice for a non-root user's own systemd instance.</summary>
    public static SystemdCgroupsPath Parse(string containerId, string? cgroupsPath, bool userInstance)
    {
        var defaultSlice = userInstance ? "user.slice" : "system.slice";
        if (string.IsNullOrEmpty(cgroupsPath)) return new(defaultSlice, "cnr", containerId);
        if (cgroupsPath.Split(':') is not [var slice, var prefix, var name])
            throw Bad(cgroupsPath, $"is not in {Form}, which --systemd-cgroup needs");
        if (slice.Length == 0) slice = defaultSlice;
        else if (slice == "-") slice = "-.slice";
        SlicePath(slice, cgroupsPath);
        if (name.Length == 0) throw Bad(cgroupsPath, $"names no unit: the name after the second ':' is empty ({Form})");
        if (name.EndsWith(".slice", StringComparison.Ordinal))
            throw Bad(cgroupsPath, $"names a slice (\"{name}\") as the container's unit; cnr creates scopes only: use {Form}");
        if (!UnitChars().IsMatch(prefix + name) || prefix.Length + name.Length > 240)
            throw Bad(cgroupsPath, "prefix and name may only hold letters, digits and \"_.@-\" (a systemd unit name), 240 characters at most");
        return new(slice, prefix, name);
    }

    /// <summary>"a-b.slice" → /a.slice/a-b.slice, as systemd nests slices; "-.slice" (or "") is the root.</summary>
    public static string SlicePath(string slice, string? cgroupsPath = null)
    {
        if (slice is "" or "-.slice") return "";
        var name = slice.EndsWith(".slice", StringComparison.Ordinal) ? slice[..^".slice".Length] : null;
        if (name is null || name.Length == 0 || !UnitChars().IsMatch(name) || name.Split('-').Any(p => p.Length == 0))
            throw Bad(cgroupsPath ?? slice, $"\"{slice}\" is not a systemd slice (like \"machine.slice\" or \"system-foo.slice\": a name ending in \".slice\", without '/' or empty '-' parts)");
        var sb = new StringBuilder();
        var parts = name.Split('-');
        for (int i = 1; i <= parts.Length; i++) sb.Append('/').Append(string.Join('-', parts[..i])).Append(".slice");
        return sb.ToString();
    }

    private static CgroupException Bad(string cgroupsPath, string what) => new($"linux.cgroupsPath: \"{cgroupsPath}\" {what}");

    [GeneratedRegex(@"^[A-Za-z0-9_.@\-]+$")] private static partial Regex UnitChars();
}
