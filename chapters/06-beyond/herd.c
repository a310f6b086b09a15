/*
 * herd.c: the thundering herd, and EPOLLEXCLUSIVE (Linux 4.5 and later;
 * Linux only, hence _GNU_SOURCE). Eight threads each have an epoll
 * instance of their own, and all eight watch the same listening socket
 * (127.0.0.1, a port the kernel picks, close-on-exec). Once all of them
 * sleep in epoll_wait(), one client connects. Without EPOLLEXCLUSIVE every
 * thread is woken; the first to run accepts, some others see nothing and
 * go back to sleep inside epoll_wait(), some return and get EAGAIN from
 * accept(): wasted wake-ups, counted here with getrusage(RUSAGE_THREAD). With
 * EPOLLEXCLUSIVE the kernel wakes one of them (the man page promises "one or
 * more").
 *
 * Run: herd plain|exclusive
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "die.h"

enum { THREADS = 8 };
static int lfd, exclusive;
static atomic_int woke, accepted, eagain, resleeps;
static pthread_barrier_t ready;

// [waiter]
static void *waiter(void *arg)
{
    (void)arg;
    int ep = epoll_create1(EPOLL_CLOEXEC); /* an instance per thread */
    struct epoll_event ev = {.events =
                                 EPOLLIN | (exclusive ? EPOLLEXCLUSIVE : 0)};
    if (ep == -1 || epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) == -1)
        die("epoll");
    pthread_barrier_wait(&ready);
    struct rusage r0, r1; /* voluntary context switches: times it slept */
    if (getrusage(RUSAGE_THREAD, &r0) == -1)
        die("getrusage");
    int n = epoll_wait(ep, &ev, 1, 300);
    if (getrusage(RUSAGE_THREAD, &r1) == -1)
        die("getrusage");
    /* one sleep is the wait itself; each more is a wake-up for nothing */
    atomic_fetch_add(&resleeps, (int)(r1.ru_nvcsw - r0.ru_nvcsw) - 1);
    if (n == 1) {
        atomic_fetch_add(&woke, 1);
        int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (c >= 0) {
            atomic_fetch_add(&accepted, 1);
            if (close(c) == -1)
                die("close");
        } else if (errno == EAGAIN) {
            atomic_fetch_add(&eagain, 1); /* woken for nothing */
        } else {
            die("accept4");
        }
    }
    if (close(ep) == -1)
        die("close");
    return NULL;
}
// [waiter]

int main(int argc, char **argv)
{
    if (argc != 2 ||
        (strcmp(argv[1], "plain") != 0 && strcmp(argv[1], "exclusive") != 0)) {
        fprintf(stderr, "usage: herd plain|exclusive\n");
        return 2;
    }
    exclusive = strcmp(argv[1], "exclusive") == 0;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t alen = sizeof a;
    lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (lfd == -1 || bind(lfd, (struct sockaddr *)&a, sizeof a) == -1 ||
        listen(lfd, 16) == -1 ||
        getsockname(lfd, (struct sockaddr *)&a, &alen) == -1)
        die("listen");
    int en = pthread_barrier_init(&ready, NULL, THREADS + 1);
    if (en != 0)
        die_en(en, "pthread_barrier_init");
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        if ((en = pthread_create(&t[i], NULL, waiter, NULL)) != 0)
            die_en(en, "pthread_create");
    pthread_barrier_wait(&ready);
    nanosleep(&(struct timespec){0, 50 * 1000000L}, NULL); /* all asleep */
    int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c == -1 || connect(c, (struct sockaddr *)&a, sizeof a) == -1)
        die("connect");
    for (int i = 0; i < THREADS; i++)
        if ((en = pthread_join(t[i], NULL)) != 0)
            die_en(en, "pthread_join");
    printf("%-9s: one connection, %d of %d threads returned from epoll_wait, "
           "%d accepted it,\n"
           "           %d got EAGAIN, %d were woken and went back to sleep\n",
           argv[1], atomic_load(&woke), THREADS, atomic_load(&accepted),
           atomic_load(&eagain), atomic_load(&resleeps));
    if (close(c) == -1 || close(lfd) == -1)
        die("close");
    pthread_barrier_destroy(&ready);
    return 0;
}
