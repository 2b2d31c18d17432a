/*
 * cnr_native.c — the one step of cnr that is written in C.
 *
 * Why this file exists: a .NET process is always multi-threaded, so it can neither unshare(CLONE_NEWUSER)
 * nor setns() into a mount or user namespace, and fork() followed by managed code is unsafe (the other
 * threads' locks and GC state are copied half-way). runc has nsexec.c for the same reason.
 *
 * What it may do: create the child process with clone(), join or create namespaces in it, wait for the
 * parent to write the uid/gid maps and place it in its cgroup, then execve() cnr as `cnr init`: by default
 * the binary bound read-only onto itself in the child's own mount namespace, else a sealed memfd copy (see
 * the CVE-2019-5736 comment below). Everything else (mounts, pivot_root, capabilities, seccomp, cgroups, rlimits) is C# in the
 * re-executed init.
 *
 * One more thing needs a child that shares no fs_struct: cloning a user-namespaced container's bind sources in
 * its mount namespace (cnr_clone_in_mount_ns, below).
 *
 * The rule in the child: async-signal-safe calls only — raw syscalls, no malloc, no stdio, no locks, no
 * errno-setting library state that another thread could have held. The child never returns to C#.
 *
 * One more step runs in the re-executed image itself: see cnr_init_constructor at the end.
 *
 * The messages on the sync socket are documented in one place: src/Cnr.Runtime/Process/SyncSocket.cs. This file
 * sends SYNC_READY, SYNC_PID and SYNC_SPAWN_FAILED and receives SYNC_GO (below; a unit test,
 * tests/Cnr.Tests/Process/SyncProtocolTests.cs, holds them equal to the C# enum's values).
 *
 * The parent may be killed (kill -9) at any moment; every process made here must then go away by itself, or
 * it would hold the container's state lock and cgroup forever. Two mechanisms, as runc's nsexec uses both:
 * the child closes the parent's end of the socketpair at once (its copy would hide the parent's death: every
 * wait on the socket then ends in EOF), and PR_SET_PDEATHSIG(SIGKILL) kills it even while it is not waiting.
 * The kernel clears the death signal on fork and on any credential change (setresuid, capability drops), so
 * it is set again after each; the C# init clears it itself once the parent has recorded it (see Init.cs).
 */
#define _GNU_SOURCE
/* SyncMessage in SyncSocket.cs: the same characters, by name (SYNC_SPAWN_FAILED is SpawnFailed). */
#define SYNC_READY 'R'
#define SYNC_GO 'G'
#define SYNC_PID 'P'
#define SYNC_SPAWN_FAILED 'X'
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/statvfs.h> /* ST_* flags, as statfs(2) reports them in f_flags */
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
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
    int32_t cgroup_fd;         /* >= 0: clone3(CLONE_INTO_CGROUP) — start in the container's cgroup */
    const char *exe_path;      /* non-NULL: exec this path after binding it read-only onto itself (below) */
    int32_t parent_sync_fd;    /* the parent's end of the sync socket: closed in the child at once */
};

struct clone_args_v2 {          /* struct clone_args as of Linux 5.7 (CLONE_INTO_CGROUP) */
    uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size, cgroup;
};
#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

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
    send_msg(fd, SYNC_SPAWN_FAILED, errno, what);
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

/* Dies with the parent. The parent may already be gone by the time this runs (the signal is then never
 * sent): the sync socket tells, since the child holds no copy of the parent's end. */
static void die_with_parent(int sync_fd)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    struct pollfd p = { .fd = sync_fd, .events = POLLRDHUP };
    if (poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLRDHUP | POLLERR))) _exit(126);
}

