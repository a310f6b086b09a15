/*
 * sigloop: signals as loop callbacks through a signalfd, and a server
 * that shuts down gracefully on SIGTERM or SIGINT.
 * Reference solution; the contract is in exercises/06-beyond/sigloop.h.
 *
 * Linux-only: signalfd, accept4().
 */
#define _GNU_SOURCE
#include "sigloop.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

struct sigloop {
    loop *l;
    int sfd;
    int fd_watched;
    int nwatched;
    sigset_t watched;    /* what the signalfd reads */
    sigset_t blocked_us; /* what sigloop_watch() blocked */
    struct {
        sigloop_fn fn;
        void *ctx;
    } cb[NSIG];
};

sigloop *sigloop_new(loop *l)
{
    if (l == NULL) {
        errno = EINVAL;
        return NULL;
    }
    sigloop *s = calloc(1, sizeof *s);
    if (s == NULL)
        return NULL;
    s->l = l;
    sigemptyset(&s->watched);
    sigemptyset(&s->blocked_us);
    s->sfd = signalfd(-1, &s->watched, SFD_NONBLOCK | SFD_CLOEXEC);
    if (s->sfd == -1) {
        int err = errno;
        free(s);
        errno = err;
        return NULL;
    }
    return s;
}

// [read]
static void on_signalfd(loop *l, int fd, int events, void *ctx)
{
    (void)l;
    (void)events;
    sigloop *s = ctx;
    struct signalfd_siginfo si;
    /* One at a time: a callback may unwatch a signal still to come. */
    while (read(fd, &si, sizeof si) == (ssize_t)sizeof si) {
        int signo = (int)si.ssi_signo;
        if (signo > 0 && signo < NSIG && sigismember(&s->watched, signo) &&
            s->cb[signo].fn != NULL)
            s->cb[signo].fn(s, signo, s->cb[signo].ctx);
        if (!s->fd_watched)
            break; /* everything unwatched: the rest is discarded later */
    }
}
// [read]

// [watch]
int sigloop_watch(sigloop *s, int signo, sigloop_fn on_signal, void *ctx)
{
    if (s == NULL || on_signal == NULL || signo <= 0 || signo >= NSIG ||
        signo == SIGKILL || signo == SIGSTOP) {
        errno = EINVAL;
        return -1;
    }
    if (!sigismember(&s->watched, signo)) {
        sigset_t one, old, set = s->watched;
        sigemptyset(&one);
        sigaddset(&one, signo);
        /* Blocked first: from here on it waits for the signalfd. */
        int rc = pthread_sigmask(SIG_BLOCK, &one, &old);
        if (rc != 0) {
            errno = rc;
            return -1;
        }
        sigaddset(&set, signo);
        if (signalfd(s->sfd, &set, 0) == -1 ||
            (!s->fd_watched &&
             loop_watch(s->l, s->sfd, LOOP_READ, on_signalfd, s) == -1)) {
            int err = errno;
            signalfd(s->sfd, &s->watched, 0);
            if (!sigismember(&old, signo))
                pthread_sigmask(SIG_UNBLOCK, &one, NULL);
            errno = err;
            return -1;
        }
        if (!sigismember(&old, signo))
            sigaddset(&s->blocked_us, signo);
        s->watched = set;
        s->fd_watched = 1;
        s->nwatched++;
    }
    s->cb[signo].fn = on_signal;
    s->cb[signo].ctx = ctx;
    return 0;
}
// [watch]

int sigloop_unwatch(sigloop *s, int signo)
{
    if (s == NULL) {
        errno = EINVAL;
        return -1;
    }
    if (signo <= 0 || signo >= NSIG || !sigismember(&s->watched, signo)) {
        errno = ENOENT;
        return -1;
    }
    sigdelset(&s->watched, signo);
    signalfd(s->sfd, &s->watched, 0);
    s->cb[signo].fn = NULL;
    s->cb[signo].ctx = NULL;
    if (--s->nwatched == 0 && s->fd_watched) {
        loop_unwatch(s->l, s->sfd);
        s->fd_watched = 0;
    }
    return 0;
}

void sigloop_free(sigloop *s)
{
    if (s == NULL)
        return;
    if (s->fd_watched)
        loop_unwatch(s->l, s->sfd);
    close(s->sfd);
    /* Throw away what is pending for us, then unblock. */
    struct timespec zero = {0, 0};
    while (sigtimedwait(&s->blocked_us, NULL, &zero) > 0)
        ;
    pthread_sigmask(SIG_UNBLOCK, &s->blocked_us, NULL);
    free(s);
}

/* --- The server ---------------------------------------------------------- */

enum { LINE_MAX_BYTES = 64, OUT_MAX = 4096, MAX_MS = 10000 };
enum { SERVING, DRAINING, DONE };

