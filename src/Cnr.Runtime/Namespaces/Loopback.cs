using Cnr.Linux;

namespace Cnr.Namespaces;

/// <summary>The loopback interface of a network namespace the container created, brought up as runc does (its
/// default "loopback" network for a new network namespace): 127.0.0.1 works inside even with no other network.
/// A joined network namespace is left as it is: it belongs to whoever made it.</summary>
public static class Loopback
{
    public static void Up() => Sys.SetLoopbackUp();
}
