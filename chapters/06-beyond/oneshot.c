/*
 * oneshot.c: several threads in epoll_wait() on one epoll instance, and
 * EPOLLONESHOT (Linux only, hence _GNU_SOURCE). One socket holds ten
 * 4-byte messages; four threads wait on the same epoll descriptor and each
 * handles a readiness event by reading one message and taking 10 ms over
 * it. Plain (level-triggered) registration lets a second thread be woken
 * for the same socket while the first is still busy with it: two threads
 * work on one connection at once, and messages are handled out of order.
 * With EPOLLONESHOT the kernel disables the descriptor after one event
 * until the thread that got it re-arms it with EPOLL_CTL_MOD.
 *
 * Run: oneshot plain|oneshot
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "die.h"

enum { THREADS = 4, MSGS = 10 };
static int ep, sock, oneshot;
static atomic_int inside, most, order_broken, last = -1;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

// [worker]
static void *worker(void *arg)
{
    (void)arg;
    for (;;) {
        struct epoll_event ev;
        int n = epoll_wait(ep, &ev, 1, 150);
        if (n == -1)
            die("epoll_wait");
        if (n == 0)
            return NULL; /* 150 ms of nothing: all done */
        int now = atomic_fetch_add(&inside, 1) + 1;
        int m = atomic_load(&most);
        while (now > m && !atomic_compare_exchange_weak(&most, &m, now))
            continue;
        char msg[5] = {0};
        int en = pthread_mutex_lock(&lock); /* one read at a time... */
        ssize_t got = recv(sock, msg, 4, MSG_DONTWAIT);
        if (en != 0 || (en = pthread_mutex_unlock(&lock)) != 0)
            die_en(en, "mutex");
        struct timespec work = {0,
                                10 * 1000000L}; /* ...but the work overlaps */
        nanosleep(&work, NULL);
        if (got == 4) {
            int k = (msg[1] - '0') * 10 + (msg[2] - '0');
            if (k <
                atomic_exchange(&last, k)) /* finished before an older one */
                atomic_store(&order_broken, 1);
        }
        atomic_fetch_sub(&inside, 1);
        if (oneshot) { /* done with it: let the next event through */
            struct epoll_event again = {.events = EPOLLIN | EPOLLONESHOT,
                                        .data = ev.data}; /* MOD sets both */
            if (epoll_ctl(ep, EPOLL_CTL_MOD, sock, &again) == -1)
                die("epoll_ctl MOD");
        }
    }
}
// [worker]

int main(int argc, char **argv)
{
    if (argc != 2 ||
        (strcmp(argv[1], "plain") != 0 && strcmp(argv[1], "oneshot") != 0)) {
        fprintf(stderr, "usage: oneshot plain|oneshot\n");
        return 2;
    }
    oneshot = strcmp(argv[1], "oneshot") == 0;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1)
        die("socketpair");
    sock = sv[0];
    ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN | (oneshot ? EPOLLONESHOT : 0),
                             .data.fd = sock};
    if (ep == -1 || epoll_ctl(ep, EPOLL_CTL_ADD, sock, &ev) == -1)
        die("epoll");
    char all[4 * MSGS + 1];
    for (int i = 0; i < MSGS; i++)
        snprintf(all + 4 * i, 5, "m%02d\n", i);
    if (write(sv[1], all, 4 * MSGS) != 4 * MSGS)
        die("write");
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++) {
        int en = pthread_create(&t[i], NULL, worker, NULL);
        if (en != 0)
            die_en(en, "pthread_create");
    }
    for (int i = 0; i < THREADS; i++) {
        int en = pthread_join(t[i], NULL);
        if (en != 0)
            die_en(en, "pthread_join");
    }
    printf("%s: threads working on the one socket at once, at most: %d; "
           "messages finished out of order: %s\n",
           argv[1], atomic_load(&most),
           atomic_load(&order_broken) ? "yes" : "no");
    if (close(sv[0]) == -1 || close(sv[1]) == -1 || close(ep) == -1)
        die("close");
    return 0;
}
