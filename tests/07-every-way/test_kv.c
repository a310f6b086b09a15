/*
 * Tests of kv (exercises/07-every-way/kv.h): a key-value server that
 * speaks RESP2, on the event loop of chapter 4.
 *
 * Each test starts a real server: a listening TCP socket on 127.0.0.1
 * (port 0), a loop (chapter 4's, linked by kv.links), kv_start(), and a
 * thread that runs loop_run(). The test thread plays the clients with
 * non-blocking sockets and poll() with deadlines: it writes and reads at
 * the same time, so a client that pipelines thousands of requests never
 * deadlocks with a server that stops reading, and a server that stalls
 * fails a check instead of hanging the test. To stop, the test writes a
 * byte to a pipe the loop watches; its callback calls kv_stop(), and
 * loop_run() must then return by itself once the clients are answered.
 *
 * SAVE goes to a save function of the test, on the loop's thread: it
 * copies the table with kv_each() and either finishes at once, fails, or
 * keeps the kv_pending until the test writes an error number to a pipe
 * (then a callback on the loop calls kv_save_done()).
 *
 * The server's memory is read from the allocation counter of the test
 * support (wb_alloc_live(): kv.c's own blocks only), so a server that
 * buffers without bound is seen, however the machine is loaded. "The
 * server closed that socket" is seen as the process's count of open
 * descriptors going down; "it does not spin" as select() calls counted
 * (tests/support/selects.c) and the server thread's CPU time.
 *
 * redis-cli and redis-benchmark, when installed, drive the server too.
 *
 * Linux-only: /proc, SO_LINGER resets, the kernel's thread ids.
 */
#define _GNU_SOURCE
#include "wb.h"
#include "fdlimit.h"
#include "threadwatch.h"
#include "kv.h"
#include "kvnet.h"
#include "04-select/loop.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define MS 1000000LL /* nanoseconds */

#define S_CAPSTONE "The capstone: a key-value server on your loop"
#define S_PROTOCOL "The protocol in brief"
#define S_PIPELINE "Pipelining: one reply per request, in order"
#define S_BAD "Bad input"
#define S_BACKPRESSURE "Backpressure: a client that never reads"
#define S_STOP "Stopping without losing a write"
#define S_REDIS "Trying it with redis-cli and redis-benchmark"

extern char **environ;

static kv_config usual(void)
{
    return (kv_config){.max_clients = 128,
                       .max_request = 65536,
                       .max_queue = 65536,
                       .idle_ms = 10000};
}

/* --- The server under test ------------------------------------------------ */

enum save_mode { SAVE_HOLD, SAVE_SYNC, SAVE_FAIL };

struct server {
    loop *l;
    kv *k;
    int lfd, port;
    int stop[2];    /* a byte: the loop thread calls kv_stop() */
    int done[2];    /* the loop thread's byte: loop_run() returned */
    int finish[2];  /* an int: kv_save_done() of the held SAVE with it */
    int saved[2];   /* the loop thread's byte: the save function ran */
    int stall[2];   /* a byte: the loop thread blocks in a callback ... */
    int stalled[2]; /* ... says so here ... */
    int release[2]; /* ... and goes on after a byte here */
    int ask[2];     /* a byte: the loop thread writes kv_clients() ... */
    int answer[2];  /* ... here, as a size_t */
    pthread_t thread;
    atomic_int tid;
    int run_rc, run_err;
    int stat_fd;
    /* Touched by the loop thread only: */
    atomic_int mode; /* an enum save_mode */
    atomic_int fail_errno;
    kv_pending *held;
    int stopping;
    /* What the save function saw (kv_each()), under lock: */
    pthread_mutex_t lock;
    int saves;
    long keys;
    int each_early; /* kv_each()'s result when fn returns 7 at once */
    int each_one, each_one_calls; /* the same when fn returns 1 */
    char snapshot[256];
};

static void on_stop(loop *l, int fd, int events, void *ctx)
{
    (void)events;
    struct server *s = ctx;
    char b;
    (void)read(fd, &b, 1);
    s->stopping = 1;
    kv_stop(s->k);
    (void)loop_unwatch(l, s->stop[0]);
    (void)loop_unwatch(l, s->stall[0]);
    (void)loop_unwatch(l, s->ask[0]);
    if (s->held == NULL)
        (void)loop_unwatch(l, s->finish[0]);
}

static void on_finish(loop *l, int fd, int events, void *ctx)
{
    (void)events;
    struct server *s = ctx;
    int err = 0;
    if (read(fd, &err, sizeof err) != (ssize_t)sizeof err || s->held == NULL)
        return;
    kv_pending *p = s->held;
    s->held = NULL;
    kv_save_done(s->k, p, err);
    if (s->stopping)
        (void)loop_unwatch(l, s->finish[0]);
}

static void on_stall(loop *l, int fd, int events, void *ctx)
{
    (void)l;
    (void)events;
    struct server *s = ctx;
    char b;
    (void)read(fd, &b, 1);
    (void)write(s->stalled[1], "s", 1);
    (void)read(s->release[0], &b, 1); /* blocks: the whole server waits */
}

static void on_ask(loop *l, int fd, int events, void *ctx)
{
    (void)l;
    (void)events;
    struct server *s = ctx;
    char b;
    (void)read(fd, &b, 1);
    size_t n = kv_clients(s->k);
    (void)write(s->answer[1], &n, sizeof n);
}

static int count_key(const char *key, size_t klen, const char *val, size_t vlen,
                     void *arg)
{
    struct server *s = arg;
    s->keys++;
    size_t o = strlen(s->snapshot);
    snprintf(s->snapshot + o, sizeof s->snapshot - o, "%.*s=%.*s;", (int)klen,
             key, (int)vlen, val);
    return 0;
}

static int stop_at_once(const char *key, size_t klen, const char *val,
                        size_t vlen, void *arg)
{
    (void)key, (void)klen, (void)val, (void)vlen, (void)arg;
    return 7;
}

static int stop_with_one(const char *key, size_t klen, const char *val,
                         size_t vlen, void *arg)
{
    (void)key, (void)klen, (void)val, (void)vlen;
    (*(int *)arg)++;
    return 1;
}

static int on_save(kv *k, kv_pending *p, void *ctx)
{
    struct server *s = ctx;
    pthread_mutex_lock(&s->lock);
    s->saves++;
    s->keys = 0;
    s->snapshot[0] = '\0';
    (void)kv_each(k, count_key, s);
    s->each_early = kv_each(k, stop_at_once, NULL);
    s->each_one_calls = 0;
    s->each_one = kv_each(k, stop_with_one, &s->each_one_calls);
    pthread_mutex_unlock(&s->lock);
    (void)write(s->saved[1], "s", 1);
    switch (atomic_load(&s->mode)) {
    case SAVE_FAIL:
        errno = atomic_load(&s->fail_errno);
        return -1;
    case SAVE_SYNC:
        kv_save_done(k, p, 0);
        return 0;
    default:
        s->held = p;
        return 0;
    }
}

static void *server_main(void *arg)
{
    struct server *s = arg;
    atomic_store(&s->tid, (int)syscall(SYS_gettid));
    s->run_rc = loop_run(s->l);
    s->run_err = errno;
    (void)write(s->done[1], "d", 1);
    return NULL;
}

/* with_save: configure the test's save function (else SAVE is off). */
static void server_start_with(struct server *s, kv_config cfg, int sndbuf,
                              int with_save)
{
    memset(s, 0, sizeof *s);
    pthread_mutex_init(&s->lock, NULL);
    s->stat_fd = -1;
    s->lfd = kvnet_listen(sndbuf, 256, &s->port);
    s->l = loop_new();
    ck_assert_msg(s->l != NULL, "loop_new() failed");
    if (with_save) {
        cfg.save = on_save;
        cfg.save_ctx = s;
    }
    s->k = kv_start(s->l, s->lfd, &cfg);
    WB_EXPECT(s->k != NULL,
              "kv_start() with a valid configuration should return a "
              "server; got NULL%s",
              wb_errno_note(-1));
    int *pipes[] = {s->stop,    s->done,    s->finish, s->saved, s->stall,
                    s->stalled, s->release, s->ask,    s->answer};
    for (size_t i = 0; i < sizeof pipes / sizeof pipes[0]; i++)
        wb_pipe(pipes[i]);
    ck_assert_int_eq(loop_watch(s->l, s->stop[0], LOOP_READ, on_stop, s), 0);
    ck_assert_int_eq(loop_watch(s->l, s->stall[0], LOOP_READ, on_stall, s), 0);
    ck_assert_int_eq(loop_watch(s->l, s->ask[0], LOOP_READ, on_ask, s), 0);
    ck_assert_int_eq(loop_watch(s->l, s->finish[0], LOOP_READ, on_finish, s),
                     0);
    ck_assert_int_eq(pthread_create(&s->thread, NULL, server_main, s), 0);
    for (int i = 0; i < 1000 && atomic_load(&s->tid) == 0; i++)
        wb_sleep_ms(1);
    char path[64];
    snprintf(path, sizeof path, "/proc/self/task/%d/schedstat",
             atomic_load(&s->tid));
    s->stat_fd = open(path, O_RDONLY | O_CLOEXEC);
}

static void server_start(struct server *s, kv_config cfg)
{
    server_start_with(s, cfg, 0, 1);
}

/* Ask the loop to stop the server; loop_run() must then return. */
static void server_stop_within(struct server *s, long ms)
{
    ck_assert_int_eq(write(s->stop[1], "q", 1), 1);
    WB_PROMISE("stop");
    WB_EXPECT(kvnet_readable_within(s->done[0], ms),
              "after kv_stop(), once every client is answered and closed, "
              "loop_run() should return: nothing of the server may stay on "
              "the loop. It was still running %ld ms later: is a client, "
              "the listening socket or a timer still there?",
              ms);
    pthread_join(s->thread, NULL);
    WB_EXPECT(s->run_rc == 0, "loop_run() should return 0; got %d (%s)",
              s->run_rc, wb_errname(s->run_err));
    loop_free(s->l);
    int *pipes[] = {s->stop,    s->done,    s->finish, s->saved, s->stall,
                    s->stalled, s->release, s->ask,    s->answer};
    for (size_t i = 0; i < sizeof pipes / sizeof pipes[0]; i++) {
        close(pipes[i][0]);
        close(pipes[i][1]);
    }
    close(s->lfd);
    if (s->stat_fd >= 0)
        close(s->stat_fd);
    pthread_mutex_destroy(&s->lock);
}

static void server_stop(struct server *s)
{
    server_stop_within(s, 2000);
}

static void server_stall(struct server *s)
{
    ck_assert_int_eq(write(s->stall[1], "s", 1), 1);
    WB_EXPECT(kvnet_readable_within(s->stalled[0], 1000),
              "the test could not stall the server's loop within 1 s: is "
              "it blocked somewhere?");
    char b;
    ck_assert_int_eq(read(s->stalled[0], &b, 1), 1);
}

static void server_release(struct server *s)
{
    ck_assert_int_eq(write(s->release[1], "r", 1), 1);
}

/* kv_clients(), asked on the loop's thread. */
static size_t server_clients(struct server *s)
{
    ck_assert_int_eq(write(s->ask[1], "c", 1), 1);
    WB_EXPECT(kvnet_readable_within(s->answer[0], 1500),
              "the test could not ask kv_clients() on the loop's thread "
              "within 1.5 s: is the loop blocked somewhere?");
    size_t n = 0;
    ck_assert_int_eq(read(s->answer[0], &n, sizeof n), (ssize_t)sizeof n);
    return n;
}

/* kv_clients() comes to @p want within 1.5 s; its last answer. */
static size_t clients_become(struct server *s, size_t want)
{
    size_t n = server_clients(s);
    for (int i = 0; i < 150 && n != want; i++) {
        wb_sleep_ms(10);
        n = server_clients(s);
    }
    return n;
}

/* Wait until the save function has run (once more). */
static void wait_saved(struct server *s, const char *why)
{
    WB_EXPECT(kvnet_readable_within(s->saved[0], 1500),
              "the server should call the save function (on the loop's "
              "thread) when a client sends SAVE; it was not called within "
              "1.5 s%s",
              why);
    char b;
    ck_assert_int_eq(read(s->saved[0], &b, 1), 1);
}

static void finish_save(struct server *s, int err)
{
    ck_assert_int_eq(write(s->finish[1], &err, sizeof err),
                     (ssize_t)sizeof err);
}

/* --- Clients -------------------------------------------------------------- */

struct conn {
    int fd;
    char *out; /* bytes still to send */
    size_t out_len, out_off, out_cap;
    char *in;                    /* bytes received */
    size_t in_len, in_cap, seen; /* seen: bytes already checked */
    size_t want;                 /* pump() stops once in_len reaches it */
    int eof, err;
};

static void grow(char **p, size_t *cap, size_t need)
{
    if (*cap >= need)
        return;
    size_t n = *cap ? *cap : 4096;
    while (n < need)
        n *= 2;
    char *q = realloc(*p, n);
    ck_assert_msg(q != NULL, "out of memory");
    *p = q;
    *cap = n;
}

static struct conn *conn_open_buf(const struct server *s, int rcvbuf)
{
    struct conn *c = calloc(1, sizeof *c);
    ck_assert_msg(c != NULL, "out of memory");
    c->fd = kvnet_connect(s->port, rcvbuf, 1);
    grow(&c->in, &c->in_cap, 65536);
    return c;
}

static struct conn *conn_open(const struct server *s)
{
    return conn_open_buf(s, 0);
}

static void conn_free(struct conn *c)
{
    if (c == NULL)
        return;
    if (c->fd >= 0)
        close(c->fd);
    free(c->out);
    free(c->in);
    free(c);
}

/* Close with a reset (SO_LINGER 0) instead of an orderly end. */
static void conn_reset(struct conn *c)
{
    struct linger lg = {1, 0};
    ck_assert_int_eq(setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg),
                     0);
    close(c->fd);
    c->fd = -1;
}

/* Queue bytes to send; pump() sends them. */
static void conn_queue(struct conn *c, const char *s, size_t n)
{
    grow(&c->out, &c->out_cap, c->out_len + n);
    memcpy(c->out + c->out_len, s, n);
    c->out_len += n;
}

