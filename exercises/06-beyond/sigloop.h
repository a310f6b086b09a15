/**
 * @file sigloop.h
 * @brief Signals as loop callbacks, and a server that shuts down
 *        gracefully on SIGTERM.
 *
 * Exercise 3 of chapter 6 ("Beyond select(): epoll, signals, children
 * and io_uring").
 *
 * A signal handler runs in the middle of whatever the program was doing,
 * so it may do almost nothing: no malloc(), no stdio, no loop functions.
 * A sigloop turns a signal into an ordinary loop callback instead. It
 * blocks the signal, so no handler and no default action run, and reads
 * it from a `signalfd` the loop watches: the callback runs on the loop's
 * thread, between two select() calls, where it may do anything another
 * callback may.
 *
 * The second half is what such a callback is for: a server that, on
 * SIGTERM or SIGINT, stops accepting, answers the requests it already
 * has, closes every connection, and lets loop_run() return, within a
 * bound. Its protocol is small on purpose: a client sends lines, each a
 * number of milliseconds `N` (0 to 10000); the server answers
 * `start N` at once and `done N` when `N` ms have passed (a loop timer:
 * the "work" of a request). A request is in flight from its line until
 * its `done` line.
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
 * - [callback] A watched signal sent to the process (kill()) or to the
 *   loop's thread (raise(), pthread_kill()) makes its callback run from
 *   loop_run(), on the loop's thread, with the signal's number and the
 *   context given to sigloop_watch(); never in a signal handler.
 * - [other-thread] A watched signal sent by another thread, to the
 *   process, is delivered to the callback on the loop's thread too (the
 *   thread was started after sigloop_watch(), so it inherited the
 *   blocked mask).
 * - [before-run] A signal that arrives after sigloop_watch() and before
 *   loop_run() is not lost: its callback runs in the first iteration.
 * - [each] Each watched signal has its own callback: SIGTERM and SIGINT
 *   sent together give one callback each, with the right number.
 * - [again] A signal that arrives again after its callback ran gets
 *   another callback. (Several of the same standard signal that arrive
 *   before the loop reads may give one callback: they do not queue.)
 * - [rewatch] sigloop_watch() of a signal already watched replaces its
 *   callback and context.
 * - [unwatch] After sigloop_unwatch() the signal's callback is never
 *   called again, not even for an instance already pending; the signal
 *   stays blocked until sigloop_free(), so it cannot kill the process
 *   meanwhile, and the sigloop no longer reads it: an instance that
 *   arrives stays pending, for the caller to take (sigtimedwait()).
 * - [run-ends] The sigloop watches its descriptor only while a signal is
 *   watched: once the last one is unwatched, loop_run() can return.
 * - [free] sigloop_free() closes its descriptor, throws away the
 *   instances of the signals it blocked that are still pending (they
 *   were meant for it), without waiting for more, and unblocks those
 *   signals: the thread's mask is the one it had before.
 * - [bad-args] Invalid arguments fail with `EINVAL` (a NULL pointer, a
 *   number that is not a signal, SIGKILL or SIGSTOP, which cannot be
 *   blocked), an unwatched signal (or a number that is not a signal)
 *   with `ENOENT`, and change nothing. Other failures change nothing
 *   either: sigloop_new() with no descriptor left returns NULL with
 *   `EMFILE` and keeps no memory; a sigloop_watch() whose loop_watch()
 *   fails returns -1 with its errno and leaves the signal unblocked.
 * - [serve] The server answers each request line `N` with `start N` at
 *   once and `done N` `N` ms later; a client may have several requests
 *   in flight; a line that is not a number from 0 to 10000 (digits only;
 *   the line ends with `\n` or `\r\n`, and may come in pieces) gets
 *   `error`, and so does a request the server cannot start for want of
 *   memory. Answers a client does not read yet wait in the server (up
 *   to 4 KiB) and go out, every byte once and in order, as it reads. An
 *   idle connection costs nothing: with nothing to read or send, the
 *   loop sleeps.
 * - [stop-accepting] At the first SIGTERM or SIGINT (or
 *   sigloop_server_shutdown()) the server closes its listening socket:
 *   a new connection is refused.
 * - [finish-in-flight] Requests received before the shutdown began still
 *   get their `done` line; then their connection is closed. Nothing a
 *   client sends after the shutdown began is read.
 * - [close-idle] A connection with nothing in flight is closed when the
 *   shutdown begins.
 * - [bound] `grace_ms` after the shutdown began, the connections still
 *   open are closed without their answers. Once the last one is closed
 *   the server has nothing watched, no timer and no signal watched, so
 *   loop_run() returns (when nothing else is watched or pending).
 * - [second-signal] A second SIGTERM or SIGINT during the shutdown
 *   closes every connection at once, without waiting.
 * - [signal-early] A SIGTERM that arrives after sigloop_server_new() and
 *   before loop_run() begins the shutdown in the first iteration.
 * - [server-free] sigloop_server_free(), whenever it is called (during
 *   the shutdown too), leaves nothing of the server on the loop: no
 *   watched descriptor, no pending timer (the grace timer is cancelled),
 *   no signal watched by it; the listening socket is closed if the
 *   shutdown has not closed it. What is not the server's (the caller's
 *   timers and descriptors) stays as it was, also when
 *   sigloop_server_new() fails.
 *
 * Errors are reported the system-call way: -1 (or NULL) with `errno` set.
 *
 * Which thread may call what: every function from the loop's thread
 * only, as loop.h says. A signal is blocked only in the thread that
 * calls sigloop_watch() and in threads it starts afterwards: watch the
 * signals before starting threads, or block them in every thread, or
 * another thread may take the signal away from the signalfd (then the
 * self-pipe of chapter 4, written from a handler, is the way).
 */
