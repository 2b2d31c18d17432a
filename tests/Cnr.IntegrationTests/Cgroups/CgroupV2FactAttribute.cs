using Cnr.Cgroups;
using Cnr.IntegrationTests.Harness;
using Xunit;

namespace Cnr.IntegrationTests.Cgroups;

/// <summary>A test that needs root, a cgroup2 hierarchy and the named v2 controllers (and, with
/// <see cref="NeedsCnr"/>, the built cnr binary). Skipped with the reason otherwise: on a hybrid host the
/// controller tests run in a throwaway kernel instead (tests/vm/run-cgroup-tests.sh).</summary>
public sealed class CgroupV2FactAttribute : FactAttribute
{
    public CgroupV2FactAttribute(params string[] controllers)
    {
        if (!Host.IsRoot)
            Skip = "needs root";
        else if (CgroupHierarchy.Find(out var mode) is not { } h)
            Skip = $"needs cgroup v2 ({mode})";
        else if (controllers.Except(h.Controllers).ToList() is [_, ..] missing)
            Skip = $"needs the cgroup v2 controllers {string.Join(' ', missing)} ({mode}); run tests/vm/run-cgroup-tests.sh";
    }

    public bool NeedsCnr
    {
        get => false;
        init { if (value && Skip is null && !File.Exists(Repo.CnrBinary)) Skip = $"{Repo.CnrBinary} not built"; }
    }

    /// <summary>A controller that must be absent: the test is about the error for a missing one (it runs in
    /// the UML guest, which has no hugetlb).</summary>
    public string? Lacking
    {
        get => null;
        init
        {
            if (value is not null && Skip is null && CgroupHierarchy.Find(out var mode)!.Controllers.Contains(value))
                Skip = $"needs a cgroup v2 without the {value} controller, and this one has it ({mode})";
        }
    }

    /// <summary>The test throttles a block device (the UML guest has none).</summary>
    public bool NeedsBlockDevice
    {
        get => false;
        init { if (value && Skip is null && BlockDevice is null) Skip = "needs a block device to throttle: /sys/class/block is empty"; }
    }

    /// <summary>"MAJOR:MINOR" of the first block device, null when there is none.</summary>
    public static string? BlockDevice =>
        Directory.GetDirectories("/sys/class/block").Select(d => File.ReadAllText(Path.Combine(d, "dev")).Trim()).FirstOrDefault();
}
