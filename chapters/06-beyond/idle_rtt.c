/*
 * idle_rtt.c: one active client's round trip on an echo server with IDLE
 * idle clients, with a select() or an epoll back end (Linux only, hence
 * _GNU_SOURCE). The server is a child process: one thread, one loop,
 * listening on 127.0.0.1 (port from the kernel, close-on-exec), at most
 * 1,000 + 20 clients (more are accepted and closed at once), a client
 * that resets is closed, one that doesn't read its echoes is dropped (no
 * output queue: a short write drops it), and it exits when the parent's
 * pipe closes or after 10 s. The parent first sends a reset and a
 * non-reader, then opens IDLE connections that never speak, then times
 * 2,000 round trips of 16 bytes on one more; it prints the median.
 *
 * Run: idle_rtt select|epoll IDLE       (IDLE from 0 to 1000)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "die.h"

enum { MAXC = 1020, ROUNDS = 2000 };
static int lfd, quitfd, use_epoll, ep, conn[FD_SETSIZE], nconn;

static void drop(int fd)
{
    if (use_epoll && epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL) == -1)
        die("epoll_ctl DEL");
    if (close(fd) == -1)
        die("close");
    conn[fd] = 0, nconn--;
}

static void on_ready(int fd) /* one descriptor is readable */
{
    if (fd == quitfd)
        exit(0);
    if (fd == lfd) {
        int c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (c == -1)
            return; /* EAGAIN, ECONNABORTED, EMFILE...: try again later */
        if (nconn >= MAXC || c >= FD_SETSIZE) { /* more than allowed */
            if (close(c) == -1)
                die("close");
            return;
        }
        struct epoll_event ev = {.events = EPOLLIN, .data.fd = c};
        if (use_epoll && epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev) == -1)
            die("epoll_ctl ADD");
        conn[c] = 1, nconn++;
        return;
    }
    char buf[4096];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) { /* end of stream, or ECONNRESET from a reset */
        drop(fd);
        return;
    }
    if (send(fd, buf, (size_t)n, MSG_NOSIGNAL) != n) /* no room: never reads */
        drop(fd);
}

// [serve]
static void serve(void)
{
    for (;;) {
        if (use_epoll) {
            struct epoll_event ev[64];
            int n = epoll_wait(ep, ev, 64, 10000);
            if (n == -1 && errno == EINTR)
                continue;
            if (n <= 0)
                exit(n == 0 ? 0 : 1); /* 10 s of nothing: stop */
            for (int i = 0; i < n; i++)
                on_ready(ev[i].data.fd);
        } else {
            fd_set r;
            FD_ZERO(&r);
            int hi = lfd > quitfd ? lfd : quitfd;
            FD_SET(lfd, &r), FD_SET(quitfd, &r);
            for (int fd = 0; fd < FD_SETSIZE; fd++) /* rebuild, every turn */
                if (conn[fd])
                    FD_SET(fd, &r), hi = fd > hi ? fd : hi;
            struct timeval tv = {10, 0};
            int n = select(hi + 1, &r, NULL, NULL, &tv);
            if (n == -1 && errno == EINTR)
                continue;
            if (n <= 0)
                exit(n == 0 ? 0 : 1);
            for (int fd = 0; fd <= hi && n > 0; fd++) /* find the ready ones */
                if (FD_ISSET(fd, &r))
                    on_ready(fd), n--;
        }
    }
}
// [serve]

static int dial(struct sockaddr_in *a)
{
    int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c == -1 || connect(c, (struct sockaddr *)a, sizeof *a) == -1)
        die("connect");
    return c;
}

static int cmp(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

int main(int argc, char **argv)
{
    int idle = argc == 3 ? atoi(argv[2]) : -1;
    if (idle < 0 || idle > 1000 ||
        (strcmp(argv[1], "select") && strcmp(argv[1], "epoll"))) {
        fprintf(stderr, "usage: idle_rtt select|epoll IDLE (0 to 1000)\n");
        return 2;
    }
    use_epoll = strcmp(argv[1], "epoll") == 0;
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    int q[2];
    lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (lfd == -1 || bind(lfd, (struct sockaddr *)&a, sizeof a) == -1 ||
        listen(lfd, 1024) == -1 ||
        getsockname(lfd, (struct sockaddr *)&a, &alen) == -1 ||
        pipe2(q, O_CLOEXEC) == -1)
        die("listen");
    fflush(stdout);
    pid_t server = fork();
    if (server == -1)
        die("fork");
    if (server == 0) {
        quitfd = q[0];
        if (close(q[1]) == -1 ||
            (use_epoll && (ep = epoll_create1(EPOLL_CLOEXEC)) == -1))
            die("server setup");
        struct epoll_event e1 = {.events = EPOLLIN, .data.fd = lfd};
        struct epoll_event e2 = {.events = EPOLLIN, .data.fd = quitfd};
        if (use_epoll && (epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &e1) == -1 ||
                          epoll_ctl(ep, EPOLL_CTL_ADD, quitfd, &e2) == -1))
            die("epoll_ctl");
        serve();
    }
    if (close(lfd) == -1 || close(q[0]) == -1)
        die("close");
    int rst = dial(&a); /* a client that resets: linger 0, then close */
    struct linger lg = {1, 0};
    if (setsockopt(rst, SOL_SOCKET, SO_LINGER, &lg, sizeof lg) == -1 ||
        close(rst) == -1)
        die("reset");
    int deaf = dial(&a), fl = fcntl(deaf, F_GETFL); /* sends, never reads */
    if (fl == -1 || fcntl(deaf, F_SETFL, fl | O_NONBLOCK) == -1)
        die("fcntl");
    static char junk[1 << 16];
    for (int i = 0; i < 64 && send(deaf, junk, sizeof junk, MSG_NOSIGNAL) > 0;
         i++)
        continue;
    static int idlefd[1000];
    for (int i = 0; i < idle; i++)
        idlefd[i] = dial(&a);
    int c = dial(&a);
    static double took[ROUNDS];
    for (int i = 0; i < ROUNDS; i++) {
        struct timespec t0, t1;
        char msg[16] = "0123456789abcde", back[16];
        clock_gettime(CLOCK_MONOTONIC, &t0);
        if (write(c, msg, 16) != 16)
            die("write");
        for (ssize_t got = 0, n; got < 16; got += n)
            if ((n = read(c, back + got, (size_t)(16 - got))) <= 0)
                die("read");
        clock_gettime(CLOCK_MONOTONIC, &t1);
        took[i] = (double)(t1.tv_sec - t0.tv_sec) * 1e6 +
                  (double)(t1.tv_nsec - t0.tv_nsec) / 1e3;
    }
    qsort(took, ROUNDS, sizeof took[0], cmp);
    printf("%-6s %4d idle clients: round trip median %6.1f us, 90th percentile "
           "%6.1f us\n",
           argv[1], idle, took[ROUNDS / 2], took[ROUNDS * 9 / 10]);
    if (close(q[1]) == -1) /* tells the server to stop */
        die("close");
    int st;
    if (waitpid(server, &st, 0) == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        die("the server did not stop cleanly");
    for (int i = 0; i < idle; i++)
        close(idlefd[i]);
    close(c), close(deaf);
    return 0;
}