static void conn_say(struct conn *c, const char *s)
{
    conn_queue(c, s, strlen(s));
}

/* A request as an array of bulk strings, from argc (at most 8) strings. */
static void conn_cmd(struct conn *c, int argc, ...)
{
    const char *argv[8];
    size_t lens[8], need = 32;
    ck_assert_int_le(argc, 8);
    va_list ap;
    va_start(ap, argc);
    for (int i = 0; i < argc; i++) {
        argv[i] = va_arg(ap, const char *);
        lens[i] = strlen(argv[i]);
        need += lens[i] + 32;
    }
    va_end(ap);
    grow(&c->out, &c->out_cap, c->out_len + need);
    c->out_len = kvnet_resp(c->out, c->out_cap, c->out_len, argc, argv, lens);
}

static void pump(struct conn **cs, int n, long ms);

/* Send what is queued (within 1 s), reading nothing it waits for. */
static void conn_flush(struct conn *c)
{
    c->want = 0;
    pump(&c, 1, 1000);
    WB_EXPECT(c->out_off == c->out_len,
              "the test could not send its requests within 1 s (%zu of "
              "%zu bytes sent)",
              c->out_off, c->out_len);
}

static int conn_done(const struct conn *c)
{
    return c->fd < 0 || c->eof || c->err || c->in_len >= c->want;
}

/* Send and receive on every connection at once until each has received
 * `want` bytes (or ended), or @p ms have passed. */
static void pump(struct conn **cs, int n, long ms)
{
    int64_t end = wb_now_ns() + ms * MS;
    struct pollfd *p = calloc((size_t)n, sizeof *p);
    ck_assert_msg(p != NULL, "out of memory");
    for (;;) {
        int busy = 0;
        for (int i = 0; i < n; i++) {
            struct conn *c = cs[i];
            p[i].fd = conn_done(c) && c->out_off == c->out_len ? -1 : c->fd;
            p[i].events = POLLIN;
            if (c->out_off < c->out_len && !c->err)
                p[i].events |= POLLOUT;
            p[i].revents = 0;
            busy |= !conn_done(c) || (c->out_off < c->out_len && !c->err);
        }
        int64_t left = (end - wb_now_ns()) / MS;
        if (!busy)
            break;
        int r = poll(p, (nfds_t)n, left > 0 ? (int)left : 0);
        if (r == -1 && errno == EINTR)
            continue;
        ck_assert_int_ge(r, 0);
        for (int i = 0; i < n; i++) {
            struct conn *c = cs[i];
            if (p[i].revents & POLLOUT) {
                ssize_t w = send(c->fd, c->out + c->out_off,
                                 c->out_len - c->out_off, MSG_NOSIGNAL);
                if (w > 0)
                    c->out_off += (size_t)w;
                else if (w < 0 && errno != EAGAIN && errno != EINTR)
                    c->err = errno;
            }
            if (p[i].revents & (POLLIN | POLLHUP | POLLERR)) {
                grow(&c->in, &c->in_cap, c->in_len + 65536);
                ssize_t got = recv(c->fd, c->in + c->in_len, 65536, 0);
                if (got > 0)
                    c->in_len += (size_t)got;
                else if (got == 0)
                    c->eof = 1;
                else if (errno != EAGAIN && errno != EINTR)
                    c->err = errno;
            }
        }
        if (left <= 0)
            break;
    }
    free(p);
}

/* How the connection stands, for messages. */
static const char *state(const struct conn *c)
{
    if (c->err)
        return wb_format(" (then the connection failed: %s)",
                         wb_errname(c->err));
    if (c->eof)
        return " (then the server closed the connection)";
    return "";
}

/* Expect exactly these bytes next, within @p ms. */
static void expect_n(struct conn *c, const char *want, size_t wlen, long ms,
                     const char *why)
{
    c->want = c->seen + wlen;
    pump(&c, 1, ms);
    size_t got = c->in_len - c->seen;
    int ok = got >= wlen && memcmp(c->in + c->seen, want, wlen) == 0;
    WB_EXPECT(ok, "the server should answer %s within %ld ms; got %s%s%s",
              kvnet_show(want, wlen), ms, kvnet_show(c->in + c->seen, got),
              state(c), why);
    c->seen += wlen;
}

static void expect(struct conn *c, const char *want, const char *why)
{
    expect_n(c, want, strlen(want), 1500, why);
}

/* Expect a line that starts with @p prefix; returns it (in a buffer of
 * the test thread). */
static const char *expect_line_prefix(struct conn *c, const char *prefix,
                                      long ms, const char *why)
{
    static _Thread_local char line[256];
    int64_t end = wb_now_ns() + ms * MS;
    char *nl = NULL;
    while (wb_now_ns() < end) {
        nl = memchr(c->in + c->seen, '\n', c->in_len - c->seen);
        if (nl != NULL || c->eof || c->err)
            break;
        c->want = c->in_len + 1;
        pump(&c, 1, (end - wb_now_ns()) / MS + 1);
    }
    if (nl == NULL)
        nl = memchr(c->in + c->seen, '\n', c->in_len - c->seen);
    size_t len = nl ? (size_t)(nl + 1 - (c->in + c->seen)) : 0;
    int ok = nl != NULL && len >= strlen(prefix) &&
             memcmp(c->in + c->seen, prefix, strlen(prefix)) == 0 && len >= 2 &&
             nl[-1] == '\r';
    WB_EXPECT(ok,
              "the server should answer a line that starts with %s and "
              "ends with \\r\\n within %ld ms; got %s%s%s",
              kvnet_show(prefix, strlen(prefix)), ms,
              kvnet_show(c->in + c->seen, c->in_len - c->seen), state(c), why);
    size_t keep = len < sizeof line - 1 ? len : sizeof line - 1;
    memcpy(line, c->in + c->seen, keep);
    line[keep] = '\0';
    c->seen += len;
    return line;
}

/* Expect the server to close the connection (after nothing more than
 * what was checked already). */
static void expect_closed(struct conn *c, long ms, const char *why)
{
    c->want = (size_t)-1;
    pump(&c, 1, ms);
    WB_EXPECT((c->eof || c->err) && c->in_len == c->seen,
              "the server should close the connection%s within %ld ms; "
              "got %s more%s%s",
              c->in_len == c->seen ? "" : ", with nothing more sent,", ms,
              kvnet_show(c->in + c->seen, c->in_len - c->seen),
              c->eof || c->err ? state(c) : " and the connection still open",
              why);
}

/* Expect nothing more for @p ms, the connection open. */
static void expect_nothing(struct conn *c, long ms, const char *why)
{
    c->want = c->seen + 1;
    pump(&c, 1, ms);
    WB_EXPECT(c->in_len == c->seen && !c->eof && !c->err,
              "the server should send nothing more yet (%ld ms); got %s%s%s",
              ms, kvnet_show(c->in + c->seen, c->in_len - c->seen), state(c),
              why);
}

/* The number of open descriptors comes back to @p want within 1.5 s. */
static int fds_back_to(int want)
{
    int n = wb_count_fds();
    for (int i = 0; i < 300 && n > want; i++) {
        wb_sleep_ms(5);
        n = wb_count_fds();
    }
    return n;
}

/* kv.c's live bytes come back to at most @p want within 1.5 s. */
static size_t live_back_to(size_t want)
{
    size_t bytes = 0;
    wb_alloc_live(&bytes);
    for (int i = 0; i < 300 && bytes > want; i++) {
        wb_sleep_ms(5);
        wb_alloc_live(&bytes);
    }
    return bytes;
}

/* --- Tests ---------------------------------------------------------------- */

START_TEST(test_bad_config)
{
    WB_PROMISE("config");
    loop *l = loop_new();
    ck_assert_msg(l != NULL, "loop_new() failed");
    int port;
    int lfd = kvnet_listen(0, 256, &port);
    kv_config good = usual();
    struct {
        const char *what;
        kv_config cfg;
    } bad[] = {
        {"max_clients 0", good}, {"max_request 63", good},
        {"max_queue 63", good},  {"idle_ms 0", good},
        {"idle_ms -1", good},
    };
    bad[0].cfg.max_clients = 0;
    bad[1].cfg.max_request = 63;
    bad[2].cfg.max_queue = 63;
    bad[3].cfg.idle_ms = 0;
    bad[4].cfg.idle_ms = -1;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        errno = 0;
        kv *k = kv_start(l, lfd, &bad[i].cfg);
        int e = errno;
        if (k != NULL)
            kv_stop(k);
        WB_EXPECT(k == NULL && e == EINVAL,
                  "kv_start() with %s should fail with EINVAL; got %s "
                  "(errno %s)",
                  bad[i].what, k ? "a server" : "NULL", wb_errname(e));
    }
    errno = 0;
    kv *k = kv_start(NULL, lfd, &good);
    WB_EXPECT(k == NULL && errno == EINVAL,
              "kv_start(NULL, ...) should fail with EINVAL; got %s (%s)",
              k ? "a server" : "NULL", wb_errname(errno));
    errno = 0;
    k = kv_start(l, lfd, NULL);
    WB_EXPECT(k == NULL && errno == EINVAL,
              "kv_start() with a NULL configuration should fail with "
              "EINVAL; got %s (%s)",
              k ? "a server" : "NULL", wb_errname(errno));
    errno = 0;
    k = kv_start(l, -1, &good);
    WB_EXPECT(k == NULL && errno == EINVAL,
              "kv_start() with listening descriptor -1 should fail with "
              "EINVAL; got %s (%s)",
              k ? "a server" : "NULL", wb_errname(errno));
    /* The smallest limits allowed are allowed. */
    kv_config least = {
        .max_clients = 1, .max_request = 64, .max_queue = 64, .idle_ms = 1};
    errno = 0;
    k = kv_start(l, lfd, &least);
    WB_EXPECT(k != NULL,
              "kv_start() with max_clients 1, max_request 64, max_queue 64 "
              "and idle_ms 1 (the smallest allowed) should return a "
              "server; got NULL (%s)",
              wb_errname(errno));
    kv_stop(k);
    /* A listening socket at descriptor 0 is a descriptor like another. */
    int in = fcntl(0, F_DUPFD_CLOEXEC, 3);
    ck_assert_int_ge(in, 0);
    ck_assert_int_eq(dup2(lfd, 0), 0);
    errno = 0;
    k = kv_start(l, 0, &good);
    int e0 = errno;
    kv_stop(k);
    ck_assert_int_eq(dup2(in, 0), 0);
    close(in);
    WB_EXPECT(k != NULL,
              "kv_start() with a listening socket at descriptor 0 should "
              "return a server; got NULL (%s)",
              wb_errname(e0));
    /* A descriptor that is not open: fcntl()'s error. */
    int closed = fcntl(lfd, F_DUPFD_CLOEXEC, 0);
    ck_assert_int_ge(closed, 0);
    close(closed);
    errno = 0;
    k = kv_start(l, closed, &good);
    int eb = errno;
    if (k != NULL)
        kv_stop(k);
    WB_EXPECT(k == NULL && eb == EBADF,
              "kv_start() with descriptor %d, which is not open, should "
              "fail with fcntl()'s EBADF; got %s (%s)",
              closed, k ? "a server" : "NULL", wb_errname(eb));
    WB_EXPECT(wb_alloc_live(NULL) == 0,
              "kv_start() that failed (or a server stopped with no client) "
              "should leave nothing allocated; %zu blocks are left",
              wb_alloc_live(NULL));
    /* A descriptor the loop refuses: its error, as loop_watch() says. */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur > 1100) {
        int big = fcntl(lfd, F_DUPFD_CLOEXEC, 1050);
        ck_assert_int_ge(big, 1050);
        errno = 0;
        k = kv_start(l, big, &good);
        int e = errno;
        if (k != NULL)
            kv_stop(k);
        WB_EXPECT(k == NULL && e == EINVAL,
                  "kv_start() with listening descriptor %d, which the "
                  "loop refuses to watch (loop_watch() fails with EINVAL), "
                  "should fail with EINVAL; got %s (%s)",
                  big, k ? "a server" : "NULL", wb_errname(e));
        close(big);
    }
    loop_free(l);
    close(lfd);
}
END_TEST

START_TEST(test_commands)
{
    WB_PROMISE("commands");
    struct server s;
    server_start(&s, usual());
    struct conn *c = conn_open(&s);
    conn_cmd(c, 1, "PING");
    expect(c, "+PONG\r\n", "");
    conn_cmd(c, 2, "ping", "hello there");
    expect(c, "$11\r\nhello there\r\n",
           " (PING with an argument answers it "
           "as a bulk string)");
    conn_cmd(c, 2, "ECHO", "");
    expect(c, "$0\r\n\r\n", " (ECHO of an empty string)");
    conn_cmd(c, 2, "GET", "nothing");
    expect(c, "$-1\r\n", " (GET of a key never set)");
    conn_cmd(c, 3, "SET", "fruit", "apple");
    expect(c, "+OK\r\n", "");
    conn_cmd(c, 2, "get", "fruit");
    expect(c, "$5\r\napple\r\n",
           " (GET after SET; names are "
           "case-insensitive)");
    conn_cmd(c, 3, "Set", "fruit", "pear");
    expect(c, "+OK\r\n", "");
    conn_cmd(c, 2, "GET", "fruit");
    expect(c, "$4\r\npear\r\n", " (a SET replaces the value)");
    /* Keys and values are bytes: NUL, CR, LF included. */
    static const char bin[] =
        "*3\r\n$3\r\nSET\r\n$3\r\na\0b\r\n$6\r\n\r\n\0\xff"
        "\r\n\r\n";
    conn_queue(c, bin, sizeof bin - 1);
    expect(c, "+OK\r\n",
           " (SET of a key \"a\\0b\" and a value of CR, LF, "
           "NUL, 0xff, CR, LF)");
    static const char getbin[] = "*2\r\n$3\r\nGET\r\n$3\r\na\0b\r\n";
    conn_queue(c, getbin, sizeof getbin - 1);
    expect_n(c, "$6\r\n\r\n\0\xff\r\n\r\n", 12, 1500,
             " (the value is returned byte for byte)");
    conn_cmd(c, 3, "SET", "veg", "leek");
    expect(c, "+OK\r\n", "");
    conn_cmd(c, 4, "DEL", "fruit", "veg", "nothing");
    expect(c, ":2\r\n",
           " (DEL of two keys set and one not: it counts the "
           "keys it deleted)");
    conn_cmd(c, 2, "GET", "fruit");
    expect(c, "$-1\r\n", " (GET after DEL)");
    conn_cmd(c, 2, "DEL", "fruit");
    expect(c, ":0\r\n", " (DEL of a key already deleted)");
    /* A value as big as the limits allow. */
    size_t big = 60000;
    char *v = malloc(big + 1);
    ck_assert_ptr_nonnull(v);
    for (size_t i = 0; i < big; i++)
        v[i] = (char)('a' + i % 26);
    v[big] = '\0';
    conn_cmd(c, 3, "SET", "big", v);
    expect(c, "+OK\r\n", " (SET of a 60,000-byte value)");
    conn_cmd(c, 2, "GET", "big");
    char head[32];
    snprintf(head, sizeof head, "$%zu\r\n", big);
    expect(c, head, " (GET of the 60,000-byte value)");
    expect_n(c, v, big, 1500, " (the 60,000 bytes of the value)");
    expect(c, "\r\n", "");
    free(v);
    conn_cmd(c, 1, "QUIT");
    expect(c, "+OK\r\n", " (QUIT)");
    expect_closed(c, 1500, " (after QUIT's +OK)");
    conn_free(c);
    server_stop(&s);
}
END_TEST

