/*
 * Known-wrong variant of runchild: the wait status is decoded as if every
 * child exited (WEXITSTATUS without WIFSIGNALED), so a child killed by a
 * signal is reported as "exited with code 0". Caught by
 * test_killed_by_sigsegv, test_killed_by_sigkill and
 * test_decode_real_statuses.
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
    if (WIFSTOPPED(wstatus)) {
        errno = EINVAL;
        return -1;
    }
    /* BUG: a signal death has no exit code; WIFSIGNALED is never asked. */
    out->how = RUNCHILD_EXITED;
    out->code = WEXITSTATUS(wstatus);
    out->signo = 0;
    out->pid = 0;
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
