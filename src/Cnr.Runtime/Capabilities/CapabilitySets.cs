using Cnr.Spec;

namespace Cnr.Capabilities;

/// <summary>process.capabilities as the kernel holds them: five 64-bit masks, bit n for capability n
/// (the CapBnd/CapEff/CapInh/CapPrm/CapAmb lines of /proc/PID/status).</summary>
public readonly record struct CapabilitySets(ulong Bounding, ulong Effective, ulong Inheritable, ulong Permitted, ulong Ambient)
{
    /// <summary>Builds the masks. No process.capabilities means no capabilities at all, as in runc.
    /// A name cnr does not know is a config error; a name the running kernel does not know (above
    /// <paramref name="lastCap"/>) is skipped with one warning, as runc does, so that one config.json
    /// runs on older kernels.</summary>
    public static CapabilitySets From(LinuxCapabilities? caps, int lastCap, Action<string> warn)
    {
        if (caps is null) return default;
        var unavailable = new List<string>();
        var sets = new CapabilitySets(
            Mask(caps.Bounding, "bounding", lastCap, unavailable),
            Mask(caps.Effective, "effective", lastCap, unavailable),
            Mask(caps.Inheritable, "inheritable", lastCap, unavailable),
            Mask(caps.Permitted, "permitted", lastCap, unavailable),
            Mask(caps.Ambient, "ambient", lastCap, unavailable));
        if (unavailable.Count > 0)
            warn($"ignoring capabilities unknown to this kernel (cap_last_cap {lastCap}): {string.Join(", ", unavailable.Distinct())}");
        return sets;
    }

    /// <summary><see cref="From(LinuxCapabilities?, int, Action{string})"/> for the running kernel, warning to the log.</summary>
    public static CapabilitySets From(LinuxCapabilities? caps) => From(caps, CapabilityTable.Last, Diagnostics.Log.Warn);

    /// <summary>Every capability up to <paramref name="lastCap"/>: what a root process starts with.</summary>
    public static ulong All(int lastCap) => lastCap >= 63 ? ulong.MaxValue : (1UL << (lastCap + 1)) - 1;

    /// <summary>The names of the capabilities in a mask, lowest first ("CAP_CHOWN", "CAP_KILL").</summary>
    public static IReadOnlyList<string> Decode(ulong mask) => [.. CapabilityTable.Decode(mask)];

    private static ulong Mask(List<string>? names, string set, int lastCap, List<string> unavailable)
    {
        ulong mask = 0;
        for (int i = 0; i < (names?.Count ?? 0); i++)
        {
            string name = names![i];
            if (!CapabilityTable.TryParse(name, out int cap))
                throw new SpecException($"process.capabilities.{set}[{i}]", $"\"{name}\" is not a capability",
                    "names as in capabilities(7), e.g. CAP_NET_BIND_SERVICE");
            if (cap > lastCap) unavailable.Add(name);
            else mask |= 1UL << cap;
        }
        return mask;
    }
}