START_TEST(test_inline)
{
    WB_PROMISE("inline");
    struct server s;
    server_start(&s, usual());
    struct conn *c = conn_open(&s);
    conn_say(c, "PING\r\n");
    expect(c, "+PONG\r\n", " (an inline PING)");
    conn_say(c, "set  colour   blue\r\n");
    expect(c, "+OK\r\n", " (inline SET, words separated by several spaces)");
    conn_say(c, "\r\n\r\nGET colour\n");
    expect(c, "$4\r\nblue\r\n",
           " (empty lines get no answer; a line may end with \\n alone)");
    conn_say(c, "ECHO hi\r\nPING\r\n");
    expect(c, "$2\r\nhi\r\n+PONG\r\n", " (two inline requests at once)");
    conn_free(c);
    server_stop(&s);
}
END_TEST

/* Many keys, each set, read, replaced and deleted: every one is found,
 * whichever keys share a place in the server's table. */
START_TEST(test_many_keys)
{
    WB_PROMISE("commands");
    struct server s;
    server_start(&s, usual());
    struct conn *c = conn_open(&s);
    enum { KEYS = 3000 };
    char key[32], val[32], want[64];
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < KEYS; i++) {
            snprintf(key, sizeof key, "key-%d", i);
            snprintf(val, sizeof val, "%d-%d", round, i * 7);
            conn_cmd(c, 3, "SET", key, val);
        }
        for (int i = 0; i < KEYS; i++) {
            snprintf(key, sizeof key, "key-%d", i);
            conn_cmd(c, 2, "GET", key);
        }
        for (int i = 0; i < KEYS; i++)
            expect(c, "+OK\r\n", wb_format(" (SET of key %d of %d)", i, KEYS));
        for (int i = 0; i < KEYS; i++) {
            snprintf(val, sizeof val, "%d-%d", round, i * 7);
            snprintf(want, sizeof want, "$%zu\r\n%s\r\n", strlen(val), val);
            expect(c, want,
                   wb_format(" (GET of key-%d, of %d keys set%s)", i, KEYS,
                             round ? " twice" : ""));
        }
    }
    /* Delete every other key, then read them all. */
    for (int i = 0; i < KEYS; i += 2) {
        snprintf(key, sizeof key, "key-%d", i);
        conn_cmd(c, 2, "DEL", key);
    }
    for (int i = 0; i < KEYS; i++) {
        snprintf(key, sizeof key, "key-%d", i);
        conn_cmd(c, 2, "GET", key);
    }
    for (int i = 0; i < KEYS; i += 2)
        expect(c, ":1\r\n", wb_format(" (DEL of key-%d)", i));
    for (int i = 0; i < KEYS; i++) {
        snprintf(val, sizeof val, "1-%d", i * 7);
        snprintf(want, sizeof want, "$%zu\r\n%s\r\n", strlen(val), val);
        expect(
            c, i % 2 ? want : "$-1\r\n",
            wb_format(" (GET of key-%d after every other key was deleted)", i));
    }
    conn_free(c);
    server_stop(&s);
}
END_TEST

/* Requests and the replies they must get, as one script. */
static void script(struct conn *c, char **want, size_t *wlen, size_t *wcap,
                   int i)
{
    char key[32], val[32], buf[128];
    snprintf(key, sizeof key, "key:%d", i % 97);
    snprintf(val, sizeof val, "value-%d", i);
    size_t n;
    switch (i % 4) {
    case 0:
        conn_cmd(c, 3, "SET", key, val);
        n = (size_t)snprintf(buf, sizeof buf, "+OK\r\n");
        break;
    case 1:
        conn_cmd(c, 2, "ECHO", val);
        n = (size_t)snprintf(buf, sizeof buf, "$%zu\r\n%s\r\n", strlen(val),
                             val);
        break;
    case 2: /* the SET of request i - 2 */
        snprintf(key, sizeof key, "key:%d", (i - 2) % 97);
        snprintf(val, sizeof val, "value-%d", i - 2);
        conn_cmd(c, 2, "GET", key);
        n = (size_t)snprintf(buf, sizeof buf, "$%zu\r\n%s\r\n", strlen(val),
                             val);
        break;
    default:
        conn_cmd(c, 1, "PING");
        n = (size_t)snprintf(buf, sizeof buf, "+PONG\r\n");
    }
    grow(want, wcap, *wlen + n);
    memcpy(*want + *wlen, buf, n);
    *wlen += n;
}

START_TEST(test_pipeline)
{
    WB_PROMISE("pipeline");
    struct server s;
    server_start(&s, usual());
    struct conn *c = conn_open(&s);
    /* 10,000 requests in one go: SET, ECHO, GET, PING, ...; the GET of
       request i reads the SET of request i - 2. */
    char *want = NULL;
    size_t wlen = 0, wcap = 0;
    for (int i = 0; i < 10000; i++)
        script(c, &want, &wlen, &wcap, i);
    c->want = wlen;
    pump(&c, 1, 5000);
    size_t same = 0;
    while (same < wlen && same < c->in_len && c->in[same] == want[same])
        same++;
    WB_EXPECT(same == wlen && c->in_len == wlen,
              "10,000 pipelined requests (sent together, %zu bytes) should "
              "get their %zu bytes of replies, in order, one reply each; "
              "the replies differ from byte %zu on: expected %s, got %s%s",
              c->out_len, wlen, same, kvnet_show(want + same, wlen - same),
              kvnet_show(c->in + same, c->in_len - same), state(c));
    conn_free(c);

    /* The same kind of script cut into pieces of 1 to 7 bytes, with
       pauses: requests split anywhere, several in one read. */
    c = conn_open(&s);
    struct conn *feeder = c;
    char *all = NULL;
    size_t alen = 0, acap = 0;
    wlen = 0;
    {
        struct conn tmp = {0};
        tmp.fd = -1;
        for (int i = 0; i < 200; i++)
            script(&tmp, &want, &wlen, &wcap, i);
        all = tmp.out;
        alen = tmp.out_len;
        acap = tmp.out_cap;
    }
    (void)acap;
    size_t off = 0;
    for (int piece = 0; off < alen; piece++) {
        size_t n = (size_t)(piece % 7) + 1;
        if (n > alen - off)
            n = alen - off;
        conn_queue(feeder, all + off, n);
        off += n;
        feeder->want = 0;
        pump(&feeder, 1, 50); /* sends the piece */
        if (piece % 16 == 0)
            wb_sleep_ms(1);
    }
    free(all);
    c->want = wlen;
    pump(&c, 1, 3000);
    same = 0;
    while (same < wlen && same < c->in_len && c->in[same] == want[same])
        same++;
    WB_EXPECT(same == wlen && c->in_len == wlen,
              "200 requests sent in pieces of 1 to 7 bytes should get "
              "their replies in order, one each; they differ from byte "
              "%zu on: expected %s, got %s%s",
              same, kvnet_show(want + same, wlen - same),
              kvnet_show(c->in + same, c->in_len - same), state(c));
    free(want);
    conn_free(c);
    server_stop(&s);
}
END_TEST

START_TEST(test_errors)
{
    WB_PROMISE("errors");
    struct server s;
    server_start(&s, usual());
    struct conn *c = conn_open(&s);
    conn_cmd(c, 2, "FLY", "away");
    expect_line_prefix(c, "-ERR unknown command 'FLY'", 1500,
                       " (an unknown command: the error names it)");
    conn_cmd(c, 1, "GET");
    expect_line_prefix(c, "-ERR wrong number of arguments for 'GET' command",
                       1500, " (GET with no key: the error names it)");
    conn_cmd(c, 2, "SET", "a");
    expect_line_prefix(c, "-ERR wrong number of arguments", 1500,
                       " (SET with a key and no value)");
    conn_cmd(c, 3, "PING", "a", "b");
    expect_line_prefix(c, "-ERR wrong number of arguments", 1500,
                       " (PING with two arguments)");
    conn_cmd(c, 2, "SLEEP", "soon");
    expect_line_prefix(c, "-ERR", 1500, " (SLEEP soon: not a number)");
    /* Every command of the table, with a number of arguments it does
       not take. */
    static const struct {
        int argc;
        const char *argv[3];
        const char *what;
    } wrong[] = {
        {1, {"ECHO"}, "ECHO with no argument"},
        {3, {"ECHO", "a", "b"}, "ECHO with two arguments"},
        {3, {"GET", "a", "b"}, "GET with two keys"},
        {1, {"DEL"}, "DEL with no key"},
        {1, {"SLEEP"}, "SLEEP with no time"},
        {3, {"SLEEP", "1", "2"}, "SLEEP with two times"},
        {2, {"SAVE", "now"}, "SAVE with an argument"},
    };
    for (size_t i = 0; i < sizeof wrong / sizeof wrong[0]; i++) {
        if (wrong[i].argc == 1)
            conn_cmd(c, 1, wrong[i].argv[0]);
        else if (wrong[i].argc == 2)
            conn_cmd(c, 2, wrong[i].argv[0], wrong[i].argv[1]);
        else
            conn_cmd(c, 3, wrong[i].argv[0], wrong[i].argv[1],
                     wrong[i].argv[2]);
        char want[64];
        snprintf(want, sizeof want,
                 "-ERR wrong number of arguments for '%s' command",
                 wrong[i].argv[0]);
        expect_line_prefix(c, want, 1500, wb_format(" (%s)", wrong[i].what));
    }
    /* Long names, of 39 and 40 bytes: the error names them whole. */
    for (int len = 39; len <= 40; len++) {
        char name[41];
        memset(name, 'Q', (size_t)len);
        name[len] = '\0';
        conn_cmd(c, 1, name);
        char named[80];
        snprintf(named, sizeof named, "-ERR unknown command '%s'\r\n", name);
        expect(c, named, wb_format(" (an unknown command of %d bytes)", len));
    }
    conn_say(c, "NOPE\r\n");
    expect_line_prefix(c, "-ERR unknown command", 1500,
                       " (an unknown inline command)");
    /* A name with CR and LF inside: the error stays one line. */
    conn_say(c, "*1\r\n$7\r\nA\r\nB\r\nC\r\n");
    conn_cmd(c, 1, "PING");
    expect_line_prefix(c, "-ERR unknown command", 1500,
                       " (an unknown command named \"A\\r\\nB\\r\\nC\")");
    expect(c, "+PONG\r\n",
           " (after the error for a command named \"A\\r\\nB\\r\\nC\": an "
           "error reply is one line, so the CR and LF of the name must not "
           "reach it as they are)");
    conn_cmd(c, 1, "PING");
    expect(c, "+PONG\r\n", " (the connection stays after these errors)");
    conn_free(c);
    server_stop(&s);
}
END_TEST

START_TEST(test_malformed)
{
    WB_PROMISE("malformed");
    struct server s;
    server_start(&s, usual());
    struct conn *other = conn_open(&s);
    static const struct {
        const char *what, *bytes, *before;
    } bad[] = {
        {"a bulk length that lies ($5 before 2 bytes, then more)",
         "PING\r\n*2\r\n$3\r\nGET\r\n$5\r\nab\r\nxxxxxxxxxx", "+PONG\r\n"},
        {"a bulk length that is no number", "*2\r\n$3\r\nGET\r\n$x1\r\nab\r\n",
         ""},
        {"an array length that is no number", "*zz\r\n", ""},
        {"something else where a '$' belongs",
         "*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n:1\r\n", "+PONG\r\n"},
        {"a negative bulk length", "*2\r\n$3\r\nGET\r\n$-7\r\n", ""},
        {"binary garbage after a star", "*\x01\x02\xfe\xff garbage\r\n", ""},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct conn *c = conn_open(&s);
        conn_say(c, bad[i].bytes);
        const char *why =
            wb_format(" (%s: %s)", bad[i].what,
                      kvnet_show(bad[i].bytes, strlen(bad[i].bytes)));
        char why_copy[256];
        snprintf(why_copy, sizeof why_copy, "%s", why);
        if (bad[i].before[0] != '\0')
            expect(c, bad[i].before, why_copy);
        expect_line_prefix(c, "-ERR Protocol error", 1500, why_copy);
        expect_closed(c, 1500, why_copy);
        conn_free(c);
        WB_PROMISE("clients");
        size_t n = clients_become(&s, 1);
        WB_EXPECT(n == 1,
                  "once a client whose request was malformed has read its "
                  "error and closed its end, the server should close it too "
                  "(kv_clients() 1, the other client, within 1.5 s); it is "
                  "%zu%s",
                  n, why_copy);
        WB_PROMISE("malformed");
        conn_cmd(other, 1, "PING");
        expect(other, "+PONG\r\n",
               " (another client is served after a malformed request)");
    }
    /* A client that goes on sending after its error, its end open: the
       server closes it all the same (it may read a little more, so that
       the error reaches the client first, but never without end). */
    struct conn *g = conn_open(&s);
    conn_say(g, "*zz\r\n");
    expect_line_prefix(g, "-ERR Protocol error", 1500, " (*zz)");
    enum { MORE = 512 * 1024 };
    char *junk = malloc(MORE);
    ck_assert_ptr_nonnull(junk);
    memset(junk, 'j', MORE);
    conn_queue(g, junk, MORE);
    free(junk);
    g->want = (size_t)-1;
    pump(&g, 1, 300);
    WB_PROMISE("clients");
    size_t left = clients_become(&s, 1);
    WB_EXPECT(left == 1,
              "a client that goes on sending after a malformed request (512 "
              "KiB more, its end still open) should be closed by the server "
              "all the same: kv_clients() should come to 1 (the other "
              "client) within 1.5 s; it is %zu",
              left);
    WB_PROMISE("malformed");
    conn_free(g);
    conn_free(other);
    server_stop(&s);
}
END_TEST

