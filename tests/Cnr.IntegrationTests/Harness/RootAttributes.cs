using Xunit;

namespace Cnr.IntegrationTests.Harness;

/// <summary>A theory that needs root; skipped with the reason otherwise (as <see cref="RootFactAttribute"/>).</summary>
public sealed class RootTheoryAttribute : TheoryAttribute
{
    public RootTheoryAttribute()
    {
        if (new RootFactAttribute().Skip is { } reason) Skip = reason;
    }
}

/// <summary>A root fact about a kernel feature: skipped (not passed) where the kernel lacks it, as told by a
/// path that exists only with the feature, e.g. /proc/self/ns/time.</summary>
public sealed class RootFactWithKernelAttribute : FactAttribute
{
    public RootFactWithKernelAttribute(string path, string feature)
    {
        if (new RootFactAttribute().Skip is { } reason) Skip = reason;
        else if (!Path.Exists(path)) Skip = $"this kernel has no {feature} ({path} is missing)";
    }
}

/// <summary>A root fact that needs a host tool (a compiler for a test program): skipped where it is missing.</summary>
public sealed class RootFactWithToolAttribute : FactAttribute
{
    public RootFactWithToolAttribute(string path, string why)
    {
        if (new RootFactAttribute().Skip is { } reason) Skip = reason;
        else if (!File.Exists(path)) Skip = $"{path} is missing ({why})";
    }
}
