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

/* TODO: the fields you need. */
struct sigloop {
    int unused;
};

sigloop *sigloop_new(loop *l)
{
    /* TODO: see sigloop.h. Read: chapter 6, "Signals in the loop". */
    (void)l;
    errno = ENOSYS;
    return NULL;
}

int sigloop_watch(sigloop *s, int signo, sigloop_fn on_signal, void *ctx)
{
    /* TODO: see sigloop.h. Read: chapter 6, "Signals in the loop". */
    (void)s;
    (void)signo;
    (void)on_signal;
    (void)ctx;
    errno = ENOSYS;
    return -1;
}

int sigloop_unwatch(sigloop *s, int signo)
{
    /* TODO: see sigloop.h. Read: chapter 6, "Signals in the loop". */
    (void)s;
    (void)signo;
    errno = ENOSYS;
    return -1;
}

void sigloop_free(sigloop *s)
{
    /* TODO: see sigloop.h. Read: chapter 6, "Signals in the loop". */
    (void)s;
}

/* TODO: the fields you need. */
struct sigloop_server {
    int unused;
};

sigloop_server *sigloop_server_new(loop *l, sigloop *s, int listen_fd,
                                   long grace_ms)
{
    /* TODO: see sigloop.h. Read: chapter 6, "A graceful shutdown". */
    (void)l;
    (void)s;
    (void)listen_fd;
    (void)grace_ms;
    errno = ENOSYS;
    return NULL;
}

void sigloop_server_shutdown(sigloop_server *srv)
{
    /* TODO: see sigloop.h. Read: chapter 6, "A graceful shutdown". */
    (void)srv;
}

void sigloop_server_free(sigloop_server *srv)
{
    /* TODO: see sigloop.h. Read: chapter 6, "A graceful shutdown". */
    (void)srv;
}
