/*
 * kv: a key-value server that speaks RESP2, in one thread, on the loop.
 * Reference solution; the contract is in kv.h.
 *
 * Each client has an input buffer (at most max_request bytes not yet
 * parsed), an output queue, and a state: running its requests, blocked
 * (a SLEEP or SAVE waits: the requests after it wait too), closing (a
 * protocol error or QUIT: send what is queued, then go) or draining (a
 * half-closed client: answer what it sent whole, then go). One function,
 * client_update(), runs what can run, sends what fits and asks the loop
 * for exactly the events the client needs next.
 */
#include "kv.h"
#include "04-select/loop.h"
#include "07-every-way/resp.h"

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

#define ACCEPT_RETRY_MS 100
#define ACCEPTS_PER_CALL 64
#define LINGER_BYTES 65536 /* drained after a closing error, at most */

typedef struct item {
    struct item *next;
    uint32_t hash;
    size_t klen, vlen;
    char data[]; /* key, then value */
} item;

typedef struct client client;

struct kv_pending {
    client *c; /* NULL once the client is gone */
};

struct client {
    kv *k;
    int fd;
    size_t slot;
    char *in;
    size_t in_len, in_cap;
    char *out;
    size_t out_len, out_sent, out_cap;
    int events;    /* what the loop watches now (0: not watched) */
    int eof;       /* the client sent its end of file */
    int closing;   /* send what is queued, then close */
    int lingering; /* replies sent, write side shut: drain, then close */
    size_t drained;
    int running;      /* inside client_run() */
    int caught_up;    /* a read found the socket empty (or at its end) */
    kv_pending *save; /* a SAVE waiting for kv_save_done() */
    long sleep_timer; /* a SLEEP waiting; 0: none */
    long idle_timer;
    int64_t last_ns; /* last byte read or written */
};

struct kv {
    loop *l;
    int lfd;
    kv_config cfg;
    client **slots;
    size_t clients;
    size_t saves; /* kv_pending handed out, not yet done */
    long accept_timer;
    int listening;
    int stopping;
    item **table;
    size_t buckets, keys;
};

static int64_t now_ns(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
        return 0;
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* --- The table ------------------------------------------------------------ */

static uint32_t hash_of(const char *k, size_t n)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)k[i]) * 16777619u;
    return h;
}

static item **table_find(const kv *k, const char *key, size_t n, uint32_t h)
{
    item **pp = &k->table[h & (k->buckets - 1)];
    while (*pp != NULL && ((*pp)->hash != h || (*pp)->klen != n ||
                           memcmp((*pp)->data, key, n) != 0))
        pp = &(*pp)->next;
    return pp;
}

static void table_grow(kv *k)
{
    size_t nb = k->buckets * 2;
    item **t = calloc(nb, sizeof *t);
    if (t == NULL)
        return; /* longer chains, still correct */
    for (size_t b = 0; b < k->buckets; b++) {
        for (item *it = k->table[b], *next; it != NULL; it = next) {
            next = it->next;
            it->next = t[it->hash & (nb - 1)];
            t[it->hash & (nb - 1)] = it;
        }
    }
    free(k->table);
    k->table = t;
    k->buckets = nb;
}

/* 0, or -1 when there is no memory (nothing changed). */
static int table_set(kv *k, const char *key, size_t kl, const char *val,
                     size_t vl)
{
    uint32_t h = hash_of(key, kl);
    item **pp = table_find(k, key, kl, h);
    item *it = malloc(sizeof *it + kl + vl);
    if (it == NULL)
        return -1;
    it->hash = h;
    it->klen = kl;
    it->vlen = vl;
    memcpy(it->data, key, kl);
    memcpy(it->data + kl, val, vl);
    if (*pp != NULL) {
        it->next = (*pp)->next;
        free(*pp);
        *pp = it;
        return 0;
    }
    it->next = NULL;
    *pp = it;
    if (++k->keys > k->buckets)
        table_grow(k);
    return 0;
}

