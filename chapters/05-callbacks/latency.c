/*
 * latency.c: how long from a worker finishing to its callback running on
 * the loop, when the loop is asleep. A worker finishes a job every 1 ms
 * (400 times), notes the time and posts it; the loop takes the time when
 * its callback starts. Three ways of waking the waiting thread, measured
 * in one run: a loop asleep in select() on a pipe, the same on an eventfd
 * (Linux only, hence _GNU_SOURCE), and, for comparison, a plain thread
 * asleep in pthread_cond_wait() (which no loop could use, see the text).
 *
 * Run: latency
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <time.h>
#include <unistd.h>

#include "die.h"
#include "trace.h"

#define ROUNDS 400
enum how { PIPE, EVENTFD, CONDVAR };

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;
static int64_t posted[ROUNDS]; /* protected by lock */
static int nposted, pending;   /* protected by lock */
static enum how how;
static int rfd, wfd;

static void check(int en, const char *what)
{
    if (en != 0)
        die_en(en, what);
}

static void *on_worker(void *arg)
{
    for (int i = 0; i < ROUNDS; i++) {
        struct timespec ts = {0, 1000000L}; /* the "work": 1 ms */
        while (nanosleep(&ts, &ts) == -1)
            if (errno != EINTR)
                die("nanosleep");
        check(pthread_mutex_lock(&lock), "lock");
        posted[nposted++] = trace_now(); /* finished: post the time */
        int must_wake = !pending;
        pending = 1;
        if (how == CONDVAR)
            check(pthread_cond_signal(&changed), "signal");
        check(pthread_mutex_unlock(&lock), "unlock");
        uint64_t one = 1;
        if (must_wake && how == PIPE && write(wfd, "!", 1) != 1)
            die("write");
        if (must_wake && how == EVENTFD && write(wfd, &one, 8) != 8)
            die("write");
    }
    (void)arg;
    return NULL;
}

static int by_value(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void measure(enum how h, const char *name)
{
    int64_t lat[ROUNDS];
    int got = 0;
    how = h;
    nposted = pending = 0;
    pthread_t t;
    check(pthread_create(&t, NULL, on_worker, NULL), "pthread_create");
    while (got < ROUNDS) {
        if (h != CONDVAR) { /* the loop: asleep in select() */
            fd_set rd;
            FD_ZERO(&rd);
            FD_SET(rfd, &rd);
            if (select(rfd + 1, &rd, NULL, NULL, NULL) == -1) {
                if (errno == EINTR)
                    continue;
                die("select");
            }
            char buf[8];
            if (read(rfd, buf, sizeof buf) == -1)
                die("read");
        }
        check(pthread_mutex_lock(&lock), "lock");
        while (h == CONDVAR && !pending)
            check(pthread_cond_wait(&changed, &lock), "wait");
        int64_t now = trace_now(); /* the callbacks start now */
        while (got < nposted) {
            lat[got] = now - posted[got];
            got++;
        }
        pending = 0;
        check(pthread_mutex_unlock(&lock), "unlock");
    }
    check(pthread_join(t, NULL), "pthread_join");
    qsort(lat, ROUNDS, sizeof lat[0], by_value);
    printf("%-8s median %5.1f us, 90%% %6.1f us, 99%% %7.1f us, max %7.1f "
           "us\n",
           name, (double)lat[ROUNDS / 2] / 1e3,
           (double)lat[ROUNDS * 9 / 10] / 1e3,
           (double)lat[ROUNDS * 99 / 100] / 1e3, (double)lat[ROUNDS - 1] / 1e3);
}

int main(void)
{
    int p[2];
    if (pipe(p) == -1)
        die("pipe");
    rfd = p[0];
    wfd = p[1];
    measure(PIPE, "pipe");
    if (close(p[0]) == -1 || close(p[1]) == -1)
        die("close");
    if ((rfd = wfd = eventfd(0, EFD_CLOEXEC)) == -1)
        die("eventfd");
    measure(EVENTFD, "eventfd");
    if (close(rfd) == -1)
        die("close");
    measure(CONDVAR, "condvar");
    return 0;
}
