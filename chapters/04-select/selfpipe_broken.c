/*
 * selfpipe_broken.c: waking an event loop with a flag does not work. The
 * signal handler sets a flag, and a worker thread sets another when its
 * job is done; the loop checks both flags and then sleeps in select().
 * A signal that comes after the check and before select() (the demo sends
 * it at exactly that moment) is seen only when select() times out, 1 s
 * later; so is the worker's result, although it was ready after 200 ms.
 * With no timeout, the loop would never wake.
 *
 * Run: selfpipe_broken
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/select.h>
#include <time.h>
#include <unistd.h>

#include "die.h"

static double now_ms(void)
{
    struct timespec t;
    if (clock_gettime(CLOCK_MONOTONIC, &t) == -1)
        die("clock_gettime");
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
    (void)sig;
    got_signal = 1; /* WRONG: nothing wakes a loop asleep in select() */
}

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int result, worker_done; /* protected by lock */

static void *on_work(void *arg)
{
    struct timespec ts = {0, 200 * 1000000L};
    (void)arg;
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
        continue;
    int en = pthread_mutex_lock(&lock);
    result = 6 * 7;
    worker_done = 1; /* WRONG: the loop will not look until it wakes */
    if (en != 0 || (en = pthread_mutex_unlock(&lock)) != 0)
        die_en(en, "mutex");
    return NULL;
}

int main(void)
{
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    if (sigemptyset(&sa.sa_mask) == -1 || sigaction(SIGUSR1, &sa, NULL) == -1)
        die("sigaction");
    pthread_t worker;
    int en = pthread_create(&worker, NULL, on_work, NULL);
    if (en != 0)
        die_en(en, "pthread_create");

    double t0 = now_ms();
    // [loop]
    for (int round = 0, seen_worker = 0, seen_signal = 0;; round++) {
        const char *when = now_ms() - t0 < 100 ? "at once" : "late";
        if (got_signal && !seen_signal++) /* 1. check the flags */
            printf("SIGUSR1 handled %s\n", when);
        if ((en = pthread_mutex_lock(&lock)) != 0)
            die_en(en, "pthread_mutex_lock");
        if (worker_done && !seen_worker++)
            printf("the worker's result %d seen %s: it was ready at 200 ms\n",
                   result, now_ms() - t0 < 300 ? "at once" : "late");
        if ((en = pthread_mutex_unlock(&lock)) != 0)
            die_en(en, "pthread_mutex_unlock");
        if (seen_worker && seen_signal)
            break;
        if (round == 0 && raise(SIGUSR1) != 0) /* 2. the worst moment */
            die("raise");
        struct timeval tv = {1, 0}; /* 3. sleep until something happens */
        if (select(0, NULL, NULL, NULL, &tv) == -1 && errno != EINTR)
            die("select");
    }
    // [loop]
    if ((en = pthread_join(worker, NULL)) != 0)
        die_en(en, "pthread_join");
    return 0;
}
