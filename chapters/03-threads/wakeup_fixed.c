/*
 * wakeup_fixed.c: wakeup_broken.c with the one fix: the signaller
 * changes `ready` and signals while it holds the mutex. It cannot take
 * the mutex while the waiter sits between its check and its wait (the
 * waiter holds the mutex there), so it has to wait until the waiter is
 * inside pthread_cond_wait(), which releases the mutex and starts
 * waiting in one step. The signal then always finds the waiter.
 *
 * The same semaphores and widened gap as wakeup_broken.c; here the gap
 * simply runs out (500 ms), because the signaller is stuck on the lock.
 *
 *   wakeup_fixed
 */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <time.h>

#include "die.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;
static int ready = 0;            /* protected by lock */
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
            printf("waiter:    no wake-up within 1 s; ready is %d\n", ready);
            timeouts++;
        } else if (en != 0) {
            die_en(en, "pthread_cond_timedwait");
        }
    }
    printf("waiter:    woken, ready is %d: done\n", ready);
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
    int en = pthread_mutex_lock(&lock); /* waits until the waiter waits */
    if (en != 0)
        die_en(en, "pthread_mutex_lock");
    ready = 1;
    en = pthread_cond_signal(&changed); /* the waiter is surely waiting */
    if (en != 0)
        die_en(en, "pthread_cond_signal");
    printf("signaller: ready = 1 and signalled, holding the lock\n");
    en = pthread_mutex_unlock(&lock);
    if (en != 0)
        die_en(en, "pthread_mutex_unlock");
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
