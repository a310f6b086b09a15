/*
 * deadlock_broken.c: two threads, two locks, taken in opposite orders.
 * Thread A moves money from account 0 to account 1 and locks 0 then 1;
 * thread B moves money from 1 to 0 and locks 1 then 0. If each gets its
 * first lock before the other gets its second, both wait for ever.
 *
 * A barrier between the two lock calls forces that interleaving on every
 * run (without it the program hangs only now and then, which is worse).
 * The second lock is taken with pthread_mutex_timedlock() and a 1 s
 * limit, so the demo reports the deadlock and ends instead of hanging;
 * a second barrier keeps either thread from letting go of its first lock
 * before both have given up, as in a real deadlock, where nobody does.
 *
 *   deadlock_broken        (exits 1: it always deadlocks)
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <time.h>

#include "die.h"

struct account {
    pthread_mutex_t lock;
    long balance;
};

struct transfer {
    const char *name;
    struct account *from, *to;
    long amount;
    int timed_out; /* set by the thread, read by main after joining */
};

static struct account accounts[2] = {
    {PTHREAD_MUTEX_INITIALIZER, 100},
    {PTHREAD_MUTEX_INITIALIZER, 100},
};
static pthread_barrier_t both_hold_one;

static void lock_or_die(pthread_mutex_t *m)
{
    int en = pthread_mutex_lock(m);
    if (en != 0)
        die_en(en, "pthread_mutex_lock");
}

static void unlock_or_die(pthread_mutex_t *m)
{
    int en = pthread_mutex_unlock(m);
    if (en != 0)
        die_en(en, "pthread_mutex_unlock");
}

static void wait_for_other(void)
{
    int rc = pthread_barrier_wait(&both_hold_one);
    if (rc != 0 && rc != PTHREAD_BARRIER_SERIAL_THREAD)
        die_en(rc, "pthread_barrier_wait");
}

/* Lock m, giving up after one second: returns 0 or ETIMEDOUT. */
static int lock_within_1s(pthread_mutex_t *m)
{
    struct timespec limit;
    if (clock_gettime(CLOCK_REALTIME, &limit) != 0)
        die("clock_gettime");
    limit.tv_sec += 1;
    int en = pthread_mutex_timedlock(m, &limit);
    if (en != 0 && en != ETIMEDOUT)
        die_en(en, "pthread_mutex_timedlock");
    return en;
}

// [transfer]
static void *on_transfer(void *arg)
{
    struct transfer *t = arg;

    lock_or_die(&t->from->lock); /* A locks account 0, B locks account 1 */
    wait_for_other(); /* force the bad interleaving: both hold one lock */

    int en = lock_within_1s(&t->to->lock); /* held by the other thread */

    wait_for_other(); /* nobody lets go until both have tried */
    if (en == ETIMEDOUT) {
        t->timed_out = 1;
    } else {
        t->from->balance -= t->amount;
        t->to->balance += t->amount;
        unlock_or_die(&t->to->lock);
    }
    unlock_or_die(&t->from->lock);
    return NULL;
}
// [transfer]

int main(void)
{
    int en = pthread_barrier_init(&both_hold_one, NULL, 2);
    if (en != 0)
        die_en(en, "pthread_barrier_init");

    struct transfer jobs[2] = {
        {"A: 0 -> 1", &accounts[0], &accounts[1], 10, 0},
        {"B: 1 -> 0", &accounts[1], &accounts[0], 20, 0},
    };
    pthread_t threads[2];
    for (int i = 0; i < 2; i++) {
        en = pthread_create(&threads[i], NULL, on_transfer, &jobs[i]);
        if (en != 0)
            die_en(en, "pthread_create");
    }
    int stuck = 0;
    for (int i = 0; i < 2; i++) {
        en = pthread_join(threads[i], NULL);
        if (en != 0)
            die_en(en, "pthread_join");
        printf("thread %s: %s\n", jobs[i].name,
               jobs[i].timed_out ? "waited 1 s for its second lock, gave up"
                                 : "done");
        stuck += jobs[i].timed_out;
    }
    printf("balances: %ld and %ld\n", accounts[0].balance, accounts[1].balance);
    if (stuck == 2)
        printf("deadlock: each thread held the lock the other one needed\n");

    en = pthread_barrier_destroy(&both_hold_one);
    if (en != 0)
        die_en(en, "pthread_barrier_destroy");
    return stuck ? 1 : 0;
}
