/*
 * wait_cost.c: the cost of one wait with N idle descriptors and one active,
 * for select(), poll() and epoll_wait() (Linux only, hence _GNU_SOURCE).
 * The idle descriptors are eventfds nobody writes to; the active one is a
 * pipe with a byte in it that nobody reads, so every wait returns at once
 * with one descriptor ready. select() and poll() are handed the whole set
 * on every call, as a loop does; epoll has the set registered once. Each
 * cell is the median of as many waits as fit in MS milliseconds (default
 * 100; at least 21, at most 20,000), in microseconds. select() stops where the
 * descriptors pass FD_SETSIZE.
 *
 * "first" puts the ready descriptor first, numbered below every idle one:
 * select() and poll() stop setting up a wait on each descriptor once they
 * have found a ready one, so that case costs them less (see the text).
 *
 * Run: wait_cost [MS [first]]  (bench.sh runs it; 10,000 needs a limit
 *                               on open files above 10,100)
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <time.h>
#include <unistd.h>

#include "die.h"

static double now_us(void)
{
    struct timespec t;
    if (clock_gettime(CLOCK_MONOTONIC, &t) == -1)
        die("clock_gettime");
    return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static int fds[10001], nfds, ai, hi; /* ai: the active one; hi: top fd */
static struct pollfd pfd[10001];
static double budget_us;

// [select]
static int one_select(void)
{
    fd_set r;
    FD_ZERO(&r);
    for (int i = 0; i < nfds; i++) /* rebuilt every time, as a loop must */
        FD_SET(fds[i], &r);
    int n = select(hi + 1, &r, NULL, NULL, NULL);
    return n == 1 && FD_ISSET(fds[ai], &r) ? 0 : -1;
}
// [select]

// [poll]
static int one_poll(void)
{
    int n = poll(pfd, (nfds_t)nfds, -1); /* the kernel looks at every entry */
    return n == 1 && (pfd[ai].revents & POLLIN) ? 0 : -1;
}
// [poll]

static int ep;
// [epoll]
static int one_epoll(void)
{
    struct epoll_event ev[8];
    int n = epoll_wait(ep, ev, 8, -1); /* only the ready list */
    return n == 1 && ev[0].data.fd == fds[ai] ? 0 : -1;
}
// [epoll]

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median_us(int (*one)(void)) /* the machine is shared: a median */
{
    static double took[20000];
    int calls = 0;
    double start = now_us(), t0 = start, t1;
    do {
        if (one() == -1)
            die("a wait returned the wrong answer");
        t1 = now_us();
        took[calls++] = t1 - t0;
        t0 = t1;
    } while ((t1 - start < budget_us || calls < 21) && calls < 20000);
    qsort(took, (size_t)calls, sizeof took[0], by_value);
    return took[calls / 2];
}

int main(int argc, char **argv)
{
    budget_us = 1000.0 * (argc > 1 ? atof(argv[1]) : 100.0);
    int first = argc > 2 && strcmp(argv[2], "first") == 0;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
        die("getrlimit");
    if (rl.rlim_cur < 10100 && rl.rlim_max >= 10100) {
        rl.rlim_cur = 10100;
        if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
            die("setrlimit");
    }
    int active[2];
    if (pipe2(active, O_CLOEXEC) == -1 || write(active[1], "x", 1) != 1)
        die("pipe2");
    printf("  idle   select(us)   poll(us)   epoll(us)   (ready one %s)\n",
           first ? "first, lowest number" : "last, highest number");
    static int idlefd[10000];
    int idle = 0, act = -1;
    for (int want = 10; want <= 10000 && want + 100 <= (int)rl.rlim_cur;
         want *= 10) {
        if (act != -1 && close(act) == -1)
            die("close");
        while (idle < want)
            if ((idlefd[idle++] = eventfd(0, EFD_CLOEXEC)) == -1)
                die("eventfd");
        /* a copy of the active pipe's read end, numbered above every idle one
         */
        if ((act = fcntl(active[0], F_DUPFD_CLOEXEC, 0)) == -1)
            die("fcntl");
        nfds = 0;
        if (first) /* the pipe itself, made before every idle descriptor */
            ai = nfds, fds[nfds++] = active[0];
        for (int i = 0; i < idle; i++)
            fds[nfds++] = idlefd[i];
        if (!first)
            ai = nfds, fds[nfds++] = act;
        hi = first ? idlefd[idle - 1] : act;
        if ((ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
            die("epoll_create1");
        for (int i = 0; i < nfds; i++) {
            pfd[i] = (struct pollfd){.fd = fds[i], .events = POLLIN};
            struct epoll_event ev = {.events = EPOLLIN, .data.fd = fds[i]};
            if (epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev) == -1) /* once */
                die("epoll_ctl");
        }
        printf("%6d", want);
        if (hi < FD_SETSIZE)
            printf("  %11.2f", median_us(one_select));
        else
            printf("  %11s", "-");
        printf("  %9.2f", median_us(one_poll));
        printf("  %10.2f\n", median_us(one_epoll));
        fflush(stdout);
        if (close(ep) == -1)
            die("close");
    }
    return 0;
}
