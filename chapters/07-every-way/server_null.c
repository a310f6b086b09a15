/*
 * server_null.c: a server that does as little as a server can, to measure
 * the load generator (load.c) rather than a server. One thread, an epoll
 * loop; it reads what comes, finds where each request ends (RESP arrays
 * of bulk strings, or inline lines) without copying or looking at the
 * words, and answers every request +OK. No store, no commands: whatever
 * rate load reaches against it is the most load can ask of any server on
 * this machine. A malformed request gets an error and the close, as in
 * resp.h. Linux-only (epoll, accept4), hence _GNU_SOURCE.
 *
 * Run: server_null [SECONDS]   (prints "port N"; ends after SECONDS,
 *      default 60, or on SIGTERM). Try: load -c 10 -- server_null
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/epoll.h>

#include "resp.h"

#define MAX_FD 20000
#define OWED_MAX (256 << 10) /* unsent replies: stop reading */

/* Where a client is in its input: at a request's start, in a header
   (*N or $N: `num` so far), in a bulk string (`skip` bytes left), at its
   \r or \n, or in an inline line. `owed`: bytes of "+OK\r\n"s not sent. */
typedef struct {
    enum { START, ARRAY, DOLLAR, BULK_HEAD, BULK, CR, LF, INLINE } at;
    long num, skip, inline_len;
    int elems;
    uint32_t events; /* registered; 0: not open */
    size_t owed;
} nconn;

static nconn cs[MAX_FD];
static char oks[65536]; /* "+OK\r\n" over and over */

// [scan]
/* Walk p[0..n): the number of requests that end in it; -1: malformed. */
static long scan(nconn *c, const char *p, size_t n)
{
    long done = 0;
    for (size_t i = 0; i < n; i++) {
        char b = p[i];
        switch (c->at) {
        case BULK: { /* the payload: jump over it, never look at it */
            size_t jump = (size_t)c->skip < n - i ? (size_t)c->skip : n - i;
            c->skip -= (long)jump;
            i += jump - 1;
            if (c->skip == 0)
                c->at = CR;
            break;
        }
        case CR:
            if (b != '\r')
                return -1;
            c->at = LF;
            break;
        case LF:
            if (b != '\n')
                return -1;
            c->at = --c->elems == 0 ? START : DOLLAR;
            done += c->elems == 0;
            break;
        case START:
            c->num = c->inline_len = 0;
            c->at = b == '*' ? ARRAY : b == '\n' ? START : INLINE;
            done += b == '\n';
            break;
        case INLINE:
            if (b == '\n')
                c->at = START, done++;
            else if (++c->inline_len > RESP_MAX_INLINE)
                return -1;
            break;
        case DOLLAR:
            if (b != '$')
                return -1;
            c->at = BULK_HEAD;
            c->num = 0;
            break;
        default: /* ARRAY or BULK_HEAD: digits, \r, \n */
            if (b >= '0' && b <= '9' && c->num <= RESP_MAX_BULK) {
                c->num = c->num * 10 + (b - '0');
            } else if (b == '\n' && c->at == ARRAY) {
                if (c->num < 1 || c->num > RESP_MAX_ARGS)
                    return -1;
                c->elems = (int)c->num;
                c->at = DOLLAR;
            } else if (b == '\n' && c->num <= RESP_MAX_BULK) {
                c->skip = c->num;
                c->at = c->skip > 0 ? BULK : CR;
            } else if (b != '\r') {
                return -1;
            }
        }
    }
    return done;
}
// [scan]

static void drop(int efd, int fd)
{
    if (epoll_ctl(efd, EPOLL_CTL_DEL, fd, NULL) == -1 || close(fd) == -1)
        perror("drop");
    cs[fd] = (nconn){0};
}

/* Send what is owed; register for what the client wants now. */
static void flush(int efd, int fd)
{
    nconn *c = &cs[fd];
    while (c->owed > 0) {
        size_t off = (5 - c->owed % 5) % 5; /* mid-reply: go on from there */
        size_t len = c->owed < sizeof oks - 5 ? c->owed : sizeof oks - 5;
        ssize_t w = write(fd, oks + off, len);
        if (w == -1 && errno == EINTR)
            continue;
        if (w == -1 && errno != EAGAIN) {
            drop(efd, fd);
            return;
        }
        if (w == -1)
            break;
        c->owed -= (size_t)w;
    }
    uint32_t want =
        (c->owed < OWED_MAX ? EPOLLIN : 0) | (c->owed > 0 ? EPOLLOUT : 0);
    struct epoll_event ev = {.events = want, .data.fd = fd};
    if (want != c->events && epoll_ctl(efd, EPOLL_CTL_MOD, fd, &ev) == -1)
        die("epoll_ctl");
    c->events = want;
}

int main(int argc, char *argv[])
{
    static char in[65536];
    int lfd = resp_listen(argc, argv), efd;
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = lfd}, evs[256];
    if (fcntl(lfd, F_SETFL, O_NONBLOCK) == -1 ||
        (efd = epoll_create1(EPOLL_CLOEXEC)) == -1 ||
        epoll_ctl(efd, EPOLL_CTL_ADD, lfd, &ev) == -1)
        die("epoll");
    for (size_t i = 0; i < sizeof oks; i++)
        oks[i] = "+OK\r\n"[i % 5];
    for (;;) {
        int n = epoll_wait(efd, evs, 256, -1);
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
                    cs[fd] = (nconn){.events = EPOLLIN};
                }
                continue;
            }
            ssize_t r = -1;
            if ((evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) &&
                (r = read(fd, in, sizeof in)) == -1 && errno != EAGAIN &&
                errno != EINTR) {
                drop(efd, fd); /* reset */
                continue;
            }
            long done = r > 0 ? scan(&cs[fd], in, (size_t)r) : 0;
            if (done < 0 || r == 0) { /* malformed, or the client is done */
                static const char bad[] = "-ERR Protocol error\r\n";
                flush(efd, fd);
                if (cs[fd].events != 0 && done < 0 &&
                    write(fd, bad, sizeof bad - 1) == -1)
                    perror("write"); /* it goes anyway */
                if (cs[fd].events != 0)
                    drop(efd, fd);
                continue;
            }
            cs[fd].owed += (size_t)done * 5;
            flush(efd, fd);
        }
    }
}
