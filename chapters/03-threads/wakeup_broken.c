/*
 * wakeup_broken.c: the lost wake-up. The waiter locks the mutex, sees
 * `ready` is 0 and is about to call pthread_cond_wait(). The signaller
 * sets `ready` and signals WITHOUT taking the mutex, so it can do both
 * in the gap between the waiter's check and its wait. Nobody is waiting
 * yet, the signal wakes nobody, and the waiter then sleeps through a
 * wake-up that has already happened.
 *
 * Two semaphores force that order on every run. The waiter waits at most
 * 1 s (pthread_cond_timedwait), so the demo ends and reports the loss.
 *
 *   wakeup_broken          (exits 1: the wake-up is always lost)
 */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

#include "die.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;
/* Atomic, so this is no data race: the bug is the missing lock. */
static atomic_int ready = 0;
static sem_t checked, signalled; /* force the interleaving */
static int timeouts = 0;         /* written by the waiter only */

static struct timespec in_ms(long ms)
{
    struct timespec t;
    if (clock_gettime(CLOCK_REALTIME, &t) != 0)
        die("clock_gettime");
    t.tv_sec += ms / 1000;
    t.tv_nsec += (ms % 1000) * 1000000L;
    if (t.tv_nsec >= 1000000000L) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000L;
    }
    return t;
}

/* Wait up to ms milliseconds for s to be posted. */
static void wait_briefly_for(sem_t *s, long ms)
{
    struct timespec limit = in_ms(ms);
    while (sem_timedwait(s, &limit) != 0) {
        if (errno == ETIMEDOUT)
            return;
        if (errno != EINTR)
            die("sem_timedwait");
    }
}

// [wait]
static void *on_wait(void *arg)
{
    (void)arg;
    int en = pthread_mutex_lock(&lock);
    if (en != 0)
        die_en(en, "pthread_mutex_lock");
    while (!ready) {
        printf("waiter:    ready is 0, so I will wait\n");
        if (sem_post(&checked) != 0)
            die("sem_post");
        /* The gap between the check and the wait, widened: it lasts
         * until the signaller is done, or 500 ms. */
        wait_briefly_for(&signalled, 500);
        printf("waiter:    waiting\n");
        struct timespec limit = in_ms(1000);
        en = pthread_cond_timedwait(&changed, &lock, &limit);
        if (en == ETIMEDOUT) {
            printf("waiter:    no wake-up within 1 s; ready is %d\n",
                   atomic_load(&ready));
            timeouts++;
        } else if (en != 0) {
            die_en(en, "pthread_cond_timedwait");
        }
    }
    printf("waiter:    ready is %d: done\n", atomic_load(&ready));
    en = pthread_mutex_unlock(&lock);
    if (en != 0)
        die_en(en, "pthread_mutex_unlock");
    return NULL;
}
// [wait]

// [signal]
static void *on_signal(void *arg)
{
    (void)arg;
    while (sem_wait(&checked) != 0) /* the waiter has seen ready == 0 */
        if (errno != EINTR)
            die("sem_wait");
    atomic_store(&ready, 1); /* WRONG: the predicate changes unlocked */
    int en = pthread_cond_signal(&changed); /* nobody is waiting yet */
    if (en != 0)
        die_en(en, "pthread_cond_signal");
    printf("signaller: ready = 1 and signalled, without the lock\n");
    if (sem_post(&signalled) != 0)
        die("sem_post");
    return NULL;
}
// [signal]

int main(void)
{
    if (sem_init(&checked, 0, 0) != 0 || sem_init(&signalled, 0, 0) != 0)
        die("sem_init");
    pthread_t waiter, signaller;
    int en = pthread_create(&waiter, NULL, on_wait, NULL);
    if (en == 0)
        en = pthread_create(&signaller, NULL, on_signal, NULL);
    if (en != 0)
        die_en(en, "pthread_create");
    if ((en = pthread_join(waiter, NULL)) != 0 ||
        (en = pthread_join(signaller, NULL)) != 0)
        die_en(en, "pthread_join");
    if (timeouts > 0)
        printf("lost wake-up: the signal came before anyone waited\n");
    return timeouts > 0 ? 1 : 0;
}
