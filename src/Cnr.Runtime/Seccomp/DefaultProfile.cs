using Cnr.Linux;
using Cnr.Spec;

namespace Cnr.Seccomp;

/// <summary>The profile `cnr spec --seccomp default` writes, in the spirit of Docker's default: an allowlist.
/// Every system call not named here fails with EPERM. What is left out is what reaches kernel state shared with
/// the host or widens the attack surface, and what a process needs capabilities for anyway: mounts and namespaces
/// (mount, umount2, pivot_root, unshare, setns, the new mount API), keyrings (keyctl, add_key, request_key), bpf,
/// ptrace and process_vm_*, kernel modules and kexec, reboot, swapon/swapoff, acct, setting the clock,
/// userfaultfd, perf_event_open, file handles (open_by_handle_at, name_to_handle_at), iopl/ioperm, lookup_dcookie,
/// quotactl, syslog, NUMA policy, sethostname/setdomainname.</summary>
public static class DefaultProfile
{
    private const string Allow = "SCMP_ACT_ALLOW";

    // clone() flags that create namespaces: CLONE_NEWNS|CLONE_NEWCGROUP|CLONE_NEWUTS|CLONE_NEWIPC|CLONE_NEWUSER|
    // CLONE_NEWPID|CLONE_NEWNET.
    private const ulong CloneNewNamespaces = 0x7E020000;

    private const uint AF_VSOCK = 40;

    // One group per reason it is safe; the kernel still checks capabilities and permissions on every one.
    private static readonly string[][] Allowed =
    [
        // Process lifetime, ids and limits: what every program does to start, wait and exit.
        ["execve", "execveat", "exit", "exit_group", "fork", "vfork", "wait4", "waitid", "waitpid", "getpid",
         "getppid", "gettid", "getpgid", "getpgrp", "setpgid", "getsid", "setsid", "kill", "tkill", "tgkill",
         "pidfd_open", "pidfd_send_signal", "restart_syscall", "set_tid_address", "set_robust_list",
         "get_robust_list", "rseq", "prctl", "arch_prctl", "modify_ldt", "set_thread_area", "get_thread_area",
         "capget", "capset", "uname", "sysinfo", "times", "getrusage", "getrlimit", "setrlimit", "ugetrlimit",
         "prlimit64", "getpriority", "setpriority", "ioprio_get", "ioprio_set", "getcpu", "membarrier", "seccomp"],
        // Scheduling of the process's own threads.
        ["sched_getaffinity", "sched_setaffinity", "sched_getattr", "sched_setattr", "sched_getparam",
         "sched_setparam", "sched_getscheduler", "sched_setscheduler", "sched_get_priority_max",
         "sched_get_priority_min", "sched_rr_get_interval", "sched_rr_get_interval_time64", "sched_yield"],
        // Credentials: changing them needs CAP_SETUID/CAP_SETGID, which the kernel checks.
        ["getuid", "getuid32", "geteuid", "geteuid32", "getgid", "getgid32", "getegid", "getegid32", "getresuid",
         "getresuid32", "getresgid", "getresgid32", "getgroups", "getgroups32", "setuid", "setuid32", "setgid",
         "setgid32", "setreuid", "setreuid32", "setregid", "setregid32", "setresuid", "setresuid32", "setresgid",
         "setresgid32", "setgroups", "setgroups32", "setfsuid", "setfsuid32", "setfsgid", "setfsgid32"],
        // Memory of the process itself.
        ["brk", "mmap", "mmap2", "munmap", "mprotect", "mremap", "madvise", "mincore", "mlock", "mlock2",
         "mlockall", "munlock", "munlockall", "msync", "remap_file_pages", "pkey_alloc", "pkey_free",
         "pkey_mprotect", "map_shadow_stack", "memfd_create", "memfd_secret", "process_mrelease"],
        // Files and directories, which permissions and the mount namespace already confine.
        ["open", "openat", "openat2", "creat", "close", "close_range", "read", "write", "readv", "writev",
         "pread64", "pwrite64", "preadv", "pwritev", "preadv2", "pwritev2", "lseek", "_llseek", "dup", "dup2",
         "dup3", "fcntl", "fcntl64", "flock", "fsync", "fdatasync", "sync", "syncfs", "sync_file_range",
         "truncate", "truncate64", "ftruncate", "ftruncate64", "fallocate", "fadvise64", "fadvise64_64",
         "readahead", "stat", "stat64", "lstat", "lstat64", "fstat", "fstat64", "fstatat64", "newfstatat",
         "statx", "statfs", "statfs64", "fstatfs", "fstatfs64", "access", "faccessat", "faccessat2", "chdir",
         "fchdir", "getcwd", "getdents", "getdents64", "mkdir", "mkdirat", "mknod", "mknodat", "rmdir", "rename",
         "renameat", "renameat2", "link", "linkat", "symlink", "symlinkat", "unlink", "unlinkat", "readlink",
         "readlinkat", "chmod", "fchmod", "fchmodat", "fchmodat2", "chown", "chown32", "fchown", "fchown32",
         "fchownat", "lchown", "lchown32", "umask", "utime", "utimes", "utimensat", "utimensat_time64",
         "futimesat", "chroot", "copy_file_range", "sendfile", "sendfile64", "splice", "tee", "vmsplice", "ioctl",
         "getxattr", "lgetxattr", "fgetxattr", "setxattr", "lsetxattr", "fsetxattr", "listxattr", "llistxattr",
         "flistxattr", "removexattr", "lremovexattr", "fremovexattr", "inotify_init", "inotify_init1",
         "inotify_add_watch", "inotify_rm_watch", "fanotify_mark"],
        // Waiting for events, pipes and asynchronous I/O.
        ["poll", "ppoll", "ppoll_time64", "select", "_newselect", "pselect6", "pselect6_time64", "epoll_create",
         "epoll_create1", "epoll_ctl", "epoll_ctl_old", "epoll_wait", "epoll_wait_old", "epoll_pwait",
         "epoll_pwait2", "eventfd", "eventfd2", "signalfd", "signalfd4", "timerfd_create", "timerfd_settime",
         "timerfd_settime64", "timerfd_gettime", "timerfd_gettime64", "pipe", "pipe2", "futex", "futex_time64",
         "futex_waitv", "io_setup", "io_destroy", "io_submit", "io_cancel", "io_getevents", "io_pgetevents",
         "io_pgetevents_time64", "io_uring_setup", "io_uring_enter", "io_uring_register"],
        // Signals.
        ["rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigpending", "rt_sigsuspend", "rt_sigtimedwait",
         "rt_sigtimedwait_time64", "rt_sigqueueinfo", "rt_tgsigqueueinfo", "sigaltstack", "sigreturn",
         "sigprocmask", "pause", "alarm", "getitimer", "setitimer"],
        // Reading clocks, sleeping and timers (setting the clock is left out: it is the host's clock).
        ["clock_gettime", "clock_gettime64", "clock_getres", "clock_getres_time64", "clock_nanosleep",
         "clock_nanosleep_time64", "nanosleep", "gettimeofday", "time", "adjtimex", "clock_adjtime",
         "clock_adjtime64", "timer_create", "timer_delete", "timer_settime", "timer_settime64", "timer_gettime",
         "timer_gettime64", "timer_getoverrun"],
        // Sockets (the network namespace confines them; socket() itself is below).
        ["socketpair", "bind", "connect", "listen", "accept", "accept4", "getsockname", "getpeername",
         "getsockopt", "setsockopt", "send", "sendto", "sendmsg", "sendmmsg", "recv", "recvfrom", "recvmsg",
         "recvmmsg", "recvmmsg_time64", "shutdown", "socketcall"],
        // System V IPC and POSIX message queues, confined by the IPC namespace.
        ["ipc", "msgget", "msgsnd", "msgrcv", "msgctl", "semget", "semop", "semtimedop", "semtimedop_time64",
         "semctl", "shmget", "shmat", "shmdt", "shmctl", "mq_open", "mq_unlink", "mq_timedsend",
         "mq_timedsend_time64", "mq_timedreceive", "mq_timedreceive_time64", "mq_notify", "mq_getsetattr"],
        // Randomness, and Landlock, which lets a program sandbox itself further.
        ["getrandom", "landlock_create_ruleset", "landlock_add_rule", "landlock_restrict_self"],
    ];

