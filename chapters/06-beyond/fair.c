/*
 * fair.c: draining to EAGAIN is not fair (Linux only, hence _GNU_SOURCE).
 * Two connections on one edge-triggered epoll loop: a flooder (a thread
 * that writes 4 KiB blocks into its socket as fast as it can, for 300 ms)
 * and a quiet client with one 6-byte message already waiting; handling a
 * block takes 20 us, so the loop reads slower than the flooder writes. "drain"
 * reads each ready socket until EAGAIN before it looks at the next, as
 * the edge-triggered rule says; "budget" reads at most 64 KiB per socket
 * per turn, remembers the sockets it left unfinished, and comes back to
 * them with a zero timeout. How long does the quiet client wait?
 *
 * Run: fair drain|budget
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "die.h"

static double t0;
static double ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6 - t0;
}

static void work(void) /* handling a block: 20 us of CPU (parse, copy, queue) */
{
    double until = ms() + 0.02;
    while (ms() < until)
        continue;
}

static int flood_w;
static void *flooder(void *arg) /* writes until 300 ms have passed */
{
    static char block[4096];
    (void)arg;
    while (ms() < 300)
        if (write(flood_w, block, sizeof block) == -1)
            die("write");
    if (close(flood_w) == -1) /* end of stream for the reader */
        die("close");
    return NULL;
}

static int pair(int *far) /* a socket pair: the near end non-blocking */
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1 ||
        fcntl(sv[0], F_SETFL, O_NONBLOCK) == -1)
        die("socketpair");
    *far = sv[1];
    return sv[0];
}

int main(int argc, char **argv)
{
    if (argc != 2 ||
        (strcmp(argv[1], "drain") != 0 && strcmp(argv[1], "budget") != 0)) {
        fprintf(stderr, "usage: fair drain|budget\n");
        return 2;
    }
    long budget =
        strcmp(argv[1], "budget") == 0 ? 64 * 1024 : -1; /* -1: no limit */
    int quiet_w, fl = pair(&flood_w), qu = pair(&quiet_w);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event e1 = {.events = EPOLLIN | EPOLLET, .data.fd = fl};
    struct epoll_event e2 = {.events = EPOLLIN | EPOLLET, .data.fd = qu};
    if (ep == -1 || epoll_ctl(ep, EPOLL_CTL_ADD, fl, &e1) == -1 ||
        epoll_ctl(ep, EPOLL_CTL_ADD, qu, &e2) == -1)
        die("epoll");
    t0 = 0, t0 = ms();
    pthread_t t;
    int en = pthread_create(&t, NULL, flooder, NULL);
    if (en != 0)
        die_en(en, "pthread_create");
    nanosleep(&(struct timespec){0, 5 * 1000000L}, NULL); /* the flood is on */
    if (write(quiet_w, "hello\n", 6) != 6)
        die("write");
    double sent = ms(); /* 5 ms in, or later on a busy machine */
    // [turn]
    int pending[2], npending = 0, open = 2;
    long flooded = 0;
    while (open > 0) {
        struct epoll_event ev[2];
        int n =
            epoll_wait(ep, ev, 2, npending > 0 ? 0 : 1000); /* 0: work left */
        if (n == -1 && errno != EINTR)
            die("epoll_wait");
        n = n < 0 ? 0 : n; /* EINTR after a stop and continue: nothing ready */
        int ready[4], nready = 0;
        for (int i = 0; i < npending; i++) /* unfinished ones first */
            ready[nready++] = pending[i];
        for (int i = 0; i < n; i++) { /* new edges, unless already there */
            int j = 0;
            while (j < nready && ready[j] != ev[i].data.fd)
                j++;
            if (j == nready)
                ready[nready++] = ev[i].data.fd;
        }
        npending = 0;
        for (int i = 0; i < nready; i++) {
            int fd = ready[i];
            long got = 0;
            ssize_t r = 0;
            char buf[4096];
            while ((budget < 0 || got < budget) &&
                   (r = read(fd, buf, sizeof buf)) > 0)
                got += r, work();
            if (fd == qu && got > 0)
                printf("%s: the quiet client's message, sent at %.1f ms, "
                       "handled %.1f ms later\n",
                       argv[1], sent, ms() - sent);
            if (fd == fl)
                flooded += got;
            if (r == -1 && errno != EAGAIN) /* a reset, say: that one ends */
                printf("%s: read: %s\n", argv[1], strerror(errno));
            if (r == 0 || (r == -1 && errno != EAGAIN) ||
                (fd == qu && got > 0)) {
                if (epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL) == -1)
                    die("epoll_ctl DEL");
                open--;
            } else if (r > 0) { /* budget used up, not drained: remember it */
                pending[npending++] = fd;
            }
        }
    }
    // [turn]
    printf("%s: %ld KiB read from the flooder by %.1f ms\n", argv[1],
           flooded / 1024, ms());
    if ((en = pthread_join(t, NULL)) != 0)
        die_en(en, "pthread_join");
    if (close(fl) == -1 || close(qu) == -1 || close(quiet_w) == -1 ||
        close(ep) == -1)
        die("close");
    return 0;
}