static int table_del(kv *k, const char *key, size_t kl)
{
    item **pp = table_find(k, key, kl, hash_of(key, kl));
    item *it = *pp;
    if (it == NULL)
        return 0;
    *pp = it->next;
    free(it);
    k->keys--;
    return 1;
}

int kv_each(const kv *k,
            int (*fn)(const char *key, size_t klen, const char *val,
                      size_t vlen, void *arg),
            void *arg)
{
    if (k == NULL || fn == NULL)
        return 0;
    for (size_t b = 0; b < k->buckets; b++)
        for (const item *it = k->table[b]; it != NULL; it = it->next) {
            int rc = fn(it->data, it->klen, it->data + it->klen, it->vlen, arg);
            if (rc != 0)
                return rc;
        }
    return 0;
}

/* --- Replies -------------------------------------------------------------- */

/* Queue n bytes for c; 0, or -1 when there is no memory. */
static int out_add(client *c, const char *s, size_t n)
{
    if (c->out_sent > 0 && c->out_sent == c->out_len)
        c->out_sent = c->out_len = 0;
    if (c->out_cap - c->out_len < n) {
        if (c->out_sent > 0) { /* reuse the part already sent */
            memmove(c->out, c->out + c->out_sent, c->out_len - c->out_sent);
            c->out_len -= c->out_sent;
            c->out_sent = 0;
        }
        size_t cap = c->out_cap ? c->out_cap : 4096;
        while (cap - c->out_len < n)
            cap *= 2;
        if (cap != c->out_cap) {
            char *p = realloc(c->out, cap);
            if (p == NULL)
                return -1;
            c->out = p;
            c->out_cap = cap;
        }
    }
    memcpy(c->out + c->out_len, s, n);
    c->out_len += n;
    return 0;
}

#define OUT_LIT(c, s) out_add((c), (s), sizeof(s) - 1)

static int out_bulk(client *c, const char *s, size_t n)
{
    char head[32];
    int h = snprintf(head, sizeof head, "$%zu\r\n", n);
    if (out_add(c, head, (size_t)h) == -1 || out_add(c, s, n) == -1)
        return -1;
    return OUT_LIT(c, "\r\n");
}

/* "-ERR <text>\r\n", with no CR or LF inside the text. */
static int out_error(client *c, const char *text)
{
    char msg[160];
    int m = snprintf(msg, sizeof msg, "-%s", text);
    if (m < 0)
        return -1;
    if ((size_t)m >= sizeof msg)
        m = sizeof msg - 1;
    for (int i = 1; i < m; i++)
        if (msg[i] == '\r' || msg[i] == '\n')
            msg[i] = ' ';
    if (out_add(c, msg, (size_t)m) == -1)
        return -1;
    return OUT_LIT(c, "\r\n");
}

static size_t queued(const client *c)
{
    return c->out_len - c->out_sent;
}

/* --- Clients -------------------------------------------------------------- */

static void on_client(loop *l, int fd, int events, void *ctx);
static void on_idle(loop *l, void *ctx);
static void client_update(client *c);
static void kv_maybe_free(kv *k);
static int listen_resume(kv *k);

static void client_close(client *c)
{
    kv *k = c->k;
    if (c->events != 0)
        (void)loop_unwatch(k->l, c->fd);
    close(c->fd);
    if (c->idle_timer > 0)
        (void)loop_cancel_timer(k->l, c->idle_timer);
    if (c->sleep_timer > 0)
        (void)loop_cancel_timer(k->l, c->sleep_timer);
    if (c->save != NULL)
        c->save->c = NULL; /* kv_save_done() frees it */
    k->slots[c->slot] = NULL;
    k->clients--;
    free(c->in);
    free(c->out);
    free(c);
    kv_maybe_free(k);
}

