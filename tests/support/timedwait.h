/*
 * timedwait.h: bounded waits on a condition variable, for a test that
 * waits for worker threads to change a shared board. A suite gets them
 * by listing tests/support/timedwait.c in its NAME.links.
 */
#ifndef WB_TIMEDWAIT_H
#define WB_TIMEDWAIT_H

#include <pthread.h>
#include <time.h>

/** The CLOCK_REALTIME time @p ms milliseconds from now: the deadline
 * pthread_cond_timedwait() wants (for a condition variable made with
 * default attributes). */
struct timespec timedwait_deadline(long ms);

/** Waits, holding @p lock, until the counter *@p field (guarded by
 * @p lock, announced on @p changed) reaches @p want, at most @p ms
 * milliseconds. Returns its last value. */
int timedwait_counter(pthread_mutex_t *lock, pthread_cond_t *changed,
                      const int *field, int want, long ms);

/** Sets the flag or counter *@p field to @p value under @p lock and
 * announces it on @p changed (to every waiter). */
void timedwait_set(pthread_mutex_t *lock, pthread_cond_t *changed, int *field,
                   int value);

#endif
