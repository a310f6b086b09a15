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
 *
 * Promises (each checked by the tests that name its tag):
 *
 * - [in-child] runchild_run() calls `fn(ctx)` once, in a new child
 *   process, and never in the caller's: what `fn` changes in memory
 *   stays in the child's copy.
 * - [exit-code] A child whose function returns r is reported as
 *   {`RUNCHILD_EXITED`, code r & 0xff, signo 0, pid of the child}: only
 *   the low 8 bits of r reach the parent (256 arrives as 0, 300 as 44).
 * - [signal] A child that a signal kills (SIGSEGV, SIGKILL, ...) is
 *   still a successful call: 0, with {`RUNCHILD_SIGNALED`, code -1,
 *   signo the signal}.
 * - [flush] runchild_run() flushes every stdio output stream before it
 *   forks, so text the caller printed and left in a buffer is written
 *   once, before anything the child writes.
 * - [flush-fails] When that `fflush()` fails (a stream on a full disk,
 *   `/dev/full`), runchild_run() returns -1 with the `errno` of
 *   `fflush()` (`ENOSPC`) and creates no child.
 * - [exit] The child ends with `_exit()`: it never runs the caller's
 *   `atexit()` handlers.
 * - [own-child] The parent waits for its own child only (`waitpid()` on
 *   its pid): another child of the caller, even one that has already
 *   ended, is neither reported nor reaped.
 * - [eintr] A `waitpid()` that a signal handler interrupts (`EINTR`) is
 *   called again: after a return of 0 the child is reaped, never left
 *   a zombie.
 * - [wait-fails] Any other `waitpid()` error gives -1 with its `errno`:
 *   `ECHILD` when the child was reaped by someone else (as the kernel
 *   does when `SIGCHLD` is set to `SIG_IGN`).
 * - [fork-fails] When `fork()` fails, runchild_run() returns -1 with its
 *   `errno` (`EAGAIN`) after one try, and `fn` runs nowhere.
 * - [einval] runchild_run() with a NULL `fn` or `out` gives -1 with
 *   `errno` `EINVAL` and creates no child.
 * - [out-kept] Whenever runchild_run() or runchild_decode() fails, `*out`
 *   is left as it was, every field, runchild_status::pid included.
 * - [decode] runchild_decode() turns the status of a child that exited
 *   with code c into {`RUNCHILD_EXITED`, c, 0, pid 0}, and that of a
 *   child killed by signal s into {`RUNCHILD_SIGNALED`, -1, s, pid 0}.
 * - [decode-einval] runchild_decode() gives -1 with `errno` `EINVAL`
 *   when `out` is NULL, or when the status says neither "exited" nor
 *   "killed by a signal" (a stopped or continued child).
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
 *           retried (`ECHILD` when someone else reaped the child).
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
