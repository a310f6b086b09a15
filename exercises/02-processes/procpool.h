/**
 * @file procpool.h
 * @brief A pool of worker processes: M jobs, at most K children alive at
 *        once, every child reaped, every job's status reported.
 *
 * Exercise 3 of chapter 2 ("Processes: two things at once with fork()").
 *
 * procpool_run() runs jobs 0 to M-1, each in a child process of its own.
 * It starts children until K of them are alive, then waits for whichever
 * child ends first, records that job's status, and starts the next job in
 * the freed slot; at the end it waits for the last ones. So there are
 * never more than K children, and there are K of them whenever at least
 * K jobs remain: the pool is full as long as there is enough work.
 *
 * A job reports its outcome through its exit code (0 is success) or by
 * crashing; nothing it changes in memory reaches the caller (see
 * "Separate memory: copy-on-write").
 *
 * procpool_run() waits with `waitpid(-1, ...)`, for any child: while it
 * runs, the calling process must have no other children (they could be
 * reaped by the pool and their statuses lost). Call it from a
 * single-threaded program, one call at a time.
 */
#ifndef PROCPOOL_H
#define PROCPOOL_H

#include <stddef.h>
#include <sys/types.h>

/**
 * @brief One job, run in a child process of its own.
 *
 * @param job  the job's number, 0 to M-1.
 * @param ctx  the pointer given to procpool_run(): the child's copy of
 *             what it points to.
 * @return the child's exit code (only the low 8 bits reach the parent):
 *         0 for success, anything else for failure.
 */
typedef int (*procpool_job_fn)(size_t job, void *ctx);

/**
 * @brief How one job ended.
 *
 * results[j] describes job j. The caller owns the array; the pool only
 * fills it in.
 */
typedef struct procpool_result {
    /** The pid of the child that ran the job, or 0 when the job was never
     *  started (only after a failed fork(); see procpool_run()). */
    pid_t pid;
    /** The job's exit code (0 to 255), or -1 when a signal killed it or
     *  it never ran. */
    int code;
    /** The signal that killed the job's child (SIGSEGV, SIGKILL, ...), or
     *  0 when it exited or never ran. */
    int signo;
} procpool_result;

/**
 * @brief Run @p njobs jobs with at most @p k child processes alive at any
 *        moment, and report how each ended.
 *
 * Flushes stdio before each fork(); each child calls `job(j, ctx)` and
 * ends with `_exit()`. The pool starts a new job as soon as a slot is
 * free: it waits for *any* child (`waitpid(-1, ...)`), not for the oldest
 * one, so a slow job does not hold up the jobs behind it. A `waitpid()`
 * that a signal handler interrupts (`EINTR`) is resumed. When
 * procpool_run() returns, every child it started has been reaped: none is
 * left running and none is a zombie, on every path.
 *
 * @param njobs    how many jobs (M); 0 is allowed and does nothing.
 * @param k        the most children alive at once (K); at least 1. A
 *                 @p k larger than @p njobs is fine.
 * @param job      the work of one job; must not be NULL.
 * @param ctx      passed to every call of @p job; may be NULL.
 * @param results  an array of @p njobs results, filled in by job number
 *                 whatever the order the jobs end in; may be NULL only
 *                 when @p njobs is 0.
 * @return the number of failed jobs (exited with a code other than 0, or
 *         killed by a signal), 0 to @p njobs; -1 with `errno` set:
 *         - `EINVAL`: @p job is NULL, @p k is 0, or @p results is NULL
 *           while @p njobs > 0 (nothing is started);
 *         - `EAGAIN`, `ENOMEM`: `fork()` failed. The pool starts no more
 *           jobs, waits for the children already running and fills in
 *           their results; the jobs never started keep
 *           `{pid 0, code -1, signo 0}`;
 *         - any `errno` of `fflush()` (nothing more is started; the
 *           children already running are waited for as above) or of
 *           `waitpid()` other than `EINTR` (`ECHILD` when someone else
 *           reaped the pool's children).
 */
int procpool_run(size_t njobs, size_t k, procpool_job_fn job, void *ctx,
                 procpool_result *results);

#endif
