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
 *
 * Promises (each checked by the tests that name its tag):
 *
 * - [capture] After a successful call runcmd_result::out holds every
 *   byte the command wrote to its standard output, out_len of them,
 *   followed by an extra `'\0'`. It is never NULL, even when the command
 *   printed nothing (""), and it may itself contain `'\0'` bytes.
 * - [big] A command may print megabytes: the parent reads the pipe while
 *   the command runs, so the command never blocks forever on a full
 *   pipe.
 * - [status] runcmd_result::code is the command's exit code (0 to 255),
 *   or -1 when a signal killed it; runcmd_result::signo is that signal,
 *   or 0. A command that fails or crashes is still a successful call.
 * - [exec-fails] A program that cannot be started (it does not exist, it
 *   is not executable) gives -1 with the `errno` of `execvp()` in the
 *   child (`ENOENT`, `EACCES`), at once, and its child is reaped; a
 *   command that exits with 127 by itself is a success with code 127.
 * - [stdin] The command's standard input is `/dev/null`.
 * - [std-closed] The caller may have closed any of its descriptors 0, 1
 *   and 2 (the pipes and `/dev/null` then get those numbers): the
 *   command still reads `/dev/null`, writes into the pipe, and has the
 *   caller's standard error (closed, when the caller's is).
 * - [stderr] The command's standard error is the caller's: only its
 *   standard output is captured.
 * - [own-pipes] The pipe ends runcmd_run() makes never reach the command
 *   (nor the processes it starts): they are closed in the child or
 *   marked close-on-exec.
 * - [timeout] When the time limit, counted from the call, passes while
 *   the command runs, the command is killed with SIGKILL (which it
 *   cannot ignore) and reaped, and the call returns soon after the
 *   limit with runcmd_result::timed_out 1, signo SIGKILL and the output
 *   written until then.
 * - [timeout-after-eof] End-of-file does not end the wait: a command
 *   that closes its standard output and runs on is still killed at the
 *   limit.
 * - [no-limit] A `timeout_ms` of 0 or less means no limit, and so does
 *   one too large for the clock to reach (`LONG_MAX`): the command runs
 *   until it ends by itself.
 * - [prompt] The call returns soon after the command has ended, with or
 *   without a limit: a limit only bounds the wait.
 * - [sleeps] While it waits, runcmd_run() sleeps: in `poll()` for the
 *   output, then in `waitpid()`, or, with a limit, a few milliseconds
 *   between two checks of the command (`WNOHANG`). It never spins, so
 *   waiting costs it next to no CPU time.
 * - [eintr] A `poll()`, `read()` or `waitpid()` that a signal handler
 *   interrupts (`EINTR`), before or after end-of-file, is resumed.
 * - [eintr-time-left] After an interruption the wait goes on with the
 *   time that is left, not with the whole limit again: signals that
 *   keep coming do not push the limit back.
 * - [flush-fails] When the `fflush()` before `fork()` fails (a stream on
 *   `/dev/full`), runcmd_run() returns -1 with its `errno` (`ENOSPC`)
 *   and starts nothing.
 * - [wait-fails] A `waitpid()` that fails with anything but `EINTR`
 *   (`ECHILD` when someone else reaped the command, as the kernel does
 *   when `SIGCHLD` is set to `SIG_IGN`) gives -1 with that `errno`.
 * - [pipe-fails] When `pipe()` fails (`EMFILE`, `ENFILE`: no descriptor
 *   left), runcmd_run() returns -1 with its `errno`, closes what it
 *   opened and starts nothing.
 * - [read-fails] A `read()` that fails with anything but `EINTR` gives
 *   -1 with that `errno`, soon: the command is killed and reaped.
 * - [fork-fails] When `fork()` fails, runcmd_run() returns -1 with its
 *   `errno` (`EAGAIN`) after one try.
 * - [einval] A NULL `argv`, `argv[0]` or `res` gives -1 with `errno`
 *   `EINVAL`, and no child is started.
 * - [failed-result] After every failed call (with `res` not NULL)
 *   `res` holds {code -1, signo 0, timed_out 0, out NULL, out_len 0},
 *   whatever it held before, so runcmd_free() on it is harmless.
 * - [cleanup] On every path, when runcmd_run() returns, the command has
 *   been reaped and every descriptor runcmd_run() opened is closed; no
 *   memory is left allocated but runcmd_result::out.
 * - [free] runcmd_free() frees runcmd_result::out and sets it to NULL and
 *   out_len to 0, so a second call is harmless; with NULL it does
 *   nothing.
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
    /** 1 when the time limit passed before the command was reaped, so
     *  runcmd_run() sent it SIGKILL; 0 otherwise. If the command happened
     *  to end by itself at that very moment, runcmd_result::code and
     *  runcmd_result::signo say how it really ended: timed_out 1 with
     *  code 0 is possible, so look at signo to know whether the kill
     *  ended it. */
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
 * The parent reads the pipe while the command runs, until end-of-file,
 * never waiting longer than the time left, then reaps the
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
 *                    call; 0 or less means no limit. A limit too far away
 *                    for the clock to reach (`LONG_MAX` ms) is no limit
 *                    either; it must not overflow the deadline.
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
 *           `/dev/null` (in the parent or in the child: the tests accept
 *           either, as long as the call fails with this errno and the
 *           child, if one was started, has been reaped);
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
