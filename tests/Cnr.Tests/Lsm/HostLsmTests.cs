using Cnr.Lsm;
using Xunit;

namespace Cnr.Tests.Lsm;

public class HostLsmTests
{
    [Fact]
    public void ParseProfiles_NamesWithoutTheirMode()
    {
        var names = HostLsm.ParseProfiles("docker-default (enforce)\n/usr/bin/man (complain)\nlsb_release (enforce)\nwith (parens) (enforce)\n");
        Assert.Equal(["/usr/bin/man", "docker-default", "lsb_release", "with (parens)"], names.Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("docker-default", true)]
    [InlineData("docker-defaul", false)]
    [InlineData("unconfined", true)]            // always there, never listed
    [InlineData(":ns:profile", true)]           // namespaced: the kernel's to resolve
    [InlineData("docker-default//&other", true)] // stacked
    [InlineData("not-loaded", false)]
    public void IsKnown_LoadedOrTheKernelsToResolve(string profile, bool known)
        => Assert.Equal(known, HostLsm.IsKnown(profile, HostLsm.ParseProfiles("docker-default (enforce)\n")));

    [Theory]
    [InlineData("tmpfs", new[] { "nosuid" }, true)]
    [InlineData("mqueue", null, true)]
    [InlineData("devpts", new[] { "newinstance" }, true)]
    [InlineData("proc", null, false)]
    [InlineData("sysfs", null, false)]
    [InlineData("cgroup", null, false)]
    [InlineData("bind", new[] { "rbind" }, false)]
    [InlineData("none", new[] { "bind", "ro" }, false)]
    [InlineData("tmpfs", new[] { "context=\"system_u:object_r:x:s0\"" }, false)] // the config's own wins
    public void TakesMountLabel_FilesystemsThatAcceptContext(string type, string[]? options, bool takes)
        => Assert.Equal(takes, HostLsm.TakesMountLabel(new Cnr.Spec.Mount { Type = type, Options = options?.ToList() }));

    [Fact]
    public void MountContext_QuotedAsTheKernelParsesIt()
        => Assert.Equal("context=\"system_u:object_r:container_file_t:s0:c1,c2\"", HostLsm.MountContext("system_u:object_r:container_file_t:s0:c1,c2"));
}
