/*
 * resp.h: the one job every server of chapter 7 does, so that the servers
 * differ only in how they wait. Header-only (static functions), included
 * by each server as "resp.h"; see CONTRIBUTING.md, "Shared code of a
 * chapter's demos".
 *
 * The protocol is a subset of RESP2, the Redis protocol, so that the real
 * redis-cli and redis-benchmark can drive every server:
 * - a request is an array of bulk strings (*2\r\n$3\r\nGET\r\n$1\r\nk\r\n)
 *   or an inline line of words (PING\r\n), as typed into telnet or nc;
 * - replies are simple strings (+OK), errors (-ERR ...), integers (:1)
 *   and bulk strings ($1\r\nv\r\n, or $-1\r\n for none).
 * Commands: PING [msg], ECHO msg, GET k, SET k v, DEL k..., QUIT, and the
 * book's own BURN ms (spin on the CPU for ms milliseconds) and SLEEP ms
 * (wait ms milliseconds, as a request waiting on a disk or another server
 * would). A blocking server sleeps in the thread; a loop server is asked
 * to wait (resp_run() returns the milliseconds) and keeps serving others.
 * Only when the server was started with --crash (the demo crash.c does;
 * bench.sh never does): CRASH, which writes through a NULL pointer in
 * whichever thread or process serves it, to show what a crash in one
 * worker takes down under each model. Without --crash it is an unknown
 * command.
 *
 * With WB_TRACE set (chapters/trace.h), each BURN and SLEEP served leaves
 * a span in the trace, "cpu MS" and "wait MS", in the thread or process
 * that served it: the timelines of six.c show where the server worked.
 * Unset, it costs one cached test per BURN or SLEEP, nothing else.
 *
 * Bad input: an unknown command or a wrong number of arguments is answered
 * with an error and the connection stays; a malformed request (a bulk
 * string not followed by \r\n, more than 64 KiB of inline request with no
 * end of line yet, garbage where a '*' or '$' belongs) is answered with an
 * error and the connection is closed after the reply. redis-server closes
 * on the last two too, but does not check the two bytes after a bulk
 * string: here that is stricter.
 */
#ifndef RESP_H
#define RESP_H

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "die.h"
#include "trace.h"

#define RESP_MAX_ARGS 64
#define RESP_MAX_BULK (1 << 20)            /* one argument: 1 MiB */
#define RESP_MAX_INLINE (64 << 10)         /* one inline line: 64 KiB */
#define RESP_MAX_IN (RESP_MAX_BULK + 4096) /* unparsed input per client */
#define RESP_OUT_HIGH (256 << 10) /* pending replies: stop running requests */
#define RESP_MAX_KEYS 100000
#define RESP_BUCKETS 65536

typedef struct {
    char *p;
    size_t len, cap;
} resp_buf;

/* One client: its unparsed input, its replies not yet sent. */
typedef struct {
    resp_buf in, out;
    size_t sent;       /* bytes of out already written */
    int closing;       /* close once out is sent */
    int64_t wake_ns;   /* a deferred SLEEP ends at this time; 0: none */
    int64_t wait_from; /* and began at this time (for its trace span) */
    long wait_ms;
    int stuck; /* requests wait behind unsent replies: read no more */
} resp_conn;

static inline int64_t resp_now_ns(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
        die("clock_gettime");
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Room for at least `more` bytes after p[len]; 0, or -1 (out of memory). */
static inline int resp_reserve(resp_buf *b, size_t more)
{
    if (b->cap - b->len >= more)
        return 0;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap - b->len < more)
        cap *= 2;
    char *p = realloc(b->p, cap);
    if (p == NULL)
        return -1;
    b->p = p;
    b->cap = cap;
    return 0;
}

static inline void resp_add(resp_buf *b, const char *s, size_t n)
{
    if (resp_reserve(b, n) == -1)
        die("resp: out of memory");
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

static inline void resp_addf_bulk(resp_buf *b, const char *s, size_t n)
{
    char head[32];
    int h = snprintf(head, sizeof head, "$%zu\r\n", n);
    resp_add(b, head, (size_t)h);
    resp_add(b, s, n);
    resp_add(b, "\r\n", 2);
}

#define RESP_LIT(b, s) resp_add((b), (s), sizeof(s) - 1)

/* --- The store: one hash table of strings, locked when threads share it.
   The process-per-connection server has one per process: a SET on one
   connection is not seen by another (the chapter says why). */
typedef struct resp_item {
    struct resp_item *next;
    size_t klen, vlen;
    char *key, *val;
} resp_item;

/* --crash given: CRASH is served (a NULL write). The pointer is volatile
   so that the compiler must make the write, whatever it knows. */
static int resp_crash_on;
static int *volatile resp_nowhere;

static resp_item *resp_table[RESP_BUCKETS];
static long resp_keys;
static pthread_mutex_t resp_lock = PTHREAD_MUTEX_INITIALIZER;

static inline resp_item **resp_find(const char *k, size_t n)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)k[i]) * 16777619u;
    resp_item **pp = &resp_table[h % RESP_BUCKETS];
    while (*pp != NULL && ((*pp)->klen != n || memcmp((*pp)->key, k, n) != 0))
        pp = &(*pp)->next;
    return pp;
}

