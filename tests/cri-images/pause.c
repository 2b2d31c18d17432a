/* The pod sandbox's process for the CRI check's pause image (tests/cri-images/build.sh): it only holds the
 * pod's namespaces. With shareProcessNamespace it is PID 1 of the pod, so it reaps the orphans the other
 * containers leave; SIGINT/SIGTERM (StopPodSandbox) end it, which PID 1 would otherwise ignore. */
#include <signal.h>
#include <stddef.h>
#include <sys/wait.h>
#include <unistd.h>

static void stop(int sig)
{
    (void)sig;
    _exit(0);
}

static void reap(int sig)
{
    (void)sig;
    while (waitpid(-1, NULL, WNOHANG) > 0)
        ;
}

int main(void)
{
    struct sigaction sa = { 0 };
    sa.sa_handler = stop;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = reap;
    sa.sa_flags = SA_NOCLDSTOP | SA_RESTART;
    sigaction(SIGCHLD, &sa, NULL);
    for (;;)
        pause();
}