START_TEST(test_too_big)
{
    WB_PROMISE("too-big");
    kv_config cfg = usual();
    cfg.max_request = 4096;
    struct server s;
    server_start(&s, cfg);
    /* *3\r\n$3\r\nSET\r\n$1\r\nk\r\n$N\r\n...\r\n is 29 bytes + N (N of
       4 digits): 4067 bytes of value make 4096 in all. */
    size_t vlen = 4096 - 29;
    char *v = malloc(vlen + 2);
    ck_assert_ptr_nonnull(v);
    memset(v, 'v', vlen + 1);
    v[vlen] = '\0';
    struct conn *c = conn_open(&s);
    conn_cmd(c, 3, "SET", "k", v);
    ck_assert_uint_eq(c->out_len, 4096);
    expect(c, "+OK\r\n", " (a request of exactly max_request = 4096 bytes)");
    v[vlen] = 'v';
    v[vlen + 1] = '\0';
    conn_cmd(c, 3, "SET", "k", v);
    ck_assert_uint_eq(c->out_len - c->out_off, 4097);
    expect_line_prefix(c, "-ERR Protocol error", 1500,
                       " (a request of max_request + 1 = 4097 bytes)");
    expect_closed(c, 1500, " (after a request over max_request)");
    conn_free(c);
    free(v);

    /* An endless line: 4 MiB with no newline, while reading. */
    size_t base = 0;
    wb_alloc_live(&base);
    c = conn_open(&s);
    char *junk = malloc(4 << 20);
    ck_assert_ptr_nonnull(junk);
    memset(junk, 'x', 4 << 20);
    conn_queue(c, junk, 4 << 20);
    free(junk);
    size_t most = 0, now = 0;
    int64_t end = wb_now_ns() + 2000 * MS;
    while (!c->eof && !c->err && wb_now_ns() < end) {
        c->want = (size_t)-1;
        pump(&c, 1, 20);
        wb_alloc_live(&now);
        if (now > most)
            most = now;
    }
    const char *err = "-ERR Protocol error";
    WB_EXPECT(c->in_len >= strlen(err) && memcmp(c->in, err, strlen(err)) == 0,
              "an endless line (no newline, 4 MiB sent) should get "
              "\"-ERR Protocol error...\" once it passes max_request = 4096 "
              "bytes; got %s%s",
              kvnet_show(c->in, c->in_len), state(c));
    WB_EXPECT(c->eof || c->err,
              "after an endless line over max_request, the server should "
              "close the connection; it was open 2 s later (%zu bytes of "
              "the 4 MiB were taken)",
              c->out_off);
    WB_EXPECT(most <= base + 64 * 1024,
              "while a client sent an endless line, the server should hold "
              "at most max_request = 4096 bytes of its input; kv.c's "
              "memory grew by %zu bytes",
              most - base);
    conn_free(c);
    server_stop(&s);
}
END_TEST

START_TEST(test_many)
{
    WB_PROMISE("many");
    enum { MAX = 100 };
    /* Fewer under Valgrind, whose tools run one thread at a time. */
    const int N = (int)wb_scaled(MAX, 10), EACH = (int)wb_scaled(40, 4);
    struct server s;
    server_start(&s, usual());
    struct conn *cs[MAX];
    char *want[MAX];
    size_t wlen[MAX], wcap[MAX];
    for (int i = 0; i < N; i++) {
        cs[i] = conn_open(&s);
        want[i] = NULL;
        wlen[i] = wcap[i] = 0;
        for (int j = 0; j < EACH; j++) {
            char key[32], val[32], buf[96];
            snprintf(key, sizeof key, "c%d:%d", i, j);
            snprintf(val, sizeof val, "v%d.%d", i, j);
            conn_cmd(cs[i], 3, "SET", key, val);
            conn_cmd(cs[i], 2, "GET", key);
            size_t n = (size_t)snprintf(
                buf, sizeof buf, "+OK\r\n$%zu\r\n%s\r\n", strlen(val), val);
            grow(&want[i], &wcap[i], wlen[i] + n);
            memcpy(want[i] + wlen[i], buf, n);
            wlen[i] += n;
        }
        cs[i]->want = wlen[i];
    }
    pump(cs, N, 5000);
    for (int i = 0; i < N; i++) {
        struct conn *c = cs[i];
        WB_EXPECT(c->in_len == wlen[i] && memcmp(c->in, want[i], wlen[i]) == 0,
                  "each of %d clients sent %d pipelined SET and GET at "
                  "once; client %d should get %s, got %s%s",
                  N, EACH, i, kvnet_show(want[i], wlen[i]),
                  kvnet_show(c->in, c->in_len), state(c));
    }
    for (int i = 0; i < N; i++) {
        conn_free(cs[i]);
        free(want[i]);
    }
    server_stop(&s);
}
END_TEST

START_TEST(test_sleep)
{
    WB_PROMISE("sleep");
    const long f = wb_stress() < 1 ? 5 : 1; /* Valgrind: 5 times longer */
    struct server s;
    server_start(&s, usual());
    struct conn *a = conn_open(&s), *b = conn_open(&s);
    int64_t t0 = wb_now_ns();
    char ms[16];
    snprintf(ms, sizeof ms, "%ld", 1000 * f);
    conn_cmd(a, 2, "SLEEP", ms);
    conn_cmd(a, 1, "PING");
    conn_cmd(a, 2, "ECHO", "after");
    conn_flush(a);
    /* Meanwhile, b is served at once, round after round: well within
       the second a's SLEEP lasts, even on a loaded machine. */
    for (int i = 0; i < 5; i++) {
        conn_cmd(b, 2, "ECHO", "b");
        expect_n(b, "$1\r\nb\r\n", 7, 1500,
                 " (client b, while client a's SLEEP waits)");
    }
    int64_t b_done = wb_now_ns() - t0;
    a->want = a->seen + 1;
    pump(&a, 1, 0); /* what a has received by now */
    WB_EXPECT(b_done < 700 * f * MS && a->in_len == 0,
              "while client a's SLEEP waits, client b's 5 ECHO "
              "should be answered at once; they took %lld ms, and a had "
              "received %s by then: does SLEEP block the loop (the whole "
              "server waits while one client sleeps)? It must be a timer",
              (long long)(b_done / MS), kvnet_show(a->in, a->in_len));
    expect_n(a, "+OK\r\n+PONG\r\n$5\r\nafter\r\n", 23, 3000 * f,
             " (SLEEP, then PING and ECHO after, sent together: the "
             "requests after a SLEEP wait for it)");
    int64_t a_done = wb_now_ns() - t0;
    WB_EXPECT(a_done >= 1000 * f * MS,
              "SLEEP %ld should answer no earlier than %ld ms later; it "
              "answered after %lld ms",
              1000 * f, 1000 * f, (long long)(a_done / MS));
    /* The bounds: 0 and 10000 are times, -1 and 10001 are not. */
    conn_cmd(b, 2, "SLEEP", "0");
    conn_cmd(b, 1, "PING");
    expect(b, "+OK\r\n+PONG\r\n", " (SLEEP 0, then PING)");
    conn_cmd(b, 2, "SLEEP", "-1");
    expect_line_prefix(b, "-ERR", 1500, " (SLEEP -1)");
    conn_cmd(b, 2, "SLEEP", "10001");
    expect_line_prefix(b, "-ERR", 1500, " (SLEEP 10001: over 10000)");
    conn_free(a);
    conn_free(b);
    server_stop(&s);
}
END_TEST

START_TEST(test_save)
{
    WB_PROMISE("save");
    struct server s;
    server_start(&s, usual());
    struct conn *a = conn_open(&s), *b = conn_open(&s);
    conn_cmd(a, 3, "SET", "x", "1");
    conn_cmd(a, 1, "SAVE");
    conn_cmd(a, 3, "SET", "x", "2");
    conn_cmd(a, 2, "GET", "x");
    expect(a, "+OK\r\n", " (SET x 1 before the SAVE)");
    wait_saved(&s, "");
    pthread_mutex_lock(&s.lock);
    char snap[256];
    snprintf(snap, sizeof snap, "%s", s.snapshot);
    int early = s.each_early;
    pthread_mutex_unlock(&s.lock);
    WB_EXPECT(strcmp(snap, "x=1;") == 0,
              "kv_each() in the save function should see exactly x = 1 "
              "(the SET before the SAVE, not the one after); it saw %s",
              kvnet_show(snap, strlen(snap)));
    WB_EXPECT(early == 7,
              "kv_each() should stop when its function returns non-zero "
              "and return that value (7); it returned %d",
              early);
    expect_nothing(a, 100,
                   " (while the SAVE waits for kv_save_done(), its client "
                   "gets nothing: not the SAVE's reply, nor the replies of "
                   "the requests after it)");
    conn_cmd(b, 2, "GET", "x");
    expect(b, "$1\r\n1\r\n",
           " (client b's GET x while a's SAVE waits: a's SET x 2, sent "
           "after its SAVE, must not have run yet)");
    finish_save(&s, 0);
    expect(a, "+OK\r\n+OK\r\n$1\r\n2\r\n",
           " (kv_save_done(0) answers the SAVE +OK, then the SET and GET "
           "pipelined after it run)");
    /* A failed save. */
    conn_cmd(a, 1, "SAVE");
    conn_cmd(a, 1, "PING");
    conn_flush(a);
    wait_saved(&s, " (the second SAVE)");
    finish_save(&s, ENOSPC);
    char msg[128];
    snprintf(msg, sizeof msg, "-ERR %s\r\n+PONG\r\n", strerror(ENOSPC));
    expect(a, msg, " (kv_save_done(ENOSPC): -ERR and strerror(ENOSPC))");
    /* A save function that finishes from within its call. */
    conn_cmd(b, 3, "SET", "y", "0");
    expect(b, "+OK\r\n", " (a second key)");
    conn_cmd(b, 2, "ECHO", "hold");
    expect(b, "$4\r\nhold\r\n", "");
    server_stall(&s);
    atomic_store(&s.mode, SAVE_SYNC); /* the loop waits in on_stall */
    server_release(&s);
    conn_cmd(a, 1, "SAVE");
    conn_cmd(a, 1, "PING");
    conn_flush(a);
    wait_saved(&s, " (the third SAVE)");
    pthread_mutex_lock(&s.lock);
    int one = s.each_one, calls = s.each_one_calls;
    pthread_mutex_unlock(&s.lock);
    WB_EXPECT(one == 1 && calls == 1,
              "kv_each() over two keys, with a function that returns 1, "
              "should call it once and return 1; it called it %d times and "
              "returned %d",
              calls, one);
    expect(a, "+OK\r\n+PONG\r\n",
           " (a save function that calls kv_save_done(0) before it returns)");
    /* A save function that fails at once. */
    server_stall(&s);
    atomic_store(&s.mode, SAVE_FAIL);
    atomic_store(&s.fail_errno, EIO);
    server_release(&s);
    conn_cmd(a, 1, "SAVE");
    conn_cmd(a, 1, "PING");
    conn_flush(a);
    wait_saved(&s, " (the fourth SAVE)");
    snprintf(msg, sizeof msg, "-ERR %s\r\n+PONG\r\n", strerror(EIO));
    expect(a, msg,
           " (a save function that returns -1 with errno EIO: -ERR and "
           "strerror(EIO) at once)");
    /* A client that leaves while its SAVE waits. */
    server_stall(&s);
    atomic_store(&s.mode, SAVE_HOLD);
    server_release(&s);
    int fds = wb_count_fds();
    conn_cmd(b, 1, "SAVE");
    b->want = 0;
    pump(&b, 1, 100);
    wait_saved(&s, " (a SAVE from a client that then leaves)");
    conn_reset(b);
    wb_sleep_ms(50);
    finish_save(&s, 0); /* the client is gone: p is just freed */
    conn_cmd(a, 1, "PING");
    expect(a, "+PONG\r\n",
           " (after kv_save_done() for a client that had left)");
    int n = fds_back_to(fds - 2);
    WB_EXPECT(n <= fds - 2,
              "a client that left while its SAVE waited should be closed; "
              "the process has %d descriptors open, expected %d",
              n, fds - 2);
    conn_free(a);
    conn_free(b);
    server_stop(&s);

    /* A SAVE whose client left, finished once the server has stopped:
       that kv_save_done() is the last thing, and the server frees
       itself then (the test ends with nothing of kv.c allocated). */
    server_start(&s, usual());
    b = conn_open(&s);
    conn_cmd(b, 1, "SAVE");
    conn_flush(b);
    wait_saved(&s, " (a SAVE from a client that then leaves)");
    conn_reset(b);
    conn_free(b);
    WB_EXPECT(clients_become(&s, 0) == 0,
              "a client that reset its connection while its SAVE waited "
              "should be closed (kv_clients() 0 within 1.5 s)");
    ck_assert_int_eq(write(s.stop[1], "q", 1), 1);
    wb_sleep_ms(20);
    WB_PROMISE("stop");
    WB_EXPECT(!kvnet_readable_within(s.done[0], 0),
              "loop_run() returned while a SAVE (of a client that had left) "
              "was still waiting for kv_save_done()");
    finish_save(&s, 0);
    WB_EXPECT(kvnet_readable_within(s.done[0], 2000),
              "after kv_stop() and the last kv_save_done() (of a client that "
              "had left), loop_run() should return");
    pthread_join(s.thread, NULL);
    loop_free(s.l);
    {
        int *pipes[] = {s.stop,    s.done,    s.finish, s.saved, s.stall,
                        s.stalled, s.release, s.ask,    s.answer};
        for (size_t i = 0; i < sizeof pipes / sizeof pipes[0]; i++) {
            close(pipes[i][0]);
            close(pipes[i][1]);
        }
    }
    close(s.lfd);
    if (s.stat_fd >= 0)
        close(s.stat_fd);
    pthread_mutex_destroy(&s.lock);
    size_t left = live_back_to(0);
    WB_EXPECT(left == 0,
              "once stopped and its last SAVE done, the server should free "
              "itself; kv.c still holds %zu bytes",
              left);
    WB_PROMISE("save");

    /* No save function: SAVE answers an error at once. */
    server_start_with(&s, usual(), 0, 0);
    a = conn_open(&s);
    conn_cmd(a, 1, "SAVE");
    conn_cmd(a, 1, "PING");
    expect_line_prefix(a, "-ERR", 1500, " (SAVE with no save function)");
    expect(a, "+PONG\r\n", " (after SAVE with no save function)");
    conn_free(a);
    server_stop(&s);
}
END_TEST

