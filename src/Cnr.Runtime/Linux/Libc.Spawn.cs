using System.Runtime.InteropServices;

namespace Cnr.Linux;

public static unsafe partial class Libc
{
    // posix_spawn: glibc forks with CLONE_VM|CLONE_VFORK, safe from a multi-threaded process, and takes the
    // whole argv (argv[0] included), which System.Diagnostics.Process cannot.
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int posix_spawn(out int pid, string path, void* fileActions, void* attr, byte** argv, byte** envp);
    [LibraryImport(Lib)] public static partial int posix_spawn_file_actions_init(void* fileActions);
    [LibraryImport(Lib)] public static partial int posix_spawn_file_actions_adddup2(void* fileActions, SafeHandle fd, int newfd);
    [LibraryImport(Lib)] public static partial int posix_spawn_file_actions_destroy(void* fileActions);
    [LibraryImport(Lib, SetLastError = true)] public static partial int pipe2(int* fds, int flags);

    public const int PosixSpawnFileActionsSize = 80;

    /// <summary>pipe2(O_CLOEXEC): its read and write ends, owned.</summary>
    public static (SafeFd Read, SafeFd Write) Pipe(string what)
    {
        int* fds = stackalloc int[2];
        Errno.Check(pipe2(fds, O_CLOEXEC), "pipe2", what);
        return (SafeFd.Own(fds[0]), SafeFd.Own(fds[1]));
    }

    /// <summary>posix_spawn of <paramref name="path"/> with its whole argv and env, each of
    /// <paramref name="fds"/>' fds dup2'ed onto its target in the child (all else cnr holds is O_CLOEXEC);
    /// returns the pid. The targets must not be the number of a later source. The file actions record the
    /// sources' numbers, dup2'ed when posix_spawn runs: the caller keeps the handles open until this returns.</summary>
    public static int Spawn(string path, IReadOnlyList<string> argv, IReadOnlyList<string> envp, ReadOnlySpan<(SafeFd Fd, int Target)> fds)
    {
        byte* actions = stackalloc byte[PosixSpawnFileActionsSize];
        posix_spawn_file_actions_init(actions);
        foreach (var (fd, target) in fds) posix_spawn_file_actions_adddup2(actions, fd, target);
        int pid, rc;
        using (var strings = new NativeStrings())
            rc = posix_spawn(out pid, path, actions, null, strings.Array(argv), strings.Array(envp));
        posix_spawn_file_actions_destroy(actions);
        return rc == 0 ? pid : throw new SyscallException("posix_spawn", (Error)rc, path);
    }

    /// <summary>cnr's own environment as KEY=VALUE strings, for a program that inherits it.</summary>
    public static string[] CurrentEnvironment()
        => Environment.GetEnvironmentVariables().Keys.Cast<string>().Select(k => $"{k}={Environment.GetEnvironmentVariable(k)}").ToArray();
}
