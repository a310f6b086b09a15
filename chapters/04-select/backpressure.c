/*
 * backpressure.c: a client that sends requests and never reads the
 * answers. Each request ("get\n") is answered with 4 KiB. The server
 * keeps at most OUT_MAX bytes of answers per client; while a client has
 * that much waiting, the server stops reading its requests, so the
 * client's own writes fill the kernel's buffers and block (backpressure).
 * If a client's answers make no progress for STUCK_MS, the server closes
 * it. Meanwhile a polite client, asking every 20 ms, is served at once.
 *
 * Run: backpressure
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "die.h"
#include "trace.h"

#define ANSWER 4096
#define OUT_MAX (64 * 1024) /* answers kept per client, at most */
#define STUCK_MS 500        /* no progress that long: close the client */

static int64_t start;

static double ms(int64_t t)
{
    return (double)(t - start) / 1e6;
}

/* polite: 25 requests, each answer read, 20 ms apart; else: a hog that
   sends requests until the server gives up on it, and never reads. */
static void client(struct sockaddr_in *addr, int polite)
{
    static char buf[ANSWER];
    long sent = 0;
    int64_t worst = 0;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd == -1 || connect(fd, (struct sockaddr *)addr, sizeof *addr) == -1)
        die("connect");
    for (; polite ? sent < 25 : sent < 1000000; sent++) {
        int64_t t0 = trace_now();
        if (write(fd, "get\n", 4) != 4)
            break; /* the hog ends here, when the server closes it */
        for (size_t got = 0; polite && got < ANSWER;) {
            ssize_t n = read(fd, buf, ANSWER - got);
            if (n <= 0)
                die("polite client: read");
            got += (size_t)n;
        }
        struct timespec ts = {0, polite ? 20 * 1000000L : 0};
        if (polite && trace_now() - t0 > worst)
            worst = trace_now() - t0;
        while (polite && nanosleep(&ts, &ts) == -1 && errno == EINTR)
            continue;
    }
    if (polite)
        printf("%6.0f ms  polite client: %ld answers, the slowest in %.2f ms\n",
               ms(trace_now()), sent, (double)worst / 1e6);
    else
        printf("%6.0f ms  hog: write() failed (%s) after %ld requests\n",
               ms(trace_now()), strerror(errno), sent);
    if (fflush(stdout) == EOF)
        die("fflush");
    _exit(0);
}

// [conn]
struct conn {
    int fd;
    const char *name;
    char out[OUT_MAX + ANSWER];
    size_t out_len;
    int64_t progress; /* last time its answers moved (or it had none) */
    int said;         /* whether "stop reading it" was printed */
};
// [conn]

static void hang_up(struct conn *c) /* ends one client, never the server */
{
    if (close(c->fd) == -1)
        perror("server: close");
    c->fd = -1;
}

static void on_readable(struct conn *c) /* called only below OUT_MAX */
{
    char req[4];
    ssize_t n = read(c->fd, req, sizeof req); /* one "get\n" at a time */
    if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return;
    if (n <= 0) { /* gone, or failed */
        hang_up(c);
        return;
    }
    if (c->out_len == 0)
        c->progress = trace_now();
    memset(c->out + c->out_len, 'x', ANSWER);
    c->out_len += ANSWER;
    if (c->out_len >= OUT_MAX && !c->said++)
        printf("%6.0f ms  %s: %d KiB of answers wait: stop reading it\n",
               ms(trace_now()), c->name, OUT_MAX / 1024);
}

static void on_writable(struct conn *c)
{
    ssize_t n = write(c->fd, c->out, c->out_len);
    if (n == -1 && errno != EAGAIN && errno != EWOULDBLOCK)
        hang_up(c); /* a reset, say: that client's loss */
    if (n > 0) {
        memmove(c->out, c->out + n, c->out_len - (size_t)n);
        c->out_len -= (size_t)n;
        c->progress = trace_now();
    }
}

int main(void)
{
    static struct conn conns[2];
    struct sockaddr_in addr = {0};
    socklen_t alen = sizeof addr;
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (lfd == -1 || bind(lfd, (struct sockaddr *)&addr, sizeof addr) == -1 ||
        listen(lfd, 2) == -1 ||
        getsockname(lfd, (struct sockaddr *)&addr, &alen) == -1)
        die("socket, bind, listen");
    if (signal(SIGPIPE, SIG_IGN) == SIG_ERR || fflush(stdout) == EOF)
        die("signal, fflush");
    start = trace_now();
    for (int i = 0; i < 2; i++) {
        pid_t pid = fork();
        if (pid == -1)
            die("fork");
        if (pid == 0)
            client(&addr, i == 0);
        int fd = accept(lfd, NULL, NULL); /* the hog comes second */
        int flags = fd == -1 ? -1 : fcntl(fd, F_GETFL);
        if (flags == -1 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1)
            die("accept, fcntl");
        conns[i] = (struct conn){.fd = fd, .name = i == 0 ? "polite" : "hog"};
    }
    while (conns[0].fd != -1 || conns[1].fd != -1) {
        fd_set rd, wr;
        int maxfd = -1;
        FD_ZERO(&rd);
        FD_ZERO(&wr);
        // [interest]
        for (int i = 0; i < 2; i++) {
            struct conn *c = &conns[i];
            if (c->fd == -1)
                continue;
            if (c->out_len < OUT_MAX) /* room for more answers */
                FD_SET(c->fd, &rd);
            if (c->out_len > 0) /* answers to send */
                FD_SET(c->fd, &wr);
            maxfd = c->fd > maxfd ? c->fd : maxfd;
        }
        // [interest]
        struct timeval tv = {0, 50 * 1000}; /* a timer would be exact */
        if (select(maxfd + 1, &rd, &wr, NULL, &tv) == -1)
            die("select");
        for (int i = 0; i < 2; i++) {
            struct conn *c = &conns[i];
            if (c->fd != -1 && FD_ISSET(c->fd, &wr))
                on_writable(c);
            if (c->fd != -1 && FD_ISSET(c->fd, &rd))
                on_readable(c);
            // [stuck]
            if (c->fd != -1 && c->out_len > 0 &&
                trace_now() - c->progress > STUCK_MS * 1000000LL) {
                printf("%6.0f ms  %s: no progress for %d ms: closed\n",
                       ms(trace_now()), c->name, STUCK_MS);
                hang_up(c);
            }
            // [stuck]
        }
        if (fflush(stdout) == EOF)
            die("fflush");
    }
    for (int i = 0; i < 2; i++)
        if (wait(NULL) == -1)
            die("wait");
    return 0;
}
