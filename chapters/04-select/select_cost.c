/*
 * select_cost.c: what one select() call costs as the highest descriptor
 * grows. For each n it makes descriptors 3 to n - 1 copies of the read end
 * of an empty pipe (dup2), then times select() with a zero timeout, which
 * finds nothing ready: once with only descriptor n - 1 in the set, once
 * with all of 3 to n - 1. The kernel walks the bits from 0 to n - 1 in
 * both cases, and asks every descriptor that is in the set whether it is
 * ready.
 *
 * Run: select_cost [calls]   (default 1000; each is timed five times)
 */
#include <stdio.h>
#include <stdlib.h>
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

// [time]
/* Microseconds per select() on a copy of `set`, nfds = n: the best of
   five runs of `calls` calls, since other programs share the cores. */
static double per_call(const fd_set *set, int n, int calls)
{
    double best = 1e9;
    for (int run = 0; run < 5; run++) {
        double t0 = now_us();
        for (int i = 0; i < calls; i++) {
            fd_set copy = *set; /* select() overwrites its sets */
            struct timeval zero = {0, 0};
            if (select(n, &copy, NULL, NULL, &zero) != 0)
                die("select found something ready, or failed");
        }
        double us = (now_us() - t0) / calls;
        best = us < best ? us : best;
    }
    return best;
}
// [time]

int main(int argc, char *argv[])
{
    int calls = argc > 1 ? atoi(argv[1]) : 1000;
    if (argc > 2 || calls < 1) {
        fprintf(stderr, "usage: select_cost [calls]\n");
        return 2;
    }
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
        die("getrlimit");
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < FD_SETSIZE) {
        rl.rlim_cur = FD_SETSIZE; /* descriptors up to FD_SETSIZE - 1 */
        if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
            die("setrlimit");
    }
    int p[2];
    if (pipe(p) == -1)
        die("pipe");
    if (p[0] != 3 && (dup2(p[0], 3) == -1 || close(p[0]) == -1))
        die("dup2");
    printf("%10s  %22s  %24s\n", "highest fd", "only it in the set (us)",
           "all from 3 in the set (us)");
    int sizes[] = {4, 16, 64, 256, 512, FD_SETSIZE};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        int n = sizes[s];
        fd_set one, all;
        FD_ZERO(&one);
        FD_ZERO(&all);
        for (int fd = 3; fd < n; fd++) {
            if (fd != 3 && fd != p[1] && dup2(3, fd) == -1)
                die("dup2");
            if (fd != p[1])
                FD_SET(fd, &all);
        }
        FD_SET(n - 1, &one);
        printf("%10d  %22.2f  %24.2f\n", n - 1, per_call(&one, n, calls),
               per_call(&all, n, calls));
    }
    return 0;
}