enum { BIG = 2000, BIG_REPLY = BIG + 9 };

/* SET big to 2,000 bytes of @p fill through @p a; the value, to free. */
static char *set_big(struct conn *a, char fill)
{
    char *v = malloc(BIG + 1);
    ck_assert_ptr_nonnull(v);
    memset(v, fill, BIG);
    v[BIG] = '\0';
    conn_cmd(a, 3, "SET", "big", v);
    expect(a, "+OK\r\n", "");
    return v;
}

/* How many of the first @p gets replies @p b received are big's value,
 * whole ($2000, the bytes, CRLF: BIG_REPLY bytes each) and in order. */
static size_t whole_replies(const struct conn *b, const char *v, size_t gets)
{
    size_t whole = 0;
    while (whole < gets && (whole + 1) * BIG_REPLY <= b->in_len &&
           memcmp(b->in + whole * BIG_REPLY, "$2000\r\n", 7) == 0 &&
           memcmp(b->in + whole * BIG_REPLY + 7, v, BIG) == 0 &&
           memcmp(b->in + whole * BIG_REPLY + 7 + BIG, "\r\n", 2) == 0)
        whole++;
    return whole;
}

START_TEST(test_backpressure)
{
    WB_PROMISE("backpressure");
    kv_config cfg = usual();
    cfg.max_request = 4096;
    cfg.max_queue = 8192;
    struct server s;
    server_start_with(&s, cfg, 4096, 1); /* small kernel buffers */
    struct conn *a = conn_open(&s);
    char *v = set_big(a, 'b');
    size_t base = 0;
    wb_alloc_live(&base);
    /* b asks for the 2,000-byte value 300 times (9 bytes a request:
       2.7 KB of requests, 600 KB of replies) and reads none for now. */
    enum { GETS = 300 };
    struct conn *b = conn_open_buf(&s, 4096);
    for (int i = 0; i < GETS; i++)
        conn_say(b, "GET big\r\n");
    size_t most = 0, now = 0;
    int64_t end = wb_now_ns() + 600 * MS;
    while (wb_now_ns() < end) {
        /* send what b can, never read */
        ssize_t w = send(b->fd, b->out + b->out_off, b->out_len - b->out_off,
                         MSG_NOSIGNAL);
        if (w > 0)
            b->out_off += (size_t)w;
        else
            wb_sleep_ms(5);
        wb_alloc_live(&now);
        if (now > most)
            most = now;
        if (b->out_off == b->out_len)
            break;
    }
    wb_sleep_ms(100);
    wb_alloc_live(&now);
    if (now > most)
        most = now;
    size_t bound = 4 * (cfg.max_request + cfg.max_queue + 2100) + 16384;
    WB_EXPECT(most <= base + bound,
              "a client that sends requests and never reads should not "
              "grow the server's memory without bound: with max_request "
              "4096 and max_queue 8192 (replies of 2 KB), the code under test "
              "held %zu "
              "bytes more than before it came (at most %zu expected; it "
              "had sent %zu bytes of requests)",
              most > base ? most - base : 0, bound, b->out_off);
    /* Others are served meanwhile. */
    conn_cmd(a, 1, "PING");
    expect(a, "+PONG\r\n",
           " (another client, while one never reads its replies)");
    conn_cmd(a, 2, "GET", "big");
    expect(a, "$2000\r\n", "");
    expect(a, v, "");
    expect(a, "\r\n", "");
    /* b reads at last: every reply, whole and in order. */
    b->want = (size_t)GETS * BIG_REPLY;
    pump(&b, 1, 6000);
    size_t whole = whole_replies(b, v, GETS);
    WB_EXPECT(whole == GETS && b->in_len == (size_t)GETS * BIG_REPLY,
              "a client that sent %d GET of a 2,000-byte value and read "
              "nothing for a while should, once it reads, get all %d "
              "replies whole and in order; got %zu bytes, of which the "
              "first %zu replies are right, then %s%s",
              GETS, GETS, b->in_len, whole,
              b->in_len > whole * BIG_REPLY
                  ? kvnet_show(b->in + whole * BIG_REPLY,
                               b->in_len - whole * BIG_REPLY)
                  : "nothing more for 6 s",
              state(b));
    free(v);
    /* It leaves with a reset: everything it held is freed. */
    WB_PROMISE("gone");
    int fds = wb_count_fds();
    conn_reset(b);
    int n = fds_back_to(fds - 2);
    WB_EXPECT(n <= fds - 2,
              "a client that reset its connection with replies pending "
              "should be closed; %d descriptors open, expected %d",
              n, fds - 2);
    size_t left = live_back_to(base + 1024);
    WB_EXPECT(left <= base + 1024,
              "a client that reset its connection should leave nothing "
              "behind; the code under test still holds %zu bytes more than "
              "before it came",
              left - base);
    conn_free(a);
    conn_free(b);
    server_stop(&s);
}
END_TEST

/* Bytes that have arrived on a client's socket and wait to be read. */
static int waiting_bytes(const struct conn *c)
{
    int n = 0;
    ck_assert_int_eq(ioctl(c->fd, FIONREAD, &n), 0);
    return n;
}

/* Wait until nothing more arrives for a client for 60 ms (within 3 s):
 * the server has sent what its socket takes and waits to write again.
 * With @p first, wait for the first bytes before that. */
static void settle(const struct conn *c, int first)
{
    int last = -1, still = 0;
    for (int i = 0; i < 3000 && still < 60; i++) {
        int now = waiting_bytes(c);
        still = now == last && (now > 0 || !first) ? still + 1 : 0;
        last = now;
        wb_sleep_ms(1);
    }
}

/* Read everything the kernel holds for a client, until 30 ms pass with
 * nothing new. */
static void drain(struct conn *c)
{
    for (int quiet = 0; quiet < 30;) {
        grow(&c->in, &c->in_cap, c->in_len + 65536);
        ssize_t got = recv(c->fd, c->in + c->in_len, 65536, 0);
        if (got > 0) {
            c->in_len += (size_t)got;
            quiet = 0;
        } else {
            if (got == 0)
                c->eof = 1;
            if (got == 0 || (errno != EAGAIN && errno != EINTR))
                break;
            wb_sleep_ms(1);
            quiet++;
        }
    }
}

/* The hang of a server that stops running requests while its queue is
 * full and, when one send() empties that queue, goes back to waiting for
 * a readable event: the requests are already in its buffer, and none
 * comes. Made certain here: while the server's loop is held, the client
 * reads everything the kernel holds, so that the next send() takes the
 * whole queue (max_queue 64: a single reply fills it). */
START_TEST(test_backpressure_resumes)
{
    WB_PROMISE("backpressure");
    kv_config cfg = usual();
    cfg.max_request = 4096;
    cfg.max_queue = 64;
    struct server s;
    server_start_with(&s, cfg, 4096, 0); /* small kernel buffers */
    struct conn *a = conn_open(&s);
    char *v = set_big(a, 'r');
    /* 200 requests in one send(): the server reads them all at once. */
    enum { GETS = 200, ROUNDS = 4 };
    struct conn *b = conn_open_buf(&s, 4096);
    for (int i = 0; i < GETS; i++)
        conn_say(b, "GET big\r\n");
    ssize_t w = send(b->fd, b->out, b->out_len, MSG_NOSIGNAL);
    WB_EXPECT(w == (ssize_t)b->out_len,
              "the test could not send its %zu bytes of requests at once",
              b->out_len);
    b->out_off = b->out_len;
    size_t per_round[ROUNDS] = {0};
    for (int r = 0; r < ROUNDS; r++) {
        settle(b, r == 0);
        server_stall(&s);
        size_t before = b->in_len;
        drain(b);
        per_round[r] = b->in_len - before;
        server_release(&s);
    }
    b->want = (size_t)GETS * BIG_REPLY;
    pump(&b, 1, 6000);
    size_t whole = whole_replies(b, v, GETS);
    WB_EXPECT(whole == GETS && b->in_len == (size_t)GETS * BIG_REPLY,
              "a client sent %d GET of a 2,000-byte value at once, with "
              "max_queue 64 (one reply fills the queue), and read its "
              "replies only while the test held the server's loop (%zu, "
              "%zu, %zu and %zu bytes in four rounds), then all the rest; "
              "it got %zu bytes, of which the first %zu replies are "
              "right, then %s%s. When a send empties a queue that was "
              "full, run the requests it held back at once: they are in "
              "your buffer already, and no readable event will come for "
              "them",
              GETS, per_round[0], per_round[1], per_round[2], per_round[3],
              b->in_len, whole,
              whole * BIG_REPLY < b->in_len
                  ? kvnet_show(b->in + whole * BIG_REPLY,
                               b->in_len - whole * BIG_REPLY)
                  : "nothing more for 6 s",
              state(b));
    free(v);
    conn_free(a);
    conn_free(b);
    server_stop(&s);
}
END_TEST

START_TEST(test_idle)
{
    WB_PROMISE("idle");
    /* Every time ten times longer under Valgrind (its tools run one
       thread at a time, many times slower). */
    const long f = wb_stress() < 1 ? 10 : 1;
    kv_config cfg = usual();
    cfg.idle_ms = 200 * f;
    struct server s;
    server_start(&s, cfg);
    int64_t t0 = wb_now_ns();
    struct conn *quiet = conn_open(&s), *busy = conn_open(&s),
                *sleeper = conn_open(&s);
    char ms[16];
    snprintf(ms, sizeof ms, "%ld", 400 * f);
    conn_cmd(sleeper, 2, "SLEEP", ms);
    sleeper->want = 0;
    pump(&sleeper, 1, 50);
    while (wb_now_ns() - t0 < 450 * f * MS) {
        conn_cmd(busy, 1, "PING");
        expect_n(busy, "+PONG\r\n", 7, 1000,
                 " (a client that sends a PING every 20 ms is not idle)");
        wb_sleep_ms(20);
    }
    expect_n(sleeper, "+OK\r\n", 5, 1000 * f,
             " (SLEEP 400 with idle_ms 200: a client waiting for its reply "
             "is not idle)");
    expect_closed(quiet, 1500 * f,
                  " (a client that sends nothing for idle_ms = 200 ms)");
    int64_t closed = wb_now_ns() - t0;
    WB_EXPECT(closed >= 200 * f * MS,
              "an idle client should be closed no earlier than idle_ms = "
              "200 ms; it was after %lld ms",
              (long long)(closed / MS));
    conn_cmd(busy, 1, "PING");
    expect(busy, "+PONG\r\n", "");
    /* The busy client goes quiet: idle_ms after its last byte, it is
       closed too (its idle time is counted again from there). */
    int64_t last = wb_now_ns();
    expect_closed(busy, 1500 * f,
                  " (a client that was busy, then sent nothing for idle_ms "
                  "= 200 ms)");
    int64_t quiet_for = wb_now_ns() - last;
    WB_EXPECT(quiet_for >= 150 * f * MS,
              "a client quiet after being busy should be closed idle_ms = "
              "200 ms after its last byte (150 ms at least, allowing for "
              "the time the test took to see that byte); it was after %lld "
              "ms",
              (long long)(quiet_for / MS));
    conn_free(quiet);
    conn_free(busy);
    conn_free(sleeper);
    server_stop(&s);
}
END_TEST

/* idle_ms of a second and more: the server's clock counts whole
 * seconds too. */
START_TEST(test_idle_long)
{
    WB_PROMISE("idle");
    const long f = wb_stress() < 1 ? 10 : 1;
    kv_config cfg = usual();
    cfg.idle_ms = 1100 * f;
    struct server s;
    server_start(&s, cfg);
    int64_t t0 = wb_now_ns();
    struct conn *quiet = conn_open(&s);
    expect_closed(quiet, 2500 * f,
                  " (a client that sends nothing for idle_ms = 1100 ms)");
    int64_t closed = wb_now_ns() - t0;
    WB_EXPECT(closed >= 1100 * f * MS,
              "an idle client should be closed no earlier than idle_ms = "
              "1100 ms; it was after %lld ms",
              (long long)(closed / MS));
    conn_free(quiet);
    server_stop(&s);
}
END_TEST

/* A client that reads a long answer slowly: the server writes to it
 * (and reads nothing) for longer than idle_ms, and it is not idle. */
