/*
 * Known-wrong variant of procpool: when fork() fails it returns -1 at
 * once. The children already running are never waited for: they end as
 * zombies (or run on after the pool has returned), and their results are
 * never filled in.
 *
 * Caught by test_fork_fails_halfway.
 */
#include "procpool.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* Wait for whichever child ends first; resume after a signal. */
static pid_t procpool_wait_any(int *wstatus)
{
    pid_t pid;
    while ((pid = waitpid(-1, wstatus, 0)) == -1) {
        if (errno != EINTR)
            return -1;
    }
    return pid;
}

int procpool_run(size_t njobs, size_t k, procpool_job_fn job, void *ctx,
                 procpool_result *results)
{
    if (job == NULL || k == 0 || (results == NULL && njobs > 0)) {
        errno = EINVAL;
        return -1;
    }
    for (size_t j = 0; j < njobs; j++)
        results[j] = (procpool_result){.pid = 0, .code = -1, .signo = 0};

    size_t next = 0;     /* the next job to start */
    size_t running = 0;  /* children started and not yet reaped */
    size_t stop = njobs; /* start no job from here on (after an error) */
    int error = 0, failed = 0;
    while (next < stop || running > 0) {
        if (next < stop && running < k) {
            if (fflush(NULL) == EOF) {
                error = errno;
                stop = next;
                continue;
            }
            pid_t pid = fork();
            if (pid == -1)
                return -1; /* BUG: the running children are abandoned */
            if (pid == 0)
                _exit(job(next, ctx) & 0xff);
            results[next].pid = pid;
            next++;
            running++;
            continue;
        }

        /* Every slot is taken, or no job is left to start. */
        int ws;
        pid_t pid = procpool_wait_any(&ws);
        if (pid == -1) {
            error = errno; /* ECHILD: our children are gone */
            break;
        }
        size_t j = 0;
        while (j < next && results[j].pid != pid)
            j++;
        if (j == next)
            continue; /* not one of ours (see the contract) */
        running--;
        if (WIFEXITED(ws)) {
            results[j].code = WEXITSTATUS(ws);
        } else {
            results[j].signo = WIFSIGNALED(ws) ? WTERMSIG(ws) : 0;
        }
        if (results[j].code != 0)
            failed++;
    }
    if (error != 0) {
        errno = error;
        return -1;
    }
    return failed;
}
