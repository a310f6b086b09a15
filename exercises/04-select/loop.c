/*
 * loop: an event loop on select().
 *
 * The contract is in loop.h. Run the tests with
 *
 *     make check CHAPTER=4 EXERCISE=loop
 *
 * and ask for a hint with `make hint CHAPTER=4 EXERCISE=loop`.
 *
 * The timerq of exercise 2 (timerq.h) is linked in, for the timers: in
 * the workbook the reference solution's, in a handout yours (graded
 * first).
 */
#include "loop.h"
#include "timerq.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/select.h>
#include <time.h>

/* TODO: the fields you need. */
struct loop {
    int unused;
};

loop *loop_new(void)
{
    /* TODO: see loop.h. Read: chapter 4, "The event loop". */
    errno = ENOSYS;
    return NULL;
}

void loop_free(loop *l)
{
    /* TODO: see loop.h. Read: chapter 4, "The event loop". */
    (void)l;
}

int loop_watch(loop *l, int fd, int events, loop_io_cb on_io, void *ctx)
{
    /* TODO: see loop.h. Read: chapter 4, "The limit of FD_SETSIZE" and
     * "Changing the watch list from a callback". */
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
    /* TODO: see loop.h. Read: chapter 4, "Changing the watch list from a
     * callback". */
    (void)l;
    (void)fd;
    errno = ENOSYS;
    return -1;
}

long loop_add_timer(loop *l, long delay_ms, loop_timer_cb on_timer, void *ctx)
{
    /* TODO: see loop.h. Read: chapter 4, "Timers in the loop". */
    (void)l;
    (void)delay_ms;
    (void)on_timer;
    (void)ctx;
    errno = ENOSYS;
    return -1;
}

int loop_cancel_timer(loop *l, long id)
{
    /* TODO: see loop.h. Read: chapter 4, "Timers in the loop". */
    (void)l;
    (void)id;
    errno = ENOSYS;
    return -1;
}

int loop_run(loop *l)
{
    /* TODO: see loop.h. Read: chapter 4, "The event loop" and "The timeout
     * and EINTR". */
    (void)l;
    errno = ENOSYS;
    return -1;
}

void loop_stop(loop *l)
{
    /* TODO: see loop.h. Read: chapter 4, "The event loop". */
    (void)l;
}