START_TEST(test_idle_while_writing)
{
    WB_PROMISE("idle");
    const long f = wb_stress() < 1 ? 10 : 1;
    kv_config cfg = usual();
    cfg.idle_ms = 150 * f;
    struct server s;
    server_start_with(&s, cfg, 4096, 1); /* small kernel buffers */
    struct conn *c = conn_open_buf(&s, 4096);
    char *v = malloc(1001);
    ck_assert_ptr_nonnull(v);
    memset(v, 'w', 1000);
    v[1000] = '\0';
    conn_cmd(c, 3, "SET", "v", v);
    expect(c, "+OK\r\n", "");
    enum { GETS = 200, REPLY = 1009 }; /* $1000\r\n, 1000 bytes, \r\n */
    for (int i = 0; i < GETS; i++)
        conn_say(c, "GET v\r\n");
    conn_flush(c);
    /* Read about 8 KB every 10 ms: the 200 KB take most of a second. */
    size_t total = (size_t)GETS * REPLY;
    int64_t end = wb_now_ns() + 4000 * f * MS;
    while (c->in_len - c->seen < total && !c->eof && !c->err &&
           wb_now_ns() < end) {
        c->want = c->in_len + 8192;
        if (c->want > c->seen + total)
            c->want = c->seen + total;
        pump(&c, 1, 20);
        wb_sleep_ms(10);
    }
    WB_EXPECT(c->in_len - c->seen == total && !c->eof && !c->err,
              "a client that reads its replies slowly (200 replies of 1 KB, "
              "about 8 KB every 10 ms) is not idle while the server writes "
              "to it: with idle_ms %ld, it should get all %zu bytes; got "
              "%zu%s",
              cfg.idle_ms, total, c->in_len - c->seen, state(c));
    free(v);
    conn_free(c);
    server_stop(&s);
}
END_TEST

START_TEST(test_full)
{
    WB_PROMISE("full");
    kv_config cfg = usual();
    cfg.max_clients = 3;
    struct server s;
    server_start(&s, cfg);
    struct conn *c[3];
    for (int i = 0; i < 3; i++) {
        c[i] = conn_open(&s);
        conn_cmd(c[i], 1, "PING");
        expect(c[i], "+PONG\r\n", " (one of max_clients = 3 clients)");
    }
    struct conn *more = conn_open(&s);
    expect(more, KV_FULL, " (a fourth client with max_clients = 3)");
    expect_closed(more, 1500, " (after refusing a fourth client)");
    conn_free(more);
    int fds = wb_count_fds();
    conn_free(c[0]);
    fds_back_to(fds - 2);
    c[0] = conn_open(&s);
    conn_cmd(c[0], 1, "PING");
    expect(c[0], "+PONG\r\n", " (a new client once one of the three has left)");
    for (int i = 0; i < 3; i++)
        conn_free(c[i]);
    server_stop(&s);
}
END_TEST

START_TEST(test_loop_refuses)
{
    WB_PROMISE("full");
    struct rlimit r;
    ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &r), 0);
    if (r.rlim_cur < FD_SETSIZE + 64 &&
        (r.rlim_max == RLIM_INFINITY || r.rlim_max >= FD_SETSIZE + 64)) {
        r.rlim_cur = FD_SETSIZE + 64;
        ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &r), 0);
    }
    struct server s;
    server_start(&s, usual());
    if (r.rlim_cur < FD_SETSIZE + 64) {
        printf("test_loop_refuses: fewer than %d descriptors allowed: "
               "skipped\n",
               FD_SETSIZE + 64);
        server_stop(&s);
        return;
    }
    struct conn *a = conn_open(&s);
    conn_cmd(a, 1, "PING");
    expect(a, "+PONG\r\n", "");
    /* Take every free descriptor below FD_SETSIZE: the server's socket
       for the next connection gets a number the select() loop refuses
       to watch (a new descriptor takes the lowest free number). */
    fdlimit_only_high();
    struct conn *d = conn_open(&s);
    expect(d, KV_FULL,
           " (the server's socket for this connection is above "
           "FD_SETSIZE: the loop refuses to watch it)");
    expect_closed(d, 1500, " (a connection the loop refused)");
    conn_free(d);
    fdlimit_restore();
    conn_cmd(a, 1, "PING");
    expect(a, "+PONG\r\n",
           " (the server goes on after the loop refused a connection)");
    conn_free(a);
    server_stop(&s);
}
END_TEST

static int64_t thread_cpu_ns(const struct server *s)
{
    char buf[128];
    ssize_t n =
        s->stat_fd >= 0 ? pread(s->stat_fd, buf, sizeof buf - 1, 0) : -1;
    long long v = 0;
    if (n > 0) {
        buf[n] = '\0';
        if (sscanf(buf, "%lld", &v) == 1)
            return v;
    }
    return 0;
}

START_TEST(test_accept_fails)
{
    WB_PROMISE("accept-fail");
    struct server s;
    server_start(&s, usual());
    if (wb_stress() < 1) {
        /* Valgrind keeps descriptors of its own near the limit. */
        printf("test_accept_fails: skipped under Valgrind\n");
        server_stop(&s);
        return;
    }
    enum { N = 3 };
    int fds[N];
    for (int i = 0; i < N; i++) {
        fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ck_assert_int_ge(fds[i], 0);
    }
    /* The lowest free descriptor number becomes the limit: no new
       descriptor for anyone, the server's accept() included. */
    struct rlimit old, low;
    ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &old), 0);
    int lowest = fcntl(0, F_DUPFD_CLOEXEC, 0);
    ck_assert_int_ge(lowest, 0);
    close(lowest);
    low = old;
    low.rlim_cur = (rlim_t)lowest;
    ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &low), 0);
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons((uint16_t)s.port);
    for (int i = 0; i < N; i++)
        ck_assert_int_eq(connect(fds[i], (struct sockaddr *)&addr, sizeof addr),
                         0);
    wb_sleep_ms(30); /* the server's accept() fails: EMFILE */
    long sel0 = wb_select_calls();
    int64_t cpu0 = thread_cpu_ns(&s);
    wb_sleep_ms(200);
    long sels = wb_select_calls() - sel0;
    int64_t cpu = thread_cpu_ns(&s) - cpu0;
    setrlimit(RLIMIT_NOFILE, &old);
    WB_EXPECT(sels < 20 && cpu < 20 * MS,
              "with connections waiting and accept() failing with EMFILE "
              "(no descriptor left), the server called select() %ld times "
              "in 200 ms and used %.1f ms of CPU: the listening socket "
              "stays readable, so the server spins unless it stops "
              "watching it and tries again later",
              sels, (double)cpu / 1e6);
    /* With descriptors again, the waiting clients get in. */
    for (int i = 0; i < N; i++) {
        struct conn *c = calloc(1, sizeof *c);
        ck_assert_ptr_nonnull(c);
        c->fd = fds[i];
        ck_assert_int_ne(fcntl(c->fd, F_SETFL, O_NONBLOCK), -1);
        grow(&c->in, &c->in_cap, 65536);
        conn_cmd(c, 1, "PING");
        expect(c, "+PONG\r\n",
               " (a connection that waited while accept() failed with "
               "EMFILE, once descriptors are free again)");
        conn_free(c);
    }
    server_stop(&s);
}
END_TEST

START_TEST(test_stop_while_accept_waits)
{
    WB_PROMISE("stop");
    struct server s;
    server_start(&s, usual());
    if (wb_stress() < 1) {
        printf("test_stop_while_accept_waits: skipped under Valgrind\n");
        server_stop(&s);
        return;
    }
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(fd, 0);
    struct rlimit old, low;
    ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &old), 0);
    int lowest = fcntl(0, F_DUPFD_CLOEXEC, 0);
    ck_assert_int_ge(lowest, 0);
    close(lowest);
    low = old;
    low.rlim_cur = (rlim_t)lowest;
    ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &low), 0);
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons((uint16_t)s.port);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&addr, sizeof addr), 0);
    wb_sleep_ms(30); /* accept() failed (EMFILE): it tries again later */
    ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &old), 0);
    /* Stopped while it waits to try again: that try never comes, and
       nothing of the server stays on the loop. */
    server_stop_within(&s, 1000);
    close(fd);
}
END_TEST

/* 8 clients that come and go: mid-request, orderly close; mid-request,
 * reset; after a whole request, before reading its reply. */
static void comings_and_goings(const struct server *s)
{
    static const char *const sends[] = {
        "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$100\r\npartial",
        "*3\r\n$3\r\nSET\r\n$1\r\nk",
        "*2\r\n$4\r\nECHO\r\n$5\r\nhello\r\n",
        "GET k\r\nGET k\r\nPING\r\n",
    };
    for (int round = 0; round < 2; round++)
        for (size_t i = 0; i < sizeof sends / sizeof sends[0]; i++) {
            struct conn *c = conn_open(s);
            conn_say(c, sends[i]);
            conn_flush(c);
            wb_sleep_ms(5);
            if (round == 1)
                conn_reset(c);
            conn_free(c);
        }
}

START_TEST(test_gone)
{
    WB_PROMISE("gone");
    struct server s;
    server_start(&s, usual());
    int fds = wb_count_fds();
    /* Once to let the loop's own tables grow (in a handout, your loop's
       memory is counted with kv.c's), then measured. */
    comings_and_goings(&s);
    fds_back_to(fds);
    wb_sleep_ms(20);
    size_t base = 0;
    wb_alloc_live(&base);
    comings_and_goings(&s);
    int n = fds_back_to(fds);
    WB_EXPECT(n <= fds,
              "8 clients that closed or reset their connections (some in "
              "the middle of a request) should all be closed by the "
              "server; %d descriptors are open, expected %d: is a socket "
              "left open after read() returned 0 or failed?",
              n, fds);
    size_t left = live_back_to(base + 1024);
    WB_EXPECT(left <= base + 1024,
              "clients that left should leave nothing behind; the code "
              "under test holds %zu bytes more than after the same 8 "
              "clients came and went before",
              left - base);
    /* A client that resets its connection while its SLEEP waits: its
       timer must not outlive it. */
    struct conn *z = conn_open(&s);
    conn_say(z, "SLEEP 100\r\nPING\r\n");
    conn_flush(z);
    wb_sleep_ms(20);
    conn_reset(z);
    conn_free(z);
    n = fds_back_to(fds);
    wb_sleep_ms(150); /* past the end of its SLEEP */
    struct conn *o = conn_open(&s);
    conn_cmd(o, 1, "PING");
    expect(o, "+PONG\r\n",
           " (after a client reset its connection while its SLEEP 100 "
           "waited, and the 100 ms went by)");
    conn_free(o);
    n = fds_back_to(fds);
    WB_EXPECT(n <= fds,
              "a client that reset its connection while its SLEEP waited "
              "should be closed; %d descriptors are open, expected %d",
              n, fds);
    /* A half-close: the requests sent whole are still answered. */
    struct conn *h = conn_open(&s);
    conn_say(h, "SET half yes\r\nGET half\r\nECHO unfinis");
    /* The requests and the end of file arrive while the loop is held:
       one read may bring both. */
    server_stall(&s);
    conn_flush(h);
    ck_assert_int_eq(shutdown(h->fd, SHUT_WR), 0);
    wb_sleep_ms(10);
    server_release(&s);
    expect(h, "+OK\r\n$3\r\nyes\r\n",
           " (a client that sent two whole requests and half a third, "
           "then shutdown(SHUT_WR))");
    expect_closed(h, 1500, " (after answering a half-closed client)");
    conn_free(h);
    server_stop(&s);
}
END_TEST

START_TEST(test_no_sigpipe)
{
    WB_PROMISE("sigpipe");
    signal(SIGPIPE, SIG_DFL);
    struct server s;
    server_start_with(&s, usual(), 4096, 1);
    char arg[49];
    memset(arg, 'a', 48);
    arg[48] = '\0';
    for (int round = 0; round < 6; round++) {
        struct conn *c = conn_open_buf(&s, 4096);
        if (round % 2 == 0) {
            /* A reset while the server writes. */
            for (int i = 0; i < 3000; i++)
                conn_cmd(c, 2, "ECHO", arg);
            c->want = 0;
            pump(&c, 1, 30);
            conn_reset(c);
        } else {
            /* An orderly close (nothing unread: a FIN, no reset) before
               any reply: the server writes to a closed peer, whose
               kernel answers with a reset; its next send() fails with
               EPIPE, and raises SIGPIPE unless MSG_NOSIGNAL. */
            conn_say(c, "SLEEP 30\r\n");
            for (int i = 0; i < 800; i++)
                conn_cmd(c, 2, "ECHO", arg);
            conn_flush(c);
            close(c->fd);
            c->fd = -1;
            wb_sleep_ms(60);
        }
        conn_free(c);
    }
    struct conn *c = conn_open(&s);
    conn_cmd(c, 1, "PING");
    expect(c, "+PONG\r\n",
           " (after clients reset their connections while the server "
           "wrote to them; with SIGPIPE at its default, a send() without "
           "MSG_NOSIGNAL would have ended the process)");
    conn_free(c);
    server_stop(&s);
}
END_TEST

/* The server's own socket for client @p c: the descriptor of this
 * process whose peer is c's local address. */
static int server_side(const struct conn *c)
{
    struct sockaddr_in mine, peer;
    socklen_t len = sizeof mine;
    ck_assert_int_eq(getsockname(c->fd, (struct sockaddr *)&mine, &len), 0);
    for (int fd = 0; fd < 1024; fd++) {
        struct stat st;
        if (fd == c->fd || fstat(fd, &st) == -1 || !S_ISSOCK(st.st_mode))
            continue;
        len = sizeof peer;
        if (getpeername(fd, (struct sockaddr *)&peer, &len) == 0 &&
            peer.sin_family == AF_INET && peer.sin_port == mine.sin_port &&
            peer.sin_addr.s_addr == mine.sin_addr.s_addr)
            return fd;
    }
    return -1;
}

START_TEST(test_no_delay)
{
    WB_PROMISE("no-delay");
    struct server s;
    server_start(&s, usual());
    struct conn *c = conn_open(&s);
    conn_cmd(c, 1, "PING");
    expect(c, "+PONG\r\n", "");
    int fd = server_side(c);
    ck_assert_msg(fd >= 0, "the test could not find the server's socket");
    int on = 0;
    socklen_t len = sizeof on;
    ck_assert_int_eq(getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, &len), 0);
    WB_EXPECT(on != 0,
              "the server's socket for a client should have TCP_NODELAY "
              "set (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, ...)); it is "
              "off");
    int64_t t0 = wb_now_ns();
    for (int i = 0; i < 200; i++) {
        conn_cmd(c, 2, "ECHO", "x");
        expect_n(c, "$1\r\nx\r\n", 7, 1000, " (one of 200 round trips)");
    }
    double ms = (double)(wb_now_ns() - t0) / 1e6;
    WB_EXPECT(ms < 2000 * (wb_stress() < 1 ? 10 : 1),
              "200 round trips should take well under a second; "
              "they took %.0f ms",
              ms);
    conn_free(c);
    server_stop(&s);
}
END_TEST

