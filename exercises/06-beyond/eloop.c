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
 * Your loop.c of chapter 4 is a good start: its timers carry over as
 * they are; what changes is how descriptors are watched and waited for.
 */
#define _GNU_SOURCE
#include "eloop.h"
#include "04-select/timerq.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

/* TODO: the fields: the epoll descriptor, a table of watches indexed by
 * descriptor that grows (realloc) when a higher one is watched, how many
 * are watched, the array epoll_wait() fills (kept in the loop, with the
 * index of the next entry to dispatch, so that loop_unwatch() can void
 * an entry not yet dispatched), and the timers as in chapter 4: the
 * timerq, the timers by id, the running and stopping flags. */
struct loop {
    int unused;
};

loop *loop_new(void)
{
    /* TODO: allocate the loop, make the epoll instance with
     * epoll_create1(EPOLL_CLOEXEC) (its errno when it fails), and the
     * timerq. Read: chapter 6, "The loop on epoll". */
    errno = ENOSYS;
    return NULL;
}

void loop_free(loop *l)
{
    /* TODO: as in chapter 4, and close the epoll descriptor; close no
     * watched descriptor. Read: chapter 6, "The loop on epoll". */
    (void)l;
}

int loop_watch(loop *l, int fd, int events, loop_io_cb on_io, void *ctx)
{
    /* TODO: EINVAL as in chapter 4, but no FD_SETSIZE bound: grow the
     * table instead. A descriptor not watched yet: EPOLL_CTL_ADD,
     * level-triggered (no EPOLLET). Already watched: EPOLL_CTL_MOD, and
     * EPOLL_CTL_ADD when that fails with ENOENT (it was closed without
     * loop_unwatch(), and its number is a new descriptor now). When
     * epoll_ctl() fails, return -1 with its errno and change nothing.
     * Read: chapter 6, "The loop on epoll" and "A closed descriptor can
     * stay registered". */
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
    /* TODO: EINVAL for a NULL loop, ENOENT when fd is not watched.
     * EPOLL_CTL_DEL (its failure does not matter: a descriptor already
     * closed is gone from the set or cannot be taken out), clear the
     * entry, and void fd's entries of the current epoll_wait() that are
     * not dispatched yet. Read: chapter 6, "A closed descriptor can stay
     * registered". */
    (void)l;
    (void)fd;
    errno = ENOSYS;
    return -1;
}

long loop_add_timer(loop *l, long delay_ms, loop_timer_cb on_timer, void *ctx)
{
    /* TODO: as in chapter 4. Read: chapter 4, "Timers in the loop". */
    (void)l;
    (void)delay_ms;
    (void)on_timer;
    (void)ctx;
    errno = ENOSYS;
    return -1;
}

int loop_cancel_timer(loop *l, long id)
{
    /* TODO: as in chapter 4. Read: chapter 4, "Timers in the loop". */
    (void)l;
    (void)id;
    errno = ENOSYS;
    return -1;
}

int loop_run(loop *l)
{
    /* TODO: as in chapter 4, with one epoll_wait() per iteration in
     * place of select(): its timeout in milliseconds, rounded up, -1
     * when no timer is pending; EINTR: go round again. Read the clock
     * once after it returns, call the callback of each ready entry
     * (EPOLLIN to LOOP_READ, EPOLLOUT to LOOP_WRITE, EPOLLHUP and
     * EPOLLERR to both), looking its watch up again by descriptor, then
     * run the due timers. Nothing in an iteration may walk all the
     * watched descriptors. Read: chapter 6, "The loop on epoll". */
    (void)l;
    errno = ENOSYS;
    return -1;
}

void loop_stop(loop *l)
{
    /* TODO: as in chapter 4. Read: chapter 4, "The event loop". */
    (void)l;
}
