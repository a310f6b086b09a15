/*
 * server_select.c: chapter 7's key-value server (resp.h) on one thread
 * and a select() loop, as in chapter 4: each turn builds the sets from
 * what every client wants (no reading while its replies pile up or its
 * SLEEP waits; writing only while replies wait), sleeps in select() until
 * a socket is ready or the earliest SLEEP ends, then serves each client a
 * step. A BURN freezes every client. Descriptors must stay below
 * FD_SETSIZE; a client that gets a higher one is closed at once.
 *
 * Run: server_select [SECONDS]   (prints "port N"; ends after SECONDS,
 *      default 60, or on SIGTERM). Try: redis-cli -p N ping
 */
#include <fcntl.h>
#include <sys/select.h>

#include "resp.h"

static resp_conn conns[FD_SETSIZE];
static char open_fd[FD_SETSIZE];

int main(int argc, char *argv[])
{
    int lfd = resp_listen(argc, argv);
    if (fcntl(lfd, F_SETFL, O_NONBLOCK) == -1 || lfd >= FD_SETSIZE)
        die("fcntl");
    // [loop]
    for (;;) {
        fd_set rd, wr;
        int maxfd = lfd;
        int64_t wake = 0, now;
        FD_ZERO(&rd);
        FD_ZERO(&wr);
        FD_SET(lfd, &rd);
        for (int fd = 0; fd < FD_SETSIZE; fd++) {
            resp_conn *c = &conns[fd];
            if (!open_fd[fd])
                continue;
            if (resp_wants_read(c))
                FD_SET(fd, &rd);
            if (resp_wants_write(c))
                FD_SET(fd, &wr);
            maxfd = fd > maxfd ? fd : maxfd;
            if (c->wake_ns != 0 && (wake == 0 || c->wake_ns < wake))
                wake = c->wake_ns;
        }
        now = resp_now_ns();
        int64_t us = wake > now ? (wake - now + 999) / 1000 : 0;
        struct timeval tv = {us / 1000000, us % 1000000};
        if (select(maxfd + 1, &rd, &wr, NULL, wake ? &tv : NULL) == -1) {
            if (errno != EINTR)
                die("select");
            continue;
        }
        if (FD_ISSET(lfd, &rd)) {
            int fd;
            while ((fd = accept(lfd, NULL, NULL)) != -1) {
                if (fd >= FD_SETSIZE || fcntl(fd, F_SETFL, O_NONBLOCK) == -1) {
                    close(fd); /* one too many for select() */
                    continue;
                }
                resp_client(fd, 0);
                open_fd[fd] = 1;
            }
        }
        for (int fd = 0; fd <= maxfd; fd++) {
            if (!open_fd[fd] || fd == lfd)
                continue;
            if (FD_ISSET(fd, &rd) || FD_ISSET(fd, &wr) ||
                conns[fd].wake_ns != 0 || conns[fd].in.len > 0) {
                if (resp_step(fd, &conns[fd], FD_ISSET(fd, &rd)) == -1) {
                    close(fd);
                    resp_free(&conns[fd]);
                    open_fd[fd] = 0;
                }
            }
        }
    }
    // [loop]
}
