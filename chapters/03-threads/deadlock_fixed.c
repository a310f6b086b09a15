/*
 * deadlock_fixed.c: the two transfers of deadlock_broken.c, fixed by
 * ordering the locks. Whatever the direction of the transfer, a thread
 * locks the account with the lower number first. Two threads can then
 * never each hold one lock and wait for the other's: whoever gets the
 * first lock can always get the second. The threads run 100000
 * transfers each, in opposite directions, and never get stuck.
 *
 *   deadlock_fixed [transfers_per_thread]   (default 100000)
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "die.h"

struct account {
    int number; /* the lock order: lower number first */
    pthread_mutex_t lock;
    long balance;
};

struct transfer {
    const char *name;
    struct account *from, *to;
    long amount;
    long count;    /* how many transfers to make */
    long timeouts; /* how many times a lock took over 1 s (should be 0) */
};

static struct account accounts[2] = {
    {0, PTHREAD_MUTEX_INITIALIZER, 1000000},
    {1, PTHREAD_MUTEX_INITIALIZER, 1000000},
};

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

static void unlock_or_die(pthread_mutex_t *m)
{
    int en = pthread_mutex_unlock(m);
    if (en != 0)
        die_en(en, "pthread_mutex_unlock");
}

// [ordered]
static void *on_transfer(void *arg)
{
    struct transfer *t = arg;
    /* The same order for every thread, whichever way the money goes. */
    struct account *first = t->from->number < t->to->number ? t->from : t->to;
    struct account *second = first == t->from ? t->to : t->from;

    for (long i = 0; i < t->count; i++) {
        if (lock_within_1s(&first->lock) == ETIMEDOUT) {
            t->timeouts++;
            continue;
        }
        if (lock_within_1s(&second->lock) == ETIMEDOUT) {
            t->timeouts++;
            unlock_or_die(&first->lock);
            continue;
        }
        t->from->balance -= t->amount;
        t->to->balance += t->amount;
        unlock_or_die(&second->lock);
        unlock_or_die(&first->lock);
    }
    return NULL;
}
// [ordered]

int main(int argc, char **argv)
{
    long count = argc > 1 ? atol(argv[1]) : 100000;
    if (count < 0) {
        fprintf(stderr, "usage: %s [transfers_per_thread]\n", argv[0]);
        return 2;
    }
    struct transfer jobs[2] = {
        {"A: 0 -> 1", &accounts[0], &accounts[1], 2, count, 0},
        {"B: 1 -> 0", &accounts[1], &accounts[0], 3, count, 0},
    };
    pthread_t threads[2];
    for (int i = 0; i < 2; i++) {
        int en = pthread_create(&threads[i], NULL, on_transfer, &jobs[i]);
        if (en != 0)
            die_en(en, "pthread_create");
    }
    long timeouts = 0;
    for (int i = 0; i < 2; i++) {
        int en = pthread_join(threads[i], NULL);
        if (en != 0)
            die_en(en, "pthread_join");
        printf("thread %s: %ld transfers of %ld, %ld lock waits over 1 s\n",
               jobs[i].name, jobs[i].count, jobs[i].amount, jobs[i].timeouts);
        timeouts += jobs[i].timeouts;
    }
    printf("balances: %ld and %ld, total %ld\n", accounts[0].balance,
           accounts[1].balance, accounts[0].balance + accounts[1].balance);
    return timeouts ? 1 : 0;
}
