/*
 * sigchld_coalesce.c: two children exit, one SIGCHLD. A standard signal
 * is a flag, not a queue: while it is pending (here: blocked), more of the
 * same signal add nothing. The program blocks SIGCHLD, starts two
 * children that exit at once, waits until both are zombies (waitid() with
 * WNOWAIT, which reaps nothing), and unblocks:
 * the handler runs once. "once" reaps one child per signal, as a careless
 * handler does, and leaves a zombie; "loop" reaps with waitpid(WNOHANG)
 * until there is nobody left, and gets both.
 *
 * Run: sigchld_coalesce once|loop
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "die.h"

static volatile sig_atomic_t handled, reaped, loop;

// [handler]
static void on_chld(int sig)
{
    int saved = errno;
    (void)sig;
    handled++;
    if (loop) {
        while (waitpid(-1, NULL, WNOHANG) > 0) /* every child that is done */
            reaped++;
    } else if (waitpid(-1, NULL, WNOHANG) > 0) { /* the bug: one per signal */
        reaped++;
    }
    errno = saved;
}
// [handler]

int main(int argc, char **argv)
{
    if (argc != 2 ||
        (strcmp(argv[1], "once") != 0 && strcmp(argv[1], "loop") != 0)) {
        fprintf(stderr, "usage: sigchld_coalesce once|loop\n");
        return 2;
    }
    loop = strcmp(argv[1], "loop") == 0;
    struct sigaction sa = {.sa_handler = on_chld, .sa_flags = SA_RESTART};
    sigemptyset(&sa.sa_mask);
    sigset_t chld, old;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    if (sigaction(SIGCHLD, &sa, NULL) == -1 ||
        sigprocmask(SIG_BLOCK, &chld, &old) == -1)
        die("signals");
    fflush(stdout);
    // [children]
    pid_t kid[2];
    for (int i = 0; i < 2; i++) {
        if ((kid[i] = fork()) == -1)
            die("fork");
        if (kid[i] == 0)
            _exit(0);
    }
    for (int i = 0; i < 2; i++) { /* until each is a zombie, reaping none */
        siginfo_t si;
        if (waitid(P_PID, (id_t)kid[i], &si, WEXITED | WNOWAIT) == -1)
            die("waitid");
    }
    // [children]
    if (sigprocmask(SIG_SETMASK, &old, NULL) == -1) /* the handler runs here */
        die("sigprocmask");
    printf("%s: 2 children exited, handler ran %d time(s), reaped %d\n",
           argv[1], (int)handled, (int)reaped);
    int left = 0;
    while (waitpid(-1, NULL, WNOHANG) > 0) /* what the handler left behind */
        left++;
    printf("zombies left for the program to find: %d\n", left);
    return 0;
}
