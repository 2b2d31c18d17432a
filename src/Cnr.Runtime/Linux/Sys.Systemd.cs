using Cnr.Cgroups;

namespace Cnr.Linux;

/// <summary>The systemd cgroup driver's steps (mechanism "cgroup"): its D-Bus calls to the service manager,
/// each with the systemctl / systemd-run line that asks for the same.</summary>
public static partial class Sys
{
    /// <summary>StartTransientUnit of the container's scope in <paramref name="slice"/>, with its
    /// <paramref name="properties"/> (the init's pid among them); a unit of that name left failed by an earlier
    /// container is reset and the start tried once more. A live one is someone's: that SystemdException
    /// (UnitExists) reaches the caller, as does any other refusal.</summary>
    public static void StartTransientUnit(SystemdBus bus, string unit, string slice, IReadOnlyList<SystemdProperty> properties)
    {
        if (Diagnostics.Steps.On) Diagnostics.Steps.Report(CgroupStep, $"D-Bus StartTransientUnit({unit}, {string.Join(", ", properties)})",
            $"systemd-run --scope --unit={unit} --slice={slice} -p Delegate=yes …");
        try { bus.StartTransientUnit(unit, properties); }
        catch (SystemdException e) when (e.ErrorName == SystemdException.UnitExists && bus.ResetFailedUnit(unit)) { bus.StartTransientUnit(unit, properties); }
    }

    /// <summary>SetUnitProperties(runtime) of a running unit: the limits systemd owns.</summary>
    public static void SetUnitProperties(SystemdBus bus, string unit, IReadOnlyList<SystemdProperty> properties)
    {
        if (Diagnostics.Steps.On)
            Diagnostics.Steps.Report(CgroupStep, $"D-Bus SetUnitProperties({unit}, runtime, {string.Join(", ", properties)})", $"systemctl set-property --runtime {unit} …");
        bus.SetUnitProperties(unit, properties);
    }

    /// <summary>StopUnit, then ResetFailedUnit whatever the stop did, so that no failed unit of the name
    /// stays listed.</summary>
    public static void StopUnit(SystemdBus bus, string unit)
    {
        if (Diagnostics.Steps.On)
            Diagnostics.Steps.Report(CgroupStep, $"D-Bus StopUnit({unit}); ResetFailedUnit({unit})", $"systemctl stop {unit}; systemctl reset-failed {unit}");
        try { bus.StopUnit(unit); }
        finally { bus.ResetFailedUnit(unit); }
    }
}
