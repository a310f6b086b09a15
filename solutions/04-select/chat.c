/*
 * chat: a chat server on the event loop (reference solution).
 *
 * The contract is in exercises/04-select/chat.h.
 *
 * Each client has a slot in an array of max_clients, a linebuf for what
 * it sends, and an output buffer of at most max_queue bytes for what it
 * has not taken yet. The client's socket is watched for LOOP_READ
 * always, and for LOOP_WRITE only while its output buffer holds bytes:
 * asking for write readiness with nothing to write would make select()
 * return at once, forever.
 *
 * A line is relayed by appending "N: line\n" to every other client's
 * buffer and sending at once what the socket takes (send() never blocks:
 * the sockets are non-blocking). A client whose buffer has no room for
 * the message is not reading: it is closed, and the others go on.
 *
 * Closing a client in the middle of relaying a line is safe: it only
 * empties its own slot, and the loop calls no callback for its (now
 * unwatched) descriptor later in the iteration.
 *
 * Idle timers are lazy: each client has one timer, and a line only
 * records the time. When the timer fires early (the client spoke since
 * it was set), it is set again for the time left.
 */
#include "chat.h"
#include "linebuf.h"
#include "loop.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* After accept() failed for lack of descriptors, wait this long. */
enum { CHAT_ACCEPT_PAUSE_MS = 100, CHAT_ACCEPTS_PER_CALL = 64 };

struct client {
    chat *c;
    int fd;
    long id;
    size_t slot;
    linebuf *in;
    char *out; /* out_cap bytes; what is queued is out[head..len) */
    size_t head, len, out_cap;
    int writing;       /* watched for LOOP_WRITE too */
    long idle_timer;   /* 0 when none */
    int64_t last_line; /* when the last complete line arrived, in ns */
};

struct chat {
    loop *l;
    int listen_fd;
    chat_config cfg;
    struct client **clients; /* max_clients slots, NULL when free */
    size_t nclients;
    long last_id;
    long accept_timer; /* set while accepting is paused; 0 otherwise */
    char *msg;         /* max_line + CHAT_OVERHEAD bytes: one message */
};

