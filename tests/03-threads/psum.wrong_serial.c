/*
 * Known-wrong psum: it joins each thread right after starting it, so the
 * threads run one after the other and the program is no faster than a
 * loop. The sums are all right.
 *
 * Caught by test_threads_run_at_once: the first thread waits at a gate
 * for the other three, which are not started until it has been joined.
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
    size_t base = n / m, extra = n % m, start = 0, started = 0;
    int err = 0;
    long total = 0;
    for (size_t i = 0; i < m; i++) {
        size_t len = base + (i < extra ? 1 : 0);
        slices[i] = (struct slice){values + start, len, on_value, ctx, 0};
        start += len;
        err = pthread_create(&tids[i], NULL, worker, &slices[i]);
        if (err != 0)
            break;
        started++;
        /* BUG: joined at once, before the next thread starts. */
        err = pthread_join(tids[i], NULL);
        if (err != 0)
            break;
        total += slices[i].sum;
    }
    free(slices);
    free(tids);
    if (err != 0)
        return err;
    *sum = total;
    return 0;
}
