/*
 * epoll_lists.c: the two lists of an epoll instance (Linux only, hence
 * _GNU_SOURCE). epoll_ctl() puts three pipes on the interest list, once;
 * the kernel then moves a pipe to the ready list when data arrives, and
 * epoll_wait() returns only the ready ones, each with the 64 bits of user
 * data we gave at registration (here: the pipe's name). With level
 * triggering a pipe stays on the ready list as long as it has data.
 *
 * Run: epoll_lists
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "die.h"

static const char *names[] = {"red", "green", "blue"};

static void wait_and_show(int ep, const char *when)
{
    struct epoll_event ev[8];
    int n = epoll_wait(ep, ev, 8, 0); /* 0: don't sleep, just look */
    if (n == -1)
        die("epoll_wait");
    printf("%-28s %d ready:", when, n);
    for (int i = 0; i < n; i++)
        printf(" %s", names[ev[i].data.u64]);
    printf("\n");
}

int main(void)
{
    int p[3][2];
    // [register]
    int ep = epoll_create1(EPOLL_CLOEXEC); /* an empty interest list */
    if (ep == -1)
        die("epoll_create1");
    for (uint64_t i = 0; i < 3; i++) {
        if (pipe(p[i]) == -1)
            die("pipe");
        struct epoll_event ev = {.events = EPOLLIN, .data.u64 = i};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, p[i][0], &ev) == -1) /* once */
            die("epoll_ctl");
    }
    // [register]
    wait_and_show(ep, "nothing written:");
    // [ready]
    if (write(p[2][1], "b", 1) != 1 || write(p[0][1], "r", 1) != 1)
        die("write");
    wait_and_show(ep, "wrote to blue, then red:");
    wait_and_show(ep, "asked again (level):");
    char c;
    if (read(p[2][0], &c, 1) != 1)
        die("read");
    wait_and_show(ep, "read blue's byte:");
    // [ready]
    if (epoll_ctl(ep, EPOLL_CTL_DEL, p[0][0], NULL) == -1)
        die("epoll_ctl DEL");
    wait_and_show(ep, "removed red from interest:");
    for (int i = 0; i < 3; i++)
        if (close(p[i][0]) == -1 || close(p[i][1]) == -1)
            die("close");
    if (close(ep) == -1)
        die("close");
    return 0;
}
