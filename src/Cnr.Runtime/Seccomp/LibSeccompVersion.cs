namespace Cnr.Seccomp;

public static class LibSeccompVersion
{
    public static string? Get() => null;
}
