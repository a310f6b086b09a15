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

/* TODO: the fields you need. */
struct timerq {
    int unused;
};

timerq *timerq_new(void)
{
    /* TODO: see timerq.h. Read: chapter 4, "Timers in the loop". */
    errno = ENOSYS;
    return NULL;
}

void timerq_free(timerq *q)
{
    /* TODO: see timerq.h. Read: chapter 4, "Timers in the loop". */
    (void)q;
}

long timerq_add(timerq *q, int64_t deadline_ns, timerq_cb on_timer, void *ctx)
{
    /* TODO: see timerq.h. Read: chapter 4, "Timers in the loop". */
    (void)q;
    (void)deadline_ns;
    (void)on_timer;
    (void)ctx;
    errno = ENOSYS;
    return -1;
}

int timerq_cancel(timerq *q, long id)
{
    /* TODO: see timerq.h. Read: chapter 4, "Timers in the loop". */
    (void)q;
    (void)id;
    errno = ENOSYS;
    return -1;
}

int64_t timerq_until_next(const timerq *q, int64_t now_ns)
{
    /* TODO: see timerq.h. Read: chapter 4, "Timers in the loop". */
    (void)q;
    (void)now_ns;
    return -1;
}

int timerq_run_due(timerq *q, int64_t now_ns)
{
    /* TODO: see timerq.h. Read: chapter 4, "Timers in the loop" and
     * "Changing the watch list from a callback". */
    (void)q;
    (void)now_ns;
    errno = ENOSYS;
    return -1;
}

size_t timerq_pending(const timerq *q)
{
    /* TODO: see timerq.h. Read: chapter 4, "Timers in the loop". */
    (void)q;
    return 0;
}
