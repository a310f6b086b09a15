/*
 * closed_dup.c: a closed descriptor can stay registered with epoll (Linux
 * only, hence _GNU_SOURCE). epoll registers the open file description
 * behind a descriptor, and forgets it only when the last descriptor that
 * refers to it is closed. Part 1 dup()s a registered pipe end and closes
 * the original: epoll_wait() still reports the closed number, and
 * EPOLL_CTL_DEL on it fails with EBADF, so the program can no longer take
 * it out. Part 2 does the same with a child from fork(), which holds a copy
 * of every descriptor. The fix, shown last: EPOLL_CTL_DEL before close().
 *
 * Run: closed_dup
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>

#include "die.h"

static void report(int ep, const char *when)
{
    struct epoll_event ev;
    int n = epoll_wait(ep, &ev, 1, 0);
    if (n == -1)
        die("epoll_wait");
    if (n == 0)
        printf("  %-38s nothing ready\n", when);
    else
        printf("  %-38s descriptor %d is ready\n", when, ev.data.fd);
}

static void try_del(int ep, int fd)
{
    if (epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL) == -1)
        printf("  EPOLL_CTL_DEL of %d: %s\n", fd, strerror(errno));
    else
        printf("  EPOLL_CTL_DEL of %d: done\n", fd);
}

int main(void)
{
    int ep = epoll_create1(EPOLL_CLOEXEC);
    int p[2];
    if (ep == -1 || pipe(p) == -1)
        die("setup");
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = p[0]};
    printf("part 1: dup()\n");
    // [dup]
    if (epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev) == -1)
        die("epoll_ctl");
    int copy = dup(p[0]); /* a second descriptor, same open pipe */
    if (copy == -1 || close(p[0]) == -1)
        die("dup/close");
    if (write(p[1], "x", 1) != 1)
        die("write");
    report(ep, "after close(), data arrives:");
    try_del(ep, p[0]);
    // [dup]
    if (close(copy) == -1)
        die("close");
    report(ep, "after closing the dup too:");
    if (close(p[1]) == -1)
        die("close");

    printf("part 2: fork()\n");
    if (pipe(p) == -1)
        die("pipe");
    ev.data.fd = p[0];
    if (epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev) == -1)
        die("epoll_ctl");
    fflush(stdout);
    // [fork]
    pid_t child = fork(); /* the child holds copies of p[0] and p[1] */
    if (child == -1)
        die("fork");
    if (child == 0) {
        pause(); /* until the parent kills it */
        _exit(0);
    }
    if (close(p[0]) == -1)
        die("close");
    if (write(p[1], "x", 1) != 1)
        die("write");
    report(ep, "parent closed it, data arrives:");
    // [fork]
    if (kill(child, SIGKILL) == -1 || waitpid(child, NULL, 0) == -1)
        die("kill/waitpid");
    report(ep, "after the child is gone:");
    if (close(p[1]) == -1)
        die("close");

    printf("fixed: EPOLL_CTL_DEL first, then close()\n");
    // [fixed]
    if (pipe(p) == -1)
        die("pipe");
    ev.data.fd = p[0];
    if (epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev) == -1 ||
        (copy = dup(p[0])) == -1)
        die("epoll_ctl/dup");
    try_del(ep, p[0]); /* while the number still means this pipe */
    if (close(p[0]) == -1 || write(p[1], "x", 1) != 1)
        die("close/write");
    report(ep, "data arrives:");
    // [fixed]
    if (close(copy) == -1 || close(p[1]) == -1 || close(ep) == -1)
        die("close");
    return 0;
}
