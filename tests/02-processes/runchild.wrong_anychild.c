/*
 * Known-wrong variant of runchild: the parent waits with wait(), for any
 * child, and not for the one it forked. When the caller has another child
 * that has already ended, that child's status is returned (and stolen
 * from the caller), while the new child is left behind. Caught by
 * test_waits_for_its_own_child.
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
        _exit(fn(ctx) & 0xff);

    int wstatus;
    pid_t got;
    while ((got = wait(&wstatus)) == -1) { /* BUG: any child, not pid */
        if (errno != EINTR)
            return -1;
    }
    runchild_status st;
    if (runchild_decode(wstatus, &st) == -1)
        return -1;
    st.pid = got;
    *out = st;
    return 0;
}
