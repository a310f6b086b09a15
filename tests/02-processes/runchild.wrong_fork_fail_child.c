/*
 * Known-wrong variant of runchild: it takes any pid that is not positive
 * for "I am the child". When fork() fails it returns -1, and the caller
 * itself then runs fn and _exit()s: the program that asked for a child
 * ends instead.
 *
 * Caught by test_fork_fails, whose fn fails the test when it runs in the
 * test's own process.
 */
#include "runchild.h"

#include <errno.h>
#include <stdio.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

int runchild_decode(int wstatus, runchild_status *out)
{
    if (out == NULL) {
        errno = EINVAL;
        return -1;
    }
    runchild_status st = {.pid = 0};
    if (WIFEXITED(wstatus)) {
        st.how = RUNCHILD_EXITED;
        st.code = WEXITSTATUS(wstatus);
        st.signo = 0;
    } else if (WIFSIGNALED(wstatus)) {
        st.how = RUNCHILD_SIGNALED;
        st.code = -1;
        st.signo = WTERMSIG(wstatus);
    } else {
        /* Stopped or continued: the child has not ended. */
        errno = EINVAL;
        return -1;
    }
    *out = st;
    return 0;
}

int runchild_run(runchild_fn fn, void *ctx, runchild_status *out)
{
    if (fn == NULL || out == NULL) {
        errno = EINVAL;
        return -1;
    }
    /* Whatever sits in a stdio buffer now would be copied into the child
     * and could be written twice. */
    if (fflush(NULL) == EOF)
        return -1;

    pid_t pid = fork();
    if (pid <= 0) /* BUG: -1 is a failure, not the child */
        _exit(fn(ctx) & 0xff);

    int wstatus;
    while (waitpid(pid, &wstatus, 0) == -1) {
        if (errno != EINTR)
            return -1;
    }
    runchild_status st;
    if (runchild_decode(wstatus, &st) == -1)
        return -1;
    st.pid = pid;
    *out = st;
    return 0;
}