/* --- Parsing ------------------------------------------------------------ */
typedef struct {
    int argc;
    const char *argv[RESP_MAX_ARGS];
    size_t len[RESP_MAX_ARGS];
    const char *error; /* a malformed request: this message, then close */
} resp_req;

/* A number ending in \r\n at p (at most 20 digits); its end, or NULL when
   more input is needed; *bad when it is no number. */
static inline const char *resp_number(const char *p, const char *end, long *v,
                                      int *bad)
{
    const char *cr = memchr(p, '\r', (size_t)(end - p));
    if (cr == NULL) {
        *bad = end - p > 22;
        return NULL;
    }
    if (cr + 1 >= end)
        return NULL;
    char tmp[24], *e;
    if (cr[1] != '\n' || cr - p == 0 || cr - p > 20)
        return *bad = 1, NULL;
    memcpy(tmp, p, (size_t)(cr - p));
    tmp[cr - p] = '\0';
    errno = 0;
    *v = strtol(tmp, &e, 10);
    if (*e != '\0' || errno != 0)
        return *bad = 1, NULL;
    return cr + 2;
}

/* One request from p[0..n). Returns the bytes it takes (argc 0: an empty
   inline line), 0 when it is not complete yet, or -1 with r->error set. */
static inline long resp_parse(const char *p, size_t n, resp_req *r)
{
    const char *s = p, *end = p + n;
    long count, len;
    int bad = 0;
    r->argc = 0;
    r->error = NULL;
    if (n == 0)
        return 0;
    if (*s != '*') { /* inline: words separated by spaces, up to \n */
        const char *nl = memchr(s, '\n', n);
        if (nl == NULL) {
            if (n > RESP_MAX_INLINE)
                r->error = "ERR Protocol error: too big inline request";
            return r->error ? -1 : 0;
        }
        for (const char *q = s; q < nl;) {
            while (q < nl && (*q == ' ' || *q == '\t' || *q == '\r'))
                q++;
            const char *w = q;
            while (q < nl && *q != ' ' && *q != '\t' && *q != '\r')
                q++;
            if (q > w && r->argc == RESP_MAX_ARGS)
                return r->error = "ERR Protocol error: too many arguments", -1;
            if (q > w) {
                r->argv[r->argc] = w;
                r->len[r->argc++] = (size_t)(q - w);
            }
        }
        return nl + 1 - p;
    }
    s = resp_number(s + 1, end, &count, &bad);
    if (s == NULL || count < 1 || count > RESP_MAX_ARGS) {
        if (s != NULL || bad)
            r->error = "ERR Protocol error: invalid multibulk length";
        return r->error ? -1 : 0;
    }
    for (long i = 0; i < count; i++) {
        if (s >= end)
            return 0;
        if (*s != '$')
            return r->error = "ERR Protocol error: expected '$'", -1;
        s = resp_number(s + 1, end, &len, &bad);
        if (s == NULL || len < 0 || len > RESP_MAX_BULK) {
            if (s != NULL || bad)
                r->error = "ERR Protocol error: invalid bulk length";
            return r->error ? -1 : 0;
        }
        if (end - s < len + 2)
            return 0;
        if (s[len] != '\r' || s[len + 1] != '\n')
            return r->error = "ERR Protocol error: bulk length lies", -1;
        r->argv[r->argc] = s;
        r->len[r->argc++] = (size_t)len;
        s += len + 2;
    }
    return s - p;
}

/* --- Commands ------------------------------------------------------------ */
static inline int resp_is(const resp_req *r, const char *name)
{
    return r->len[0] == strlen(name) &&
           strncasecmp(r->argv[0], name, r->len[0]) == 0;
}

