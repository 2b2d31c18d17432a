namespace Cnr.Namespaces;

/// <summary>How the native helper makes a container's namespaces: which are created by clone() itself, which
/// by unshare() in the child after the joins, which only after the parent placed the child in its cgroup, and
/// whether the child must fork once more before it execs. A pure function of the config, computed once in the
/// parent — the trickiest decision of the launch, so it lives here, with a unit test for every combination.</summary>
public readonly record struct CloneStrategy(ulong CloneFlags, ulong UnshareFlags, ulong LateUnshareFlags, bool ForkAfter, bool UserNamespace)
{
    /// <summary>All namespace flags the child ends up creating.</summary>
    public ulong Created => CloneFlags | UnshareFlags | LateUnshareFlags;

    /// <param name="newNamespaces">CLONE_NEW* of the namespaces without a path (to create).</param>
    /// <param name="joined">the types of the namespaces with a path (to join), mount included.</param>
    public static CloneStrategy For(ulong newNamespaces, IReadOnlyCollection<NamespaceType> joined)
    {
        const ulong Time = NamespaceType.CLONE_NEWTIME, Pid = NamespaceType.CLONE_NEWPID;
        // The mount namespace is joined by the re-executed image itself (native/cnr_native.c, constructor), so
        // only the other joins happen in the child between clone and execve.
        bool setnsInChild = joined.Any(t => t.CloneFlag != NamespaceType.CLONE_NEWNS);
        // setns(pid)/setns(time) and unshare of either apply to children only: the child forks once more. Then
        // clone() must not create the pid namespace itself: a pid-namespace init cannot clone(CLONE_PARENT), so
        // the pid namespace is unshared together with the rest.
        bool forkAfter = (newNamespaces & Time) != 0
                         || (setnsInChild && (newNamespaces & Pid) != 0)
                         || joined.Any(t => t.CloneFlag is Pid or Time);
        // A cgroup namespace is rooted at its creator's cgroup: made last, once the parent has placed the child.
        ulong late = newNamespaces & NamespaceType.CLONE_NEWCGROUP;
        // Without joins clone() creates the namespaces itself (one process, no second fork); the time namespace
        // can only be made with unshare (its flag collides with clone's exit-signal bits); after a setns the
        // new namespaces must be made inside the joined ones, so by unshare.
        ulong clone = setnsInChild ? 0 : newNamespaces & ~(Time | late);
        if (forkAfter) clone &= ~Pid;
        ulong unshare = newNamespaces & ~(clone | late);
        bool user = (newNamespaces & NamespaceType.CLONE_NEWUSER) != 0 || joined.Any(t => t.CloneFlag == NamespaceType.CLONE_NEWUSER);
        return new CloneStrategy(clone, unshare, late, forkAfter, user);
    }
}
