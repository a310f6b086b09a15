/*
 * pselect_wake.c: another thread can wake a loop that waits in
 * pselect(), without a pipe, by sending the loop's thread a signal with
 * pthread_kill(). The loop's thread keeps SIGUSR1 blocked except inside
 * pselect() (the mask pselect() installs for the wait), so the signal
 * can only arrive while it waits; a worker stores its result, then sends
 * the signal 100 ms in. pselect() returns -1 with EINTR and the loop
 * looks at the result.
 *
 * Run: pselect_wake
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/select.h>
#include <time.h>
#include <unistd.h>

#include "die.h"

static pthread_t loop_thread;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int result; /* protected by lock; 0: not yet */

static void on_wake(int sig)
{
    (void)sig; /* nothing to do: interrupting pselect() is the point */
}

static double now_ms(void)
{
    struct timespec t;
    if (clock_gettime(CLOCK_MONOTONIC, &t) == -1)
        die("clock_gettime");
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

// [worker]
static void *on_worker(void *arg)
{
    (void)arg;
    struct timespec d = {0, 100 * 1000000L};
    nanosleep(&d, NULL); /* the "work" */
    int en = pthread_mutex_lock(&lock);
    if (en != 0)
        die_en(en, "lock");
    result = 42;
    pthread_mutex_unlock(&lock);
    if ((en = pthread_kill(loop_thread, SIGUSR1)) != 0)
        die_en(en, "pthread_kill");
    return NULL;
}
// [worker]

int main(void)
{
    loop_thread = pthread_self();
    struct sigaction sa = {0};
    sa.sa_handler = on_wake;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGUSR1, &sa, NULL) == -1)
        die("sigaction");
    // [loop]
    sigset_t blocked, during_wait;
    sigemptyset(&blocked);
    sigaddset(&blocked, SIGUSR1);
    int en = pthread_sigmask(SIG_BLOCK, &blocked, &during_wait);
    if (en != 0) /* from now on SIGUSR1 waits until pselect() */
        die_en(en, "pthread_sigmask");
    sigdelset(&during_wait, SIGUSR1);

    pthread_t t;
    if ((en = pthread_create(&t, NULL, on_worker, NULL)) != 0)
        die_en(en, "pthread_create");
    double start = now_ms();
    for (int got = 0; !got;) {
        pthread_mutex_lock(&lock);
        got = result;
        pthread_mutex_unlock(&lock);
        if (got) {
            printf("%.0f ms: the loop has the result, %d\n", now_ms() - start,
                   got);
            break;
        }
        struct timespec limit = {5, 0}; /* no descriptors: only a signal */
        if (pselect(0, NULL, NULL, NULL, &limit, &during_wait) == -1) {
            if (errno != EINTR)
                die("pselect");
            printf("%.0f ms: pselect() interrupted (EINTR)\n",
                   now_ms() - start);
        } else {
            printf("%.0f ms: pselect() timed out\n", now_ms() - start);
        }
    }
    // [loop]
    if ((en = pthread_join(t, NULL)) != 0)
        die_en(en, "pthread_join");
    return 0;
}
