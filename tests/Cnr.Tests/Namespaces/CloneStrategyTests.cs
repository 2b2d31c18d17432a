using Cnr.Namespaces;
using Xunit;

namespace Cnr.Tests.Namespaces;

public class CloneStrategyTests
{
    private const ulong Pid = NamespaceType.CLONE_NEWPID, Time = NamespaceType.CLONE_NEWTIME, Cgroup = NamespaceType.CLONE_NEWCGROUP,
        User = NamespaceType.CLONE_NEWUSER, Mnt = NamespaceType.CLONE_NEWNS, Net = NamespaceType.CLONE_NEWNET,
        Uts = NamespaceType.CLONE_NEWUTS, Ipc = NamespaceType.CLONE_NEWIPC;

    private static NamespaceType T(string type) => NamespaceType.Find(type)!;

    /// <summary>Every subset of the eight namespace types to create, with each single join and a few pairs
    /// (a joined type is not also created).</summary>
    private static IEnumerable<(ulong Created, string[] Joins)> Combinations()
    {
        var joinSets = new List<string[]> { Array.Empty<string>() };
        joinSets.AddRange(NamespaceType.All.Select(n => new[] { n.Type }));
        joinSets.Add(["mount", "network"]);
        joinSets.Add(["user", "pid"]);
        joinSets.Add(["network", "ipc", "uts"]);
        for (int mask = 0; mask < 256; mask++)
            foreach (var joins in joinSets)
            {
                ulong created = 0;
                for (int i = 0; i < 8; i++)
                    if ((mask & (1 << i)) != 0 && !joins.Contains(NamespaceType.All[i].Type)) created |= NamespaceType.All[i].CloneFlag;
                yield return (created, joins);
            }
    }

    [Fact]
    public void EveryCombination_CreatesExactlyTheNewNamespaces_AtTheRightStep()
    {
        int checkedCount = 0;
        foreach (var (created, joins) in Combinations().DistinctBy(c => (c.Created, string.Join(',', c.Joins))))
        {
            try { Check(created, joins); }
            catch (Exception e) { throw new Xunit.Sdk.XunitException($"new {NamespaceType.FlagNames(created)}, joined [{string.Join(", ", joins)}]: {e.Message}"); }
            checkedCount++;
        }
        Assert.True(checkedCount > 1000, $"only {checkedCount} combinations checked");
    }

    private static void Check(ulong created, string[] joins)
    {
        var s = CloneStrategy.For(created, joins.Select(T).ToList());
        bool setnsInChild = joins.Any(j => j != "mount");

        // Each namespace to create is created exactly once, and nothing else.
        Assert.Equal(created, s.Created);
        Assert.Equal(0UL, s.CloneFlags & s.UnshareFlags);
        Assert.Equal(0UL, (s.CloneFlags | s.UnshareFlags) & s.LateUnshareFlags);
        // The cgroup namespace only after the parent placed the child in its cgroup.
        Assert.Equal(created & Cgroup, s.LateUnshareFlags);
        // clone() cannot take CLONE_NEWTIME (it collides with the exit signal bits).
        Assert.Equal(0UL, s.CloneFlags & Time);
        // New namespaces are made inside joined ones: after a setns, nothing is created by clone().
        if (setnsInChild) Assert.Equal(0UL, s.CloneFlags);
        // A pid or time namespace made by unshare, or joined, only applies to children: one more fork.
        bool pidOrTimeForChildren = (s.UnshareFlags & (Pid | Time)) != 0 || joins.Contains("pid") || joins.Contains("time");
        Assert.Equal(pidOrTimeForChildren, s.ForkAfter);
        // A pid namespace made by clone() makes the child its init, which cannot clone(CLONE_PARENT).
        if (s.ForkAfter) Assert.Equal(0UL, s.CloneFlags & Pid);
        Assert.Equal((created & User) != 0 || joins.Contains("user"), s.UserNamespace);
    }

    [Fact]
    public void RuncSpecDefault_IsOneCloneAndALateCgroupNamespace()
    {
        var s = CloneStrategy.For(Pid | Net | Ipc | Uts | Mnt | Cgroup, []);
        Assert.Equal(new CloneStrategy(Pid | Net | Ipc | Uts | Mnt, 0, Cgroup, ForkAfter: false, UserNamespace: false), s);
    }

    [Fact]
    public void JoiningANetworkNamespace_UnsharesTheRestAndForksForThePidNamespace()
    {
        var s = CloneStrategy.For(Pid | Mnt | Uts, [T("network")]);
        Assert.Equal(new CloneStrategy(0, Pid | Mnt | Uts, 0, ForkAfter: true, UserNamespace: false), s);
    }

    [Fact]
    public void JoiningOnlyTheMountNamespace_StillClonesTheRest()
    {
        // The mount namespace is joined by the re-executed image, not between clone and execve.
        var s = CloneStrategy.For(Pid | Net, [T("mount")]);
        Assert.Equal(new CloneStrategy(Pid | Net, 0, 0, ForkAfter: false, UserNamespace: false), s);
    }

    [Fact]
    public void ATimeNamespace_IsUnsharedWithThePidNamespace_ThenForked()
    {
        var s = CloneStrategy.For(Pid | Mnt | Time | User, []);
        Assert.Equal(new CloneStrategy(Mnt | User, Pid | Time, 0, ForkAfter: true, UserNamespace: true), s);
    }
}