static __attribute__((noreturn)) void child(const struct cnr_spawn_args *a)
{
    int fd = a->sync_fd;
    if (a->parent_sync_fd >= 0) close(a->parent_sync_fd);
    die_with_parent(fd);

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

    send_msg(fd, SYNC_READY, 0, NULL);
    char go = 0;
    ssize_t r;
    while ((r = recv(fd, &go, 1, 0)) < 0 && errno == EINTR) {}
    if (r != 1 || go != SYNC_GO) _exit(126);

    /* Writing uid_map does not change this process's credentials: it still holds the host's ids, which the
     * new namespace may not map, and execve would then drop every capability. Raw syscalls: glibc's
     * set*id broadcast to other threads must not run in this forked copy of a multi-threaded process. */
    if (a->become_root) {
        if (syscall(SYS_setresgid, 0, 0, 0) < 0) fail(fd, "setresgid");
        if (syscall(SYS_setresuid, 0, 0, 0) < 0) fail(fd, "setresuid");
        die_with_parent(fd);
    }

    /* A cgroup namespace is rooted at the cgroup its creator is in: made only now, after the parent moved
     * this process into the container's cgroup, it shows that cgroup as "/". */
    if (a->late_unshare_flags && unshare((int)a->late_unshare_flags) < 0) fail(fd, "unshare(CLONE_NEWCGROUP)");

    if (a->fork_after_join) {
        long pid = syscall(SYS_clone, CLONE_PARENT | SIGCHLD, NULL, NULL, NULL, NULL);
        if (pid < 0) fail(fd, "clone");
        if (pid > 0) {
            send_msg(fd, SYNC_PID, (int32_t)pid, NULL);
            _exit(0);
        }
        die_with_parent(fd); /* CLONE_PARENT: the parent is cnr's, as for the child */
    }

    for (int i = 0; i < a->nkeep; i++)
        if (fcntl(a->keep_fds[i], F_SETFD, 0) < 0) fail(fd, "fcntl");

    /* CVE-2019-5736: the init must not leave a container process a way to write the host's cnr through
     * /proc/PID/exe. In a new mount namespace of its own, binding the binary read-only onto itself and
     * exec'ing that path costs three mounts; otherwise the parent passed a sealed memfd copy (exe_fd).
     * "/" becomes a slave first so that nothing of this reaches the host's mount table. */
    if (a->exe_path) {
        if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0) fail(fd, "mount(\"/\", MS_REC|MS_SLAVE)");
        if (mount(a->exe_path, a->exe_path, NULL, MS_BIND, NULL) < 0) fail(fd, "mount(cnr, MS_BIND)");
        /* a remount must keep the flags a user namespace cannot clear */
        unsigned long keep = 0;
        struct statfs sf;
        if (statfs(a->exe_path, &sf) == 0) {
            if (sf.f_flags & ST_NOSUID) keep |= MS_NOSUID;
            if (sf.f_flags & ST_NODEV) keep |= MS_NODEV;
            if (sf.f_flags & ST_NOEXEC) keep |= MS_NOEXEC;
            if (sf.f_flags & ST_NOATIME) keep |= MS_NOATIME;
            if (sf.f_flags & ST_NODIRATIME) keep |= MS_NODIRATIME;
            if (sf.f_flags & ST_RELATIME) keep |= MS_RELATIME;
        }
        if (mount(NULL, a->exe_path, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | keep, NULL) < 0)
            fail(fd, "mount(cnr, MS_BIND|MS_REMOUNT|MS_RDONLY)");
    }

    sigset_t none;
    sigemptyset(&none);
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, NULL, _NSIG / 8);
    if (a->exe_path) syscall(SYS_execve, a->exe_path, a->argv, a->envp);
    else syscall(SYS_execveat, a->exe_fd, "", a->argv, a->envp, AT_EMPTY_PATH);
    fail(fd, "execve");
}

/* Returns the child's pid (or the intermediate's, with fork_after_join), or -errno. */
int32_t cnr_spawn(const struct cnr_spawn_args *a)
{
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    long pid = -1;
    /* Moving a process into a cgroup (cgroup.procs) takes the kernel's threadgroup lock for writing, which
     * waits for an RCU grace period: tens of ms on a busy machine. Starting the child there costs nothing. */
    if (a->cgroup_fd >= 0) {
        struct clone_args_v2 ca;
        memset(&ca, 0, sizeof ca);
        ca.flags = a->clone_flags | CLONE_INTO_CGROUP;
        ca.exit_signal = SIGCHLD;
        ca.cgroup = (uint64_t)a->cgroup_fd;
        pid = syscall(SYS_clone3, &ca, sizeof ca);
        if (pid == 0) child(a);
    }
    if (pid < 0) {
        pid = syscall(SYS_clone, (unsigned long)a->clone_flags | SIGCHLD, NULL, NULL, NULL, NULL);
        if (pid == 0) child(a);
    }
    int err = errno;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return pid < 0 ? -err : (int32_t)pid;
}

/*
 * cnr_clone_in_mount_ns — for a container in a user namespace started by root: its bind sources, cloned
 * (open_tree, OPEN_TREE_CLONE) inside the container's own mount namespace with the host root's reach, as runc's
 * nsexec opens its mount sources from the parent after a setns into the container's mount namespace. That
 * namespace is the kernel's copy of the host's for the new user namespace, in which every host mount's ro,
 * nosuid, nodev, noexec and atime flags are locked; a clone keeps the locks, so the container's root cannot
 * remount a bind source writable, suid, dev or exec. A clone made in the host's own namespace has nothing locked
 * (measured: `mount -o remount,bind,rw,suid,dev /mnt` inside succeeded; runc: permission denied).
 * setns(CLONE_NEWNS) needs a caller that shares its fs_struct with nobody, which no .NET thread does, so it runs
 * in a vfork-style child that shares the memory and the fd table (the clones land in the caller's table) but
 * not the fs_struct. All signals stay blocked in it: no handler of the runtime may run on the shared memory.
 */
struct cnr_clone_args {
    int32_t mntns_fd;          /* the container's mount namespace (/proc/PID/ns/mnt, or the one it joins) */
    int32_t count;
    const char *const *paths;  /* absolute */
    const uint32_t *flags;     /* open_tree flags: OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC [| AT_RECURSIVE] */
    int32_t *fds;              /* out: count clones */
    int32_t failed;            /* out: the index that failed, -1 for the setns */
};

