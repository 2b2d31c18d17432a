namespace Cnr.Process;

/// <summary>`cnr init`: the re-executed process that starts inside the container's new namespaces.</summary>
public static class Init
{
    public static int Main(string[] args) => throw new NotImplementedException();
}