struct conn;

struct request {
    struct conn *c;
    long ms;
    long timer;
    struct request *next;
};

struct conn {
    sigloop_server *srv;
    int fd;
    char in[LINE_MAX_BYTES];
    size_t inlen;
    char out[OUT_MAX];
    size_t outlen;
    struct request *reqs; /* in flight */
    struct conn *next;
};

struct sigloop_server {
    loop *l;
    sigloop *s;
    int lfd;
    long grace_ms;
    int state;
    long grace_timer;
    struct conn *conns;
};

static void conn_close(struct conn *c)
{
    sigloop_server *srv = c->srv;
    for (struct conn **pp = &srv->conns; *pp != NULL; pp = &(*pp)->next)
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    while (c->reqs != NULL) {
        struct request *r = c->reqs;
        c->reqs = r->next;
        loop_cancel_timer(srv->l, r->timer);
        free(r);
    }
    loop_unwatch(srv->l, c->fd);
    close(c->fd);
    free(c);
}

// [finish]
/* The shutdown is over once no connection is left. */
static void maybe_done(sigloop_server *srv)
{
    if (srv->state != DRAINING || srv->conns != NULL)
        return;
    srv->state = DONE;
    if (srv->grace_timer > 0)
        loop_cancel_timer(srv->l, srv->grace_timer);
    srv->grace_timer = 0;
    sigloop_unwatch(srv->s, SIGTERM);
    sigloop_unwatch(srv->s, SIGINT);
}
// [finish]

static void on_conn(loop *l, int fd, int events, void *ctx);

/* What the connection should be watched for now. While draining nothing
 * is read: only answers still to send are written. */
static void conn_rewatch(struct conn *c)
{
    sigloop_server *srv = c->srv;
    int events = srv->state == SERVING ? LOOP_READ : 0;
    if (c->outlen > 0)
        events |= LOOP_WRITE;
    if (events == 0)
        loop_unwatch(srv->l, c->fd);
    else
        loop_watch(srv->l, c->fd, events, on_conn, c);
}

/* Send what fits; 0, or -1 when the connection is gone (closed). */
static int conn_flush(struct conn *c)
{
    while (c->outlen > 0) {
        ssize_t n = send(c->fd, c->out, c->outlen, MSG_NOSIGNAL);
        if (n == -1 && errno == EINTR)
            continue;
        if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n <= 0) {
            sigloop_server *srv = c->srv;
            conn_close(c); /* the client is gone: its answers with it */
            maybe_done(srv);
            return -1;
        }
        memmove(c->out, c->out + n, c->outlen - (size_t)n);
        c->outlen -= (size_t)n;
    }
    if (c->srv->state == DRAINING && c->outlen == 0 && c->reqs == NULL) {
        sigloop_server *srv = c->srv;
        conn_close(c); /* its last answer is out */
        maybe_done(srv);
        return -1;
    }
    conn_rewatch(c);
    return 0;
}

/* Queue a line of answer; -1 when the client let too much pile up (it is
 * then disconnected). */
static int conn_say(struct conn *c, const char *line)
{
    size_t n = strlen(line);
    if (c->outlen + n > OUT_MAX) {
        sigloop_server *srv = c->srv;
        conn_close(c);
        maybe_done(srv);
        return -1;
    }
    memcpy(c->out + c->outlen, line, n);
    c->outlen += n;
    return 0;
}

static void on_request_done(loop *l, void *ctx)
{
    (void)l;
    struct request *r = ctx;
    struct conn *c = r->c;
    for (struct request **pp = &c->reqs; *pp != NULL; pp = &(*pp)->next)
        if (*pp == r) {
            *pp = r->next;
            break;
        }
    char line[32];
    snprintf(line, sizeof line, "done %ld\n", r->ms);
    free(r);
    if (conn_say(c, line) == 0)
        conn_flush(c);
}

static int start_request(struct conn *c, const char *line)
{
    char *end;
    errno = 0;
    long ms = strtol(line, &end, 10);
    if (line[0] < '0' || line[0] > '9' || *end != '\0' || errno != 0 ||
        ms > MAX_MS)
        return conn_say(c, "error\n");
    struct request *r = malloc(sizeof *r);
    if (r == NULL)
        return conn_say(c, "error\n");
    r->c = c;
    r->ms = ms;
    r->timer = loop_add_timer(c->srv->l, ms, on_request_done, r);
    if (r->timer < 0) {
        free(r);
        return conn_say(c, "error\n");
    }
    r->next = c->reqs;
    c->reqs = r;
    char answer[32];
    snprintf(answer, sizeof answer, "start %ld\n", ms);
    return conn_say(c, answer);
}

