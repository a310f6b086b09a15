/*
 * server_epoll.c: chapter 7's key-value server (resp.h) on one thread
 * and an epoll loop, as in chapter 6. Linux-only (epoll, accept4), hence
 * _GNU_SOURCE. Level-triggered: each client is registered for what it
 * wants now (reading unless its replies pile up or a SLEEP waits; writing
 * while replies wait), changed only when that changes; epoll_wait()
 * sleeps until a socket is ready or the earliest SLEEP ends. A BURN
 * freezes every client. At most MAX_FD descriptors; a client that gets a
 * higher one is closed at once.
 *
 * Run: server_epoll [SECONDS]   (prints "port N"; ends after SECONDS,
 *      default 60, or on SIGTERM). Try: redis-cli -p N ping
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/epoll.h>

#include "resp.h"

#define MAX_FD 20000

static resp_conn conns[MAX_FD];
static uint32_t watched[MAX_FD]; /* events registered, 0: not open */
static int efd, sleeping;

/* One step for one client (resp_step()), then close it or register
   what it wants now, if that changed. `sleeping` counts the clients
   whose SLEEP waits, so the loop only looks for timers when there are. */
static void serve(int fd, int readable)
{
    resp_conn *c = &conns[fd];
    sleeping -= c->wake_ns != 0;
    if (resp_step(fd, c, readable) == -1) {
        close(fd); /* also leaves the epoll set */
        resp_free(c);
        watched[fd] = 0;
        return;
    }
    sleeping += c->wake_ns != 0;
    uint32_t want = (resp_wants_read(c) ? EPOLLIN : 0) |
                    (resp_wants_write(c) ? EPOLLOUT : 0);
    struct epoll_event ev = {.events = want, .data.fd = fd};
    if (want != (watched[fd] & ~(1u << 31)) &&
        epoll_ctl(efd, EPOLL_CTL_MOD, fd, &ev) == -1)
        die("epoll_ctl");
    watched[fd] = want | 1u << 31; /* the high bit: open */
}

int main(int argc, char *argv[])
{
    int lfd = resp_listen(argc, argv);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = lfd}, evs[256];
    if (fcntl(lfd, F_SETFL, O_NONBLOCK) == -1 ||
        (efd = epoll_create1(EPOLL_CLOEXEC)) == -1 ||
        epoll_ctl(efd, EPOLL_CTL_ADD, lfd, &ev) == -1)
        die("epoll");
    // [loop]
    for (;;) {
        int64_t wake = 0, now = resp_now_ns();
        for (int fd = 0; sleeping > 0 && fd < MAX_FD; fd++) {
            resp_conn *c = &conns[fd]; /* a heap would scale (chapter 5) */
            if (watched[fd] && c->wake_ns != 0 && c->wake_ns <= now)
                serve(fd, 0);
            if (watched[fd] && c->wake_ns != 0 &&
                (wake == 0 || c->wake_ns < wake))
                wake = c->wake_ns;
        }
        int ms = wake == 0 ? -1 : (int)((wake - now + 999999) / 1000000);
        int n = epoll_wait(efd, evs, 256, ms);
        if (n == -1 && errno != EINTR)
            die("epoll_wait");
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            if (fd == lfd) {
                while ((fd = accept4(lfd, NULL, NULL,
                                     SOCK_NONBLOCK | SOCK_CLOEXEC)) != -1) {
                    ev = (struct epoll_event){EPOLLIN, {.fd = fd}};
                    if (fd >= MAX_FD ||
                        epoll_ctl(efd, EPOLL_CTL_ADD, fd, &ev) == -1) {
                        close(fd); /* one too many */
                        continue;
                    }
                    resp_client(fd, 0);
                    watched[fd] = EPOLLIN | 1u << 31;
                }
                continue;
            }
            if (evs[i].events & (EPOLLERR | EPOLLHUP)) { /* reset */
                sleeping -= conns[fd].wake_ns != 0;
                close(fd);
                resp_free(&conns[fd]);
                watched[fd] = 0;
                continue;
            }
            serve(fd, 1);
        }
    }
    // [loop]
}
