/*
 * procpool: M jobs, at most K worker processes alive at once.
 *
 * The contract is in procpool.h. Run the tests with
 *
 *     make check CHAPTER=2 EXERCISE=procpool
 *
 * and ask for a hint with `make hint CHAPTER=2 EXERCISE=procpool`.
 */
#include "procpool.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

int procpool_run(size_t njobs, size_t k, procpool_job_fn job, void *ctx,
                 procpool_result *results)
{
    /* TODO: check the arguments, then loop while jobs remain or children
     * are running: when a slot is free (fewer than k running) and a job
     * is left, fork() a child for it (the child runs job(j, ctx) and
     * _exit()s); otherwise waitpid(-1, ...) for whichever child ends
     * first, find its job by pid, record its status and free its slot.
     * Count carefully: never more than k at once, and exactly k when
     * there is enough work.
     * Read: chapter 2, "A pool of worker processes" and "Waiting for
     * children: wait() and waitpid()". */
    (void)njobs;
    (void)k;
    (void)job;
    (void)ctx;
    (void)results;
    errno = ENOSYS;
    return -1;
}
