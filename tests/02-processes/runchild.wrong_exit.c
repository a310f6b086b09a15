/*
 * Known-wrong variant of runchild: the child ends with exit() instead of
 * _exit(), so it runs the caller's atexit() handlers (and would flush a
 * copy of the caller's stdio buffers). Caught by
 * test_child_ends_with__exit.
 */
#include "runchild.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
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
    if (fflush(NULL) == EOF)
        return -1;
    pid_t pid = fork();
    if (pid == -1)
        return -1;
    if (pid == 0)
        exit(fn(ctx) & 0xff); /* BUG: runs atexit() handlers, flushes stdio */

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