START_TEST(test_no_spin)
{
    WB_PROMISE("no-spin");
    struct server s;
    server_start(&s, usual());
    struct conn *c = conn_open(&s);
    char arg[49];
    memset(arg, 'a', 48);
    arg[48] = '\0';
    for (int i = 0; i < 2000; i++)
        conn_cmd(c, 2, "ECHO", arg);
    c->want = 2000 * 55; /* $48\r\n, 48 bytes, \r\n */
    pump(&c, 1, 3000);
    WB_EXPECT(c->in_len == 2000 * 55,
              "2,000 pipelined ECHO of 48 bytes should get 110,000 bytes "
              "of replies; got %zu%s",
              c->in_len, state(c));
    wb_sleep_ms(20);
    long sel0 = wb_select_calls();
    int64_t cpu0 = thread_cpu_ns(&s);
    wb_sleep_ms(200);
    long sels = wb_select_calls() - sel0;
    int64_t cpu = thread_cpu_ns(&s) - cpu0;
    WB_EXPECT(sels < 20 && cpu < 20 * MS,
              "a server with nothing to do should sleep in select(); in "
              "200 ms with one idle client it called select() %ld times "
              "and used %.1f ms of CPU: is a client watched for LOOP_WRITE "
              "with nothing to send?",
              sels, (double)cpu / 1e6);
    /* A client whose input buffer is full while its SLEEP waits: its
       socket stays readable, and the server must not watch it for
       reading (it would be called again and again, reading nothing). */
    c->seen = c->in_len;
    conn_say(c, "SLEEP 400\r\n");
    enum { PINGS = 20000 }; /* 120,000 bytes, more than max_request */
    for (int i = 0; i < PINGS; i++)
        conn_say(c, "PING\r\n");
    conn_flush(c);
    wb_sleep_ms(50);
    sel0 = wb_select_calls();
    cpu0 = thread_cpu_ns(&s);
    wb_sleep_ms(200);
    sels = wb_select_calls() - sel0;
    cpu = thread_cpu_ns(&s) - cpu0;
    WB_EXPECT(sels < 20 && cpu < 20 * MS,
              "while a client's SLEEP waits and its input buffer is full "
              "(max_request bytes), the server should sleep in select(); in "
              "200 ms it called select() %ld times and used %.1f ms of CPU: "
              "is the client still watched for LOOP_READ though nothing "
              "more can be read?",
              sels, (double)cpu / 1e6);
    c->want = c->seen + 5 + (size_t)PINGS * 7;
    pump(&c, 1, 3000);
    WB_EXPECT(c->in_len == c->want &&
                  memcmp(c->in + c->seen, "+OK\r\n+PONG\r\n", 12) == 0,
              "after SLEEP 400, the %d PING sent after it should be "
              "answered; got %zu of %zu bytes%s",
              PINGS, c->in_len - c->seen, c->want - c->seen, state(c));
    conn_free(c);
    server_stop(&s);
}
END_TEST

START_TEST(test_stop)
{
    WB_PROMISE("stop");
    struct server s;
    server_start(&s, usual());
    /* a: 1,000 SETs, all sent before the stop, none of their replies
       read yet. b: a SAVE waiting, and a GET after it. c: a request in
       the middle (never finished). */
    struct conn *z = conn_open(&s); /* first, and idle */
    conn_cmd(z, 1, "PING");
    expect(z, "+PONG\r\n", "");
    struct conn *a = conn_open(&s), *b = conn_open(&s), *c = conn_open(&s);
    conn_cmd(b, 1, "SAVE");
    conn_cmd(b, 2, "GET", "k999");
    b->want = 0;
    pump(&b, 1, 50);
    wait_saved(&s, "");
    conn_say(c, "*2\r\n$4\r\nECHO\r\n$3\r\nab");
    c->want = 0;
    pump(&c, 1, 50);
    /* m: a malformed request, its error read, its end still open. */
    struct conn *m = conn_open(&s);
    conn_say(m, "*zz\r\n");
    expect_line_prefix(m, "-ERR Protocol error", 1500, " (*zz)");
    for (int i = 0; i < 1000; i++) {
        char key[16], val[16];
        snprintf(key, sizeof key, "k%d", i);
        snprintf(val, sizeof val, "v%d", i);
        conn_cmd(a, 3, "SET", key, val);
    }
    /* The loop is held in a callback while a's requests arrive and the
       stop is asked: when it goes on, its select() reports the stop pipe
       (a lower descriptor: its callback runs first) and a's socket at
       once. kv_stop() must read what a sent before it. */
    server_stall(&s);
    conn_flush(a);
    ck_assert_int_eq(write(s.stop[1], "q", 1), 1);
    wb_sleep_ms(10);
    server_release(&s);
    /* Every SET a sent before the stop is answered. */
    char *want = malloc(5000);
    ck_assert_ptr_nonnull(want);
    for (int i = 0; i < 1000; i++)
        memcpy(want + 5 * i, "+OK\r\n", 5);
    a->want = 5000;
    pump(&a, 1, 2000);
    WB_EXPECT(a->in_len == 5000 && memcmp(a->in, want, 5000) == 0,
              "1,000 SETs sent before kv_stop() should all be answered "
              "+OK (no write the client was told of may be lost, none "
              "left unanswered); got %zu bytes: %s%s",
              a->in_len, kvnet_show(a->in, a->in_len), state(a));
    free(want);
    a->seen = a->in_len;
    expect_closed(a, 1500, " (after its replies, once the server stops)");
    expect_closed(c, 1500,
                  " (a client with only half a request when the server "
                  "stops)");
    expect_closed(m, 1500,
                  " (a client whose malformed request was answered, its own "
                  "end still open, when the server stops)");
    expect_closed(z, 1500,
                  " (an idle client, the first to connect, when the server "
                  "stops)");
    expect_nothing(b, 100,
                   " (the server stops, but b's SAVE still waits for "
                   "kv_save_done())");
    WB_EXPECT(!kvnet_readable_within(s.done[0], 0),
              "loop_run() returned while a SAVE was still waiting for "
              "kv_save_done(): the server must wait for it");
    int fl = fcntl(s.lfd, F_GETFD);
    WB_EXPECT(fl != -1, "kv_stop() should not close the listening socket");
    finish_save(&s, 0);
    expect(b, "+OK\r\n$4\r\nv999\r\n",
           " (the SAVE's reply after kv_save_done(0), then the GET sent "
           "after it, once the server has stopped)");
    expect_closed(b, 1500, "");
    WB_EXPECT(kvnet_readable_within(s.done[0], 2000),
              "after kv_stop(), once every client is answered and closed, "
              "loop_run() should return (a client that got a protocol "
              "error and keeps its end open, sending nothing, is closed at "
              "once when the server stops, not after idle_ms)");
    conn_free(a);
    conn_free(b);
    conn_free(c);
    conn_free(z);
    conn_free(m);
    server_stop(&s);
}
END_TEST

START_TEST(test_clients)
{
    WB_PROMISE("clients");
    WB_EXPECT(kv_clients(NULL) == 0, "kv_clients(NULL) should be 0; got %zu",
              kv_clients(NULL));
    kv_config cfg = usual();
    cfg.max_clients = 3;
    struct server s;
    server_start(&s, cfg);
    size_t n = server_clients(&s);
    WB_EXPECT(n == 0, "kv_clients() of a new server should be 0; got %zu", n);
    struct conn *c[3];
    for (int i = 0; i < 3; i++) {
        c[i] = conn_open(&s);
        conn_cmd(c[i], 1, "PING");
        expect(c[i], "+PONG\r\n", "");
        n = server_clients(&s);
        WB_EXPECT(n == (size_t)i + 1,
                  "with %d clients connected (each answered), kv_clients() "
                  "should be %d; got %zu",
                  i + 1, i + 1, n);
    }
    struct conn *more = conn_open(&s);
    expect(more, KV_FULL, " (a fourth client with max_clients = 3)");
    expect_closed(more, 1500, " (after refusing a fourth client)");
    conn_free(more);
    n = server_clients(&s);
    WB_EXPECT(n == 3,
              "a connection refused with max_clients reached is no client: "
              "kv_clients() should stay 3; got %zu",
              n);
    conn_free(c[0]);
    c[0] = NULL;
    n = clients_become(&s, 2);
    WB_EXPECT(n == 2,
              "once one of 3 clients has closed its connection, "
              "kv_clients() should come to 2 within 1.5 s; it is %zu",
              n);
    conn_cmd(c[1], 1, "QUIT");
    expect(c[1], "+OK\r\n", " (QUIT)");
    expect_closed(c[1], 1500, " (after QUIT's +OK)");
    conn_free(c[1]);
    c[1] = NULL;
    n = clients_become(&s, 1);
    WB_EXPECT(n == 1,
              "once a client that sent QUIT has read its +OK and closed "
              "its end, kv_clients() should be 1 (of 3); it is %zu",
              n);
    for (int i = 0; i < 3; i++)
        conn_free(c[i]);
    n = clients_become(&s, 0);
    WB_EXPECT(n == 0,
              "once every client has left, kv_clients() should be 0; it is "
              "%zu",
              n);
    /* A client accepted as descriptor 0 (the process closed its
       standard input): a descriptor like another. */
    server_stall(&s);
    struct conn *zero = conn_open(&s);
    int in = fcntl(0, F_DUPFD_CLOEXEC, 3);
    ck_assert_int_ge(in, 0);
    close(0);
    server_release(&s);
    conn_cmd(zero, 1, "PING");
    expect(zero, "+PONG\r\n",
           " (a client whose socket on the server's side is descriptor 0)");
    conn_free(zero);
    n = clients_become(&s, 0);
    ck_assert_int_eq(dup2(in, 0), 0);
    close(in);
    WB_EXPECT(n == 0,
              "a client accepted as descriptor 0 that left should be closed "
              "(kv_clients() 0 within 1.5 s); it is %zu",
              n);
    server_stop(&s);
    WB_PROMISE("stop");
    kv_stop(NULL); /* does nothing */
}
END_TEST

static int ends_with_pong(const struct conn *c)
{
    return c->in_len >= 7 && memcmp(c->in + c->in_len - 7, "+PONG\r\n", 7) == 0;
}

/* Read what comes for @p c until a PING's reply ends it, the connection
 * ends, or 1.5 s have passed. */
static void read_to_pong(struct conn *c)
{
    c->want = (size_t)-1;
    int64_t end = wb_now_ns() + 1500 * MS;
    while (!c->eof && !c->err && wb_now_ns() < end && !ends_with_pong(c)) {
        c->want = c->in_len + 1;
        pump(&c, 1, 20);
    }
}

/* One client's requests while allocation @p call of kv.c fails: each
 * reply is the right one or an error, or the client is closed. */
static void script_without_memory(struct server *s, struct conn *other,
                                  int call)
{
    wb_alloc_fail(call);
    struct conn *c = conn_open(s);
    conn_say(c, "SET a 1\r\nGET a\r\nSAVE\r\nPING\r\n");
    read_to_pong(c);
    wb_alloc_fail(0);
    const char *why = wb_format(" (allocation number %d of kv.c, from the "
                                "client's connection on, fails with ENOMEM "
                                "in this test; got %s%s)",
                                call, kvnet_show(c->in, c->in_len), state(c));
    char why_copy[400];
    snprintf(why_copy, sizeof why_copy, "%s", why);
    int answered = ends_with_pong(c);
    WB_EXPECT(answered || c->eof || c->err,
              "when an allocation fails, the server should answer with an "
              "error or close the connection, not leave the client "
              "waiting: after 1.5 s the client had neither its last reply "
              "nor the end of the connection%s",
              why_copy);
    if (c->in_len >= 5 && memcmp(c->in, "+OK\r\n", 5) == 0)
        WB_EXPECT(c->in_len >= 12 && memcmp(c->in + 5, "$1\r\n1\r\n", 7) == 0,
                  "SET a 1 was answered +OK, so GET a should answer 1%s",
                  why_copy);
    else if (c->in_len > 0)
        WB_EXPECT(c->in[0] == '-',
                  "SET a 1 should be answered +OK, or an error when there "
                  "is no memory%s",
                  why_copy);
    conn_free(c);
    conn_cmd(other, 1, "PING");
    expect(other, "+PONG\r\n",
           wb_format(" (another client, after allocation number %d failed "
                     "for a new one)",
                     call));
}