static void on_sleep_done(loop *l, void *ctx)
{
    (void)l;
    client *c = ctx;
    c->sleep_timer = 0;
    if (OUT_LIT(c, "+OK\r\n") == -1) {
        client_close(c);
        return;
    }
    client_update(c);
}

/* Run one parsed request; its reply is queued (or it blocks the client).
   -1: no memory, close the client. */
static int run_request(client *c, const resp_req *r)
{
    kv *k = c->k;
    char msg[128];
    int n = (int)(r->len[0] < 40 ? r->len[0] : 40);
    int args = r->argc;
    if (resp_is(r, "PING") && args <= 2)
        return args == 1 ? OUT_LIT(c, "+PONG\r\n")
                         : out_bulk(c, r->argv[1], r->len[1]);
    if (resp_is(r, "ECHO") && args == 2)
        return out_bulk(c, r->argv[1], r->len[1]);
    if (resp_is(r, "GET") && args == 2) {
        item *it = *table_find(k, r->argv[1], r->len[1],
                               hash_of(r->argv[1], r->len[1]));
        return it == NULL ? OUT_LIT(c, "$-1\r\n")
                          : out_bulk(c, it->data + it->klen, it->vlen);
    }
    if (resp_is(r, "SET") && args == 3) {
        if (table_set(k, r->argv[1], r->len[1], r->argv[2], r->len[2]) == -1)
            return out_error(c, "ERR out of memory");
        return OUT_LIT(c, "+OK\r\n");
    }
    if (resp_is(r, "DEL") && args >= 2) {
        long gone = 0;
        for (int i = 1; i < args; i++)
            gone += table_del(k, r->argv[i], r->len[i]);
        int m = snprintf(msg, sizeof msg, ":%ld\r\n", gone);
        return out_add(c, msg, (size_t)m);
    }
    if (resp_is(r, "SLEEP") && args == 2) {
        long ms = resp_ms(r->argv[1], r->len[1]);
        if (ms < 0)
            return out_error(c, "ERR milliseconds must be 0 to 10000");
        long id = loop_add_timer(k->l, ms, on_sleep_done, c);
        if (id < 0) {
            snprintf(msg, sizeof msg, "ERR %s", strerror(errno));
            return out_error(c, msg);
        }
        c->sleep_timer = id;
        return 0;
    }
    if (resp_is(r, "SAVE") && args == 1) {
        if (k->cfg.save == NULL)
            return out_error(c, "ERR SAVE is not enabled");
        kv_pending *p = malloc(sizeof *p);
        if (p == NULL)
            return out_error(c, "ERR out of memory");
        p->c = c;
        c->save = p;
        k->saves++;
        if (k->cfg.save(k, p, k->cfg.save_ctx) == -1) {
            int e = errno;
            if (c->save == p) /* not done from within the call */
                c->save = NULL;
            k->saves--;
            free(p);
            snprintf(msg, sizeof msg, "ERR %s", strerror(e));
            return out_error(c, msg);
        }
        return 0;
    }
    if (resp_is(r, "QUIT")) {
        c->closing = 1;
        return OUT_LIT(c, "+OK\r\n");
    }
    int known = resp_is(r, "PING") || resp_is(r, "ECHO") || resp_is(r, "GET") ||
                resp_is(r, "SET") || resp_is(r, "DEL") || resp_is(r, "SLEEP") ||
                resp_is(r, "SAVE");
    snprintf(msg, sizeof msg,
             known ? "ERR wrong number of arguments for '%.*s' command"
                   : "ERR unknown command '%.*s'",
             n, r->argv[0]);
    return out_error(c, msg);
}

static int blocked(const client *c)
{
    return c->save != NULL || c->sleep_timer > 0;
}

/* Run the requests in c->in, in order, while nothing blocks them and the
   replies waiting stay under max_queue. -1: no memory. */
