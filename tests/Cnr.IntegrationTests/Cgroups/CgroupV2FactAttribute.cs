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
        if (!File.ReadAllText("/proc/self/status").Contains("\nUid:\t0\t"))
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
}
