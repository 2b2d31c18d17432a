using System.Runtime.InteropServices;

namespace Cnr.Linux;

public static unsafe partial class Libc
{
    // posix_spawn: glibc forks with CLONE_VM|CLONE_VFORK, safe from a multi-threaded process, and takes the
    // whole argv (argv[0] included), which System.Diagnostics.Process cannot.
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int posix_spawn(out int pid, string path, void* fileActions, void* attr, byte** argv, byte** envp);
    [LibraryImport(Lib)] public static partial int posix_spawn_file_actions_init(void* fileActions);
    [LibraryImport(Lib)] public static partial int posix_spawn_file_actions_adddup2(void* fileActions, int fd, int newfd);
    [LibraryImport(Lib)] public static partial int posix_spawn_file_actions_destroy(void* fileActions);
    [LibraryImport(Lib, SetLastError = true)] public static partial int pipe2(int* fds, int flags);

    public const int PosixSpawnFileActionsSize = 80;
}
