/*
 * stall_fixed.c: the server of stall_broken.c without the stall. The slow
 * request still takes 300 ms, but the wait is a timer in the loop instead
 * of a sleep inside the callback: the callback returns at once, the loop
 * goes on serving client B, and client A's answer goes out when the timer
 * is due. Client B waits well under a millisecond.
 *
 * Run: stall_fixed
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "die.h"
#include "trace.h"

#define SLOW_MS 300

struct conn {
    int fd; /* -1: closed */
    char in[32];
    size_t len;
    int64_t reply_at; /* when the slow answer is due; 0: none */
};

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) == -1)
        if (errno != EINTR)
            die("nanosleep");
}

static void client(const char *name, long delay_ms, struct sockaddr_in *addr)
{
    char request[16], answer[64];
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sleep_ms(delay_ms);
    if (fd == -1 || connect(fd, (struct sockaddr *)addr, sizeof *addr) == -1)
        die("connect");
    int len = snprintf(request, sizeof request, "%s\n", name);
    int64_t sent = trace_now();
    if (write(fd, request, (size_t)len) != len)
        die("write");
    ssize_t n = read(fd, answer, sizeof answer); /* one short line */
    if (n <= 0)
        die("read");
    snprintf(request, sizeof request, "%s waits", name);
    trace_span(request, sent, trace_now());
    printf("client %s: waited %5.1f ms for: %.*s", name,
           (double)(trace_now() - sent) / 1e6, (int)n, answer);
    _exit(fflush(stdout) == EOF);
}

static int done; /* clients served or gone */

static void hang_up(struct conn *c) /* ends one client, never the server */
{
    if (close(c->fd) == -1)
        perror("server: close");
    c->fd = -1;
    done++;
}

static void reply(struct conn *c)
{
    char answer[64];
    int len = snprintf(answer, sizeof answer, "done: %s", c->in);
    if (send(c->fd, answer, (size_t)len, MSG_NOSIGNAL) != len) /* fits */
        perror("server: send"); /* that client's loss, not the server's */
    hang_up(c);
}

// [handle]
static void on_request(struct conn *c)
{
    if (strcmp(c->in, "A\n") == 0) /* A's request needs a slow step */
        c->reply_at = trace_now() + SLOW_MS * 1000000LL; /* a timer */
    else
        reply(c);
}
// [handle]

int main(void)
{
    struct sockaddr_in addr = {0};
    socklen_t alen = sizeof addr;
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (lfd == -1 || bind(lfd, (struct sockaddr *)&addr, sizeof addr) == -1 ||
        listen(lfd, 4) == -1 ||
        getsockname(lfd, (struct sockaddr *)&addr, &alen) == -1)
        die("socket, bind, listen");
    if (fflush(stdout) == EOF)
        die("fflush");
    for (int i = 0; i < 2; i++) {
        pid_t pid = fork();
        if (pid == -1)
            die("fork");
        if (pid == 0)
            client(i == 0 ? "A" : "B", i * 50, &addr); /* B 50 ms later */
    }
    struct conn conns[2];
    int accepted = 0;
    while (done < 2) {
        fd_set rd;
        int maxfd = lfd;
        int64_t next = 0; /* the earliest reply_at */
        FD_ZERO(&rd);
        if (accepted < 2)
            FD_SET(lfd, &rd);
        for (int i = 0; i < accepted; i++)
            if (conns[i].fd != -1 && conns[i].reply_at == 0) {
                FD_SET(conns[i].fd, &rd);
                maxfd = conns[i].fd > maxfd ? conns[i].fd : maxfd;
            } else if (conns[i].fd != -1 &&
                       (next == 0 || conns[i].reply_at < next)) {
                next = conns[i].reply_at;
            }
        int64_t us = next == 0 ? 0 : (next - trace_now() + 999) / 1000;
        struct timeval tv = {0, us > 0 ? us : 0}; /* under SLOW_MS */
        if (select(maxfd + 1, &rd, NULL, NULL, next == 0 ? NULL : &tv) == -1)
            die("select");
        if (FD_ISSET(lfd, &rd)) {
            int fd = accept(lfd, NULL, NULL);
            if (fd != -1) /* else it went before we took it */
                conns[accepted++] = (struct conn){fd, {0}, 0, 0};
        }
        for (int i = 0; i < accepted; i++) {
            struct conn *c = &conns[i];
            if (c->fd != -1 && c->reply_at != 0 && c->reply_at <= trace_now()) {
                reply(c); /* its timer is due */
            } else if (c->fd != -1 && FD_ISSET(c->fd, &rd)) {
                ssize_t n =
                    read(c->fd, c->in + c->len, sizeof c->in - 1 - c->len);
                if (n <= 0) { /* gone, failed, or a line too long */
                    hang_up(c);
                    continue;
                }
                c->len += (size_t)n;
                if (c->in[c->len - 1] != '\n')
                    continue; /* not the whole line yet */
                int64_t began = trace_now();
                on_request(c);
                trace_span("server callback", began, trace_now());
            }
        }
    }
    for (int i = 0; i < 2; i++)
        if (wait(NULL) == -1)
            die("wait");
    return 0;
}
