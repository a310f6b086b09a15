/*
 * eloop: the event loop of chapter 4 (loop.h) on epoll. Linux only:
 * epoll is Linux's, hence _GNU_SOURCE.
 *
 * The contract is in eloop.h (the functions are loop.h's). Run the tests
 * with
 *
 *     make check CHAPTER=6 EXERCISE=eloop
 *
 * and ask for a hint with `make hint CHAPTER=6 EXERCISE=eloop`.
 *
 * The timerq of chapter 4 (04-select/timerq.h) is linked in: the
 * reference solution in the workbook, your own timerq.c in a handout.
 * Your loop.c of chapter 4 is a good start.
 */
#define _GNU_SOURCE
#include "eloop.h"
#include "04-select/timerq.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

/* TODO: the fields you need. */
struct loop {
    int unused;
};

loop *loop_new(void)
{
    /* TODO: see eloop.h. Read: chapter 6, "The loop on epoll". */
    errno = ENOSYS;
    return NULL;
}

void loop_free(loop *l)
{
    /* TODO: see eloop.h. Read: chapter 6, "The loop on epoll". */
    (void)l;
}

int loop_watch(loop *l, int fd, int events, loop_io_cb on_io, void *ctx)
{
    /* TODO: see eloop.h. Read: chapter 6, "The loop on epoll". */
    (void)l;
    (void)fd;
    (void)events;
    (void)on_io;
    (void)ctx;
    errno = ENOSYS;
    return -1;
}

int loop_unwatch(loop *l, int fd)
{
    /* TODO: see eloop.h. Read: chapter 6, "A closed descriptor can
     * stay registered". */
    (void)l;
    (void)fd;
    errno = ENOSYS;
    return -1;
}

long loop_add_timer(loop *l, long delay_ms, loop_timer_cb on_timer, void *ctx)
{
    /* TODO: see eloop.h. Read: chapter 4, "Timers in the loop". */
    (void)l;
    (void)delay_ms;
    (void)on_timer;
    (void)ctx;
    errno = ENOSYS;
    return -1;
}

int loop_cancel_timer(loop *l, long id)
{
    /* TODO: see eloop.h. Read: chapter 4, "Timers in the loop". */
    (void)l;
    (void)id;
    errno = ENOSYS;
    return -1;
}

int loop_run(loop *l)
{
    /* TODO: see eloop.h. Read: chapter 6, "The loop on epoll". */
    (void)l;
    errno = ENOSYS;
    return -1;
}

void loop_stop(loop *l)
{
    /* TODO: see eloop.h. Read: chapter 4, "The event loop". */
    (void)l;
}
