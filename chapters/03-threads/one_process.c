/*
 * one_process.c: two threads live in one process. They report the same
 * pid, different thread ids, a local variable each at a different
 * address (every thread has its own stack), and one global array at one
 * address: what a thread writes there, main reads after joining it.
 *
 * Linux-only: it prints the kernel's thread id with gettid(), which
 * needs _GNU_SOURCE (glibc 2.30 or later).
 *
 *   one_process
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

#include "die.h"

static pthread_barrier_t both_alive;

// [shared]
static int shared[3]; /* one copy, seen by every thread */

static void *on_thread(void *arg)
{
    int local = *(int *)arg; /* one copy per thread, on its own stack */

    /* Wait until both threads exist, so both stacks exist at once. */
    int rc = pthread_barrier_wait(&both_alive);
    if (rc != 0 && rc != PTHREAD_BARRIER_SERIAL_THREAD)
        die_en(rc, "pthread_barrier_wait");
    printf("thread %d: pid %ld, tid %ld, &local %p, shared %p\n", local,
           (long)getpid(), (long)gettid(), (void *)&local, (void *)shared);
    shared[local] = 100 * local; /* each thread writes its own element */
    return NULL;
}
// [shared]

int main(void)
{
    int local = 0;
    printf("main    : pid %ld, tid %ld, &local %p, shared %p\n", (long)getpid(),
           (long)gettid(), (void *)&local, (void *)shared);

    int en = pthread_barrier_init(&both_alive, NULL, 2);
    if (en != 0)
        die_en(en, "pthread_barrier_init");

    // [run]
    static int ids[3] = {0, 1, 2};
    pthread_t threads[3];
    for (int i = 1; i <= 2; i++) {
        en = pthread_create(&threads[i], NULL, on_thread, &ids[i]);
        if (en != 0)
            die_en(en, "pthread_create");
    }
    for (int i = 1; i <= 2; i++) {
        en = pthread_join(threads[i], NULL);
        if (en != 0)
            die_en(en, "pthread_join");
    }
    printf("main    : shared[1] = %d, shared[2] = %d\n", shared[1], shared[2]);
    // [run]

    en = pthread_barrier_destroy(&both_alive);
    if (en != 0)
        die_en(en, "pthread_barrier_destroy");
    return 0;
}
