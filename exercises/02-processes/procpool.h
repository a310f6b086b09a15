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
 *
 * Promises (each checked by the tests that name its tag):
 *
 * - [each-once] Every job 0 to M-1 runs exactly once, in a child process
 *   of its own, and results[j] describes job j (results[j].pid is its
 *   child's pid), whatever order the jobs end in.
 * - [status] results[j].code is job j's exit code (0 to 255), or -1 when
 *   a signal killed it; results[j].signo is that signal, or 0.
 * - [exit-code] A job's child exits with the low 8 bits of the value the
 *   job returned, and the job is judged by that exit code: 7 fails with
 *   code 7, while 256 arrives as 0 and succeeds like 0.
 * - [count] procpool_run() returns how many jobs failed: those that
 *   exited with a code other than 0 and those a signal killed.
 * - [bound] There are never more than K children alive at once.
 * - [full] There are K children alive whenever at least K jobs remain
 *   (and all M at once when M <= K): the pool is full while there is
 *   enough work.
 * - [any-child] The pool waits for whichever child ends first
 *   (`waitpid(-1, ...)`), not for the oldest, and starts the next job in
 *   the freed slot at once: a slow job does not hold up the jobs behind
 *   it. It waits for every child it started, even one that moved itself
 *   to a process group of its own (`setpgid()`).
 * - [sleeps] While it waits, procpool_run() sleeps in `waitpid()` until
 *   a child ends: it does not poll (`WNOHANG` in a loop), so waiting
 *   costs it no CPU time.
 * - [flush] procpool_run() flushes every stdio output stream before it
 *   starts a job, so text the caller left in a buffer is written once,
 *   before anything the jobs write. (The pool prints nothing itself, so
 *   flushing once before the first fork() is enough.)
 * - [exit] Each child ends with `_exit()`: it never runs the caller's
 *   `atexit()` handlers.
 * - [eintr] A `waitpid()` that a signal handler interrupts (`EINTR`) is
 *   resumed.
 * - [reaped] When procpool_run() returns, every child it started has
 *   been reaped, on every path: none is left running or a zombie.
 * - [empty] With M = 0 procpool_run() returns 0 and starts nothing;
 *   results may then be NULL.
 * - [einval] A NULL job, K = 0, or a NULL results while M > 0 gives -1
 *   with `errno` `EINVAL`, and nothing is started.
 * - [fork-fails] When `fork()` fails, the pool starts no more jobs, waits
 *   for the children already running, fills in their results, and then
 *   returns -1 with the `errno` of `fork()` (`EAGAIN`).
 * - [flush-fails] When the `fflush()` before the first job fails (a
 *   stream on `/dev/full`), procpool_run() starts no job and returns -1
 *   with its `errno` (`ENOSPC`).
 * - [wait-fails] When `waitpid()` fails with anything but `EINTR`
 *   (`ECHILD` when someone else reaped the pool's children, as the
 *   kernel does when `SIGCHLD` is set to `SIG_IGN`), the pool starts no
 *   more jobs and returns -1 with that `errno`. The jobs whose status
 *   was lost keep code -1 and signo 0.
 * - [not-started] When the pool stops early (`fork()`, `fflush()` or
 *   `waitpid()` failed), every job it never started has {pid 0, code -1,
 *   signo 0}, whatever the array held before.
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
 * @return the child's exit code: 0 for success, 1 to 255 for failure.
 *         Only the low 8 bits reach the parent, as with `_exit()`: 256
 *         arrives as 0, a success, and 300 as 44.
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
     *  started (procpool_run() stopped early because `fork()`,
     *  `fflush()` or `waitpid()` failed). */
    pid_t pid;
    /** The job's exit code (0 to 255), or -1 when a signal killed it, it
     *  never ran, or its status was lost (`ECHILD`). */
    int code;
    /** The signal that killed the job's child (SIGSEGV, SIGKILL, ...), or
     *  0 when it exited or never ran. */
    int signo;
} procpool_result;

/**
 * @brief Run @p njobs jobs with at most @p k child processes alive at any
 *        moment, and report how each ended.
 *
 * Flushes stdio before it starts the jobs; each child calls `job(j, ctx)`
 * and ends with `_exit()`. The pool starts a new job as soon as a slot is
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
 *         - any `errno` of `fflush()` (`ENOSPC`, `EIO`, ...; no job is
 *           started) or of `waitpid()` other than `EINTR` (`ECHILD` when
 *           someone else reaped the pool's children; no more jobs are
 *           started).
 */
int procpool_run(size_t njobs, size_t k, procpool_job_fn job, void *ctx,
                 procpool_result *results);

#endif
