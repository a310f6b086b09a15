/*
 * Known-wrong psum: every thread gets n / T values and the n % T values
 * left over at the end are never added (10 values over 3 threads sum only
 * the first 9).
 *
 * Caught by test_sum_with_remainder (1..10 should be 55) and
 * test_large_array (1000003 is prime, so every T > 1 leaves values out).
 */
#include "psum.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

struct slice {
    const long *values;
    size_t len;
    psum_on_value_fn on_value;
    void *ctx;
    long sum;
};

static void *worker(void *arg)
{
    struct slice *s = arg;
    long sum = 0;
    for (size_t i = 0; i < s->len; i++)
        sum += s->on_value != NULL ? s->on_value(s->values[i], s->ctx)
                                   : s->values[i];
    s->sum = sum;
    return NULL;
}

int psum_sum(const long *values, size_t n, size_t nthreads,
             psum_on_value_fn on_value, void *ctx, long *sum)
{
    if (sum == NULL || nthreads == 0 || (values == NULL && n > 0))
        return EINVAL;
    if (n == 0) {
        *sum = 0;
        return 0;
    }
    size_t m = nthreads < n ? nthreads : n;
    struct slice *slices = calloc(m, sizeof *slices);
    pthread_t *tids = calloc(m, sizeof *tids);
    if (slices == NULL || tids == NULL) {
        free(slices);
        free(tids);
        return ENOMEM;
    }
    size_t chunk = n / m, started = 0; /* BUG: n % m values dropped */
    int err = 0;
    for (size_t i = 0; i < m; i++) {
        slices[i] = (struct slice){values + i * chunk, chunk, on_value, ctx, 0};
        err = pthread_create(&tids[i], NULL, worker, &slices[i]);
        if (err != 0)
            break;
        started++;
    }
    long total = 0;
    for (size_t i = 0; i < started; i++) {
        int jerr = pthread_join(tids[i], NULL);
        if (jerr != 0 && err == 0)
            err = jerr;
        total += slices[i].sum;
    }
    free(slices);
    free(tids);
    if (err != 0)
        return err;
    *sum = total;
    return 0;
}
