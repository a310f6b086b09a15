/**
 * @file childloop.h
 * @brief Start programs and hear of their end on the event loop: a
 *        callback with the decoded exit status, on the loop's thread.
 *
 * Exercise 4 of chapter 6 ("Beyond select(): epoll, signals, children
 * and io_uring").
 *
 * Chapter 2's runcmd waited for its child: the program did nothing else
 * meanwhile. Here childloop_spawn() starts a program and returns at
 * once; when the child ends, the loop calls `on_exit(c, pid, code,
 * signo, ctx)`, and the child has already been reaped. Many children can
 * run at once, and the loop serves its descriptors and timers while they
 * do.
 *
 * The kernel tells a parent that a child ended with `SIGCHLD`, and a
 * signal is not a descriptor: childloop_new() blocks `SIGCHLD` and reads
 * it from a `signalfd` the loop watches. Standard signals do not queue:
 * two children that end together may raise one `SIGCHLD`, so one signal
 * means "one child or more ended", and every child is then asked with
 * `waitpid(pid, ..., WNOHANG)`.
 *
 * The loop is chapter 4's (04-select/loop.h, unchanged). In the
 * workbook the tests link its reference solution
 * (solutions/04-select/loop.c); in a handout (`make handout`) they link
 * your own exercises/04-select/loop.c, graded first.
 *
 * Linux-only (`signalfd`).
 *
 * Promises (each checked by the tests that name its tag):
 *
 * - [status] A child that exits gets `code` 0 to 255 (its exit code)
 *   and `signo` 0; a child killed by a signal gets `code` -1 and
 *   `signo` that signal.
 * - [loop-thread] `on_exit` runs from loop_run(), on the loop's thread;
 *   never inside childloop_spawn(), even when the child has already
 *   ended by the time it returns.
 * - [exactly-once] Every child started gets exactly one `on_exit`, with
 *   its pid and the `ctx` given to childloop_spawn(), also with 64
 *   children running at once.
 * - [together] Children that end together (their `SIGCHLD`s merged into
 *   one) are all reported: none waits for a signal of its own.
 * - [reaped] When `on_exit` runs, the child has been reaped: no zombie
 *   is left, ever.
 * - [not-started] A program that cannot be started (it does not exist,
 *   it is not executable) makes childloop_spawn() return -1 with the
 *   `errno` of execvp() in the child (`ENOENT`, `EACCES`), at once; that
 *   child ends at once (it never returns into the caller's code), has
 *   been reaped, and gets no `on_exit`.
 * - [failed-spawn] A spawn that fails for want of a resource (fork(),
 *   pipe(), memory, or a loop_watch() the loop refuses) returns -1 with
 *   that call's errno, starts nothing and keeps nothing: no memory, no
 *   descriptor, and no watch on the loop when no other child of it runs.
 *   Children started later are reported as usual.
 * - [failed-new] A childloop_new() that fails (no memory: `ENOMEM`; no
 *   descriptor for the signalfd: `EMFILE`) returns NULL with that errno
 *   and leaves `SIGCHLD` as it was, and no descriptor or memory.
 * - [others] Children the program started otherwise (fork(),
 *   posix_spawn()) are never reaped by the childloop, ended or not: it
 *   waits only for the pids it started, in childloop_spawn() and
 *   childloop_free() too.
 * - [eintr] A signal caught by a handler while the childloop waits (for
 *   the result of the exec, for a child's status) changes nothing: the
 *   call it interrupted (`EINTR`) is made again.
 * - [no-spin] While its children run and none has ended, the loop
 *   sleeps: a `SIGCHLD` is read once, and does not keep the loop's
 *   select() returning at once.
 * - [mask] The program starts with the signal mask its caller had
 *   before childloop_new(): `SIGCHLD` is not blocked in it.
 * - [run-ends] The childloop watches its descriptor only while a child
 *   of it runs: loop_run() returns once every child has been reported
 *   (and nothing else is watched or pending).
 * - [free] childloop_new() blocks `SIGCHLD` and no other signal.
 *   childloop_free() kills every child still running with `SIGKILL` and
 *   reaps it, without calling its `on_exit`; it closes the descriptor
 *   and unblocks `SIGCHLD` again if childloop_new() blocked it (the
 *   `SIGCHLD` still pending is then delivered at once: see
 *   childloop_free()), so the thread's mask is the one it had before.
 * - [bad-args] Invalid arguments fail with `EINVAL` and start nothing.
 *
 * Errors are reported the system-call way: -1 (or NULL) with `errno` set.
 *
 * Which thread may call what: every function from the loop's thread
 * only. `SIGCHLD` must be blocked in every thread of the process, or a
 * thread where it is not blocked may take it away from the signalfd:
 * call childloop_new() before starting any thread (threads started
 * after it inherit the blocked mask). One childloop per process.
 */
