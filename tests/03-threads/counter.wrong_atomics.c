/*
 * Known-wrong counter: no mutex at all; every field is an atomic,
 * updated with atomic operations (fetch-and-add for the count, a
 * compare-and-swap loop for the sum, min and max). There is no data race,
 * ThreadSanitizer stays quiet, and no update is lost: test_many_threads_exact
 * passes. But the four fields are four separate atomics, and a snapshot
 * reads them one at a time while other threads add: it can return the
 * count of one moment with the sum of another.
 *
 * Caught by test_snapshot_is_one_moment (sum != 3 * count with every value
 * 3) and test_snapshot_min_max_of_that_moment (min, max and sum that do
 * not belong to the snapshot's count), plain and under SANITIZE=thread.
 */
#include "counter.h"

#include <errno.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdlib.h>

struct counter {
    atomic_ullong count;
    atomic_long min, max;
    atomic_llong sum;
};

int counter_create(counter **out)
{
    if (out == NULL)
        return EINVAL;
    counter *c = malloc(sizeof *c);
    if (c == NULL)
        return ENOMEM;
    atomic_init(&c->count, 0);
    atomic_init(&c->min, LONG_MAX);
    atomic_init(&c->max, LONG_MIN);
    atomic_init(&c->sum, 0);
    *out = c;
    return 0;
}

void counter_destroy(counter *c)
{
    free(c);
}

int counter_add(counter *c, long value)
{
    if (c == NULL)
        return EINVAL;
    long long v = value, sum = atomic_load(&c->sum);
    do {
        if ((v > 0 && sum > LLONG_MAX - v) || (v < 0 && sum < LLONG_MIN - v))
            return ERANGE;
    } while (!atomic_compare_exchange_weak(&c->sum, &sum, sum + v));
    long m = atomic_load(&c->min);
    while (value < m && !atomic_compare_exchange_weak(&c->min, &m, value))
        continue;
    m = atomic_load(&c->max);
    while (value > m && !atomic_compare_exchange_weak(&c->max, &m, value))
        continue;
    atomic_fetch_add(&c->count, 1);
    return 0;
}

int counter_snapshot(counter *c, counter_stats *out)
{
    if (c == NULL || out == NULL)
        return EINVAL;
    /* Each load is atomic; the four of them together are not. */
    counter_stats s;
    s.count = atomic_load(&c->count);
    s.sum = atomic_load(&c->sum);
    s.min = s.count > 0 ? atomic_load(&c->min) : 0;
    s.max = s.count > 0 ? atomic_load(&c->max) : 0;
    *out = s;
    return 0;
}
