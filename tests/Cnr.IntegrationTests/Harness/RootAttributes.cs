using Xunit;

namespace Cnr.IntegrationTests.Harness;

/// <summary>A fact that needs root (integration tests run real containers) and the built cnr; skipped with
/// the reason otherwise. Every root attribute below starts from <see cref="Unmet"/>.</summary>
public sealed class RootFactAttribute : FactAttribute
{
    public RootFactAttribute() => Skip = Unmet;

    /// <summary>Why a root test cannot run here; null when it can.</summary>
    public static string? Unmet =>
        !Host.IsRoot ? "needs root: integration tests run real containers"
        : !File.Exists(Repo.CnrBinary) ? $"{Repo.CnrBinary} not built (run `make`)"
        : null;
}

/// <summary>A theory that needs root; skipped with the reason otherwise (as <see cref="RootFactAttribute"/>).</summary>
public sealed class RootTheoryAttribute : TheoryAttribute
{
    public RootTheoryAttribute() => Skip = RootFactAttribute.Unmet;
}

/// <summary>A root fact about a kernel feature: skipped (not passed) where the kernel lacks it, as told by a
/// path that exists only with the feature, e.g. /proc/self/ns/time.</summary>
public sealed class RootFactWithKernelAttribute : FactAttribute
{
    public RootFactWithKernelAttribute(string path, string feature)
    {
        Skip = RootFactAttribute.Unmet;
        if (Skip is null && !Path.Exists(path)) Skip = $"this kernel has no {feature} ({path} is missing)";
    }
}

/// <summary>A root fact that needs a host tool (a compiler for a test program, strace): skipped, with what
/// the tool is for, where it is missing.</summary>
public sealed class RootFactWithToolAttribute : FactAttribute
{
    public RootFactWithToolAttribute(string path, string why)
    {
        Skip = RootFactAttribute.Unmet;
        if (Skip is null && !File.Exists(path)) Skip = $"{path} is missing ({why})";
    }
}
