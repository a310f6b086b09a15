/*
 * counter_fixed.c: the lost-update counter of counter_broken.c, fixed
 * with a mutex. Each increment happens while the thread holds the lock,
 * so no other thread can run its load-add-store in between, and the
 * total is right every time.
 *
 *   counter_fixed [threads [increments_per_thread]]   (default 2 10000000)
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "die.h"

#define MAX_THREADS 64

// [mutex]
static long counter = 0; /* protected by counter_lock */
static pthread_mutex_t counter_lock = PTHREAD_MUTEX_INITIALIZER;
static long increments; /* per thread; set once before any thread starts */

static void *on_add(void *arg)
{
    (void)arg;
    for (long i = 0; i < increments; i++) {
        int en = pthread_mutex_lock(&counter_lock);
        if (en != 0)
            die_en(en, "pthread_mutex_lock");
        counter++; /* the critical section: one thread at a time */
        en = pthread_mutex_unlock(&counter_lock);
        if (en != 0)
            die_en(en, "pthread_mutex_unlock");
    }
    return NULL;
}
// [mutex]

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

    /* Every thread is joined: no lock needed to read the counter now. */
    long expected = nthreads * increments;
    printf("%d thread%s x %ld increments: expected %ld, got %ld (%ld lost)\n",
           nthreads, nthreads == 1 ? "" : "s", increments, expected, counter,
           expected - counter);
    return 0;
}
