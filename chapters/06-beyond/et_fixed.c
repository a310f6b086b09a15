/*
 * et_fixed.c: an edge-triggered reader that drains until EAGAIN never stalls
 * (Linux only, hence _GNU_SOURCE). The peer of a socket pair sends
 * "one\ntwo\nthree\n" in one write; the reader, registered with EPOLLET, reads
 * at most 4 bytes per read(). Edge-triggered epoll reports a descriptor when
 * new data arrives, not while data is waiting, so the reader reads until read()
 * fails with EAGAIN: only then is it sure the socket is empty and the next
 * arrival will be a new edge. Compare et_broken.
 *
 * Run: et_fixed
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "die.h"

static void show(const char *buf, ssize_t n)
{
    printf("  read %zd bytes: \"", n);
    for (ssize_t i = 0; i < n; i++)
        fputs(buf[i] == '\n' ? "\\n" : (char[]){buf[i], 0}, stdout);
    printf("\"\n");
}

int main(void)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1)
        die("socketpair");
    int fl = fcntl(sv[0], F_GETFL);
    if (fl == -1 || fcntl(sv[0], F_SETFL, fl | O_NONBLOCK) == -1)
        die("fcntl");
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN | EPOLLET, .data.fd = sv[0]};
    if (ep == -1 || epoll_ctl(ep, EPOLL_CTL_ADD, sv[0], &ev) == -1)
        die("epoll");
    const char *later[] = {"one\ntwo\nthree\n", "four\n", NULL};
    int sent = 0;
    for (int round = 0; round < 4; round++) {
        if (later[sent] != NULL) {
            printf("peer sends %zu bytes\n", strlen(later[sent]));
            if (write(sv[1], later[sent], strlen(later[sent])) == -1)
                die("write");
            sent++;
        }
        int n = epoll_wait(ep, &ev, 1, 200);
        if (n == -1)
            die("epoll_wait");
        if (n == 0) {
            int left;
            if (ioctl(sv[0], FIONREAD, &left) == -1)
                die("ioctl");
            printf("epoll_wait: nothing for 200 ms, %d bytes still waiting in "
                   "the socket\n",
                   left);
            continue;
        }
        printf("epoll_wait: descriptor ready\n");
        // [drain]
        for (;;) { /* until the kernel says "empty": EAGAIN */
            char buf[4];
            ssize_t got = read(ev.data.fd, buf, sizeof buf);
            if (got == -1 && errno == EAGAIN) {
                printf("  EAGAIN: drained\n");
                break;
            }
            if (got == -1)
                die("read");
            if (got == 0)
                break; /* end of stream: the caller would close here */
            show(buf, got);
        }
        // [drain]
    }
    if (close(sv[0]) == -1 || close(sv[1]) == -1 || close(ep) == -1)
        die("close");
    return 0;
}
