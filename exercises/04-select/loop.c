/*
 * loop: an event loop on select().
 *
 * The contract is in loop.h. Run the tests with
 *
 *     make check CHAPTER=4 EXERCISE=loop
 *
 * and ask for a hint with `make hint CHAPTER=4 EXERCISE=loop`.
 *
 * The timerq of exercise 2 (timerq.h) is linked in, from the reference
 * solution: use it for the timers.
 */
#include "loop.h"
#include "timerq.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/select.h>
#include <time.h>

/* TODO: the fields: a table of watches indexed by descriptor (events,
 * callback, context), the highest watched descriptor, how many are
 * watched, the two fd_sets select() filled in (kept in the loop, so that
 * loop_unwatch() can clear a descriptor from them), the timerq, a way to
 * find a timer's small struct by id (to free it on cancel), and the
 * running and stopping flags. */
struct loop {
    int unused;
};

loop *loop_new(void)
{
    /* TODO: allocate the loop (calloc), mark no descriptor watched, make
     * the timerq. On failure free what was made and fail with ENOMEM.
     * Read: chapter 4, "The event loop". */
    errno = ENOSYS;
    return NULL;
}

void loop_free(loop *l)
{
    /* TODO: free the timerq (it drops pending timers without running
     * them), every timer struct of the loop, and the loop. Close no
     * descriptor: they are the caller's.
     * Read: chapter 4, "The event loop". */
    (void)l;
}

int loop_watch(loop *l, int fd, int events, loop_io_cb on_io, void *ctx)
{
    /* TODO: EINVAL for a NULL loop or callback, a descriptor below 0 or
     * at least FD_SETSIZE (FD_SET() would write past the fd_set), and
     * events that are 0 or have unknown bits. Store events, callback and
     * context, and count the descriptor if it was not watched.
     * Read: chapter 4, "The limit of FD_SETSIZE" and "Changing the watch
     * list from a callback". */
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
     * Clear its entry, and clear fd from the ready sets of the current
     * iteration: a new descriptor may get the same number before the
     * loop reaches it.
     * Read: chapter 4, "Changing the watch list from a callback". */
    (void)l;
    (void)fd;
    errno = ENOSYS;
    return -1;
}

long loop_add_timer(loop *l, long delay_ms, loop_timer_cb on_timer, void *ctx)
{
    /* TODO: EINVAL for NULL arguments or a negative delay. Take the
     * deadline on CLOCK_MONOTONIC in nanoseconds, allocate a small struct
     * (loop, callback, context) and give timerq_add() a callback of your
     * own that calls the user's with the loop.
     * Read: chapter 4, "Timers in the loop". */
    (void)l;
    (void)delay_ms;
    (void)on_timer;
    (void)ctx;
    errno = ENOSYS;
    return -1;
}

int loop_cancel_timer(loop *l, long id)
{
    /* TODO: EINVAL for a NULL loop; find the timer's struct by id
     * (ENOENT when it is not pending), timerq_cancel() it and free it.
     * Read: chapter 4, "Timers in the loop". */
    (void)l;
    (void)id;
    errno = ENOSYS;
    return -1;
}

int loop_run(loop *l)
{
    /* TODO: EINVAL for NULL, EBUSY when already running. Then, until
     * loop_stop() was called or nothing is watched and no timer pending:
     * build the read and write fd_sets (the write set only for
     * descriptors watched for LOOP_WRITE), turn timerq_until_next() into
     * select()'s timeout (NULL when no timer), call select() (EINTR:
     * go round again, calling nothing), read the clock once (the
     * iteration's "now"), then, for each descriptor still in the ready
     * sets, call its callback with the ready events it is still watched
     * for (none: no call), then timerq_run_due() with that "now".
     * Read: chapter 4, "The event loop" and "The timeout and EINTR". */
    (void)l;
    errno = ENOSYS;
    return -1;
}

void loop_stop(loop *l)
{
    /* TODO: set a flag that loop_run() checks before each iteration.
     * Read: chapter 4, "The event loop". */
    (void)l;
}
