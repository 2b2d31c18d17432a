/*
 * cnr_native.c — the one step of cnr that is written in C.
 *
 * Why this file exists: a .NET process is always multi-threaded, so it can neither unshare(CLONE_NEWUSER)
 * nor setns() into a mount or user namespace, and fork() followed by managed code is unsafe (the other
 * threads' locks and GC state are copied half-way). runc has nsexec.c for the same reason.
 *
 * What it may do: create the child process with clone(), join or create namespaces in it, wait for the
 * parent to write the uid/gid maps and place it in its cgroup, then execve() the sealed copy of cnr as
 * `cnr init`. Everything else (mounts, pivot_root, capabilities, seccomp, cgroups, rlimits) is C# in the
 * re-executed init.
 *
 * The rule in the child: async-signal-safe calls only — raw syscalls, no malloc, no stdio, no locks, no
 * errno-setting library state that another thread could have held. The child never returns to C#.
 *
 * One more step runs in the re-executed image itself: see cnr_join_mount_namespace at the end.
 *
 * Messages on the sync socket (SOCK_SEQPACKET, one datagram each) sent by this file:
 *   'R'            the child is in its namespaces: the parent may write uid_map/gid_map and cgroup.procs
 *   'P' <int32>    (only with fork_after_join) the pid of the real init, as the parent sees it
 *   'X' <int32>    a step failed before execve; the int is errno, followed by the step's name
 * and received: 'G' — go ahead (maps written). EOF instead of 'G' means the parent died: the child exits.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

struct cnr_spawn_args {
    uint64_t clone_flags;      /* CLONE_NEW* given to clone() itself (no joins) */
    uint64_t unshare_flags;    /* CLONE_NEW* created in the child after the joins */
    int32_t exe_fd;            /* the sealed copy of cnr, run with execveat(AT_EMPTY_PATH) */
    int32_t sync_fd;           /* the child's end of the sync socket */
    const char *const *argv;
    const char *const *envp;
    const int32_t *join_fds;   /* namespaces to join, in order (user first) */
    const int32_t *join_types; /* CLONE_NEW* of each, 0 = any */
    int32_t njoin;
    const int32_t *keep_fds;   /* fds that must survive execve: CLOEXEC is cleared on them */
    int32_t nkeep;
    int32_t fork_after_join;   /* joined/created pid or time ns: they apply to children only */
    const char *timens_offsets;/* written to /proc/self/timens_offsets after unshare(CLONE_NEWTIME) */
    int32_t become_root;       /* in a new or joined user namespace: switch to its uid/gid 0 before execve */
    uint64_t late_unshare_flags;/* after the go-ahead: CLONE_NEWCGROUP, once the parent has placed us in our cgroup */
};

static void send_msg(int fd, char type, int32_t value, const char *what)
{
    char buf[128];
    size_t n = 0;
    buf[n++] = type;
    memcpy(buf + n, &value, sizeof value);
    n += sizeof value;
    if (what) {
        size_t len = strlen(what);
        if (len > sizeof buf - n) len = sizeof buf - n;
        memcpy(buf + n, what, len);
        n += len;
    }
    while (send(fd, buf, n, MSG_NOSIGNAL) < 0 && errno == EINTR) {}
}

static __attribute__((noreturn)) void fail(int fd, const char *what)
{
    send_msg(fd, 'X', errno, what);
    _exit(127);
}

static void write_file(int sync_fd, const char *path, const char *data)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) fail(sync_fd, path);
    size_t len = strlen(data);
    if (write(fd, data, len) != (ssize_t)len) fail(sync_fd, path);
    close(fd);
}

