/*
 * timerq: a timer queue, earliest deadline first.
 *
 * The contract is in timerq.h. Run the tests with
 *
 *     make check CHAPTER=4 EXERCISE=timerq
 *
 * and ask for a hint with `make hint CHAPTER=4 EXERCISE=timerq`.
 */
#include "timerq.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

/* TODO: the fields: a binary min-heap of timers ordered by (deadline,
 * id), each timer knowing its index in the heap; a way to find a timer
 * from its id in O(log n) (ids only grow, so an array of (id, timer)
 * appended in order is sorted: binary search finds an id; mark a removed
 * entry instead of shifting the rest down, and compact the array when
 * most entries are marked, as hint 3 says); the next id; whether run_due
 * is running, and the timers added meanwhile. */
struct timerq {
    int unused;
};

timerq *timerq_new(void)
{
    /* TODO: allocate an empty queue; the first id is 1.
     * Read: chapter 4, "Timers in the loop". */
    errno = ENOSYS;
    return NULL;
}

void timerq_free(timerq *q)
{
    /* TODO: nothing for NULL; free every pending timer (without running
     * it), then the arrays and the queue.
     * Read: chapter 4, "Timers in the loop". */
    (void)q;
}

long timerq_add(timerq *q, int64_t deadline_ns, timerq_cb on_timer, void *ctx)
{
    /* TODO: EINVAL for NULL q or on_timer; make room first (ENOMEM
     * leaves the queue as it was); give the timer the next id; put it at
     * the end of the heap and sift it up. During run_due, keep it aside
     * instead, so that it does not run in that call.
     * Read: chapter 4, "Timers in the loop". */
    (void)q;
    (void)deadline_ns;
    (void)on_timer;
    (void)ctx;
    errno = ENOSYS;
    return -1;
}

int timerq_cancel(timerq *q, long id)
{
    /* TODO: find the pending timer with this id (ENOENT if none); move
     * the last heap entry into its place, then sift that entry up or
     * down; free the timer.
     * Read: chapter 4, "Timers in the loop". */
    (void)q;
    (void)id;
    errno = ENOSYS;
    return -1;
}

int64_t timerq_until_next(const timerq *q, int64_t now_ns)
{
    /* TODO: -1 when empty; 0 when the top of the heap is due; otherwise
     * its deadline minus now_ns.
     * Read: chapter 4, "Timers in the loop". */
    (void)q;
    (void)now_ns;
    return -1;
}

int timerq_run_due(timerq *q, int64_t now_ns)
{
    /* TODO: while the top of the heap is due: take it out, run its
     * callback, count it. Timers added by callbacks wait aside until the
     * end of the call.
     * Read: chapter 4, "Timers in the loop" and "Changing the watch list
     * from a callback". */
    (void)q;
    (void)now_ns;
    errno = ENOSYS;
    return -1;
}

size_t timerq_pending(const timerq *q)
{
    /* TODO: how many timers were added and neither ran nor were
     * cancelled.
     * Read: chapter 4, "Timers in the loop". */
    (void)q;
    return 0;
}
