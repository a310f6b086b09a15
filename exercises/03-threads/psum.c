/*
 * psum: add up an array with several threads.
 *
 * The contract is in psum.h. Run the tests with
 *
 *     make check CHAPTER=3 EXERCISE=psum
 *
 * and ask for a hint with `make hint CHAPTER=3 EXERCISE=psum`.
 */
#include "psum.h"

#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>

int psum_sum(const long *values, size_t n, size_t nthreads,
             psum_on_value_fn on_value, void *ctx, long *sum)
{
    /* TODO: check the arguments first (EINVAL), and give an empty array
     * the sum 0 without starting a thread. Then use m = min(nthreads, n)
     * threads: give each one a struct of its own (its slice, the
     * callback, and a field for its partial sum), cut the array into m
     * contiguous slices whose lengths differ by at most one (do not drop
     * the n % m values left over), start every thread with
     * pthread_create() before joining any, join them all (even after a
     * pthread_create() failure), then add the partial sums.
     * Read: chapter 3, "Creating and joining threads" and "Arguments,
     * results and lifetimes". */
    (void)values;
    (void)n;
    (void)nthreads;
    (void)on_value;
    (void)ctx;
    (void)sum;
    return ENOSYS;
}
