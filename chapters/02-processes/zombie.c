/*
 * zombie: a child that has ended but has not been waited for.
 *
 * The child exits at once. The parent waits until it has ended without
 * collecting its status, runs ps to show it (state Z, "<defunct>"), keeps
 * it a zombie for a while, then reaps it with waitpid() and runs ps again:
 * the zombie is gone.
 *
 *     zombie [ms]
 *
 * ms is how long the zombie is kept (default 500). To watch it from
 * another terminal, give it time: `zombie 20000 &` then `ps -l`.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "die.h"

static void zombie_ps(pid_t parent, pid_t child)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "ps -o pid,ppid,stat,args -p %ld,%ld",
             (long)parent, (long)child);
    if (fflush(stdout) == EOF)
        die("fflush");
    /* system() runs the command in a shell and waits for that shell only;
     * ps exits 1 when a pid is not found, which is fine here. */
    if (system(cmd) == -1)
        die("system");
}

static void zombie_sleep_ms(long ms)
{
    struct timespec left = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&left, &left) == -1)
        if (errno != EINTR)
            die("nanosleep");
}

int main(int argc, char *argv[])
{
    long ms = argc > 1 ? strtol(argv[1], NULL, 10) : 500;
    if (ms < 0 || ms > 600000) {
        fprintf(stderr, "usage: zombie [ms]   (0 to 600000)\n");
        return 2;
    }

    if (fflush(stdout) == EOF)
        die("fflush");
    // [zombie]
    pid_t child = fork();
    if (child == -1)
        die("fork");
    if (child == 0)
        _exit(7); /* the child is done at once */

    /* Wait until the child has ended, but leave its status uncollected
     * (WNOWAIT): it stays a zombie. */
    siginfo_t info;
    if (waitid(P_PID, (id_t)child, &info, WEXITED | WNOWAIT) == -1)
        die("waitid");
    printf("child %ld has exited; nobody has waited for it yet:\n",
           (long)child);
    zombie_ps(getpid(), child);
    zombie_sleep_ms(ms);

    int status;
    if (waitpid(child, &status, 0) == -1) /* reap it */
        die("waitpid");
    printf("reaped child %ld (exit status %d); ps again:\n", (long)child,
           WEXITSTATUS(status));
    zombie_ps(getpid(), child);
    // [zombie]
    return 0;
}