#ifndef SIGLOOP_H
#define SIGLOOP_H

#include "04-select/loop.h"

/**
 * @brief Signals delivered as callbacks on a loop. Opaque.
 *
 * Made by sigloop_new(), freed by sigloop_free().
 */
typedef struct sigloop sigloop;

/**
 * @brief Called from loop_run(), on the loop's thread, for a watched
 *        signal that arrived.
 *
 * Not a signal handler: it may call any function a loop callback may,
 * sigloop_watch() and sigloop_unwatch() included (not sigloop_free()).
 *
 * @param s      the sigloop the signal was watched on.
 * @param signo  the signal's number.
 * @param ctx    the context given to sigloop_watch(), unchanged.
 */
typedef void (*sigloop_fn)(sigloop *s, int signo, void *ctx);

/**
 * @brief Make a sigloop on @p l, watching no signal yet.
 *
 * Opens a non-blocking, close-on-exec `signalfd` (not watched until a
 * signal is). A failed call leaves no descriptor or memory behind.
 *
 * @param l  the loop that runs the callbacks; must not be NULL and must
 *           outlive the sigloop.
 * @return the sigloop, to be freed with sigloop_free(); NULL with errno
 *         `EINVAL` (NULL @p l), `ENOMEM`, or the errno of signalfd().
 */
sigloop *sigloop_new(loop *l);

/**
 * @brief Deliver @p signo to @p on_signal from now on.
 *
 * Blocks @p signo in the calling thread (if it was not blocked) and adds
 * it to the signalfd, so from now on it is neither handled nor does its
 * default action: it waits, pending, until the loop reads it.
 *
 * @param s          the sigloop; must not be NULL.
 * @param signo      the signal: from 1 to `NSIG` - 1, not SIGKILL or
 *                   SIGSTOP.
 * @param on_signal  the callback; must not be NULL.
 * @param ctx        passed to @p on_signal as is; may be NULL.
 * @return 0; -1 with errno `EINVAL` (see [bad-args]) or the errno of
 *         signalfd() or loop_watch(); nothing changes then.
 */
int sigloop_watch(sigloop *s, int signo, sigloop_fn on_signal, void *ctx);

/**
 * @brief Stop delivering @p signo; it stays blocked until sigloop_free().
 * @param s      the sigloop; must not be NULL.
 * @param signo  a watched signal.
 * @return 0; -1 with errno `EINVAL` (NULL @p s) or `ENOENT` (@p signo is
 *         not watched).
 */
int sigloop_unwatch(sigloop *s, int signo);

/**
 * @brief Free @p s (see [free]). Not from a callback of the loop.
 * @param s  the sigloop; NULL does nothing.
 */
void sigloop_free(sigloop *s);

/**
 * @brief A server that shuts down gracefully on SIGTERM or SIGINT.
 *        Opaque.
 */
typedef struct sigloop_server sigloop_server;

/**
 * @brief Serve the protocol of the file's description on @p listen_fd.
 *
 * Takes the listening socket (made non-blocking; closed by the server at
 * the shutdown or by sigloop_server_free()), watches it on @p l, and
 * watches SIGTERM and SIGINT on @p s (replacing what was watched for
 * them there). Client sockets are non-blocking and close-on-exec; a
 * client that sends a line longer than 63 bytes, or lets 4 KiB of
 * answers pile up unread, is disconnected, and never ends the server.
 *
 * A client that shuts down its sending side (`shutdown(SHUT_WR)`, the
 * end of its stream) or resets the connection while the server is
 * serving is disconnected as soon as the server reads that: its
 * requests in flight are dropped and get no `done` line, answers not
 * yet sent are lost, and a last line without its newline is ignored. A
 * client that wants every answer keeps its sending side open until its
 * last `done` line has come. Once the shutdown has begun nothing is
 * read, so an end of stream goes unnoticed then: the requests in flight
 * still get their `done` lines, as [finish-in-flight] says.
 *
 * @param l          the loop; must not be NULL.
 * @param s          a sigloop on @p l; must not be NULL; must outlive
 *                   the server.
 * @param listen_fd  a listening socket.
 * @param grace_ms   how long the shutdown waits for requests in flight
 *                   before it closes their connections; 0 or more.
 * @return the server; NULL with errno `EINVAL` (a NULL pointer, a
 *         negative descriptor or @p grace_ms), `ENOMEM`, or the errno of
 *         loop_watch() or sigloop_watch(); the socket is then left open
 *         and the signals as they were.
 */
sigloop_server *sigloop_server_new(loop *l, sigloop *s, int listen_fd,
                                   long grace_ms);

/**
 * @brief Begin the shutdown as a first SIGTERM would; again, as a second
 *        one would.
 * @param srv  the server; NULL does nothing.
 */
void sigloop_server_shutdown(sigloop_server *srv);

/**
 * @brief Close every connection and the listening socket if still open,
 *        cancel the server's timers, unwatch its signals if still
 *        watched, and free it. Not from a callback of the loop.
 * @param srv  the server; NULL does nothing.
 */
void sigloop_server_free(sigloop_server *srv);

#endif
