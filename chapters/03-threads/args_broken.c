/*
 * args_broken.c: the lifetime trap. main starts four threads in a loop
 * and hands each one &i, the address of the loop variable, meaning "your
 * item is i". But i is one variable that main keeps changing: a thread
 * reads it whenever it gets round to it, and by then the loop may have
 * moved on, or finished.
 *
 * The threads wait at a barrier until main's loop is over, which forces
 * the worst case on every run: all four read i after the loop, and all
 * four get 4, an item that does not even exist. Without the barrier the
 * values would change from run to run.
 *
 *   args_broken
 */
#include <pthread.h>
#include <stdio.h>

#include "die.h"

#define NTHREADS 4

static pthread_barrier_t loop_done;

static void wait_for_loop(void)
{
    int rc = pthread_barrier_wait(&loop_done);
    if (rc != 0 && rc != PTHREAD_BARRIER_SERIAL_THREAD)
        die_en(rc, "pthread_barrier_wait");
}

static void *on_item(void *arg)
{
    wait_for_loop();
    int item = *(int *)arg; /* reads main's i now, not when it was created */
    printf("worker: my item is %d\n", item);
    return NULL;
}

int main(void)
{
    int en = pthread_barrier_init(&loop_done, NULL, NTHREADS + 1);
    if (en != 0)
        die_en(en, "pthread_barrier_init");

    // [broken]
    pthread_t threads[NTHREADS];
    int i;
    for (i = 0; i < NTHREADS; i++) {
        en = pthread_create(&threads[i], NULL, on_item, &i); /* WRONG */
        if (en != 0)
            die_en(en, "pthread_create");
    }
    // [broken]
    wait_for_loop();

    for (int k = 0; k < NTHREADS; k++) {
        en = pthread_join(threads[k], NULL);
        if (en != 0)
            die_en(en, "pthread_join");
    }
    en = pthread_barrier_destroy(&loop_done);
    if (en != 0)
        die_en(en, "pthread_barrier_destroy");
    return 0;
}
