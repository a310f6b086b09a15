/*
 * args_fixed.c: the four workers of args_broken.c, each given its own
 * argument. main keeps an array with one struct per thread, which lives
 * until every thread is joined; the thread reads its item from its own
 * struct and writes its result back into it. pthread_join() hands back
 * what the thread function returned: here, that same struct.
 *
 *   args_fixed
 */
#include <pthread.h>
#include <stdio.h>

#include "die.h"

#define NTHREADS 4

// [job]
struct job {
    int item;    /* in: written by main before the thread starts */
    long square; /* out: written by the thread, read by main after join */
};

static void *on_item(void *arg)
{
    struct job *job = arg; /* this thread's own struct, nobody else's */
    job->square = (long)job->item * job->item;
    return job; /* pthread_join() gives this pointer back to main */
}
// [job]

int main(void)
{
    // [fixed]
    struct job jobs[NTHREADS]; /* outlives every thread: joined below */
    pthread_t threads[NTHREADS];
    for (int i = 0; i < NTHREADS; i++) {
        jobs[i].item = i;
        int en = pthread_create(&threads[i], NULL, on_item, &jobs[i]);
        if (en != 0)
            die_en(en, "pthread_create");
    }
    for (int i = 0; i < NTHREADS; i++) {
        void *result;
        int en = pthread_join(threads[i], &result);
        if (en != 0)
            die_en(en, "pthread_join");
        struct job *done = result;
        printf("worker %d: item %d, square %ld\n", i, done->item, done->square);
    }
    // [fixed]
    return 0;
}