START_TEST(test_no_memory)
{
    WB_PROMISE("no-memory");
    /* kv_start(): each of its allocations fails in turn. */
    loop *l = loop_new();
    ck_assert_msg(l != NULL, "loop_new() failed");
    int port;
    int lfd = kvnet_listen(0, 16, &port);
    kv_config cfg = usual();
    int failed = 0;
    for (int call = 1; call <= 20; call++) {
        wb_alloc_fail(call);
        errno = 0;
        kv *k = kv_start(l, lfd, &cfg);
        int e = errno, calls = wb_alloc_calls();
        wb_alloc_fail(0);
        if (k != NULL) {
            kv_stop(k);
            WB_EXPECT(calls < call,
                      "kv_start() returned a server though its allocation "
                      "number %d failed: it should fail with ENOMEM",
                      call);
            break;
        }
        failed++;
        WB_EXPECT(e == ENOMEM,
                  "kv_start() whose allocation number %d fails should fail "
                  "with ENOMEM; errno was %s",
                  call, wb_errname(e));
        WB_EXPECT(wb_alloc_live(NULL) == 0,
                  "kv_start() whose allocation number %d failed should free "
                  "what it had allocated; %zu blocks are left",
                  call, wb_alloc_live(NULL));
    }
    WB_EXPECT(failed > 0, "kv_start() should allocate (its table, its "
                          "clients' places)");
    loop_free(l);
    close(lfd);

    /* A client's requests, each allocation failing in turn. */
    struct server s;
    server_start(&s, usual());
    atomic_store(&s.mode, SAVE_SYNC);
    struct conn *other = conn_open(&s);
    conn_cmd(other, 1, "PING");
    expect(other, "+PONG\r\n", "");
    for (int call = 1; call <= 8; call++)
        script_without_memory(&s, other, call);
    /* A client whose first reply is a bulk string (ECHO): each reply is
       whole, or an error in its place, or the client is closed. */
    static const char *const replies[] = {"$5\r\nhello\r\n", "+PONG\r\n"};
    for (int call = 1; call <= 6; call++) {
        wb_alloc_fail(call);
        struct conn *e = conn_open(&s);
        conn_say(e, "ECHO hello\r\nPING\r\n");
        int64_t until = wb_now_ns() + 1500 * MS;
        while (!e->eof && !e->err && wb_now_ns() < until &&
               !(e->in_len >= 7 &&
                 memcmp(e->in + e->in_len - 7, "+PONG\r\n", 7) == 0)) {
            e->want = e->in_len + 1;
            pump(&e, 1, 20);
        }
        wb_alloc_fail(0);
        size_t at = 0;
        int ok = 1, done = 0;
        for (int r = 0; r < 2 && ok && at < e->in_len; r++) {
            size_t n = strlen(replies[r]);
            if (e->in_len - at >= n && memcmp(e->in + at, replies[r], n) == 0) {
                at += n;
            } else if (e->in[at] == '-') {
                char *nl = memchr(e->in + at, '\n', e->in_len - at);
                ok = nl != NULL;
                at = nl ? (size_t)(nl + 1 - e->in) : at;
            } else {
                ok = 0;
            }
            done = r == 1 && ok;
        }
        WB_EXPECT(ok && at == e->in_len && (done || e->eof || e->err),
                  "with allocation number %d of kv.c failing, ECHO hello "
                  "then PING should get their replies, whole, an error in "
                  "the place of one, or the end of the connection; got %s%s",
                  call, kvnet_show(e->in, e->in_len), state(e));
        conn_free(e);
    }

    /* The table cannot grow (its 65th key, one allocation after the
       key's own): every key stays there. */
    char key[16], want[32];
    for (int i = 0; i < 64; i++) {
        snprintf(key, sizeof key, "k%d", i);
        conn_cmd(other, 3, "SET", key, key);
    }
    for (int i = 0; i < 64; i++)
        expect(other, "+OK\r\n", " (64 SETs)");
    for (int fail = 1; fail <= 3; fail++) {
        snprintf(key, sizeof key, "k%d", 63 + fail);
        wb_alloc_fail(fail);
        conn_cmd(other, 3, "SET", key, key);
        const char *line = expect_line_prefix(
            other, "", 1500,
            wb_format(" (SET of key %d, its allocation number %d failing)",
                      63 + fail, fail));
        wb_alloc_fail(0);
        WB_EXPECT(strcmp(line, "+OK\r\n") == 0 || line[0] == '-',
                  "SET should answer +OK, or an error when there is no "
                  "memory; got %s",
                  kvnet_show(line, strlen(line)));
    }
    for (int i = 0; i < 67; i++) {
        snprintf(key, sizeof key, "k%d", i);
        conn_cmd(other, 3, "SET", key, key);
        conn_cmd(other, 2, "GET", key);
    }
    for (int i = 0; i < 67; i++) {
        snprintf(key, sizeof key, "k%d", i);
        snprintf(want, sizeof want, "+OK\r\n$%zu\r\n%s\r\n", strlen(key), key);
        expect(other, want,
               " (SET and GET of 67 keys, after the table could not grow)");
    }
    /* A SAVE's reply, when it comes, needs memory of a client that has
       had no reply yet. */
    atomic_store(&s.mode, SAVE_HOLD);
    char b;
    while (kvnet_readable_within(s.saved[0], 0)) /* the SAVEs above */
        ck_assert_int_eq(read(s.saved[0], &b, 1), 1);
    struct conn *c = conn_open(&s);
    conn_say(c, "SAVE\r\nPING\r\n");
    conn_flush(c);
    wait_saved(&s, " (a SAVE held until the test finishes it)");
    wb_alloc_fail(1);
    finish_save(&s, 0);
    read_to_pong(c);
    wb_alloc_fail(0);
    int whole = c->in_len > 7 && (c->in[0] == '+' || c->in[0] == '-') &&
                ends_with_pong(c);
    WB_EXPECT(whole || (c->in_len == 0 && (c->eof || c->err)),
              "when the memory for a SAVE's reply cannot be had (the next "
              "allocation of kv.c fails when kv_save_done() is called), the "
              "client should get that reply and then PING's, or be closed "
              "with nothing: never PING's reply in the SAVE's place; got "
              "%s%s",
              kvnet_show(c->in, c->in_len), state(c));
    conn_free(c);
    /* The same for a SLEEP's reply, which comes on a timer. */
    c = conn_open(&s);
    conn_say(c, "SLEEP 100\r\nPING\r\n");
    conn_flush(c);
    wb_sleep_ms(30); /* read by now: the reply is due in some 70 ms */
    wb_alloc_fail(1);
    read_to_pong(c);
    wb_alloc_fail(0);
    whole = c->in_len > 7 && (c->in[0] == '+' || c->in[0] == '-') &&
            ends_with_pong(c);
    WB_EXPECT(whole || (c->in_len == 0 && (c->eof || c->err)),
              "when the memory for a SLEEP's reply cannot be had (the next "
              "allocation of kv.c fails when its timer comes), the client "
              "should get that reply and then PING's, or be closed with "
              "nothing, within 1.5 s; got %s%s",
              kvnet_show(c->in, c->in_len), state(c));
    conn_free(c);
    /* A SLEEP whose timer the loop has no memory for (its timer queue's
     * allocation fails, tests/support/alloc.c): an error reply, then
     * PING's, or the end of the connection with nothing. */
    c = conn_open(&s);
    conn_say(c, "PING\r\n");
    expect(c, "+PONG\r\n", " (a new connection)");
    c->in_len = c->seen = 0; /* only what comes next */
    wb_block_alloc_fail(1);
    conn_say(c, "SLEEP 50\r\nPING\r\n");
    read_to_pong(c);
    int calls = wb_block_alloc_calls();
    wb_block_alloc_fail(0);
    int error = c->in_len > 7 && memcmp(c->in, "-ERR", 4) == 0 &&
                memchr(c->in, '\n', c->in_len) == c->in + c->in_len - 8;
    int slept = c->in_len == 12 && memcmp(c->in, "+OK\r\n", 5) == 0;
    WB_EXPECT((error && ends_with_pong(c)) ||
                  (slept && ends_with_pong(c) && calls == 0) ||
                  (c->in_len == 0 && (c->eof || c->err)),
              "when the loop has no memory for a SLEEP's timer (the next "
              "allocation of the loop's timer queue fails), the client "
              "should get one error reply and then PING's, or be closed "
              "with nothing, within 1.5 s; got %s%s",
              kvnet_show(c->in, c->in_len), state(c));
    conn_free(c);
    conn_free(other);
    server_stop(&s);
}
END_TEST

/* --- Real clients --------------------------------------------------------- */

/* Run a program with its standard output in @p out; its exit status, or
 * -1 when it cannot be started (not installed). */
static int run_tool(char *const argv[], char *out, size_t cap, long ms)
{
    int p[2];
    wb_pipe(p);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, p[1], 1);
    posix_spawn_file_actions_adddup2(&fa, p[1], 2);
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(p[1]);
    if (rc != 0) {
        close(p[0]);
        return -1;
    }
    size_t len = 0;
    int64_t end = wb_now_ns() + ms * MS;
    for (;;) {
        long left = (long)((end - wb_now_ns()) / MS);
        if (left <= 0 || !kvnet_readable_within(p[0], left)) {
            kill(pid, SIGKILL);
            break;
        }
        char buf[4096];
        ssize_t n = read(p[0], buf, sizeof buf);
        if (n <= 0)
            break;
        size_t keep = (size_t)n < cap - 1 - len ? (size_t)n : cap - 1 - len;
        memcpy(out + len, buf, keep);
        len += keep;
    }
    out[len] = '\0';
    close(p[0]);
    int st;
    while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
        ;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int tool_exists(const char *name)
{
    char path[256];
    const char *dirs[] = {"/usr/bin", "/usr/local/bin", "/bin"};
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dirs[i], name);
        if (access(path, X_OK) == 0)
            return 1;
    }
    return 0;
}

START_TEST(test_redis_cli)
{
    WB_PROMISE("commands");
    struct server s;
    server_start(&s, usual());
    if (!tool_exists("redis-cli")) {
        printf("test_redis_cli: redis-cli is not installed "
               "(apt-get install redis-tools): skipped\n");
        server_stop(&s);
        return;
    }
    char port[16], out[4096];
    snprintf(port, sizeof port, "%d", s.port);
    struct {
        const char *args[5];
        const char *want;
    } runs[] = {
        {{"PING"}, "PONG\n"},
        {{"SET", "greeting", "hello world"}, "OK\n"},
        {{"GET", "greeting"}, "hello world\n"},
        {{"DEL", "greeting", "other"}, "1\n"},
        {{"GET", "greeting"}, "\n"},
        {{"ECHO", "bytes"}, "bytes\n"},
    };
    for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++) {
        char *argv[10] = {"redis-cli", "-h", "127.0.0.1", "-p", port};
        int a = 5;
        for (int j = 0; j < 5 && runs[i].args[j] != NULL; j++)
            argv[a++] = (char *)runs[i].args[j];
        argv[a] = NULL;
        int rc = run_tool(argv, out, sizeof out, 3000);
        WB_EXPECT(rc == 0 && strcmp(out, runs[i].want) == 0,
                  "redis-cli -p PORT %s %s %s should print %s and exit 0; "
                  "it printed %s and exited %d",
                  runs[i].args[0], runs[i].args[1] ? runs[i].args[1] : "",
                  runs[i].args[1] && runs[i].args[2] ? runs[i].args[2] : "",
                  kvnet_show(runs[i].want, strlen(runs[i].want)),
                  kvnet_show(out, strlen(out)), rc);
    }
    WB_PROMISE("pipeline");
    if (wb_stress() < 1) {
        printf("test_redis_cli: redis-benchmark skipped under Valgrind\n");
    } else if (tool_exists("redis-benchmark")) {
        char *argv[] = {"redis-benchmark",
                        "-h",
                        "127.0.0.1",
                        "-p",
                        port,
                        "-t",
                        "set,get",
                        "-n",
                        "2000",
                        "-c",
                        "10",
                        "-P",
                        "8",
                        "-q",
                        NULL};
        int rc = run_tool(argv, out, sizeof out, 8000);
        WB_EXPECT(rc == 0 && strstr(out, "SET: ") != NULL &&
                      strstr(out, "GET: ") != NULL &&
                      strstr(out, "requests per second") != NULL,
                  "redis-benchmark -t set,get -n 2000 -c 10 -P 8 -q should "
                  "report SET and GET requests per second and exit 0; it "
                  "printed %s and exited %d",
                  kvnet_show(out, strlen(out)), rc);
    } else {
        printf("test_redis_cli: redis-benchmark is not installed: that "
               "part skipped\n");
    }
    server_stop(&s);
}
END_TEST

Suite *wb_suite(void)
{
    threadwatch_start_machinery();
    Suite *s = wb_begin("kv", "chapters/07-every-way/chapter.md");
    WB_ADD(s, test_bad_config, S_CAPSTONE);
    WB_ADD_TIMEOUT(s, test_commands, S_PROTOCOL, 5.0);
    WB_ADD_TIMEOUT(s, test_inline, S_PROTOCOL, 5.0);
    WB_ADD_TIMEOUT(s, test_many_keys, S_PROTOCOL, 10.0);
    WB_ADD_TIMEOUT(s, test_pipeline, S_PIPELINE, 10.0);
    WB_ADD_TIMEOUT(s, test_errors, S_BAD, 5.0);
    WB_ADD_TIMEOUT(s, test_malformed, S_BAD, 5.0);
    WB_ADD_TIMEOUT(s, test_too_big, S_BAD, 5.0);
    WB_ADD_TIMEOUT(s, test_many, S_CAPSTONE, 10.0);
    WB_ADD_TIMEOUT(s, test_sleep, S_PIPELINE, 5.0);
    WB_ADD_TIMEOUT(s, test_save, S_PIPELINE, 10.0);
    WB_ADD_TIMEOUT(s, test_backpressure, S_BACKPRESSURE, 10.0);
    WB_ADD_TIMEOUT(s, test_backpressure_resumes, S_BACKPRESSURE, 10.0);
    WB_ADD_TIMEOUT(s, test_idle, S_CAPSTONE, 5.0);
    WB_ADD_TIMEOUT(s, test_idle_while_writing, S_CAPSTONE, 10.0);
    WB_ADD_TIMEOUT(s, test_idle_long, S_CAPSTONE, 5.0);
    WB_ADD_TIMEOUT(s, test_full, S_CAPSTONE, 5.0);
    WB_ADD_TIMEOUT(s, test_loop_refuses, S_CAPSTONE, 5.0);
    WB_ADD_TIMEOUT(s, test_accept_fails, S_CAPSTONE, 5.0);
    WB_ADD_TIMEOUT(s, test_stop_while_accept_waits, S_STOP, 5.0);
    WB_ADD_TIMEOUT(s, test_gone, S_CAPSTONE, 5.0);
    WB_ADD_TIMEOUT(s, test_no_sigpipe, S_CAPSTONE, 5.0);
    WB_ADD_TIMEOUT(s, test_no_delay, S_REDIS, 5.0);
    WB_ADD_TIMEOUT(s, test_no_spin, S_CAPSTONE, 5.0);
    WB_ADD_TIMEOUT(s, test_stop, S_STOP, 10.0);
    WB_ADD_TIMEOUT(s, test_redis_cli, S_REDIS, 15.0);
    WB_ADD_TIMEOUT(s, test_clients, S_CAPSTONE, 5.0);
    WB_ADD_TIMEOUT(s, test_no_memory, S_BAD, 8.0);
    return s;
}
