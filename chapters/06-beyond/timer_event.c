/*
 * timer_event.c: timerfd and eventfd, a clock and a counter as descriptors
 * (Linux only, hence _GNU_SOURCE). A periodic timerfd ticks every 100 ms;
 * a worker thread writes to an eventfd three times in a row, 250 ms in.
 * Both are read the same way: read() gives an 8-byte count, and resets it.
 * The timer's count says how many ticks passed since the last read (the
 * loop sleeps 350 ms once, on purpose, and reads 3 at once); the eventfd's
 * count is the sum of what was written (three writes of 1: one read of 3).
 *
 * Run: timer_event
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "die.h"

static int efd;

static void *worker(void *arg)
{
    (void)arg;
    nanosleep(&(struct timespec){0, 250 * 1000000L}, NULL);
    for (int i = 0; i < 3; i++) {
        uint64_t one = 1;
        if (write(efd, &one, sizeof one) !=
            sizeof one) /* adds 1 to the count */
            die("write eventfd");
    }
    return NULL;
}

int main(void)
{
    // [create]
    int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    struct itimerspec every = {.it_interval = {0, 100 * 1000000L},
                               .it_value = {0, 100 * 1000000L}};
    if (tfd == -1 || timerfd_settime(tfd, 0, &every, NULL) == -1)
        die("timerfd");
    efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event te = {.events = EPOLLIN, .data.fd = tfd};
    struct epoll_event ee = {.events = EPOLLIN, .data.fd = efd};
    if (efd == -1 || ep == -1 || epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &te) == -1 ||
        epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ee) == -1)
        die("setup");
    // [create]
    pthread_t t;
    int en = pthread_create(&t, NULL, worker, NULL);
    if (en != 0)
        die_en(en, "pthread_create");
    int ticks = 0, slept = 0;
    // [loop]
    while (ticks < 8) {
        struct epoll_event ev;
        int n = epoll_wait(ep, &ev, 1, 2000);
        if (n == -1 && errno == EINTR) /* a stop and continue: see signal(7) */
            continue;
        if (n != 1)
            die("epoll_wait");
        uint64_t count;
        if (read(ev.data.fd, &count, sizeof count) !=
            sizeof count) /* 8 bytes */
            die("read");
        if (ev.data.fd == tfd) {
            ticks += (int)count;
            printf("timer: %llu tick(s), %d so far\n",
                   (unsigned long long)count, ticks);
            if (ticks >= 4 && !slept) { /* a slow callback: the ticks add up */
                slept = 1;
                nanosleep(&(struct timespec){0, 350 * 1000000L}, NULL);
            }
        } else {
            printf("eventfd: count %llu (three writes, one wake-up)\n",
                   (unsigned long long)count);
        }
    }
    // [loop]
    if ((en = pthread_join(t, NULL)) != 0)
        die_en(en, "pthread_join");
    if (close(tfd) == -1 || close(efd) == -1 || close(ep) == -1)
        die("close");
    return 0;
}