static int client_run(client *c)
{
    size_t used = 0;
    int rc = 0;
    resp_req r;
    c->running = 1;
    while (!c->closing && !blocked(c) && queued(c) < c->k->cfg.max_queue) {
        long n = resp_parse(c->in + used, c->in_len - used, &r);
        if (n == 0) {
            if (c->in_len - used >= c->k->cfg.max_request) {
                rc = out_error(c, "ERR Protocol error: request too big");
                c->closing = 1;
            }
            break;
        }
        if (n < 0 || (size_t)n > c->k->cfg.max_request) {
            rc = out_error(c, n < 0 ? r.error
                                    : "ERR Protocol error: request too big");
            c->closing = 1;
            break;
        }
        used += (size_t)n;
        if (r.argc > 0 && (rc = run_request(c, &r)) == -1)
            break;
    }
    c->running = 0;
    if (used > 0) {
        memmove(c->in, c->in + used, c->in_len - used);
        c->in_len -= used;
    }
    return rc;
}

/* Read what has arrived, up to max_request bytes unparsed. 0, or -1 when
   the client is gone (a read error). */
static int client_read(client *c)
{
    size_t max = c->k->cfg.max_request;
    while (!c->eof && c->in_len < max) {
        if (c->in_cap == c->in_len) {
            size_t cap = c->in_cap ? c->in_cap * 2 : 16384;
            if (cap > max)
                cap = max;
            char *p = realloc(c->in, cap);
            if (p == NULL)
                return -1;
            c->in = p;
            c->in_cap = cap;
        }
        ssize_t n = read(c->fd, c->in + c->in_len, c->in_cap - c->in_len);
        if (n > 0) {
            c->in_len += (size_t)n;
            c->last_ns = now_ns();
            if (c->in_len < c->in_cap) {
                c->caught_up = 1; /* a short read: the socket is empty */
                break;
            }
        } else if (n == 0) {
            c->eof = c->caught_up = 1;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            c->caught_up = 1;
            break;
        } else if (errno != EINTR) {
            return -1;
        }
    }
    return 0;
}

/* Send what fits. 0, or -1 when the client is gone. */
static int client_send(client *c)
{
    while (queued(c) > 0) {
        ssize_t n = send(c->fd, c->out + c->out_sent, queued(c), MSG_NOSIGNAL);
        if (n >= 0) {
            c->out_sent += (size_t)n;
            c->last_ns = now_ns();
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            break;
        } else if (errno != EINTR) {
            return -1;
        }
    }
    if (c->out_sent == c->out_len)
        c->out_sent = c->out_len = 0;
    return 0;
}

/* Run, send, and watch for exactly what comes next (or close). */
static void client_update(client *c)
{
    kv *k = c->k;
    if (c->running)
        return; /* kv_save_done() from within the save function */
    for (;;) {
        size_t before = c->in_len;
        /* A full queue holds the requests back; once its replies are
           sent (below), they may run, though no byte arrives to say so. */
        int held = queued(c) >= k->cfg.max_queue;
        if (!c->lingering && client_run(c) == -1) {
            client_close(c);
            return;
        }
        if (client_send(c) == -1) {
            client_close(c);
            return;
        }
        if (queued(c) > 0 || blocked(c) || c->closing ||
            (c->in_len == before && !held))
            break;
    }
    if (c->lingering && k->stopping) {
        client_close(c); /* its replies are sent: no need to wait more */
        return;
    }
    int reading = !c->closing && !c->eof && c->in_len < k->cfg.max_request &&
                  (!k->stopping || !c->caught_up);
    if (queued(c) == 0 && !blocked(c) && !c->lingering && !reading) {
        /* Nothing more will be answered: everything whole has run (an
           unfinished last request is dropped). */
        if (!c->closing || k->stopping) {
            client_close(c);
            return;
        }
        /* A closing error: shut our side and drain theirs, so that
           closing with unread input does not reset the connection
           before the client has read the error. */
        (void)shutdown(c->fd, SHUT_WR);
        c->lingering = 1;
    }
    int want = queued(c) > 0 ? LOOP_WRITE : 0;
    if (c->lingering || (reading && queued(c) < k->cfg.max_queue))
        want |= LOOP_READ;
    if (want == c->events)
        return;
    if (want == 0) {
        (void)loop_unwatch(k->l, c->fd);
    } else if (loop_watch(k->l, c->fd, want, on_client, c) == -1) {
        client_close(c);
        return;
    }
    c->events = want;
}

