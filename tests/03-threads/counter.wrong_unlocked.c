/*
 * Known-wrong counter: counter_add() updates the statistics without
 * taking the mutex (the snapshot still locks). Concurrent adds overwrite
 * each other's count++ and sum += value: updates are lost.
 *
 * Caught by test_many_threads_exact (the count and sum fall short after
 * 8 threads add for 150 ms at once); under SANITIZE=thread the data race
 * is also reported.
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
    /* BUG: no lock. Two threads can both read count (or sum), both add,
     * and both write back: one of the two updates is lost. */
    counter_stats *s = &c->stats;
    long long v = value;
    if ((v > 0 && s->sum > LLONG_MAX - v) || (v < 0 && s->sum < LLONG_MIN - v))
        return ERANGE;
    if (s->count == 0 || value < s->min)
        s->min = value;
    if (s->count == 0 || value > s->max)
        s->max = value;
    s->sum += v;
    s->count++;
    return 0;
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