static int64_t chat_now(void)
{
    struct timespec ts;
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int set_nonblocking(int fd)
{
    int flags = fcntl(fd, F_GETFL);
    if (flags == -1 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1)
        return -1;
    return 0;
}

static void on_client(loop *l, int fd, int events, void *ctx);
static void on_idle(loop *l, void *ctx);

/* --- Clients -------------------------------------------------------------- */

/* Send what is queued, as much as the socket takes now. 0, or -1 when
 * the client is gone (the caller closes it). */
static int client_flush(struct client *cl)
{
    while (cl->len > cl->head) {
        ssize_t n = send(cl->fd, cl->out + cl->head, cl->len - cl->head,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            cl->head += (size_t)n;
            continue;
        }
        if (n == -1 && errno == EINTR)
            continue;
        if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        return -1; /* EPIPE, ECONNRESET: it has gone */
    }
    if (cl->head == cl->len)
        cl->head = cl->len = 0;
    /* LOOP_WRITE exactly while something waits to be sent. */
    int want = cl->len > 0;
    if (want != cl->writing) {
        int events = want ? LOOP_READ | LOOP_WRITE : LOOP_READ;
        if (loop_watch(cl->c->l, cl->fd, events, on_client, cl) == -1)
            return -1;
        cl->writing = want;
    }
    return 0;
}

/* Append a message to the client's queue. 0, or -1 when it does not
 * fit in max_queue bytes. */
static int client_queue(struct client *cl, const char *msg, size_t n)
{
    size_t max = cl->c->cfg.max_queue;
    if (cl->len - cl->head + n > max)
        return -1;
    if (cl->len + n > cl->out_cap) {
        /* Move what is queued to the front, then grow if still short. */
        if (cl->head > 0) {
            memmove(cl->out, cl->out + cl->head, cl->len - cl->head);
            cl->len -= cl->head;
            cl->head = 0;
        }
        if (cl->len + n > cl->out_cap) {
            size_t cap = cl->out_cap ? cl->out_cap : 256;
            while (cap < cl->len + n)
                cap *= 2;
            if (cap > max)
                cap = max;
            char *out = realloc(cl->out, cap);
            if (out == NULL)
                return -1;
            cl->out = out;
            cl->out_cap = cap;
        }
    }
    memcpy(cl->out + cl->len, msg, n);
    cl->len += n;
    return 0;
}

/* Disconnect a client, with a last word when @p notice is not NULL:
 * queued, given one chance to be sent, then the socket is closed. */
static void client_close(struct client *cl, const char *notice)
{
    chat *c = cl->c;
    if (notice != NULL && client_queue(cl, notice, strlen(notice)) == 0) {
        /* One non-blocking try: a client that does not read loses it. */
        while (cl->len > cl->head) {
            ssize_t n = send(cl->fd, cl->out + cl->head, cl->len - cl->head,
                             MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n == -1 && errno == EINTR)
                continue;
            if (n <= 0)
                break;
            cl->head += (size_t)n;
        }
    }
    (void)loop_unwatch(c->l, cl->fd);
    (void)close(cl->fd);
    if (cl->idle_timer > 0)
        (void)loop_cancel_timer(c->l, cl->idle_timer);
    c->clients[cl->slot] = NULL;
    c->nclients--;
    linebuf_free(cl->in);
    free(cl->out);
    free(cl);
}

/* Queue a message for a client and send what fits now; a client that
 * cannot take it is closed. */
static void client_send(struct client *cl, const char *msg, size_t n)
{
    if (client_queue(cl, msg, n) == -1 || client_flush(cl) == -1)
        client_close(cl, NULL);
}

/* Relay a line of @p from to every other client. */
static void chat_relay(chat *c, const struct client *from, const char *line,
                       size_t len)
{
    int head = snprintf(c->msg, CHAT_OVERHEAD, "%ld: ", from->id);
    size_t n = (size_t)head;
    memcpy(c->msg + n, line, len);
    n += len;
    c->msg[n++] = '\n';
    for (size_t i = 0; i < c->cfg.max_clients; i++) {
        struct client *to = c->clients[i];
        if (to != NULL && to != from)
            client_send(to, c->msg, n); /* may close `to`, only */
    }
}

/* Readable: take in what arrived and relay each complete line. Returns
 * 0, or -1 when the client was closed. */
static int client_read(struct client *cl)
{
    chat *c = cl->c;
    ssize_t n = linebuf_fill(cl->in, cl->fd);
    if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return 0;
    if (n == -1 && errno != ENOBUFS) {
        client_close(cl, NULL); /* ECONNRESET and the like */
        return -1;
    }
    const char *line;
    size_t len;
    int r;
    while ((r = linebuf_next(cl->in, &line, &len)) != 0) {
        if (r == -1) {
            client_close(cl, CHAT_TOO_LONG);
            return -1;
        }
        cl->last_line = chat_now();
        chat_relay(c, cl, line, len);
    }
    if (n == 0) {
        /* End of file: an unfinished last line is still a line. */
        if (linebuf_rest(cl->in, &line, &len) == 1)
            chat_relay(c, cl, line, len);
        client_close(cl, NULL);
        return -1;
    }
    return 0;
}

static void on_client(loop *l, int fd, int events, void *ctx)
{
    (void)l;
    (void)fd;
    struct client *cl = ctx;
    if ((events & LOOP_WRITE) && client_flush(cl) == -1) {
        client_close(cl, NULL);
        return;
    }
    if (events & LOOP_READ)
        (void)client_read(cl);
}

static void on_idle(loop *l, void *ctx)
{
    struct client *cl = ctx;
    int64_t idle_ns = (int64_t)cl->c->cfg.idle_ms * 1000000;
    int64_t quiet = chat_now() - cl->last_line;
    cl->idle_timer = 0;
    if (quiet >= idle_ns) {
        client_close(cl, CHAT_IDLE);
        return;
    }
    /* It spoke since the timer was set: wait for the rest of the time
     * (rounded up to a whole millisecond). */
    long left_ms = (long)((idle_ns - quiet + 999999) / 1000000);
    cl->idle_timer = loop_add_timer(l, left_ms, on_idle, cl);
    if (cl->idle_timer == -1) {
        cl->idle_timer = 0;
        client_close(cl, NULL);
    }
}

/* Refuse a new connection: a last word, then close. The socket is new
 * and empty: this short send does not block. */
static void chat_refuse(int fd)
{
    (void)send(fd, CHAT_FULL, strlen(CHAT_FULL), MSG_NOSIGNAL | MSG_DONTWAIT);
    (void)close(fd);
}

/* A new connection: welcome it as a client, or refuse it. */
static void chat_admit(chat *c, int fd)
{
    size_t slot = 0;
    while (slot < c->cfg.max_clients && c->clients[slot] != NULL)
        slot++;
    if (slot == c->cfg.max_clients) {
        chat_refuse(fd);
        return;
    }
    /* Lines are small writes: send each at once, not when the client
     * acknowledges the last one (Nagle's algorithm against its delayed
     * acknowledgements would hold each for tens of milliseconds). Only
     * speed depends on it, so a failure is not fatal. */
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct client *cl = calloc(1, sizeof *cl);
    if (cl == NULL || set_nonblocking(fd) == -1 ||
        (cl->in = linebuf_new(c->cfg.max_line)) == NULL) {
        free(cl);
        chat_refuse(fd);
        return;
    }
    cl->c = c;
    cl->fd = fd;
    cl->slot = slot;
    cl->last_line = chat_now();
    cl->idle_timer = loop_add_timer(c->l, c->cfg.idle_ms, on_idle, cl);
    /* The limit on descriptors is the loop's, not the server's: the
     * select() loop refuses FD_SETSIZE and above, a loop on epoll only
     * what epoll refuses. Whatever it refuses, the client is told. */
    if (cl->idle_timer == -1 ||
        loop_watch(c->l, fd, LOOP_READ, on_client, cl) == -1) {
        if (cl->idle_timer > 0)
            (void)loop_cancel_timer(c->l, cl->idle_timer);
        linebuf_free(cl->in);
        free(cl);
        chat_refuse(fd);
        return;
    }
    c->clients[slot] = cl;
    c->nclients++;
    cl->id = ++c->last_id;
    char hello[CHAT_OVERHEAD];
    int n = snprintf(hello, sizeof hello, "welcome %ld\n", cl->id);
    client_send(cl, hello, (size_t)n);
}

static void on_listen(loop *l, int fd, int events, void *ctx);

static void on_accept_again(loop *l, void *ctx)
{
    chat *c = ctx;
    c->accept_timer = 0;
    if (loop_watch(l, c->listen_fd, LOOP_READ, on_listen, c) == -1)
        c->accept_timer =
            loop_add_timer(l, CHAT_ACCEPT_PAUSE_MS, on_accept_again, c);
}

static void on_listen(loop *l, int fd, int events, void *ctx)
{
    (void)events;
    chat *c = ctx;
    /* A bounded number per call, so that a flood of connections does
     * not keep the clients waiting. */
    for (int i = 0; i < CHAT_ACCEPTS_PER_CALL; i++) {
        int cfd = accept(fd, NULL, NULL);
        if (cfd >= 0) {
            chat_admit(c, cfd);
            continue;
        }
        if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO)
            continue; /* that connection is gone; try the next */
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
            errno == ENOMEM) {
            /* The connection stays in the backlog, so the socket stays
             * readable: watching it now would spin. Pause instead. */
            long id =
                loop_add_timer(l, CHAT_ACCEPT_PAUSE_MS, on_accept_again, c);
            if (id > 0) {
                (void)loop_unwatch(l, fd);
                c->accept_timer = id;
            }
        }
        return; /* EAGAIN: nothing more to accept now */
    }
}

