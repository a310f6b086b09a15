/*
 * wait_status: how a child ended, decoded from waitpid()'s status.
 *
 * The program starts four children that end in four different ways:
 * returning 0, exiting with code 3, calling abort() (SIGABRT) and being
 * killed by the parent with SIGKILL. It waits for each one with waitpid()
 * and decodes the status with WIFEXITED / WEXITSTATUS and
 * WIFSIGNALED / WTERMSIG.
 *
 *     wait_status
 *
 * The output is the same on every run.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "die.h"

#define WAIT_STATUS_CHILDREN 4

/* What child number `which` does with its life. */
static void wait_status_child(int which)
{
    switch (which) {
    case 0:
        _exit(0); /* success */
    case 1:
        _exit(3); /* a failure the program chose to report */
    case 2:
        abort(); /* a crash: killed by SIGABRT */
    default:
        for (;;) /* waits until the parent kills it */
            pause();
    }
}

// [decode]
/* Print how a child ended, from the status waitpid() filled in. */
static void wait_status_print(int status)
{
    if (WIFEXITED(status))
        printf("exited, status %d\n", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        printf("killed by signal %d (%s)\n", WTERMSIG(status),
               strsignal(WTERMSIG(status)));
    else
        printf("stopped or continued (status 0x%x)\n", (unsigned)status);
}
// [decode]

int main(void)
{
    pid_t pids[WAIT_STATUS_CHILDREN];

    if (fflush(stdout) == EOF)
        die("fflush");
    for (int i = 0; i < WAIT_STATUS_CHILDREN; i++) {
        pids[i] = fork();
        if (pids[i] == -1)
            die("fork");
        if (pids[i] == 0)
            wait_status_child(i); /* never returns */
    }
    /* The last child would wait forever: end it. */
    if (kill(pids[WAIT_STATUS_CHILDREN - 1], SIGKILL) == -1)
        die("kill");

    // [wait]
    for (int i = 0; i < WAIT_STATUS_CHILDREN; i++) {
        int status;
        pid_t got;
        do /* a signal can interrupt the wait: wait again */
            got = waitpid(pids[i], &status, 0);
        while (got == -1 && errno == EINTR);
        if (got == -1)
            die("waitpid");
        printf("child %d: ", i);
        wait_status_print(status);
    }
    // [wait]
    return 0;
}