/* A whole number of milliseconds, 0 to 10000; -1 otherwise. */
static inline long resp_ms(const char *s, size_t n)
{
    long v = 0;
    if (n == 0 || n > 5)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v <= 10000 ? v : -1;
}

static inline void resp_store(const resp_req *r, resp_buf *out)
{
    char num[32];
    int lock = pthread_mutex_lock(&resp_lock);
    if (lock != 0)
        die_en(lock, "pthread_mutex_lock");
    resp_item **pp = resp_find(r->argv[1], r->len[1]), *it = *pp;
    if (resp_is(r, "GET") && it == NULL) {
        RESP_LIT(out, "$-1\r\n");
    } else if (resp_is(r, "GET")) {
        resp_addf_bulk(out, it->val, it->vlen);
    } else if (resp_is(r, "DEL")) {
        long gone = 0;
        for (int i = 1; i < r->argc; i++) {
            pp = resp_find(r->argv[i], r->len[i]);
            if ((it = *pp) != NULL) {
                *pp = it->next;
                free(it->key);
                free(it);
                resp_keys--;
                gone++;
            }
        }
        resp_add(out, num, (size_t)snprintf(num, sizeof num, ":%ld\r\n", gone));
    } else if (it == NULL && resp_keys >= RESP_MAX_KEYS) { /* SET */
        RESP_LIT(out, "-ERR store full\r\n");
    } else {
        char *kv = malloc(r->len[1] + r->len[2] + 1);
        if (kv == NULL)
            die("resp: out of memory");
        memcpy(kv, r->argv[1], r->len[1]);
        memcpy(kv + r->len[1], r->argv[2], r->len[2]);
        if (it == NULL && (it = *pp = calloc(1, sizeof *it)) != NULL)
            resp_keys++;
        if (it == NULL)
            die("resp: out of memory");
        free(it->key);
        it->key = kv; /* key and value in one block */
        it->val = kv + r->len[1];
        it->klen = r->len[1];
        it->vlen = r->len[2];
        RESP_LIT(out, "+OK\r\n");
    }
    if ((lock = pthread_mutex_unlock(&resp_lock)) != 0)
        die_en(lock, "pthread_mutex_unlock");
}

/* Runs one request, appends its reply. Returns 0, or the milliseconds of
   a SLEEP when defer is set (the caller waits, then calls resp_wake()),
   or -1 for QUIT (close after the reply). */
static inline long resp_exec(const resp_req *r, resp_buf *out, int defer)
{
    char msg[128];
    int args = r->argc;
    long ms;
    if (resp_is(r, "PING") && args <= 2) {
        if (args == 1)
            RESP_LIT(out, "+PONG\r\n");
        else
            resp_addf_bulk(out, r->argv[1], r->len[1]);
    } else if (resp_is(r, "ECHO") && args == 2) {
        resp_addf_bulk(out, r->argv[1], r->len[1]);
    } else if ((resp_is(r, "GET") && args == 2) ||
               (resp_is(r, "SET") && args == 3) ||
               (resp_is(r, "DEL") && args >= 2)) {
        resp_store(r, out);
    } else if ((resp_is(r, "BURN") || resp_is(r, "SLEEP")) && args == 2) {
        if ((ms = resp_ms(r->argv[1], r->len[1])) < 0) {
            RESP_LIT(out, "-ERR milliseconds must be 0 to 10000\r\n");
        } else if (resp_is(r, "BURN")) { /* CPU work: spin */
            int64_t from = resp_now_ns(), until = from + ms * 1000000;
            while (resp_now_ns() < until)
                ;
            snprintf(msg, sizeof msg, "cpu %ld", ms);
            trace_span(msg, from, resp_now_ns());
            RESP_LIT(out, "+OK\r\n");
        } else if (defer && ms > 0) {
            return ms;
        } else { /* the thread waits, as on a disk */
            struct timespec ts = {ms / 1000, ms % 1000 * 1000000};
            int64_t from = resp_now_ns();
            while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
                ;
            snprintf(msg, sizeof msg, "wait %ld", ms);
            trace_span(msg, from, resp_now_ns());
            RESP_LIT(out, "+OK\r\n");
        }
    } else if (resp_is(r, "CRASH") && args == 1 && resp_crash_on) {
        *resp_nowhere = 1; /* SIGSEGV: the process ends, all its threads */
    } else if (resp_is(r, "QUIT")) {
        RESP_LIT(out, "+OK\r\n");
        return -1;
    } else {
        int known = resp_is(r, "PING") || resp_is(r, "ECHO") ||
                    resp_is(r, "GET") || resp_is(r, "SET") ||
                    resp_is(r, "DEL") || resp_is(r, "BURN") ||
                    resp_is(r, "SLEEP");
        int n = (int)(r->len[0] < 40 ? r->len[0] : 40);
        int m = snprintf(msg, sizeof msg,
                         known ? "-ERR wrong number of arguments for '%.*s' "
                                 "command\r\n"
                               : "-ERR unknown command '%.*s'\r\n",
                         n, r->argv[0]);
        for (int i = 5; i < m - 2; i++) /* no CR or LF inside the error */
            if (msg[i] == '\r' || msg[i] == '\n')
                msg[i] = ' ';
        resp_add(out, msg, (size_t)m);
    }
    return 0;
}

