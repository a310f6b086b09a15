/*
 * file_ready.c: a regular file is always "ready" (Linux only for the epoll
 * part, hence _GNU_SOURCE). poll() says a regular file is readable and
 * writable, whatever the disk is doing, because POSIX says regular files
 * never block in the readiness sense (a read may still wait for the disk).
 * select() says the same. epoll refuses to watch a regular file at all:
 * epoll_ctl() fails with EPERM. A pipe with nothing in it, for comparison,
 * is not readable.
 *
 * Run: file_ready
 */
#define _GNU_SOURCE
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "die.h"

static void check(const char *what, int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN | POLLOUT};
    if (poll(&p, 1, 0) == -1)
        die("poll");
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN};
    if (ep == -1)
        die("epoll_create1");
    int r = epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    printf("%-24s poll: %-8s %-8s  epoll_ctl: %s\n", what,
           p.revents & POLLIN ? "readable" : "-",
           p.revents & POLLOUT ? "writable" : "-",
           r == 0 ? "accepted" : strerror(errno));
    if (close(ep) == -1)
        die("close");
}

int main(void)
{
    // [check]
    FILE *f = tmpfile(); /* a regular file on whatever disk /tmp is */
    if (f == NULL)
        die("tmpfile");
    check("empty regular file", fileno(f));
    int p[2];
    if (pipe(p) == -1)
        die("pipe");
    check("empty pipe (read end)", p[0]);
    // [check]
    if (fclose(f) == EOF || close(p[0]) == -1 || close(p[1]) == -1)
        die("close");
    return 0;
}
