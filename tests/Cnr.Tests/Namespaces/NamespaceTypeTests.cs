using Cnr.Linux;
using Cnr.Namespaces;
using Xunit;

namespace Cnr.Tests.Namespaces;

/// <summary>The namespace table against the running kernel: each /proc/self/ns link it names exists, and the
/// kernel's own type of that namespace (ioctl NS_GET_NSTYPE) is the table's clone flag.</summary>
public class NamespaceTypeTests
{
    private const nuint NS_GET_NSTYPE = 0xb703; // _IO(0xb7, 0x3), Linux 4.11

    public static TheoryData<string> Types() => [.. NamespaceType.All.Select(n => n.Type)];

    [Theory]
    [MemberData(nameof(Types))]
    public void CloneFlag_IsTheKernelsTypeOfTheProcLink(string type)
    {
        var n = NamespaceType.Find(type)!;
        using var fd = Libc.open($"/proc/self/ns/{n.ProcName}", Libc.O_RDONLY | Libc.O_CLOEXEC, 0);
        Assert.False(fd.IsInvalid, $"/proc/self/ns/{n.ProcName}: errno {Errno.Last}");
        Assert.Equal((long)n.CloneFlag, Libc.ioctl(fd, NS_GET_NSTYPE, 0));
    }

    [Fact]
    public void All_IsTheEightOciTypes_UserFirst()
    {
        Assert.Equal(["user", "pid", "network", "ipc", "uts", "mount", "cgroup", "time"], NamespaceType.All.Select(n => n.Type));
        Assert.Equal(NamespaceType.All.Count, NamespaceType.All.Select(n => n.CloneFlag).Distinct().Count());
        Assert.Equal("user, pid, network, ipc, uts, mount, cgroup, time", NamespaceType.ValidNames);
    }

    [Theory]
    [InlineData("mount", "mnt")]
    [InlineData("network", "net")]
    [InlineData("time", "time")]
    public void Find_TakesTheOciName_NotTheProcName(string oci, string proc)
    {
        Assert.Equal(proc, NamespaceType.Find(oci)!.ProcName);
        if (oci != proc) Assert.Null(NamespaceType.Find(proc));
    }

    [Theory]
    [InlineData(0UL, "0")]
    [InlineData(NamespaceType.CLONE_NEWNS, "CLONE_NEWNS")]
    [InlineData(NamespaceType.CLONE_NEWNS | NamespaceType.CLONE_NEWPID | NamespaceType.CLONE_NEWNET, "CLONE_NEWPID|CLONE_NEWNET|CLONE_NEWNS")]
    [InlineData(NamespaceType.CLONE_NEWUSER | NamespaceType.CLONE_NEWTIME | NamespaceType.CLONE_NEWCGROUP, "CLONE_NEWUSER|CLONE_NEWCGROUP|CLONE_NEWTIME")]
    public void FlagNames_AreTheKernelsNames_InJoinOrder(ulong flags, string names) => Assert.Equal(names, NamespaceType.FlagNames(flags));

    /// <summary>--explain prints `unshare OPTION` for each type: util-linux's unshare must know each option.</summary>
    [Fact]
    public void UnshareOptions_AreUtilLinuxUnshareOptions()
    {
        var psi = new System.Diagnostics.ProcessStartInfo("unshare", "--help") { RedirectStandardOutput = true };
        using var p = System.Diagnostics.Process.Start(psi)!;
        var help = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        foreach (var option in NamespaceType.All.SelectMany(n => n.UnshareOption.Split(' ')))
            Assert.Matches($@"\s{option}[\[=\s]", help);
    }
}
