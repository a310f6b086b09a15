/*
 * counter_broken.c: the lost update. Several threads add 1 to one shared
 * counter, with no lock. `counter++` is a load, an add and a store; when
 * two threads interleave those steps, one of the two increments is lost,
 * and the total comes out short. How short changes from run to run.
 *
 *   counter_broken [threads [increments_per_thread]]   (default 2 10000000)
 *
 * Exits 0 whatever the total: a wrong total is what it demonstrates.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "die.h"

#define MAX_THREADS 64

// [race]
/* volatile makes the compiler load and store the counter on every pass,
 * as the C source says; without it, gcc -O1 keeps it in a register for
 * the whole loop. It does NOT make the program correct. */
static volatile long counter = 0; /* shared, protected by nothing */
static long increments; /* per thread; set once before any thread starts */

static void *on_add(void *arg)
{
    (void)arg;
    for (long i = 0; i < increments; i++)
        counter++; /* load, add 1, store: three steps, not one */
    return NULL;
}
// [race]

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
    printf("%d thread%s x %ld increments: expected %ld, got %ld (%ld lost)\n",
           nthreads, nthreads == 1 ? "" : "s", increments, expected, counter,
           expected - counter);
    return 0;
}
