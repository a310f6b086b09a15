/*
 * gate.c: pthread_cond_signal() against pthread_cond_broadcast().
 * Three threads wait at a closed gate (a flag and a condition variable).
 * main opens the gate and then either signals, which wakes one waiter,
 * or broadcasts, which wakes them all. A waiter that is not woken gives
 * up after 1 s (pthread_cond_timedwait), so the demo always ends.
 *
 *   gate signal        one waiter goes through, two sleep on (exits 1)
 *   gate broadcast     all three go through at once
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "die.h"

#define WAITERS 3

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_changed = PTHREAD_COND_INITIALIZER;
static pthread_cond_t waiter_arrived = PTHREAD_COND_INITIALIZER;
static int gate_open = 0; /* the predicate; protected by lock */
static int waiting = 0;   /* how many waiters are at the gate; lock */
static int woken = 0;     /* how many got through in time; lock */

static void lock_or_die(void)
{
    int en = pthread_mutex_lock(&lock);
    if (en != 0)
        die_en(en, "pthread_mutex_lock");
}

static void unlock_or_die(void)
{
    int en = pthread_mutex_unlock(&lock);
    if (en != 0)
        die_en(en, "pthread_mutex_unlock");
}

// [waiter]
static void *on_wait(void *arg)
{
    (void)arg;
    struct timespec limit;
    if (clock_gettime(CLOCK_REALTIME, &limit) != 0)
        die("clock_gettime");
    limit.tv_sec += 1;

    lock_or_die();
    waiting++;
    int en = pthread_cond_signal(&waiter_arrived); /* tell main */
    while (en == 0 && !gate_open)                  /* the predicate loop */
        en = pthread_cond_timedwait(&gate_changed, &lock, &limit);
    if (en == 0)
        woken++;
    else if (en != ETIMEDOUT)
        die_en(en, "pthread_cond_timedwait");
    unlock_or_die();
    return NULL;
}
// [waiter]

int main(int argc, char **argv)
{
    int broadcast = argc == 2 && strcmp(argv[1], "broadcast") == 0;
    if (argc != 2 || (!broadcast && strcmp(argv[1], "signal") != 0)) {
        fprintf(stderr, "usage: %s signal|broadcast\n", argv[0]);
        return 2;
    }

    pthread_t threads[WAITERS];
    for (int i = 0; i < WAITERS; i++) {
        int en = pthread_create(&threads[i], NULL, on_wait, NULL);
        if (en != 0)
            die_en(en, "pthread_create");
    }

    // [open]
    lock_or_die();
    while (waiting < WAITERS) { /* until all three are inside the wait */
        int en = pthread_cond_wait(&waiter_arrived, &lock);
        if (en != 0)
            die_en(en, "pthread_cond_wait");
    }
    gate_open = 1;
    int en = broadcast ? pthread_cond_broadcast(&gate_changed)
                       : pthread_cond_signal(&gate_changed);
    if (en != 0)
        die_en(en, "pthread_cond_signal/broadcast");
    unlock_or_die();
    // [open]

    for (int i = 0; i < WAITERS; i++) {
        en = pthread_join(threads[i], NULL);
        if (en != 0)
            die_en(en, "pthread_join");
    }
    printf("%s: %d of %d waiters went through when the gate opened; "
           "%d slept on until their 1 s limit\n",
           argv[1], woken, WAITERS, WAITERS - woken);
    return woken == WAITERS ? 0 : 1;
}