static int clone_in_mount_ns_child(void *p)
{
    struct cnr_clone_args *a = p;
    if (syscall(SYS_setns, a->mntns_fd, CLONE_NEWNS) < 0) { a->failed = -1; return errno; }
    for (int i = 0; i < a->count; i++) {
        long fd = syscall(SYS_open_tree, AT_FDCWD, a->paths[i], a->flags[i]);
        if (fd < 0) { a->failed = i; return errno; }
        a->fds[i] = (int32_t)fd;
    }
    return 0;
}

/* 0, or -errno with a->failed set (the clones made before it are closed again). */
int32_t cnr_clone_in_mount_ns(struct cnr_clone_args *a)
{
    const size_t stack_size = 64 * 1024;
    for (int i = 0; i < a->count; i++) a->fds[i] = -1;
    void *stack = mmap(NULL, stack_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED) { a->failed = -1; return -errno; }
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int pid = clone(clone_in_mount_ns_child, (char *)stack + stack_size, CLONE_VM | CLONE_VFORK | CLONE_FILES | SIGCHLD, a);
    int err = pid < 0 ? errno : 0, status = 0;
    if (pid > 0) {
        while (waitpid(pid, &status, __WALL) < 0 && errno == EINTR) { }
        err = WIFEXITED(status) ? WEXITSTATUS(status) : EINTR;
    } else a->failed = -1;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    munmap(stack, stack_size);
    if (err != 0)
        for (int i = 0; i < a->count; i++)
            if (a->fds[i] >= 0) { close(a->fds[i]); a->fds[i] = -1; }
    return -err;
}

/*
 * `cnr init SYNCFD [MNTNSFD USERNS]` — runs as an ELF constructor of every `cnr init`, before the .NET runtime
 * starts its threads and before it reads a single file. Every other invocation of cnr returns at the first
 * comparison.
 *
 * First: non-dumpable, so that no process of the container can ptrace the init or open its /proc/PID/{root,exe,
 * fd}. For `cnr exec` (MNTNSFD given) it then joins the container's mount namespace here (setns(CLONE_NEWNS)
 * needs a single-threaded caller), after the dynamic loader mapped cnr and libc from the host.
 *
 * The .NET runtime's start-up opens files by path: /dev/urandom, /sys/devices/system/cpu/..., /proc/self/
 * mountinfo, /sys/fs/cgroup/... A container's image must not answer those (a FIFO there would hang `cnr exec`,
 * a crafted file would mislead it), so the init keeps an fd of the container's root and chroots back to the
 * host's root until the C# init has started (Init.JoinedInit enters the container's root through that fd,
 * before it resolves anything of process.*). That is safe only while the init is out of reach of the
 * container: non-dumpable protects it unless a process holds CAP_SYS_PTRACE in the user namespace its memory
 * was created in (mm->user_ns, fixed at execve) — hence the container's user namespace is joined here too,
 * after execve, where the init's mm already belongs to the host's. USERNS is that namespace's fd; "host" when
 * the container has none; "stay" when the native child had to join it before execve (a caller that is not
 * root needs it before any other join) and for a `create` that joins a mount namespace: the init then stays
 * in the root setns gave it.
 */
static int container_root_fd = -1;

/* The fd of the container's root that the C# exec init enters (fchdir + chroot "."), or -1. */
int32_t cnr_container_root_fd(void) { return container_root_fd; }

static int parse_fd(const char *s)
{
    int v = 0;
    for (; *s >= '0' && *s <= '9'; s++) v = v * 10 + (*s - '0');
    return v;
}

__attribute__((constructor)) static void cnr_init_constructor(int argc, char **argv, char **envp)
{
    (void)envp;
    if (argc < 3 || strcmp(argv[1], "init") != 0) return;
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    if (argc < 5) return;
    int sync_fd = parse_fd(argv[2]), ns_fd = parse_fd(argv[3]);
    int stay = strcmp(argv[4], "stay") == 0;
    int user_fd = stay || strcmp(argv[4], "host") == 0 ? -1 : parse_fd(argv[4]);
    int host_root = -1;
    if (!stay) {
        host_root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (host_root < 0) fail(sync_fd, "open(\"/\")");
    }
    if (user_fd >= 0) {
        if (setns(user_fd, CLONE_NEWUSER) < 0) fail(sync_fd, "setns(user)");
        close(user_fd);
        if (syscall(SYS_setresgid, 0, 0, 0) < 0) fail(sync_fd, "setresgid");
        if (syscall(SYS_setresuid, 0, 0, 0) < 0) fail(sync_fd, "setresuid");
        die_with_parent(sync_fd); /* a credential change cleared it */
    }
    if (setns(ns_fd, CLONE_NEWNS) < 0) fail(sync_fd, "setns(mount)");
    close(ns_fd);
    if (host_root >= 0) {
        /* setns put us at the container's root: keep it, then go back to the host's root for now */
        container_root_fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (container_root_fd < 0) fail(sync_fd, "open(\"/\") in the container");
        if (fchdir(host_root) < 0) fail(sync_fd, "fchdir(host root)");
        if (chroot(".") < 0) fail(sync_fd, "chroot(host root)");
        close(host_root);
    }
}