/* The reply of a deferred SLEEP, once its time has come. */
static inline void resp_wake(resp_conn *c)
{
    char label[32];
    snprintf(label, sizeof label, "wait %ld", c->wait_ms);
    trace_span(label, c->wait_from, resp_now_ns());
    c->wake_ns = 0;
    RESP_LIT(&c->out, "+OK\r\n");
}

/* Runs every complete request in c->in, in order, until the input runs
   out, a SLEEP must wait (defer set: returns its ms, c->wake_ns set), the
   replies waiting to be sent pass RESP_OUT_HIGH, or the client must go
   (c->closing). Returns 0 or the ms to wait. */
static inline long resp_run(resp_conn *c, int defer)
{
    size_t used = 0;
    long ms = 0;
    resp_req r;
    while (!c->closing && c->wake_ns == 0 &&
           c->out.len - c->sent < RESP_OUT_HIGH) {
        long n = resp_parse(c->in.p + used, c->in.len - used, &r);
        if (n == 0)
            break;
        if (n < 0) {
            resp_add(&c->out, "-", 1);
            resp_add(&c->out, r.error, strlen(r.error));
            RESP_LIT(&c->out, "\r\n");
            c->closing = 1;
            break;
        }
        used += (size_t)n;
        if (r.argc > 0 && (ms = resp_exec(&r, &c->out, defer)) != 0) {
            if (ms < 0)
                c->closing = 1;
            else
                c->wake_ns = (c->wait_from = resp_now_ns()) + ms * 1000000;
            c->wait_ms = ms;
            break;
        }
    }
    if (used > 0) {
        memmove(c->in.p, c->in.p + used, c->in.len - used);
        c->in.len -= used;
    }
    if (c->sent == c->out.len)
        c->sent = c->out.len = 0;
    /* A client that sends faster than it reads: what it sent stays in
       the kernel's buffers (and then its own) until it reads. */
    c->stuck = !c->closing && c->wake_ns == 0 && c->in.len > 0 &&
               c->out.len - c->sent >= RESP_OUT_HIGH;
    return ms > 0 ? ms : 0;
}

/* Whether a loop should read from / write to this client now: no reading
   while a SLEEP waits, while replies pile up, or when closing. */
static inline int resp_wants_read(const resp_conn *c)
{
    return !c->closing && c->wake_ns == 0 && !c->stuck &&
           c->out.len - c->sent < RESP_OUT_HIGH;
}

static inline int resp_wants_write(const resp_conn *c)
{
    return c->out.len > c->sent;
}

/* Room to read into; 0, or -1 when a request is too big (closing). */
static inline int resp_room(resp_conn *c, size_t want)
{
    if (c->in.len >= RESP_MAX_IN) {
        RESP_LIT(&c->out, "-ERR Protocol error: request too big\r\n");
        c->closing = 1;
        return -1;
    }
    if (resp_reserve(&c->in, want) == -1)
        die("resp: out of memory");
    return 0;
}

static inline void resp_free(resp_conn *c)
{
    free(c->in.p);
    free(c->out.p);
    memset(c, 0, sizeof *c);
}

/* --- For the loops: non-blocking reads and writes ----------------------- */
/* Reads once what is there: 1, 0 (nothing now), -2 (end of input: the
   client sent everything it will), -1 (reset or failed). */
static inline int resp_read_nb(int fd, resp_conn *c)
{
    if (resp_room(c, 16384) == -1)
        return 0; /* too big: closing */
    ssize_t n = read(fd, c->in.p + c->in.len, c->in.cap - c->in.len);
    if (n > 0)
        c->in.len += (size_t)n;
    if (n >= 0)
        return n > 0 ? 1 : -2;
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -1;
}

