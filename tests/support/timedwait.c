/*
 * timedwait.c: bounded waits on a condition variable (timedwait.h).
 * Shared by the chapter 3 and 5 suites whose tests wait, bounded, for a
 * worker thread to change a shared board.
 */
#include "timedwait.h"

#include <errno.h>

struct timespec timedwait_deadline(long ms)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    t.tv_sec += ms / 1000;
    t.tv_nsec += (ms % 1000) * 1000000L;
    if (t.tv_nsec >= 1000000000L) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000L;
    }
    return t;
}

int timedwait_counter(pthread_mutex_t *lock, pthread_cond_t *changed,
                      const int *field, int want, long ms)
{
    struct timespec end = timedwait_deadline(ms);
    pthread_mutex_lock(lock);
    while (*field < want &&
           pthread_cond_timedwait(changed, lock, &end) != ETIMEDOUT)
        continue;
    int got = *field;
    pthread_mutex_unlock(lock);
    return got;
}

void timedwait_set(pthread_mutex_t *lock, pthread_cond_t *changed, int *field,
                   int value)
{
    pthread_mutex_lock(lock);
    *field = value;
    pthread_cond_broadcast(changed);
    pthread_mutex_unlock(lock);
}
