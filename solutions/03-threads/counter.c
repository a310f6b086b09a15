/*
 * counter: the reference solution (contract in
 * exercises/03-threads/counter.h).
 *
 * One mutex guards all four fields. counter_add() holds it for the whole
 * update and counter_snapshot() for the whole copy, so no thread ever
 * sees (or overwrites) a half-done update.
 */
#include "counter.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>

struct counter {
    pthread_mutex_t lock;
    counter_stats stats; /* every access with lock held */
};

int counter_create(counter **out)
{
    if (out == NULL)
        return EINVAL;
    counter *c = malloc(sizeof *c);
    if (c == NULL)
        return ENOMEM;
    int err = pthread_mutex_init(&c->lock, NULL);
    if (err != 0) {
        free(c);
        return err;
    }
    c->stats = (counter_stats){0, 0, 0, 0};
    *out = c;
    return 0;
}

void counter_destroy(counter *c)
{
    if (c == NULL)
        return;
    /* Only fails (EBUSY) if the owner broke the contract and another
     * thread still holds the lock; nothing useful can be done then. */
    (void)pthread_mutex_destroy(&c->lock);
    free(c);
}

int counter_add(counter *c, long value)
{
    if (c == NULL)
        return EINVAL;
    int err = pthread_mutex_lock(&c->lock);
    if (err != 0)
        return err;
    counter_stats *s = &c->stats;
    long long v = value;
    if ((v > 0 && s->sum > LLONG_MAX - v) ||
        (v < 0 && s->sum < LLONG_MIN - v)) {
        err = ERANGE;
    } else {
        if (s->count == 0 || value < s->min)
            s->min = value;
        if (s->count == 0 || value > s->max)
            s->max = value;
        s->sum += v;
        s->count++;
    }
    int uerr = pthread_mutex_unlock(&c->lock);
    return err != 0 ? err : uerr;
}

int counter_snapshot(counter *c, counter_stats *out)
{
    if (c == NULL || out == NULL)
        return EINVAL;
    int err = pthread_mutex_lock(&c->lock);
    if (err != 0)
        return err;
    counter_stats copy = c->stats;
    err = pthread_mutex_unlock(&c->lock);
    if (err != 0)
        return err;
    *out = copy;
    return 0;
}