#ifndef CHILDLOOP_H
#define CHILDLOOP_H

#include "04-select/loop.h"

#include <sys/types.h>

/**
 * @brief Children started from a loop. Opaque.
 *
 * Made by childloop_new(), freed by childloop_free().
 */
typedef struct childloop childloop;

/**
 * @brief Called on the loop's thread once a child has ended and has been
 *        reaped.
 *
 * It may call childloop_spawn() (to start another child) and any
 * function of loop.h that a loop callback may call; it must not call
 * childloop_free(). It must not block.
 *
 * @param c      the childloop that started the child.
 * @param pid    the child's process id (no longer a process: reaped).
 * @param code   its exit code, 0 to 255, or -1 when a signal killed it.
 * @param signo  the signal that killed it, or 0 when it exited.
 * @param ctx    the context given to childloop_spawn(), unchanged.
 */
typedef void (*childloop_exit_fn)(childloop *c, pid_t pid, int code, int signo,
                                  void *ctx);

/**
 * @brief Make a childloop on @p l.
 *
 * Blocks `SIGCHLD` in the calling thread and opens a non-blocking,
 * close-on-exec `signalfd` for it (watched only while a child runs). A
 * failed call blocks nothing and leaves no descriptor or memory behind.
 *
 * @param l  the loop that calls the `on_exit` callbacks; must not be
 *           NULL and must outlive the childloop.
 * @return the childloop, to be freed with childloop_free(); NULL with
 *         errno set: `EINVAL` for a NULL @p l, `ENOMEM`, or the errno of
 *         signalfd() (`EMFILE`, ...).
 */
childloop *childloop_new(loop *l);

/**
 * @brief Start `argv[0]` with arguments @p argv, and call @p on_exit on
 *        the loop once it has ended.
 *
 * Forks; the child restores the caller's signal mask (see [mask]) and
 * calls `execvp(argv[0], argv)`, which searches `PATH` when `argv[0]`
 * has no slash. The child keeps the caller's standard input, output and
 * error and every descriptor not marked close-on-exec. Returns once the
 * exec has succeeded or failed, without waiting for the program.
 *
 * @param c        the childloop; must not be NULL.
 * @param argv     the program and its arguments, ending with a NULL
 *                 pointer; neither @p argv nor `argv[0]` may be NULL.
 *                 Read only during the call.
 * @param on_exit  the callback; must not be NULL.
 * @param ctx      passed to @p on_exit as is; may be NULL.
 * @return the child's pid; -1 with errno set:
 *         - `EINVAL`: a NULL argument;
 *         - the errno of execvp() in the child (`ENOENT`, `EACCES`, ...):
 *           the program could not be started; that child was reaped;
 *         - the errno of fork() (`EAGAIN`) or pipe() (`EMFILE`), or
 *           `ENOMEM`: nothing was started.
 */
pid_t childloop_spawn(childloop *c, char *const argv[],
                      childloop_exit_fn on_exit, void *ctx);

/**
 * @brief How many children of @p c are running or not yet reported.
 * @param c  the childloop; NULL gives 0.
 * @return the count.
 */
unsigned childloop_running(const childloop *c);

/**
 * @brief Free @p c: kill and reap its children, close its descriptor.
 *
 * Each child still running gets `SIGKILL` and is reaped (this waits for
 * it to die, which is quick); no `on_exit` is called. Then the
 * descriptor is unwatched and closed, and `SIGCHLD` is unblocked again
 * in the calling thread when childloop_new() blocked it. Not from a
 * callback of the loop.
 *
 * The `SIGCHLD` those children raised (and any the loop had not read
 * yet) is not thrown away: it is pending when `SIGCHLD` is unblocked,
 * so it is delivered before childloop_free() returns. With the default
 * action nothing happens. A caller that installed a `SIGCHLD` handler
 * sees it run once, for children that are already reaped: a
 * `waitpid(-1, ..., WNOHANG)` in it finds none of them. When `SIGCHLD`
 * was blocked before childloop_new(), it stays blocked and the signal
 * stays pending.
 *
 * @param c  the childloop; NULL does nothing.
 */
void childloop_free(childloop *c);

#endif
