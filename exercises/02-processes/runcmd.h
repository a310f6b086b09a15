/**
 * @file runcmd.h
 * @brief Run a command with a time limit and capture its standard output.
 *
 * Exercise 4 of chapter 2 ("Processes: two things at once with fork()").
 *
 * runcmd_run() is fork + exec with the plumbing done right: the command's
 * standard output goes into a pipe that the parent reads *while* the
 * command runs (so megabytes of output cannot deadlock it), its standard
 * input is `/dev/null`, and its standard error is the caller's. When the
 * time limit passes, the command is killed with SIGKILL. A program that
 * cannot be started (it does not exist, it is not executable) is an
 * error of runcmd_run() itself, reported with the `errno` that
 * `execvp()` gave in the child, and not an exit code the caller must
 * guess about.
 *
 * Call runcmd_run() from a single-threaded program (it forks), one call
 * at a time.
 */
#ifndef RUNCMD_H
#define RUNCMD_H

#include <stddef.h>

/**
 * @brief How a command ended, and what it printed.
 *
 * Filled in by runcmd_run(); the caller owns the struct and frees
 * runcmd_result::out with runcmd_free().
 */
typedef struct runcmd_result {
    /** The command's exit code (0 to 255), or -1 when a signal killed
     *  it. */
    int code;
    /** The signal that killed the command, or 0 when it exited. SIGKILL
     *  when runcmd_run() killed it because the time ran out. */
    int signo;
    /** 1 when the time limit passed and runcmd_run() killed the command
     *  (with SIGKILL), 0 otherwise. If the command happened to end by
     *  itself at that very moment, runcmd_result::code and
     *  runcmd_result::signo say how it really ended. */
    int timed_out;
    /** Everything the command wrote to its standard output, followed by
     *  an extra `'\0'`. Never NULL after a successful call, even when the
     *  command printed nothing. When the command was killed for its time
     *  limit, holds what it had written until then. NULL after a failed
     *  call. Allocated with malloc(); freed by runcmd_free(). */
    char *out;
    /** How many bytes runcmd_result::out holds (the `'\0'` not
     *  counted); the output may itself contain `'\0'` bytes. */
    size_t out_len;
} runcmd_result;

/**
 * @brief Run a command, capture its standard output, and wait for it to
 *        end or for the time limit, whichever comes first.
 *
 * The child gets `/dev/null` as its standard input, the write end of a
 * pipe as its standard output and the caller's standard error, then calls
 * `execvp(argv[0], argv)`, which searches `PATH` when `argv[0]` has no
 * `/`. The pipe ends runcmd_run() makes never reach the command: they are
 * closed in the child or marked close-on-exec. (Descriptors the caller
 * itself left open without `FD_CLOEXEC` are inherited, as with any
 * exec.)
 *
 * The parent reads the pipe while the command runs (with `poll()`, so it
 * can stop when the time is up), until end-of-file, then reaps the
 * command with `waitpid()`. End-of-file only means that no write end of
 * the pipe is open any more: a command can close its standard output and
 * go on running (`sh -c 'exec >/dev/null; sleep 10'`), so the wait after
 * end-of-file keeps to the time limit too. Calls interrupted by a signal
 * handler (`EINTR`) are resumed, with the time left recomputed. When the
 * time limit passes first (whether the command is still writing or has
 * closed its output and is still running), the command is sent SIGKILL,
 * its pipe is closed and it is reaped. On every path the command has been
 * reaped and every descriptor runcmd_run() opened is closed when it
 * returns. A command that starts children of its own and is killed may
 * leave them running: only the command itself is killed.
 *
 * @param argv        the command and its arguments, ending with a NULL
 *                    pointer, as for `execvp()`; `argv[0]` is the program.
 *                    Must not be NULL and `argv[0]` must not be NULL.
 * @param timeout_ms  the time limit in milliseconds, counted from the
 *                    call; 0 or less means no limit.
 * @param res         receives the result; must not be NULL. Its previous
 *                    content is overwritten, not freed. After a failed
 *                    call it holds `{-1, 0, 0, NULL, 0}`, so runcmd_free()
 *                    on it is harmless.
 * @return 0 when the command ran, whatever its exit code or signal and
 *         whether or not it timed out (look at @p res). A command that
 *         exits with 127 by itself is a success with `code` 127.
 *         -1 with `errno` set when it could not be run or watched:
 *         - `EINVAL`: @p argv, `argv[0]` or @p res is NULL;
 *         - `ENOENT`, `EACCES`, `ENOEXEC`, `E2BIG`, ...: the errno of the
 *           failed `execvp()` in the child (the program does not exist,
 *           is not executable, ...); the child has been reaped, so it
 *           leaves no zombie;
 *         - `EMFILE`, `ENFILE`: from `pipe()`, or from opening
 *           `/dev/null`. The reference opens it in the child, which then
 *           reports the failure like a failed `execvp()`; opening it in
 *           the parent before `fork()` (and closing it there afterwards)
 *           is just as good, and the tests accept either;
 *         - `EAGAIN`, `ENOMEM`: from `fork()`, or the output did not fit
 *           in memory (the command is then killed and reaped);
 *         - any `errno` of `fflush()`, `poll()`, `read()` or `waitpid()`
 *           other than `EINTR` (the command is killed and reaped).
 */
int runcmd_run(char *const argv[], long timeout_ms, runcmd_result *res);

/**
 * @brief Free the output held by @p res.
 *
 * Sets `out` to NULL and `out_len` to 0, so calling it twice is harmless.
 * Does nothing when @p res is NULL.
 *
 * @param res  a result filled in by runcmd_run(); the struct itself is
 *             the caller's.
 */
void runcmd_free(runcmd_result *res);

#endif
