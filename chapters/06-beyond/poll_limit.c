/*
 * poll_limit.c: poll() has no FD_SETSIZE. The program raises its limit on
 * open descriptors, opens 1,500 pipes (3,000 descriptors, most of them far
 * above 1,023, which select() cannot watch), writes one byte into the last
 * pipe only, and asks poll() which of the 1,500 read ends is readable. It
 * then counts how many entries poll() had to fill in: all of them, every
 * call. poll() lifts select()'s limit but is still a scan.
 *
 * Run: poll_limit
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <unistd.h>

#include "die.h"

enum { PIPES = 1500 };

int main(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
        die("getrlimit");
    if (rl.rlim_cur < 2 * PIPES + 64) {
        rl.rlim_cur = 2 * PIPES + 64;
        if (rl.rlim_max != RLIM_INFINITY && rl.rlim_cur > rl.rlim_max) {
            fprintf(stderr, "poll_limit: the hard limit is below %d\n",
                    2 * PIPES + 64);
            return 1;
        }
        if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
            die("setrlimit");
    }
    static int wfd[PIPES];
    static struct pollfd pfd[PIPES];
    // [poll]
    for (int i = 0; i < PIPES; i++) {
        int p[2];
        if (pipe(p) == -1)
            die("pipe");
        pfd[i].fd = p[0];       /* which descriptor */
        pfd[i].events = POLLIN; /* what we wait for */
        pfd[i].revents = 0;     /* what poll() says happened */
        wfd[i] = p[1];
    }
    if (write(wfd[PIPES - 1], "x", 1) != 1)
        die("write");
    int n = poll(pfd, PIPES, 1000); /* array, length, timeout in ms */
    if (n == -1)
        die("poll");
    // [poll]
    printf("watching %d read ends, the highest is descriptor %d (select stops "
           "at %d)\n",
           PIPES, pfd[PIPES - 1].fd, FD_SETSIZE - 1);
    printf("poll() returned %d\n", n);
    // [scan]
    int looked = 0;
    for (int i = 0; i < PIPES; i++) {
        looked++;
        if (pfd[i].revents & POLLIN)
            printf("descriptor %d is readable (entry %d of %d)\n", pfd[i].fd, i,
                   PIPES);
    }
    // [scan]
    printf("entries we looked at to find it: %d\n", looked);
    for (int i = 0; i < PIPES; i++)
        if (close(pfd[i].fd) == -1 || close(wfd[i]) == -1)
            die("close");
    return 0;
}