static void on_client(loop *l, int fd, int events, void *ctx)
{
    (void)l;
    (void)fd;
    client *c = ctx;
    if ((events & LOOP_READ) && c->lingering) {
        char buf[4096];
        ssize_t n = read(c->fd, buf, sizeof buf);
        if (n > 0)
            c->drained += (size_t)n;
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR) ||
            c->drained > LINGER_BYTES) {
            client_close(c);
            return;
        }
    } else if ((events & LOOP_READ) && client_read(c) == -1) {
        client_close(c);
        return;
    }
    client_update(c);
}

static void on_idle(loop *l, void *ctx)
{
    client *c = ctx;
    kv *k = c->k;
    c->idle_timer = 0;
    int64_t quiet = now_ns() - c->last_ns;
    int64_t limit = (int64_t)k->cfg.idle_ms * 1000000;
    if (blocked(c) && queued(c) == 0) {
        quiet = 0; /* waiting for its own reply is not idle */
        c->last_ns = now_ns();
    }
    if (quiet >= limit) {
        client_close(c);
        return;
    }
    long left = (long)((limit - quiet + 999999) / 1000000);
    c->idle_timer = loop_add_timer(l, left, on_idle, c);
    if (c->idle_timer < 0) {
        c->idle_timer = 0;
        client_close(c);
    }
}

/* --- Accepting ------------------------------------------------------------ */

static void on_accept(loop *l, int fd, int events, void *ctx);

static void refuse(int fd)
{
    (void)send(fd, KV_FULL, sizeof KV_FULL - 1, MSG_NOSIGNAL);
    close(fd);
}

static int listen_resume(kv *k)
{
    if (loop_watch(k->l, k->lfd, LOOP_READ, on_accept, k) == -1)
        return -1;
    k->listening = 1;
    return 0;
}

static void on_accept_retry(loop *l, void *ctx)
{
    (void)l;
    kv *k = ctx;
    k->accept_timer = 0;
    if (listen_resume(k) == -1) {
        k->accept_timer =
            loop_add_timer(k->l, ACCEPT_RETRY_MS, on_accept_retry, k);
        if (k->accept_timer < 0)
            k->accept_timer = 0;
    }
}

static void accept_pause(kv *k)
{
    (void)loop_unwatch(k->l, k->lfd);
    k->listening = 0;
    k->accept_timer = loop_add_timer(k->l, ACCEPT_RETRY_MS, on_accept_retry, k);
    if (k->accept_timer < 0)
        k->accept_timer = 0;
}

static void add_client(kv *k, int fd)
{
    size_t slot = 0;
    while (slot < k->cfg.max_clients && k->slots[slot] != NULL)
        slot++;
    int one = 1;
    client *c = NULL;
    if (slot == k->cfg.max_clients || fcntl(fd, F_SETFL, O_NONBLOCK) == -1 ||
        fcntl(fd, F_SETFD, FD_CLOEXEC) == -1 ||
        (c = calloc(1, sizeof *c)) == NULL) {
        refuse(fd);
        return;
    }
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->k = k;
    c->fd = fd;
    c->slot = slot;
    c->last_ns = now_ns();
    c->idle_timer = loop_add_timer(k->l, k->cfg.idle_ms, on_idle, c);
    if (c->idle_timer < 0 ||
        loop_watch(k->l, fd, LOOP_READ, on_client, c) == -1) {
        if (c->idle_timer > 0)
            (void)loop_cancel_timer(k->l, c->idle_timer);
        free(c);
        refuse(fd);
        return;
    }
    c->events = LOOP_READ;
    k->slots[slot] = c;
    k->clients++;
}

