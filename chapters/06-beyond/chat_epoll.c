/*
 * chat_epoll.c: chapter 4's chat server (chat.h), unchanged, on this
 * chapter's epoll loop (eloop.h) instead of the select() loop, serving
 * 2,000 clients at once. The Makefile links chat, linebuf and timerq of
 * chapter 4 with eloop (the reference solutions; yours in the learners'
 * copy). Linux only, as epoll is.
 *
 * It raises RLIMIT_NOFILE, listens on 127.0.0.1 (port 0) and forks. The
 * child opens 2,001 connections: the first 2,000 must be welcomed in
 * order, the last told "server full"; a line of client 1 must reach the
 * 1,999 others, one of client 2,000 must reach client 1. The parent
 * serves until the child has gone (end of file on a pipe), 15 s at most.
 *
 * Run: chat_epoll
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "04-select/chat.h"
#include "die.h"

enum { CLIENTS = 2000, LIMIT_S = 15 };

/* One client of the child: its socket and what it has read. */
static struct conn {
    int fd;
    size_t len;
    char buf[64];
} conns[CLIENTS + 1];

/* Whether the next line @p c reads, within 2 s, is @p want. */
static int hear(struct conn *c, const char *want)
{
    char *nl;
    while ((nl = memchr(c->buf, '\n', c->len)) == NULL) {
        struct pollfd p = {c->fd, POLLIN, 0};
        ssize_t n =
            c->len == sizeof c->buf || poll(&p, 1, 2000) != 1
                ? -1
                : recv(c->fd, c->buf + c->len, sizeof c->buf - c->len, 0);
        if (n <= 0)
            return 0; /* nothing, end of file or an error */
        c->len += (size_t)n;
    }
    *nl = '\0';
    int same = strcmp(c->buf, want) == 0;
    c->len -= (size_t)(nl + 1 - c->buf);
    memmove(c->buf, nl + 1, c->len);
    return same;
}

// [clients]
/* The child: 2,001 clients, checked. Returns its exit status. */
static int clients(const struct sockaddr_in *addr, int report, int ack)
{
    alarm(LIMIT_S); /* a stuck server cannot keep it for ever */
    int welcomed = 0, heard = 0, back, full;
    char want[64], b;
    for (int i = 0; i <= CLIENTS; i++) {
        conns[i].fd = socket(AF_INET, SOCK_STREAM, 0);
        if (conns[i].fd == -1 ||
            connect(conns[i].fd, (const struct sockaddr *)addr, sizeof *addr) ==
                -1)
            die("client: socket, connect");
    }
    for (int i = 0; i < CLIENTS; i++) {
        snprintf(want, sizeof want, "welcome %d", i + 1);
        welcomed += hear(&conns[i], want);
    }
    full = hear(&conns[CLIENTS], "server full");
    /* All in: let the server count them before anyone leaves. */
    if (write(report, "w", 1) != 1 || read(ack, &b, 1) != 1)
        die("client: report");
    if (send(conns[0].fd, "hello from 1\n", 13, MSG_NOSIGNAL) != 13)
        die("client: send");
    for (int i = 1; i < CLIENTS; i++)
        heard += hear(&conns[i], "1: hello from 1");
    if (send(conns[CLIENTS - 1].fd, "bye from 2000\n", 14, MSG_NOSIGNAL) != 14)
        die("client: send");
    back = hear(&conns[0], "2000: bye from 2000");
    printf("clients: %d of %d welcomed, with ids 1, 2, 3, ... in order\n",
           welcomed, CLIENTS);
    printf("clients: connection %d got \"server full\": %s\n", CLIENTS + 1,
           full ? "yes" : "no");
    printf("clients: the line of client 1 reached %d of the %d others\n", heard,
           CLIENTS - 1);
    printf("clients: the line of client %d reached client 1: %s\n", CLIENTS,
           back ? "yes" : "no");
    int ok = welcomed == CLIENTS && full && heard == CLIENTS - 1 && back;
    return ok ? 0 : 1;
}
// [clients]

static chat *server;
static long served = -1, safety;
static int highest = -1, ack_fd;

/* The highest descriptor the process has open (main() allows 4,096). */
static int highest_fd(void)
{
    for (int fd = 4095; fd >= 0; fd--)
        if (fcntl(fd, F_GETFD) != -1)
            return fd;
    return -1;
}

/* The child reports "all welcomed" (a byte), then leaves (end of file). */
static void on_report(loop *l, int fd, int events, void *ctx)
{
    (void)events;
    (void)ctx;
    char b;
    if (read(fd, &b, 1) == 1) {
        served = (long)chat_clients(server);
        highest = highest_fd();
        (void)write(ack_fd, "k", 1);
        return;
    }
    chat_stop(server);
    (void)loop_unwatch(l, fd);
    (void)loop_cancel_timer(l, safety);
}

static void on_time_up(loop *l, void *ctx)
{
    chat_stop(server);
    (void)loop_unwatch(l, *(int *)ctx);
}

// [main]
int main(void)
{
    struct rlimit r;
    if (getrlimit(RLIMIT_NOFILE, &r) == -1)
        die("getrlimit");
    r.rlim_cur =
        r.rlim_max == RLIM_INFINITY || r.rlim_max > 4096 ? 4096 : r.rlim_max;
    if (r.rlim_cur < CLIENTS + 64 || setrlimit(RLIMIT_NOFILE, &r) == -1)
        die("setrlimit: 2,064 descriptors or more");
    struct sockaddr_in addr = {.sin_family = AF_INET};
    socklen_t len = sizeof addr;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), report[2], ack[2];
    if (lfd == -1 || bind(lfd, (struct sockaddr *)&addr, sizeof addr) == -1 ||
        listen(lfd, 4096) == -1 ||
        getsockname(lfd, (struct sockaddr *)&addr, &len) == -1 ||
        pipe(report) == -1 || pipe(ack) == -1)
        die("socket, bind, listen, pipe");
    pid_t pid = fork();
    if (pid == -1)
        die("fork");
    if (pid == 0) {
        /* The child is only clients: no listening socket, no server. */
        (void)close(lfd);
        (void)close(report[0]);
        (void)close(ack[1]);
        int status = clients(&addr, report[1], ack[0]);
        fflush(stdout);
        _exit(status);
    }
    if (close(report[1]) == -1 || close(ack[0]) == -1)
        die("close");
    ack_fd = ack[1];
    chat_config cfg = {.max_clients = CLIENTS,
                       .max_line = 100,
                       .max_queue = 4096,
                       .idle_ms = LIMIT_S * 1000};
    loop *l = loop_new();
    if (l == NULL || (server = chat_start(l, lfd, &cfg)) == NULL ||
        loop_watch(l, report[0], LOOP_READ, on_report, NULL) == -1 ||
        (safety = loop_add_timer(l, LIMIT_S * 1000, on_time_up, &report[0])) <
            0 ||
        loop_run(l) == -1)
        die("loop_new, chat_start, loop_watch, loop_run");
    loop_free(l);
    int status;
    if (waitpid(pid, &status, 0) == -1)
        die("waitpid");
    printf("server: %ld clients at once, the highest on descriptor %s "
           "(select() stops at %d)\n",
           served, highest > CLIENTS ? "2001 or above" : "2000 or below",
           FD_SETSIZE);
    if (close(lfd) == -1 || close(report[0]) == -1 || close(ack[1]) == -1)
        die("close");
    int ok = WIFEXITED(status) && WEXITSTATUS(status) == 0 && served == CLIENTS;
    printf("server: stopped; the clients %s\n",
           ok ? "got every line" : "did not get everything");
    return ok ? 0 : 1;
}
// [main]
