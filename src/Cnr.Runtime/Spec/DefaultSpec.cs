namespace Cnr.Spec;

/// <summary>The config `cnr spec` writes: the same defaults as `runc spec`.</summary>
public static class DefaultSpec
{
    public static RuntimeSpec Create(bool rootless = false) => throw new NotImplementedException();
}
