/*
 * sigloop: signals as loop callbacks, and a server that shuts down
 * gracefully on SIGTERM or SIGINT.
 *
 * The contract is in sigloop.h. Run the tests with
 *
 *     make check CHAPTER=6 EXERCISE=sigloop
 *
 * and ask for a hint with `make hint CHAPTER=6 EXERCISE=sigloop`.
 *
 * The event loop of chapter 4 (04-select/loop.h) is linked in: the
 * reference solution in the workbook, your own exercises/04-select/loop.c
 * in a handout.
 *
 * Linux-only: signalfd, accept4().
 */
#define _GNU_SOURCE
#include "sigloop.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

/* TODO: the fields: the loop; a signalfd; the set of watched signals
 * and the set of those sigloop_watch() blocked itself; a callback and a
 * context per signal number (NSIG of them); whether the descriptor is
 * watched. */
struct sigloop {
    int unused;
};

sigloop *sigloop_new(loop *l)
{
    /* TODO: EINVAL for NULL; signalfd(-1, empty set, SFD_NONBLOCK |
     * SFD_CLOEXEC). Read: chapter 6, "Signals in the loop". */
    (void)l;
    errno = ENOSYS;
    return NULL;
}

int sigloop_watch(sigloop *s, int signo, sigloop_fn on_signal, void *ctx)
{
    /* TODO: check the arguments; block the signal with pthread_sigmask()
     * (remember whether it was blocked before), add it to the
     * signalfd's set (signalfd(fd, &set, 0) changes it), watch the
     * descriptor if it is not watched; store callback and ctx. The
     * callback of the descriptor reads one signalfd_siginfo at a time
     * until EAGAIN and calls the callback of ssi_signo if it is still
     * watched. Read: chapter 6, "Signals in the loop". */
    (void)s;
    (void)signo;
    (void)on_signal;
    (void)ctx;
    errno = ENOSYS;
    return -1;
}

int sigloop_unwatch(sigloop *s, int signo)
{
    /* TODO: ENOENT when not watched; take it out of the signalfd's set
     * (it stays blocked); unwatch the descriptor after the last one. */
    (void)s;
    (void)signo;
    errno = ENOSYS;
    return -1;
}

void sigloop_free(sigloop *s)
{
    /* TODO: unwatch and close the descriptor; throw away the pending
     * signals it blocked (sigtimedwait() with a zero timeout), then
     * unblock them; free. */
    (void)s;
}

/* TODO: the server's fields: the loop and the sigloop; the listening
 * socket; the grace; a state (serving, draining, done); the grace
 * timer; the connections, each with its descriptor, a line buffer, an
 * output buffer and its requests in flight (each a loop timer). */
struct sigloop_server {
    int unused;
};

sigloop_server *sigloop_server_new(loop *l, sigloop *s, int listen_fd,
                                   long grace_ms)
{
    /* TODO: check the arguments; make the listening socket non-blocking
     * and watch it (accept4() with SOCK_NONBLOCK | SOCK_CLOEXEC); watch
     * SIGTERM and SIGINT on s with a callback that calls
     * sigloop_server_shutdown(). Read: chapter 6, "A graceful
     * shutdown". */
    (void)l;
    (void)s;
    (void)listen_fd;
    (void)grace_ms;
    errno = ENOSYS;
    return NULL;
}

void sigloop_server_shutdown(sigloop_server *srv)
{
    /* TODO: the first time: unwatch and close the listening socket,
     * stop reading every connection, close those with nothing in flight
     * and nothing to send, and start the grace timer. A second time, or
     * when the grace is over: close every connection. Once none is
     * left: cancel the grace timer and unwatch SIGTERM and SIGINT, so
     * loop_run() can return. Read: chapter 6, "A graceful shutdown". */
    (void)srv;
}

void sigloop_server_free(sigloop_server *srv)
{
    /* TODO: close every connection (cancelling its timers) and the
     * listening socket if open; cancel the grace timer; unwatch the
     * signals if still watched; free. */
    (void)srv;
}