static void on_accept(loop *l, int fd, int events, void *ctx)
{
    (void)l;
    (void)events;
    kv *k = ctx;
    for (int i = 0; i < ACCEPTS_PER_CALL && k->listening; i++) {
        int cfd = accept(fd, NULL, NULL);
        if (cfd >= 0) {
            add_client(k, cfd);
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            return;
        } else if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
                   errno == ENOMEM) {
            accept_pause(k); /* the connection stays in the backlog */
            return;
        }
        /* ECONNABORTED, EINTR, network errors: that one is gone. */
    }
}

/* --- The server ----------------------------------------------------------- */

kv *kv_start(loop *l, int listen_fd, const kv_config *cfg)
{
    if (l == NULL || cfg == NULL || listen_fd < 0 || cfg->max_clients < 1 ||
        cfg->max_request < 64 || cfg->max_queue < 64 || cfg->idle_ms < 1) {
        errno = EINVAL;
        return NULL;
    }
    kv *k = calloc(1, sizeof *k);
    if (k == NULL)
        return NULL;
    k->l = l;
    k->lfd = listen_fd;
    k->cfg = *cfg;
    k->buckets = 64;
    k->slots = calloc(cfg->max_clients, sizeof *k->slots);
    k->table = calloc(k->buckets, sizeof *k->table);
    if (k->slots == NULL || k->table == NULL) {
        free(k->slots);
        free(k->table);
        free(k);
        errno = ENOMEM;
        return NULL;
    }
    int flags = fcntl(listen_fd, F_GETFL);
    if (flags == -1 || fcntl(listen_fd, F_SETFL, flags | O_NONBLOCK) == -1 ||
        listen_resume(k) == -1) {
        int e = errno;
        free(k->slots);
        free(k->table);
        free(k);
        errno = e;
        return NULL;
    }
    return k;
}

size_t kv_clients(const kv *k)
{
    return k == NULL ? 0 : k->clients;
}

static void kv_maybe_free(kv *k)
{
    if (!k->stopping || k->clients > 0 || k->saves > 0)
        return;
    for (size_t b = 0; b < k->buckets; b++)
        for (item *it = k->table[b], *next; it != NULL; it = next) {
            next = it->next;
            free(it);
        }
    free(k->table);
    free(k->slots);
    free(k);
}

void kv_stop(kv *k)
{
    if (k == NULL || k->stopping)
        return;
    if (k->listening)
        (void)loop_unwatch(k->l, k->lfd);
    if (k->accept_timer > 0)
        (void)loop_cancel_timer(k->l, k->accept_timer);
    k->listening = 0;
    k->accept_timer = 0;
    k->clients++; /* keeps k alive while the clients close */
    k->stopping = 1;
    for (size_t i = 0; i < k->cfg.max_clients; i++) {
        client *c = k->slots[i];
        if (c == NULL)
            continue;
        /* What had reached the socket was sent before the stop: read it
           all (until a read finds the socket empty) and answer it. */
        c->caught_up = 0;
        if (!c->closing && !c->lingering && client_read(c) == -1)
            client_close(c);
        else
            client_update(c);
    }
    k->clients--;
    kv_maybe_free(k);
}

void kv_save_done(kv *k, kv_pending *p, int err)
{
    if (k == NULL || p == NULL)
        return;
    client *c = p->c;
    free(p);
    k->saves--;
    if (c == NULL) {
        kv_maybe_free(k);
        return;
    }
    c->save = NULL;
    char msg[128];
    int rc;
    if (err == 0) {
        rc = OUT_LIT(c, "+OK\r\n");
    } else {
        snprintf(msg, sizeof msg, "ERR %s", strerror(err));
        rc = out_error(c, msg);
    }
    if (rc == -1)
        c->closing = 1; /* no memory for the reply */
    client_update(c);
}