    // personality(): only Linux, 32-bit Linux, the UNAME26 variants and the query 0xffffffff; other personas
    // (READ_IMPLIES_EXEC, ADDR_NO_RANDOMIZE…) weaken the memory protections of the process.
    private static readonly ulong[] Personalities = [0x0, 0x8, 0x20000, 0x20008, 0xffffffff];

    public static LinuxSeccomp Create()
    {
        var syscalls = Allowed.Select(names => new LinuxSyscall { Names = [.. names], Action = Allow }).ToList();
        // clone() without any CLONE_NEW* flag: fork and threads work, new namespaces do not.
        syscalls.Add(new LinuxSyscall
        {
            Names = ["clone"], Action = Allow,
            Args = [new LinuxSeccompArg { Index = 0, Value = CloneNewNamespaces, ValueTwo = 0, Op = "SCMP_CMP_MASKED_EQ" }],
        });
        // clone3() passes its flags in memory, which seccomp cannot read: ENOSYS makes libc fall back to clone().
        syscalls.Add(new LinuxSyscall { Names = ["clone3"], Action = "SCMP_ACT_ERRNO", ErrnoRet = (uint)Error.ENOSYS });
        // Any socket family but AF_VSOCK, which reaches the hypervisor or host, not the network namespace.
        syscalls.Add(new LinuxSyscall
        {
            Names = ["socket"], Action = Allow,
            Args = [new LinuxSeccompArg { Index = 0, Value = AF_VSOCK, Op = "SCMP_CMP_NE" }],
        });
        syscalls.AddRange(Personalities.Select(p => new LinuxSyscall
        {
            Names = ["personality"], Action = Allow,
            Args = [new LinuxSeccompArg { Index = 0, Value = p, Op = "SCMP_CMP_EQ" }],
        }));
        return new LinuxSeccomp
        {
            DefaultAction = "SCMP_ACT_ERRNO",
            DefaultErrnoRet = (uint)Error.EPERM,
            // 64- and 32-bit x86 programs. Not x32 (Docker adds it): most distribution kernels ship without
            // CONFIG_X86_X32_ABI, and libseccomp needs ≈25 ms more per container to build a filter for it; x32
            // system calls then meet the bad-architecture action and kill the process.
            Architectures = ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
            Syscalls = syscalls,
        };
    }
}
