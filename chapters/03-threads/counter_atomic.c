/*
 * counter_atomic.c: the lost-update counter of counter_broken.c, fixed
 * with a C11 atomic. atomic_fetch_add() does the load, the add and the
 * store as one indivisible step, so no increment is lost, and no lock
 * is needed for this one variable.
 *
 *   counter_atomic [threads [increments_per_thread]]   (default 2 10000000)
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "die.h"

#define MAX_THREADS 64

// [atomic]
static atomic_long counter = 0; /* every access is indivisible */
static long increments; /* per thread; set once before any thread starts */

static void *on_add(void *arg)
{
    (void)arg;
    for (long i = 0; i < increments; i++)
        atomic_fetch_add(&counter, 1); /* one read-modify-write step */
    return NULL;
}
// [atomic]

int main(int argc, char **argv)
{
    int nthreads = argc > 1 ? atoi(argv[1]) : 2;
    increments = argc > 2 ? atol(argv[2]) : 10000000;
    if (nthreads < 1 || nthreads > MAX_THREADS || increments < 0) {
        fprintf(stderr, "usage: %s [threads (1-%d) [increments]]\n", argv[0],
                MAX_THREADS);
        return 2;
    }

    pthread_t threads[MAX_THREADS];
    for (int i = 0; i < nthreads; i++) {
        int en = pthread_create(&threads[i], NULL, on_add, NULL);
        if (en != 0)
            die_en(en, "pthread_create");
    }
    for (int i = 0; i < nthreads; i++) {
        int en = pthread_join(threads[i], NULL);
        if (en != 0)
            die_en(en, "pthread_join");
    }

    long expected = nthreads * increments;
    long got = atomic_load(&counter);
    printf("%d thread%s x %ld increments: expected %ld, got %ld (%ld lost)\n",
           nthreads, nthreads == 1 ? "" : "s", increments, expected, got,
           expected - got);
    return 0;
}
