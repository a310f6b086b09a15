/*
 * Known-wrong variant of psum: when a pthread_create() fails half-way, it
 * returns the error at once, and the threads already started are
 * detached and left running (their slices are leaked so that they at
 * least read valid memory). The contract says they are joined before
 * psum_sum() returns: a caller may free the array, or end the program,
 * as soon as the call returns.
 *
 * Caught by test_create_fails_halfway, which makes the third of four
 * pthread_create() calls fail and finds the two started threads still
 * adding when psum_sum() returns.
 */
#include "psum.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

struct psum_slice {
    const long *values;
    size_t len;
    psum_on_value_fn on_value;
    void *ctx;
    long sum; /* written by the slice's thread only */
};

static void *psum_worker(void *arg)
{
    struct psum_slice *s = arg;
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
    struct psum_slice *slices = calloc(m, sizeof *slices);
    pthread_t *tids = calloc(m, sizeof *tids);
    if (slices == NULL || tids == NULL) {
        free(slices);
        free(tids);
        return ENOMEM;
    }

    /* The first n % m slices get one value more: every value is summed. */
    size_t base = n / m, extra = n % m, start = 0, started = 0;
    int err = 0;
    for (size_t i = 0; i < m; i++) {
        size_t len = base + (i < extra ? 1 : 0);
        slices[i] = (struct psum_slice){values + start, len, on_value, ctx, 0};
        start += len;
        err = pthread_create(&tids[i], NULL, psum_worker, &slices[i]);
        if (err != 0) {
            /* BUG: the started threads are not joined. */
            for (size_t j = 0; j < started; j++)
                pthread_detach(tids[j]);
            return err;
        }
        started++;
    }

    /* Join every thread that started, even after a failure: none may
     * outlive this call (their slices are freed below). */
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
