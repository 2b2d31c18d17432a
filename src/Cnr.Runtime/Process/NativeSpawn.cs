using System.Runtime.InteropServices;
using System.Text;
using Cnr.Linux;

namespace Cnr.Process;

/// <summary>The binding to native/cnr_native.c: the clone → (setns/unshare) → wait → execve step.</summary>
internal static unsafe partial class NativeSpawn
{
    [StructLayout(LayoutKind.Sequential)]
    private struct Args
    {
        public ulong CloneFlags;
        public ulong UnshareFlags;
        public int ExeFd;
        public int SyncFd;
        public byte** Argv;
        public byte** Envp;
        public int* JoinFds;
        public int* JoinTypes;
        public int NJoin;
        public int* KeepFds;
        public int NKeep;
        public int ForkAfterJoin;
        public byte* TimensOffsets;
        public int BecomeRoot;
        public ulong LateUnshareFlags;
        public int CgroupFd;
        public byte* ExePath;
        public int ParentSyncFd;
    }

    [LibraryImport("libcnr_native")]
    private static partial int cnr_spawn(Args* args);

    /// <summary>The fd of the container's root kept by the exec init's constructor, which started the runtime
    /// in the host's root; -1 when it did not (create, or a user namespace joined before execve).</summary>
    [LibraryImport("libcnr_native", EntryPoint = "cnr_container_root_fd")]
    internal static partial int ContainerRootFd();

    /// <summary>struct cnr_spawn_args, field by field (native/cnr_native.c says what each does).</summary>
    public sealed class Request
    {
        public ulong CloneFlags { get; init; }
        public ulong UnshareFlags { get; init; }
        /// <summary>Unshared after the parent's go-ahead, once the child is in its cgroup (CLONE_NEWCGROUP).</summary>
        public ulong LateUnshareFlags { get; init; }
        public IReadOnlyList<(int Fd, ulong Type)> Joins { get; init; } = [];
        public bool ForkAfterJoin { get; init; }
        public bool BecomeRoot { get; init; }
        public string? TimensOffsets { get; init; }
        public int CgroupFd { get; init; } = -1;
        /// <summary>The sealed copy to execveat (-1: <see cref="ExePath"/>, bound read-only).</summary>
        public int ExeFd { get; init; } = -1;
        public string? ExePath { get; init; }
        public required IReadOnlyList<string> Argv { get; init; }
        public IReadOnlyList<string> Envp { get; init; } = [];
        public required int SyncFd { get; init; }
        public required int ParentSyncFd { get; init; }
        public IReadOnlyList<int> KeepFds { get; init; } = [];
    }

    /// <summary>Everything is marshalled before clone: the child may not allocate. Call it on the main thread: the
    /// child's death signal (PR_SET_PDEATHSIG) fires when the thread that cloned it ends, not the process.</summary>
    public static int Spawn(Request r)
    {
        using var strings = new NativeStrings();
        byte** argv = strings.Array(r.Argv);
        byte** envp = strings.Array(r.Envp);
        int* joinFds = stackalloc int[Math.Max(1, r.Joins.Count)];
        int* joinTypes = stackalloc int[Math.Max(1, r.Joins.Count)];
        for (int i = 0; i < r.Joins.Count; i++) { joinFds[i] = r.Joins[i].Fd; joinTypes[i] = (int)r.Joins[i].Type; }
        int* keep = stackalloc int[Math.Max(1, r.KeepFds.Count)];
        for (int i = 0; i < r.KeepFds.Count; i++) keep[i] = r.KeepFds[i];
        var args = new Args
        {
            CloneFlags = r.CloneFlags,
            UnshareFlags = r.UnshareFlags,
            ExeFd = r.ExeFd,
            SyncFd = r.SyncFd,
            Argv = argv,
            Envp = envp,
            JoinFds = joinFds,
            JoinTypes = joinTypes,
            NJoin = r.Joins.Count,
            KeepFds = keep,
            NKeep = r.KeepFds.Count,
            ForkAfterJoin = r.ForkAfterJoin ? 1 : 0,
            TimensOffsets = r.TimensOffsets is null ? null : strings.Get(r.TimensOffsets),
            BecomeRoot = r.BecomeRoot ? 1 : 0,
            LateUnshareFlags = r.LateUnshareFlags,
            CgroupFd = r.CgroupFd,
            ExePath = r.ExePath is null ? null : strings.Get(r.ExePath),
            ParentSyncFd = r.ParentSyncFd,
        };
        int pid = cnr_spawn(&args);
        if (pid < 0) throw new SyscallException("clone", (Error)(-pid), NamespaceTypeNames(r.CloneFlags | r.UnshareFlags | r.LateUnshareFlags));
        return pid;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct CloneArgs
    {
        public int MountNsFd;
        public int Count;
        public byte** Paths;
        public uint* Flags;
        public int* Fds;
        public int Failed;
    }

    [LibraryImport("libcnr_native")]
    private static partial int cnr_clone_in_mount_ns(CloneArgs* args);

    /// <summary>open_tree(path, flags) for each source, in the mount namespace <paramref name="mountNsFd"/>, with
    /// this process's credentials (native/cnr_native.c, cnr_clone_in_mount_ns: setns needs a child that shares no
    /// fs_struct). Returns the clones in order, or the errno and the index that failed (-1: the setns).</summary>
    public static (SafeFd[]? Clones, Error Errno, int Failed) CloneInMountNamespace(int mountNsFd, IReadOnlyList<(string Path, uint Flags)> sources)
    {
        using var strings = new NativeStrings();
        var paths = sources.Select(s => s.Path).ToArray();
        byte** p = strings.Array(paths);
        uint* flags = stackalloc uint[Math.Max(1, sources.Count)];
        int* fds = stackalloc int[Math.Max(1, sources.Count)];
        for (int i = 0; i < sources.Count; i++) flags[i] = sources[i].Flags;
        var args = new CloneArgs { MountNsFd = mountNsFd, Count = sources.Count, Paths = p, Flags = flags, Fds = fds, Failed = -1 };
        int rc = cnr_clone_in_mount_ns(&args);
        if (rc < 0) return (null, (Error)(-rc), args.Failed);
        var clones = new SafeFd[sources.Count];
        for (int i = 0; i < sources.Count; i++) clones[i] = new SafeFd(fds[i]);
        return (clones, 0, -1);
    }

    private static string NamespaceTypeNames(ulong flags) => "(" + Namespaces.NamespaceType.FlagNames(flags) + ")";
}