/* --- The server ----------------------------------------------------------- */

chat *chat_start(loop *l, int listen_fd, const chat_config *cfg)
{
    if (l == NULL || cfg == NULL || listen_fd < 0 || cfg->max_clients == 0 ||
        cfg->max_line == 0 || cfg->idle_ms <= 0 ||
        cfg->max_line > SIZE_MAX - CHAT_OVERHEAD ||
        cfg->max_queue < cfg->max_line + CHAT_OVERHEAD) {
        errno = EINVAL;
        return NULL;
    }
    if (set_nonblocking(listen_fd) == -1)
        return NULL;
    chat *c = calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    c->l = l;
    c->listen_fd = listen_fd;
    c->cfg = *cfg;
    c->clients = calloc(cfg->max_clients, sizeof *c->clients);
    c->msg = malloc(cfg->max_line + CHAT_OVERHEAD);
    if (c->clients == NULL || c->msg == NULL) {
        free(c->clients);
        free(c->msg);
        free(c);
        errno = ENOMEM;
        return NULL;
    }
    if (loop_watch(l, listen_fd, LOOP_READ, on_listen, c) == -1) {
        int err = errno;
        free(c->clients);
        free(c->msg);
        free(c);
        errno = err;
        return NULL;
    }
    return c;
}

size_t chat_clients(const chat *c)
{
    return c == NULL ? 0 : c->nclients;
}

void chat_stop(chat *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->cfg.max_clients; i++)
        if (c->clients[i] != NULL)
            client_close(c->clients[i], NULL);
    if (c->accept_timer > 0)
        (void)loop_cancel_timer(c->l, c->accept_timer);
    else
        (void)loop_unwatch(c->l, c->listen_fd);
    free(c->clients);
    free(c->msg);
    free(c);
}