static void conn_read(struct conn *c)
{
    for (;;) {
        ssize_t n = read(c->fd, c->in + c->inlen, sizeof c->in - c->inlen);
        if (n == -1 && errno == EINTR)
            continue;
        if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n <= 0) {
            conn_close(c); /* end of file or a reset */
            return;
        }
        c->inlen += (size_t)n;
        char *nl;
        while ((nl = memchr(c->in, '\n', c->inlen)) != NULL) {
            *nl = '\0';
            if (nl > c->in && nl[-1] == '\r')
                nl[-1] = '\0';
            if (start_request(c, c->in) == -1)
                return; /* disconnected */
            size_t used = (size_t)(nl - c->in) + 1;
            memmove(c->in, c->in + used, c->inlen - used);
            c->inlen -= used;
        }
        if (c->inlen == sizeof c->in) {
            conn_close(c); /* a line too long */
            return;
        }
    }
    conn_flush(c);
}

static void on_conn(loop *l, int fd, int events, void *ctx)
{
    (void)l;
    (void)fd;
    struct conn *c = ctx;
    if (events & LOOP_READ)
        conn_read(c);
    else
        conn_flush(c);
}

static void on_accept(loop *l, int fd, int events, void *ctx)
{
    (void)events;
    sigloop_server *srv = ctx;
    int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (cfd == -1)
        return; /* EAGAIN, a client that left, EMFILE: try again later */
    struct conn *c = calloc(1, sizeof *c);
    if (c == NULL || loop_watch(l, cfd, LOOP_READ, on_conn, c) == -1) {
        free(c);
        close(cfd);
        return;
    }
    c->srv = srv;
    c->fd = cfd;
    c->next = srv->conns;
    srv->conns = c;
}

static void close_all(sigloop_server *srv)
{
    while (srv->conns != NULL)
        conn_close(srv->conns);
}

static void on_grace_over(loop *l, void *ctx)
{
    (void)l;
    sigloop_server *srv = ctx;
    srv->grace_timer = 0;
    close_all(srv);
    maybe_done(srv);
}

// [shutdown]
void sigloop_server_shutdown(sigloop_server *srv)
{
    if (srv == NULL || srv->state == DONE)
        return;
    if (srv->state == DRAINING) {
        close_all(srv); /* a second signal: no more waiting */
        maybe_done(srv);
        return;
    }
    srv->state = DRAINING;
    loop_unwatch(srv->l, srv->lfd);
    close(srv->lfd); /* new clients are refused from now on */
    srv->lfd = -1;
    srv->grace_timer =
        loop_add_timer(srv->l, srv->grace_ms, on_grace_over, srv);
    for (struct conn *c = srv->conns, *next; c != NULL; c = next) {
        next = c->next;
        conn_flush(c); /* closes it when nothing is in flight */
    }
    maybe_done(srv);
}
// [shutdown]

static void on_stop_signal(sigloop *s, int signo, void *ctx)
{
    (void)s;
    (void)signo;
    sigloop_server_shutdown(ctx);
}

sigloop_server *sigloop_server_new(loop *l, sigloop *s, int listen_fd,
                                   long grace_ms)
{
    if (l == NULL || s == NULL || listen_fd < 0 || grace_ms < 0) {
        errno = EINVAL;
        return NULL;
    }
    sigloop_server *srv = calloc(1, sizeof *srv);
    if (srv == NULL)
        return NULL;
    srv->l = l;
    srv->s = s;
    srv->lfd = listen_fd;
    srv->grace_ms = grace_ms;
    int flags = fcntl(listen_fd, F_GETFL);
    if (flags == -1 || fcntl(listen_fd, F_SETFL, flags | O_NONBLOCK) == -1 ||
        loop_watch(l, listen_fd, LOOP_READ, on_accept, srv) == -1)
        goto fail;
    if (sigloop_watch(s, SIGTERM, on_stop_signal, srv) == -1)
        goto fail_unwatch;
    if (sigloop_watch(s, SIGINT, on_stop_signal, srv) == -1) {
        int err = errno;
        sigloop_unwatch(s, SIGTERM);
        errno = err;
        goto fail_unwatch;
    }
    return srv;
fail_unwatch : {
    int err = errno;
    loop_unwatch(l, listen_fd);
    errno = err;
}
fail : {
    int err = errno;
    free(srv);
    errno = err;
    return NULL;
}
}

void sigloop_server_free(sigloop_server *srv)
{
    if (srv == NULL)
        return;
    close_all(srv);
    if (srv->lfd >= 0) {
        loop_unwatch(srv->l, srv->lfd);
        close(srv->lfd);
    }
    if (srv->grace_timer > 0)
        loop_cancel_timer(srv->l, srv->grace_timer);
    if (srv->state != DONE) {
        sigloop_unwatch(srv->s, SIGTERM);
        sigloop_unwatch(srv->s, SIGINT);
    }
    free(srv);
}