static __attribute__((noreturn)) void child(const struct cnr_spawn_args *a)
{
    int fd = a->sync_fd;

    /* The .NET runtime ignores SIGPIPE and installs handlers; an ignored signal survives execve. */
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < _NSIG; sig++) {
        if (sig == SIGKILL || sig == SIGSTOP) continue;
        syscall(SYS_rt_sigaction, sig, &dfl, NULL, _NSIG / 8);
    }

    for (int i = 0; i < a->njoin; i++)
        if (setns(a->join_fds[i], a->join_types[i]) < 0) fail(fd, "setns");
    if (a->unshare_flags && unshare((int)a->unshare_flags) < 0) fail(fd, "unshare");
    if ((a->unshare_flags & CLONE_NEWTIME) && a->timens_offsets && a->timens_offsets[0])
        write_file(fd, "/proc/self/timens_offsets", a->timens_offsets);

    send_msg(fd, 'R', 0, NULL);
    char go = 0;
    ssize_t r;
    while ((r = recv(fd, &go, 1, 0)) < 0 && errno == EINTR) {}
    if (r != 1 || go != 'G') _exit(126);

    /* Writing uid_map does not change this process's credentials: it still holds the host's ids, which the
     * new namespace may not map, and execve would then drop every capability. Raw syscalls: glibc's
     * set*id broadcast to other threads must not run in this forked copy of a multi-threaded process. */
    if (a->become_root) {
        if (syscall(SYS_setresgid, 0, 0, 0) < 0) fail(fd, "setresgid");
        if (syscall(SYS_setresuid, 0, 0, 0) < 0) fail(fd, "setresuid");
    }

    /* A cgroup namespace is rooted at the cgroup its creator is in: made only now, after the parent moved
     * this process into the container's cgroup, it shows that cgroup as "/". */
    if (a->late_unshare_flags && unshare((int)a->late_unshare_flags) < 0) fail(fd, "unshare(CLONE_NEWCGROUP)");

    if (a->fork_after_join) {
        long pid = syscall(SYS_clone, CLONE_PARENT | SIGCHLD, NULL, NULL, NULL, NULL);
        if (pid < 0) fail(fd, "clone");
        if (pid > 0) {
            send_msg(fd, 'P', (int32_t)pid, NULL);
            _exit(0);
        }
    }

    for (int i = 0; i < a->nkeep; i++)
        if (fcntl(a->keep_fds[i], F_SETFD, 0) < 0) fail(fd, "fcntl");

    sigset_t none;
    sigemptyset(&none);
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, NULL, _NSIG / 8);
    syscall(SYS_execveat, a->exe_fd, "", a->argv, a->envp, AT_EMPTY_PATH);
    fail(fd, "execve");
}

/* Returns the child's pid (or the intermediate's, with fork_after_join), or -errno. */
int32_t cnr_spawn(const struct cnr_spawn_args *a)
{
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    long pid = syscall(SYS_clone, (unsigned long)a->clone_flags | SIGCHLD, NULL, NULL, NULL, NULL);
    if (pid == 0) child(a);
    int err = errno;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return pid < 0 ? -err : (int32_t)pid;
}

/*
 * `cnr init SYNCFD MNTNSFD` — the init of `cnr exec` joins the container's mount namespace here, in an ELF
 * constructor: after the dynamic loader has mapped cnr and libc from the host (the container may have no
 * loader of its own) and before the .NET runtime starts its threads (setns(CLONE_NEWNS) needs a
 * single-threaded caller). Every other invocation of cnr returns at the first comparison.
 */
__attribute__((constructor)) static void cnr_join_mount_namespace(int argc, char **argv, char **envp)
{
    (void)envp;
    if (argc < 4 || strcmp(argv[1], "init") != 0) return;
    int sync_fd = 0, ns_fd = 0;
    for (const char *p = argv[2]; *p >= '0' && *p <= '9'; p++) sync_fd = sync_fd * 10 + (*p - '0');
    for (const char *p = argv[3]; *p >= '0' && *p <= '9'; p++) ns_fd = ns_fd * 10 + (*p - '0');
    if (setns(ns_fd, CLONE_NEWNS) < 0) fail(sync_fd, "setns(mount)");
    close(ns_fd);
}
