/**
 * @file runchild.h
 * @brief Run a function in a child process and report how the child ended.
 *
 * Exercise 1 of chapter 2 ("Processes: two things at once with fork()").
 *
 * runchild_run() forks. The child calls the function it was given and
 * ends with `_exit()`, using the function's return value as its exit
 * code. The parent waits for that one child with `waitpid()` and turns
 * the raw wait status into a ::runchild_status: either "exited with code
 * N" or "killed by signal S". runchild_decode() is that second half on
 * its own, for a status the caller got from `waitpid()` itself.
 *
 * The function runs in a separate process: whatever it changes in memory
 * (globals, the heap, the caller's variables through @p ctx) is changed
 * in the child's copy only, and the caller never sees it. Results must
 * come back through the exit code, a pipe or a file.
 *
 * Every function here may be called from any thread, but a process that
 * forks while other threads hold locks gets a child in which those locks
 * stay held: call these from single-threaded programs, as the tests do.
 */
#ifndef RUNCHILD_H
#define RUNCHILD_H

#include <sys/types.h>

/** @brief How a child process ended. */
typedef enum runchild_how {
    /** It returned or called `_exit()`/`exit()`: runchild_status::code
     *  holds its exit code. */
    RUNCHILD_EXITED = 1,
    /** A signal ended it: runchild_status::signo holds the signal. */
    RUNCHILD_SIGNALED = 2
} runchild_how;

/**
 * @brief The decoded end of one child process.
 *
 * Filled in by runchild_run() or runchild_decode(); the caller owns it
 * (usually a local variable).
 */
typedef struct runchild_status {
    /** Whether the child exited or was killed by a signal. */
    runchild_how how;
    /** The exit code, 0 to 255, when runchild_status::how is
     *  ::RUNCHILD_EXITED; -1 otherwise. */
    int code;
    /** The number of the signal that killed the child (SIGSEGV,
     *  SIGKILL, ...) when runchild_status::how is ::RUNCHILD_SIGNALED;
     *  0 otherwise. */
    int signo;
    /** The process id the child had; it no longer exists once the status
     *  is known (it has been reaped). */
    pid_t pid;
} runchild_status;

/**
 * @brief The work a child does.
 *
 * Called once, in the child process, never in the caller's process.
 * @param ctx  the pointer given to runchild_run(), unchanged: the child's
 *             copy of whatever it points to.
 * @return the child's exit code. Only its low 8 bits reach the parent
 *         (a return value of 256 is seen as 0, 300 as 44), as with
 *         `_exit()`.
 */
typedef int (*runchild_fn)(void *ctx);

/**
 * @brief Run @p fn in a new child process and wait until it ends.
 *
 * Flushes every stdio output stream before forking, so that text the
 * caller printed but that was still in a buffer is written once and not
 * also by the child. The child calls `fn(ctx)` and then `_exit()`s with
 * its return value, so it never runs the caller's `atexit()` handlers
 * or flushes the caller's stdio buffers a second time. The child does not
 * flush stdio after @p fn returns either: `_exit()` discards whatever
 * @p fn printed with stdio and left in a buffer (on a pipe or a file,
 * that is everything not yet flushed), so a @p fn that prints must call
 * `fflush()` itself, or write with `write()`. If @p fn itself crashes or
 * calls `exit()`, that is how the child ends.
 *
 * The parent waits for exactly this child (`waitpid()` on its pid, not
 * on any child), retrying when a signal handler interrupts the wait
 * (`EINTR`), so the child is always reaped when runchild_run() returns
 * 0: it never leaves a zombie.
 *
 * @param fn   the function to run in the child; must not be NULL.
 * @param ctx  passed to @p fn; may be NULL. Not touched by the parent.
 * @param out  receives how the child ended; must not be NULL. Left
 *             unchanged when the call fails.
 * @return 0 when the child ran and was reaped, whatever its exit code or
 *         signal: a child that failed is still a successful call, and the
 *         failure is described in @p out. -1 with `errno` set when the
 *         child could not be run or waited for:
 *         - `EINVAL`: @p fn or @p out is NULL (no child is created);
 *         - any `errno` from `fflush()` when a stdio stream cannot be
 *           written; no child is created;
 *         - `EAGAIN`, `ENOMEM`: from `fork()`, no child was created;
 *         - any other `errno` from `waitpid()` except `EINTR`, which is
 *           retried.
 */
int runchild_run(runchild_fn fn, void *ctx, runchild_status *out);

/**
 * @brief Decode a raw wait status, as filled in by `waitpid()`.
 *
 * Uses `WIFEXITED()`/`WEXITSTATUS()` and `WIFSIGNALED()`/`WTERMSIG()`.
 * runchild_status::pid is set to 0: a raw status does not say which
 * child it came from.
 *
 * @param wstatus  the status `waitpid()` stored.
 * @param out      receives the decoded status; must not be NULL. Left
 *                 unchanged when the call fails.
 * @return 0 on success; -1 with `errno` set to `EINVAL` when @p out is
 *         NULL or @p wstatus says neither "exited" nor "killed by a
 *         signal" (for example the status of a stopped child, which
 *         `waitpid()` reports only with `WUNTRACED`).
 */
int runchild_decode(int wstatus, runchild_status *out);

#endif