/* Writes what it can of the pending replies: 0, or -1 (client gone). */
static inline int resp_write_nb(int fd, resp_conn *c)
{
    while (c->sent < c->out.len) {
        ssize_t n = write(fd, c->out.p + c->sent, c->out.len - c->sent);
        if (n > 0)
            c->sent += (size_t)n;
        else if (n == -1 && errno == EINTR)
            continue;
        else
            return n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK) ? 0
                                                                        : -1;
    }
    c->sent = c->out.len = 0;
    return 0;
}

/* One turn of a loop for one client (readable: the loop saw it ready):
   a SLEEP whose time has come is answered, new bytes read, requests run,
   replies written. Returns 0, or -1 when the loop must close it. */
static inline int resp_step(int fd, resp_conn *c, int readable)
{
    int got = 0;
    if (c->wake_ns != 0 && resp_now_ns() >= c->wake_ns)
        resp_wake(c);
    resp_run(c, 1); /* what waited for room among the replies */
    if (readable && resp_wants_read(c) && (got = resp_read_nb(fd, c)) == -1)
        return -1;
    resp_run(c, 1);
    if (got == -2) /* half-closed: answer what came, then close */
        c->closing = 1;
    if (resp_write_nb(fd, c) == -1)
        return -1;
    return c->closing && !resp_wants_write(c) ? -1 : 0;
}

/* --- Sockets ------------------------------------------------------------ */
/* The listening socket every server uses: 127.0.0.1, a port the kernel
   picks (printed as "port N"), close-on-exec. Also: as many descriptors
   as allowed, no SIGPIPE (a reset client is an error on its socket, not
   the end of the server), and the time bound: argv[1] seconds (default
   60), after which SIGALRM's default action ends the process, as SIGTERM
   does at any time. A first argument --crash turns CRASH on. */
static inline int resp_listen(int argc, char *argv[])
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    socklen_t alen = sizeof a;
    struct rlimit rl;
    int one = 1, fd;
    int arg = 1 + (resp_crash_on = argc > 1 && !strcmp(argv[1], "--crash"));
    long secs = argc > arg ? atol(argv[arg]) : 60;
    if (argc > arg + 1 || secs < 1 || secs > 3600) {
        fprintf(stderr,
                "usage: %s [--crash] [SECONDS]  (the longest it runs)\n",
                argv[0]);
        exit(2);
    }
    if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
        die("getrlimit");
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
        die("setrlimit");
    if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
        die("signal");
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == -1 ||
        bind(fd, (struct sockaddr *)&a, sizeof a) == -1 ||
        listen(fd, SOMAXCONN) == -1 ||
        getsockname(fd, (struct sockaddr *)&a, &alen) == -1)
        die("listen on 127.0.0.1");
    printf("port %d\n", ntohs(a.sin_port));
    if (fflush(stdout) == EOF)
        die("fflush");
    alarm((unsigned)secs);
    return fd;
}

/* Every client socket: no Nagle delay on small replies (as redis). A
   blocking server also gives up on a client that sends nothing or reads
   nothing for 10 s, so one such client cannot hold a thread forever. */
static inline void resp_client(int fd, int blocking)
{
    int one = 1;
    struct timeval tv = {10, 0};
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) == -1 ||
        (blocking &&
         (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == -1 ||
          setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) == -1)))
        perror("setsockopt"); /* that client only: serve it anyway */
}

/* The whole life of one client on a blocking socket, in this thread:
   read, run what came, write the replies, until it leaves or fails. */
static inline void resp_serve_blocking(int fd)
{
    resp_conn c = {0};
    for (;;) {
        resp_run(&c, 0);
        while (c.sent < c.out.len) {
            ssize_t n = write(fd, c.out.p + c.sent, c.out.len - c.sent);
            if (n == -1 && errno == EINTR)
                continue;
            if (n <= 0)
                goto done; /* reset, or 10 s without reading */
            c.sent += (size_t)n;
        }
        c.sent = c.out.len = 0;
        if (c.closing)
            break;
        if (c.stuck)
            continue; /* run the requests that wait before reading more */
        if (resp_room(&c, 16384) == -1)
            continue; /* its error reply goes out, then it closes */
        ssize_t n = read(fd, c.in.p + c.in.len, c.in.cap - c.in.len);
        if (n == -1 && errno == EINTR)
            continue;
        if (n <= 0)
            break; /* gone, reset, or 10 s silent */
        c.in.len += (size_t)n;
    }
done:
    if (close(fd) == -1)
        perror("close");
    resp_free(&c);
}

#endif
