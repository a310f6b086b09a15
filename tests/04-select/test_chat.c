/*
 * Tests of chat (exercises/04-select/chat.h): a chat server for many
 * clients on the event loop.
 *
 * Each test starts a real server: a listening TCP socket on 127.0.0.1
 * (port 0: the kernel picks a free one, read back with getsockname()),
 * a loop (the reference solution of exercise 3), chat_start(), and a
 * thread that runs loop_run(). The test thread plays the clients with
 * ordinary blocking sockets and reads with poll() and a deadline, so a
 * server that stalls fails a check instead of hanging the test. To stop,
 * the test writes a byte to a pipe the loop watches; its callback calls
 * chat_stop(), and loop_run() must then return by itself.
 *
 * Orderings are forced, not hoped for: a client waits for its
 * "welcome N" before the next step, so the server has accepted it; a
 * pipe on the same loop can stall the server's thread in a callback
 * while the test makes several clients ready at once, so they are
 * served in one iteration; "the server closed that socket" is seen as
 * the process's count of open descriptors going down.
 *
 * "The server does not spin" is counted, not timed: the test defines
 * select() itself, counting the calls before it calls the C library's,
 * so a server that goes round its loop again and again shows as
 * thousands of select() calls however loaded the machine is; the server
 * thread's CPU time (/proc/self/task/TID/schedstat) is checked too.
 *
 * `make check CHAPTER=4 EXERCISE=chat TRACE=1` draws the server's
 * callbacks (the reference loop records them when WB_TRACE_LOOP is set,
 * which wb_suite() does).
 *
 * Linux-only: /proc, SO_LINGER resets, the kernel's thread ids, and
 * select() calls counted by tests/support/selects.c.
 */
#define _GNU_SOURCE
#include "wb.h"
#include "fdlimit.h"
#include "threadwatch.h"
#include "chat.h"
#include "loop.h"
#include "trace.h"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MS 1000000LL /* nanoseconds */

static chat_config config(size_t max_clients, size_t max_line, size_t max_queue,
                          long idle_ms)
{
    return (chat_config){max_clients, max_line, max_queue, idle_ms};
}

/* Most tests: 16 clients, lines of 256 bytes, 4 KiB queues, and an idle
 * limit long enough never to matter. */
static chat_config usual(void)
{
    return config(16, 256, 4096, 10000);
}

/* A line for messages: printable, quoted, cut at 60 bytes. */
static const char *show(const char *s, size_t len)
{
    static _Thread_local char buf[4][160];
    static _Thread_local int next;
    char *out = buf[next++ % 4];
    size_t o = 0;
    out[o++] = '"';
    for (size_t i = 0; i < len && o < 140; i++) {
        unsigned char c = (unsigned char)s[i];
        if (i == 60) {
            o += (size_t)snprintf(out + o, 160 - o, "...(%zu bytes)", len);
            break;
        }
        if (c >= 32 && c < 127 && c != '"' && c != '\\')
            out[o++] = (char)c;
        else
            o += (size_t)snprintf(out + o, 160 - o, "\\x%02x", c);
    }
    out[o++] = '"';
    out[o] = '\0';
    return out;
}

/* printf() into one of 8 rotating buffers of the calling thread: the
 * helpers below build parts of messages with it (wb_format()'s single
 * buffer would be overwritten by WB_EXPECT() while it reads them). */
static const char *fmt(const char *f, ...)
    __attribute__((format(printf, 1, 2)));

static const char *fmt(const char *f, ...)
{
    static _Thread_local char buf[8][256];
    static _Thread_local int next;
    char *out = buf[next++ % 8];
    va_list ap;
    va_start(ap, f);
    vsnprintf(out, sizeof buf[0], f, ap);
    va_end(ap);
    return out;
}

/* --- The server under test ------------------------------------------------ */

struct server {
    loop *l;
    chat *c;
    int lfd, port;
    int stop[2];    /* a byte: the loop thread calls chat_stop() */
    int done[2];    /* the loop thread's byte: loop_run() returned */
    int stall[2];   /* a byte: the loop thread blocks in a callback ... */
    int stalled[2]; /* ... says so on this pipe ... */
    int release[2]; /* ... and reads a byte from this one to go on */
    int probe[2];   /* a byte: the loop thread counts the clients ... */
    int counted[2]; /* ... and writes chat_clients() here */
    int rang[2];    /* the test's own timer on the loop writes a byte */
    pthread_t thread;
    atomic_int tid;
    int run_rc, run_err;
    int stat_fd; /* the server thread's /proc schedstat */
};

static void on_stop(loop *l, int fd, int events, void *ctx)
{
    (void)events;
    struct server *s = ctx;
    char b;
    (void)read(fd, &b, 1);
    chat_stop(s->c);
    s->c = NULL;
    (void)loop_unwatch(l, s->stop[0]);
    (void)loop_unwatch(l, s->stall[0]);
    (void)loop_unwatch(l, s->probe[0]);
}

/* chat_clients() is called from the loop's thread, as the contract
 * says: a callback of the loop counts and answers on a pipe. */
static void on_probe(loop *l, int fd, int events, void *ctx)
{
    (void)l;
    (void)events;
    struct server *s = ctx;
    char b;
    (void)read(fd, &b, 1);
    size_t n = chat_clients(s->c);
    (void)write(s->counted[1], &n, sizeof n);
}

static void on_stall(loop *l, int fd, int events, void *ctx)
{
    (void)l;
    (void)events;
    struct server *s = ctx;
    int64_t t0 = trace_now();
    char b;
    (void)read(fd, &b, 1);
    (void)write(s->stalled[1], "s", 1);
    (void)read(s->release[0], &b, 1); /* blocks: the whole server waits */
    trace_span("test stalls the loop", t0, trace_now());
}

/* A timer of the test's own on the server's loop (see server_start()). */
static void on_caller_timer(loop *l, void *ctx)
{
    (void)l;
    struct server *s = ctx;
    (void)write(s->rang[1], "t", 1);
}

/* When above 0, server_start() adds a timer of the test's own, that many
 * ms away, to the loop before chat_start(): the loop's first timer. */
static long caller_timer_ms;

static void *server_main(void *arg)
{
    struct server *s = arg;
    atomic_store(&s->tid, (int)syscall(SYS_gettid));
    s->run_rc = loop_run(s->l);
    s->run_err = errno;
    (void)write(s->done[1], "d", 1);
    return NULL;
}

/* A listening socket on 127.0.0.1, port chosen by the kernel. */
static int listen_socket(int sndbuf, int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    WB_EXPECT(fd >= 0, "socket() failed%s", wb_errno_note(fd));
    /* Accepted sockets inherit the send buffer size. */
    if (sndbuf > 0)
        ck_assert_int_eq(
            setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf), 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    int rc = bind(fd, (struct sockaddr *)&a, sizeof a);
    WB_EXPECT(rc == 0, "bind(127.0.0.1:0) failed%s", wb_errno_note(rc));
    rc = listen(fd, 256);
    WB_EXPECT(rc == 0, "listen() failed%s", wb_errno_note(rc));
    socklen_t len = sizeof a;
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    if (port != NULL)
        *port = ntohs(a.sin_port);
    return fd;
}

static void server_start(struct server *s, chat_config cfg, int sndbuf)
{
    memset(s, 0, sizeof *s);
    s->stat_fd = -1;
    s->lfd = listen_socket(sndbuf, &s->port);
    s->l = loop_new();
    ck_assert_msg(s->l != NULL, "loop_new() failed");
    wb_pipe(s->rang);
    if (caller_timer_ms > 0)
        ck_assert_int_gt(
            loop_add_timer(s->l, caller_timer_ms, on_caller_timer, s), 0);
    s->c = chat_start(s->l, s->lfd, &cfg);
    WB_EXPECT(s->c != NULL,
              "chat_start() with a valid configuration should return a "
              "server; got NULL%s",
              wb_errno_note(-1));
    wb_pipe(s->stop);
    wb_pipe(s->done);
    wb_pipe(s->stall);
    wb_pipe(s->stalled);
    wb_pipe(s->release);
    wb_pipe(s->probe);
    wb_pipe(s->counted);
    ck_assert_int_eq(loop_watch(s->l, s->stop[0], LOOP_READ, on_stop, s), 0);
    ck_assert_int_eq(loop_watch(s->l, s->probe[0], LOOP_READ, on_probe, s), 0);
    ck_assert_int_eq(loop_watch(s->l, s->stall[0], LOOP_READ, on_stall, s), 0);
    ck_assert_int_eq(pthread_create(&s->thread, NULL, server_main, s), 0);
    for (int i = 0; i < 1000 && atomic_load(&s->tid) == 0; i++)
        wb_sleep_ms(1);
    char path[64];
    snprintf(path, sizeof path, "/proc/self/task/%d/schedstat",
             atomic_load(&s->tid));
    s->stat_fd = open(path, O_RDONLY | O_CLOEXEC);
}

/* server_start() with a timer of the test's own, @p ms away, added to
 * the loop first (it rings on s->rang). */
static void server_start_after_timer(struct server *s, chat_config cfg, long ms)
{
    caller_timer_ms = ms;
    server_start(s, cfg, 0);
    caller_timer_ms = 0;
}

/* Wait up to @p ms for @p fd to be readable. */
static int readable_within(int fd, long ms)
{
    struct pollfd p = {fd, POLLIN, 0};
    int n;
    do
        n = poll(&p, 1, (int)ms);
    while (n == -1 && errno == EINTR);
    return n == 1;
}

static void server_stop(struct server *s)
{
    ck_assert_int_eq(write(s->stop[1], "q", 1), 1);
    WB_PROMISE("stop");
    WB_EXPECT(readable_within(s->done[0], 1500),
              "after chat_stop(), loop_run() should return: nothing "
              "of the server may stay on the loop. It was still running "
              "1.5 s later: is a client, the listening socket or a timer "
              "still there?");
    pthread_join(s->thread, NULL);
    WB_EXPECT(s->run_rc == 0, "loop_run() should return 0; got %d (%s)",
              s->run_rc, wb_errname(s->run_err));
    loop_free(s->l);
    int *pipes[] = {s->stop,    s->done,  s->stall,   s->stalled,
                    s->release, s->probe, s->counted, s->rang};
    for (size_t i = 0; i < sizeof pipes / sizeof pipes[0]; i++) {
        close(pipes[i][0]);
        close(pipes[i][1]);
    }
    close(s->lfd);
    if (s->stat_fd >= 0)
        close(s->stat_fd);
}

/* Block the server's thread inside a callback of its loop, until
 * server_release(). Whatever clients do meanwhile is served together, in
 * the next iteration. */
static void server_stall(struct server *s)
{
    ck_assert_int_eq(write(s->stall[1], "s", 1), 1);
    WB_EXPECT(readable_within(s->stalled[0], 1000),
              "the test could not stall the server's loop within 1 s: is "
              "it blocked somewhere?");
    char b;
    ck_assert_int_eq(read(s->stalled[0], &b, 1), 1);
}

static void server_release(struct server *s)
{
    ck_assert_int_eq(write(s->release[1], "r", 1), 1);
}

/* chat_clients() of the running server, asked on the loop's thread. */
static size_t server_clients(struct server *s)
{
    ck_assert_int_eq(write(s->probe[1], "p", 1), 1);
    WB_EXPECT(readable_within(s->counted[0], 1000),
              "the test could not ask the server's loop for chat_clients() "
              "within 1 s: is it blocked somewhere?");
    size_t n = 0;
    ck_assert_int_eq(read(s->counted[0], &n, sizeof n), (ssize_t)sizeof n);
    return n;
}

/* Wait up to @p ms until chat_clients() says @p want; returns the last
 * count. */
static size_t clients_become(struct server *s, size_t want, long ms)
{
    int64_t end = wb_now_ns() + ms * MS;
    size_t n = server_clients(s);
    while (n != want && wb_now_ns() < end) {
        wb_sleep_ms(5);
        n = server_clients(s);
    }
    return n;
}

/* --- What the server's thread spent --------------------------------------- */

static int64_t process_cpu_ns(void)
{
    struct rusage ru;
    ck_assert_int_eq(getrusage(RUSAGE_SELF, &ru), 0);
    return ((int64_t)ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000 * MS +
           ((int64_t)ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000;
}

/* Every select() is counted (tests/support/selects.c, in chat.links). */

struct effort {
    int64_t wall, cpu;
    long selects;
};

/* The server thread's CPU time, from its /proc schedstat (already open:
 * the EMFILE test measures with no descriptor left), or the process's. */
static struct effort effort_now(const struct server *s)
{
    struct effort e = {wb_now_ns(), -1, wb_select_calls()};
    char buf[128];
    ssize_t n =
        s->stat_fd >= 0 ? pread(s->stat_fd, buf, sizeof buf - 1, 0) : -1;
    long long on_cpu;
    if (n > 0) {
        buf[n] = '\0';
        if (sscanf(buf, "%lld", &on_cpu) == 1)
            e.cpu = on_cpu;
    }
    if (e.cpu < 0)
        e.cpu = process_cpu_ns();
    return e;
}

static struct effort effort_since(const struct server *s, struct effort e0)
{
    struct effort e = effort_now(s);
    return (struct effort){e.wall - e0.wall, e.cpu - e0.cpu,
                           e.selects - e0.selects};
}

/* Spinning: select() called again and again, or 10 ms of CPU time. */
static int spun(struct effort e)
{
    return e.selects >= 20 || e.cpu >= 10 * MS;
}

/* --- Clients -------------------------------------------------------------- */

struct client {
    int fd;
    long id;
    size_t len;
    char buf[65536];
};

enum { GOT_LINE = 1, GOT_NOTHING = 0, GOT_EOF = -1, GOT_ERROR = -2 };

static struct client *client_connect(const struct server *s, int rcvbuf)
{
    struct client *c = calloc(1, sizeof *c);
    ck_assert_msg(c != NULL, "out of memory");
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    WB_EXPECT(c->fd >= 0, "socket() failed%s", wb_errno_note(c->fd));
    if (rcvbuf > 0)
        ck_assert_int_eq(
            setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf),
            0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons((uint16_t)s->port);
    int rc = connect(c->fd, (struct sockaddr *)&a, sizeof a);
    WB_EXPECT(rc == 0, "connect() to the server failed%s", wb_errno_note(rc));
    return c;
}

/* The next line, without its '\n', NUL-terminated, in @p line (of @p cap
 * bytes); *len its length. GOT_NOTHING after @p ms without a whole line,
 * GOT_EOF or GOT_ERROR (errno in *err) when the connection ended. */
static int client_read(struct client *c, char *line, size_t cap, size_t *len,
                       long ms, int *err)
{
    int64_t end = wb_now_ns() + ms * MS;
    for (;;) {
        char *nl = memchr(c->buf, '\n', c->len);
        if (nl != NULL) {
            size_t n = (size_t)(nl - c->buf);
            size_t keep = n < cap - 1 ? n : cap - 1;
            memcpy(line, c->buf, keep);
            line[keep] = '\0';
            *len = n;
            c->len -= n + 1;
            memmove(c->buf, nl + 1, c->len);
            return GOT_LINE;
        }
        int64_t left = (end - wb_now_ns()) / MS;
        if (left < 0 || !readable_within(c->fd, left))
            return GOT_NOTHING;
        if (c->len == sizeof c->buf)
            c->len = 0; /* a line longer than the buffer: not ours */
        ssize_t n = recv(c->fd, c->buf + c->len, sizeof c->buf - c->len, 0);
        if (n == 0)
            return GOT_EOF;
        if (n < 0) {
            if (errno == EINTR)
                continue;
            *err = errno;
            return GOT_ERROR;
        }
        c->len += (size_t)n;
    }
}

static const char *outcome(int r, int err, const char *line, size_t len)
{
    switch (r) {
    case GOT_LINE:
        return fmt("the line %s", show(line, len));
    case GOT_NOTHING:
        return "nothing";
    case GOT_EOF:
        return "end of file (the server closed the connection)";
    default:
        return fmt("an error, %s", wb_errname(err));
    }
}

/* Read the next line; fail unless it is @p want. @p why ends the
 * message. */
static void expect_line_n(struct client *c, const char *want, size_t wlen,
                          long ms, const char *why)
{
    char line[512];
    size_t len = 0;
    int err = 0;
    int r = client_read(c, line, sizeof line, &len, ms, &err);
    WB_EXPECT(r == GOT_LINE && len == wlen && memcmp(line, want, wlen) == 0,
              "client %ld should get the line %s within %ld ms; got %s%s",
              c->id, show(want, wlen), ms, outcome(r, err, line, len), why);
}

static void expect_line(struct client *c, const char *want, long ms,
                        const char *why)
{
    expect_line_n(c, want, strlen(want), ms, why);
}

/* Read past the lines other clients said ("N: ..."); fail unless the
 * next other line is the notice @p notice (a CHAT_* string, '\n'
 * included). */
static void expect_notice(struct client *c, const char *notice, long ms,
                          const char *why)
{
    char line[512];
    size_t len = 0;
    int err = 0, r;
    long from;
    char colon;
    size_t want = strlen(notice) - 1;
    while ((r = client_read(c, line, sizeof line, &len, ms, &err)) ==
               GOT_LINE &&
           sscanf(line, "%ld%c", &from, &colon) == 2 && colon == ':')
        continue;
    WB_EXPECT(r == GOT_LINE && len == want && memcmp(line, notice, want) == 0,
              "client %ld should get the line %s within %ld ms; got %s%s",
              c->id, show(notice, want), ms, outcome(r, err, line, len), why);
}

/* Read past the lines other clients said ("N: ..."); fail unless the
 * server then ends the connection (end of file or a reset) within
 * @p ms. */
static void expect_closed(struct client *c, long ms, const char *why)
{
    char line[512];
    size_t len = 0;
    int err = 0, r;
    long from;
    char colon;
    while ((r = client_read(c, line, sizeof line, &len, ms, &err)) ==
               GOT_LINE &&
           sscanf(line, "%ld%c", &from, &colon) == 2 && colon == ':')
        continue;
    WB_EXPECT(r == GOT_EOF || r == GOT_ERROR,
              "client %ld should be disconnected within %ld ms; got %s%s",
              c->id, ms, outcome(r, err, line, len), why);
}

/* Fail if anything arrives within @p ms. */
static void expect_quiet(struct client *c, long ms, const char *why)
{
    char line[512];
    size_t len = 0;
    int err = 0;
    int r = client_read(c, line, sizeof line, &len, ms, &err);
    WB_EXPECT(r == GOT_NOTHING, "client %ld should get nothing; got %s%s",
              c->id, outcome(r, err, line, len), why);
}

static void client_welcome(struct client *c, long ms)
{
    char line[512];
    size_t len = 0;
    int err = 0;
    int r = client_read(c, line, sizeof line, &len, ms, &err);
    long id = 0;
    char extra;
    WB_EXPECT(r == GOT_LINE &&
                  sscanf(line, "welcome %ld%c", &id, &extra) == 1 && id > 0,
              "a new client should first get \"welcome N\" (N > 0) within "
              "%ld ms; got %s",
              ms, outcome(r, err, line, len));
    c->id = id;
}

static struct client *client_join(const struct server *s)
{
    struct client *c = client_connect(s, 0);
    client_welcome(c, 1000);
    return c;
}

static void client_send(struct client *c, const char *data, size_t len)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = send(c->fd, data + done, len - done, MSG_NOSIGNAL);
        if (n == -1 && errno == EINTR)
            continue;
        WB_EXPECT(n > 0, "client %ld could not send to the server%s", c->id,
                  wb_errno_note(n));
        done += (size_t)n;
    }
}

static void client_say(struct client *c, const char *text)
{
    client_send(c, text, strlen(text));
}

static void client_free(struct client *c)
{
    if (c == NULL)
        return;
    close(c->fd);
    free(c);
}

/* Close with a reset (RST) instead of the usual end of file. */
static void client_reset(struct client *c)
{
    struct linger lg = {1, 0};
    ck_assert_int_eq(setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg),
                     0);
    client_free(c);
}

static const char *said(long id, const char *text)
{
    return fmt("%ld: %s", id, text);
}

/* Wait up to @p ms until the process has at most @p want descriptors
 * open; returns the last count. */
static int fds_down_to(int want, long ms)
{
    int64_t end = wb_now_ns() + ms * MS;
    int n = wb_count_fds();
    while (n > want && wb_now_ns() < end) {
        wb_sleep_ms(5);
        n = wb_count_fds();
    }
    return n;
}

/* Make sure the process may open @p n descriptors, when its hard limit
 * allows it. */
static void allow_fds(rlim_t n)
{
    struct rlimit r;
    ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &r), 0);
    if (r.rlim_cur < n && (r.rlim_max == RLIM_INFINITY || r.rlim_max >= n)) {
        r.rlim_cur = n;
        ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &r), 0);
    }
}

/* --- Tests ---------------------------------------------------------------- */

static void expect_refused(loop *l, int fd, const chat_config *cfg,
                           const char *what)
{
    errno = 0;
    chat *c = chat_start(l, fd, cfg);
    int err = errno;
    WB_EXPECT(c == NULL && err == EINVAL,
              "chat_start() with %s should return NULL with EINVAL; got %s",
              what, c != NULL ? "a server" : fmt("NULL (%s)", wb_errname(err)));
}

START_TEST(test_bad_config)
{
    WB_PROMISE("config");
    loop *l = loop_new();
    ck_assert_msg(l != NULL, "loop_new() failed");
    int lfd = listen_socket(0, NULL);
    chat_config ok = usual();
    expect_refused(NULL, lfd, &ok, "a NULL loop");
    expect_refused(l, lfd, NULL, "a NULL configuration");
    expect_refused(l, -1, &ok, "listening descriptor -1");
    /* A listening socket the loop refuses to watch: the select() loop
     * of exercise 3 cannot wait for descriptor FD_SETSIZE. */
    allow_fds(FD_SETSIZE + 1);
    int high = dup2(lfd, FD_SETSIZE);
    ck_assert_msg(high == FD_SETSIZE,
                  "the test could not open descriptor FD_SETSIZE (%d)%s",
                  FD_SETSIZE, wb_errno_note(high));
    expect_refused(l, high, &ok,
                   "a listening socket on descriptor FD_SETSIZE, which the "
                   "loop refuses to watch (loop_watch() fails with EINVAL)");
    close(high);
    chat_config bad = ok;
    bad.max_clients = 0;
    expect_refused(l, lfd, &bad, "max_clients 0");
    bad = ok;
    bad.max_line = 0;
    expect_refused(l, lfd, &bad, "max_line 0");
    bad = ok;
    bad.max_queue = bad.max_line + CHAT_OVERHEAD - 1;
    expect_refused(l, lfd, &bad,
                   "max_queue one byte short of max_line + CHAT_OVERHEAD");
    bad = ok;
    bad.idle_ms = 0;
    expect_refused(l, lfd, &bad, "idle_ms 0");
    bad = ok;
    bad.idle_ms = -5;
    expect_refused(l, lfd, &bad, "idle_ms -5");

    int closed = listen_socket(0, NULL);
    close(closed);
    errno = 0;
    chat *none = chat_start(l, closed, &ok);
    int err = errno;
    WB_EXPECT(none == NULL && err == EBADF,
              "chat_start() with a closed descriptor should return NULL "
              "with EBADF (from fcntl()); got %s",
              none != NULL ? "a server" : fmt("NULL (%s)", wb_errname(err)));

    /* A good configuration works; stopped before any loop_run(), it
     * leaves nothing on the loop, and the listening socket open. */
    chat *c = chat_start(l, lfd, &ok);
    WB_EXPECT(c != NULL,
              "chat_start() with a valid configuration should "
              "return a server; got NULL%s",
              wb_errno_note(-1));
    WB_EXPECT(chat_clients(c) == 0,
              "a new server should have 0 clients; chat_clients() says %zu",
              chat_clients(c));
    chat_stop(c);
    chat_stop(NULL);
    WB_PROMISE("stop");
    int64_t t0 = wb_now_ns();
    int rc = loop_run(l);
    WB_EXPECT(rc == 0 && wb_now_ns() - t0 < 500 * MS,
              "after the refused chat_start() calls and a chat_stop(), "
              "nothing should be left on the loop, so loop_run() returns 0 "
              "at once; it returned %d after %lld ms",
              rc, (long long)((wb_now_ns() - t0) / MS));
    WB_EXPECT(fcntl(lfd, F_GETFD) != -1,
              "chat_stop() closed the listening socket; it is the "
              "caller's");
    loop_free(l);
    close(lfd);
}
END_TEST

START_TEST(test_welcome_and_relay)
{
    struct server s;
    server_start(&s, usual(), 0);
    struct client *a = client_join(&s);
    struct client *b = client_join(&s);
    struct client *c = client_join(&s);
    WB_PROMISE("welcome");
    WB_EXPECT(a->id == 1 && b->id == 2 && c->id == 3,
              "the first three clients should be welcomed as 1, 2 and 3; "
              "got %ld, %ld and %ld",
              a->id, b->id, c->id);
    WB_PROMISE("broadcast");
    client_say(a, "hello\n");
    expect_line(b, said(a->id, "hello"), 1000, "");
    expect_line(c, said(a->id, "hello"), 1000, "");
    client_say(b, "hi there\n");
    expect_line(a, said(b->id, "hi there"), 1000,
                " (a client never gets its own lines back: its next line "
                "is the next one of another client)");
    expect_line(c, said(b->id, "hi there"), 1000, "");
    expect_quiet(b, 50, " (a client never gets its own lines back)");
    server_stop(&s);
    client_free(a);
    client_free(b);
    client_free(c);
}
END_TEST

START_TEST(test_lines_in_pieces)
{
    WB_PROMISE("framing");
    struct server s;
    server_start(&s, usual(), 0);
    struct client *a = client_join(&s);
    struct client *b = client_join(&s);
    struct client *c = client_join(&s);
    /* One line in three pieces, then three lines in one piece. */
    client_say(a, "spl");
    wb_sleep_ms(20);
    client_say(a, "it li");
    wb_sleep_ms(20);
    client_say(a, "ne\nsecond\nthird\n");
    expect_line(b, said(a->id, "split line"), 1000,
                " (a line sent in pieces is relayed whole, once its '\\n' "
                "has arrived)");
    expect_line(b, said(a->id, "second"), 1000,
                " (lines that arrive together are relayed one by one)");
    expect_line(b, said(a->id, "third"), 1000, "");
    /* Two clients' pieces, interleaved: each client has its own buffer. */
    client_say(a, "aaa");
    wb_sleep_ms(20);
    client_say(c, "ccc\n");
    expect_line(b, said(c->id, "ccc"), 1000,
                " (client 1's unfinished line must not hold up or mix with "
                "client 3's)");
    client_say(a, "bbb\n");
    expect_line(b, said(a->id, "aaabbb"), 1000, "");
    server_stop(&s);
    client_free(a);
    client_free(b);
    client_free(c);
}
END_TEST

START_TEST(test_bytes_unchanged)
{
    WB_PROMISE("bytes");
    struct server s;
    server_start(&s, usual(), 0);
    struct client *a = client_join(&s);
    struct client *b = client_join(&s);
    const char raw[] = "nul\0 cr\r tab\t high\x80\xfe\xff end";
    size_t n = sizeof raw - 1;
    char sent[64];
    memcpy(sent, raw, n);
    sent[n] = '\n';
    client_send(a, sent, n + 1);
    char want[80];
    int head = snprintf(want, sizeof want, "%ld: ", a->id);
    memcpy(want + head, raw, n);
    expect_line_n(b, want, (size_t)head + n, 1000,
                  " (every byte of the line, NUL and '\\r' included, is "
                  "relayed as it came: use the length, not strlen())");
    server_stop(&s);
    client_free(a);
    client_free(b);
}
END_TEST

START_TEST(test_two_hundred_clients)
{
    WB_PROMISE("broadcast");
    enum { N = 200 };
    allow_fds(FD_SETSIZE);
    struct server s;
    server_start(&s, config(N + 10, 64, 65536, 10000), 0);
    struct client *cl[N];
    /* Connect them all, then read the welcomes. */
    for (int i = 0; i < N; i++)
        cl[i] = client_connect(&s, 0);
    for (int i = 0; i < N; i++)
        client_welcome(cl[i], 2000);
    for (int i = 0; i < N; i++)
        client_say(cl[i], fmt("line of %ld\n", cl[i]->id));
    /* Each client gets the line of each of the 199 others, once. */
    static unsigned char got[N + 1][N + 1];
    memset(got, 0, sizeof got);
    for (int i = 0; i < N; i++) {
        for (int k = 0; k < N - 1; k++) {
            char line[128];
            size_t len = 0;
            int err = 0;
            int r = client_read(cl[i], line, sizeof line, &len, 2000, &err);
            long from = 0, of = 0;
            int ok = r == GOT_LINE &&
                     sscanf(line, "%ld: line of %ld", &from, &of) == 2 &&
                     from == of && from >= 1 && from <= N &&
                     from != cl[i]->id && !got[cl[i]->id][from];
            WB_EXPECT(ok,
                      "200 clients each sent one line: client %ld should "
                      "get 199 lines, one from each other client; its line "
                      "%d was %s",
                      cl[i]->id, k + 1,
                      r == GOT_LINE && from == cl[i]->id ? "its own"
                      : r == GOT_LINE && from >= 1 && from <= N &&
                              got[cl[i]->id][from]
                          ? fmt("a second one from client %ld", from)
                          : outcome(r, err, line, len));
            got[cl[i]->id][from] = 1;
        }
    }
    server_stop(&s);
    for (int i = 0; i < N; i++)
        client_free(cl[i]);
}
END_TEST

START_TEST(test_slow_reader_does_not_stall_others)
{
    WB_PROMISE("slow-reader");
    enum { LINES = 400 };
    /* Small socket buffers, so the reader that never reads fills its
     * share quickly: 4 KiB for the server's sends, 4 KiB for the slow
     * client's receives, 4 KiB of queue. */
    struct server s;
    server_start(&s, config(16, 256, 4096, 10000), 4096);
    struct client *slow = client_connect(&s, 4096);
    client_welcome(slow, 1000);
    struct client *from = client_join(&s);
    struct client *b = client_join(&s);
    struct client *c = client_join(&s);
    char text[128];
    int64_t worst = 0;
    for (int i = 0; i < LINES; i++) {
        snprintf(text, sizeof text,
                 "line %03d ......................................."
                 ".................................................\n",
                 i);
        int64_t t0 = wb_now_ns();
        client_say(from, text);
        text[strlen(text) - 1] = '\0';
        const char *why =
            fmt(" (line %d of %d; client %ld never reads: the server must "
                "not wait for it, and must not block in send())",
                i + 1, LINES, slow->id);
        expect_line(b, said(from->id, text), 1000, why);
        expect_line(c, said(from->id, text), 1000, why);
        if (wb_now_ns() - t0 > worst)
            worst = wb_now_ns() - t0;
    }
    /* The slow client gets what fitted, then the end of the connection. */
    int lines = 0, r;
    char line[512];
    size_t len = 0;
    int err = 0;
    while ((r = client_read(slow, line, sizeof line, &len, 1000, &err)) ==
           GOT_LINE)
        lines++;
    WB_EXPECT(r == GOT_EOF || r == GOT_ERROR,
              "client %ld never read while %d lines of 100 bytes were "
              "relayed to it, with a queue of 4096 bytes: it should have "
              "been disconnected. It got %d lines, then %s",
              slow->id, LINES, lines, outcome(r, err, line, len));
    WB_EXPECT(lines < LINES,
              "the slow client got all %d lines; its queue "
              "should have overflowed",
              LINES);
    server_stop(&s);
    client_free(slow);
    client_free(from);
    client_free(b);
    client_free(c);
}
END_TEST

START_TEST(test_line_too_long)
{
    WB_PROMISE("too-long");
    struct server s;
    server_start(&s, config(16, 64, 4096, 10000), 0);
    struct client *a = client_join(&s);
    struct client *b = client_join(&s);
    struct client *t = client_join(&s);
    char line[200];
    memset(line, 'x', sizeof line);
    /* Exactly max_line bytes: fine. */
    line[64] = '\n';
    client_send(t, line, 65);
    char want[128];
    int head = snprintf(want, sizeof want, "%ld: ", t->id);
    memset(want + head, 'x', 64);
    expect_line_n(b, want, (size_t)head + 64, 1000,
                  " (a line of exactly max_line bytes is accepted)");
    /* One byte more: refused. */
    line[64] = 'x';
    line[65] = '\n';
    client_send(t, line, 66);
    expect_notice(t, CHAT_TOO_LONG, 1000,
                  " (a line of max_line + 1 bytes is too long)");
    expect_closed(t, 1000, " (after a line too long, the server closes)");
    /* 150 bytes and no newline at all: too long as well. */
    struct client *u = client_join(&s);
    client_send(u, line, 150);
    expect_notice(u, CHAT_TOO_LONG, 1000,
                  " (150 bytes without a newline are already more than "
                  "max_line)");
    expect_closed(u, 1000, "");
    /* Nothing of them was relayed. */
    client_say(a, "after\n");
    expect_line(b, said(a->id, "after"), 1000,
                " (no part of a line too long is relayed)");
    server_stop(&s);
    client_free(a);
    client_free(b);
    client_free(t);
    client_free(u);
}
END_TEST

START_TEST(test_megabyte_line)
{
    WB_PROMISE("too-long");
    struct server s;
    server_start(&s, config(16, 256, 4096, 10000), 0);
    struct client *a = client_join(&s);
    struct client *b = client_join(&s);
    struct client *m = client_join(&s);
    size_t size = 1 << 20;
    char *big = malloc(size + 1);
    ck_assert_msg(big != NULL, "out of memory");
    memset(big, 'm', size);
    big[size] = '\n';
    /* Send until all is sent or the server hangs up. */
    ck_assert_int_eq(fcntl(m->fd, F_SETFL, O_NONBLOCK), 0);
    size_t sent = 0;
    int64_t end = wb_now_ns() + 2000 * MS;
    while (sent <= size && wb_now_ns() < end) {
        ssize_t n = send(m->fd, big + sent, size + 1 - sent, MSG_NOSIGNAL);
        if (n > 0) {
            sent += (size_t)n;
            continue;
        }
        if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct pollfd p = {m->fd, POLLOUT, 0};
            (void)poll(&p, 1, 50);
            continue;
        }
        if (n == -1 && errno == EINTR)
            continue;
        break; /* EPIPE, ECONNRESET: the server closed */
    }
    free(big);
    ck_assert_int_eq(fcntl(m->fd, F_SETFL, 0), 0);
    expect_notice(m, CHAT_TOO_LONG, 1000,
                  " (a 1 MiB line: the server should say it is too long as "
                  "soon as max_line bytes have come without a newline)");
    expect_closed(m, 1000, "");
    client_say(a, "still fine\n");
    expect_line(b, said(a->id, "still fine"), 1000,
                " (the others go on after a 1 MiB line)");
    server_stop(&s);
    client_free(a);
    client_free(b);
    client_free(m);
}
END_TEST

START_TEST(test_idle_client_dropped)
{
    WB_PROMISE("idle");
    struct server s;
    server_start(&s, config(16, 256, 4096, 400), 0);
    struct client *idle = client_join(&s);
    struct client *a = client_join(&s);
    struct client *b = client_join(&s);
    expect_quiet(idle, 100,
                 " (a client is dropped when it has been idle for idle_ms = "
                 "400 ms, not before)");
    /* a and b speak every 50 ms for 500 ms; idle says nothing. The idle
     * limit is 8 times the gap between lines, so a loaded machine that
     * delays a line by 100 ms or more does not get them dropped. */
    const char *why = " (a client that sends a line every 50 ms, with an "
                      "idle limit of 400 ms, must never be dropped: each "
                      "line starts its idle time again)";
    for (int i = 0; i < 10; i++) {
        client_say(a, fmt("tick %d\n", i));
        client_say(b, fmt("tock %d\n", i));
        expect_line(b, said(a->id, fmt("tick %d", i)), 1000, why);
        expect_line(a, said(b->id, fmt("tock %d", i)), 1000, why);
        wb_sleep_ms(50);
    }
    expect_notice(idle, CHAT_IDLE, 1000,
                  " (a client silent for more than idle_ms = 400 ms)");
    expect_closed(idle, 1000, " (then the server closes it)");
    client_say(a, "still here\n");
    expect_line(b, said(a->id, "still here"), 1000, "");
    server_stop(&s);
    client_free(idle);
    client_free(a);
    client_free(b);
}
END_TEST

START_TEST(test_half_line_then_silence)
{
    WB_PROMISE("idle");
    struct server s;
    server_start(&s, config(16, 256, 4096, 200), 0);
    struct client *h = client_join(&s);
    client_say(h, "partial");
    struct client *a = client_join(&s);
    struct client *b = client_join(&s);
    const char *why = " (a client that sent half a line and stopped must "
                      "not hold up the others)";
    for (int i = 0; i < 5; i++) {
        client_say(a, fmt("meanwhile %d\n", i));
        client_say(b, fmt("answer %d\n", i));
        expect_line(b, said(a->id, fmt("meanwhile %d", i)), 500, why);
        expect_line(a, said(b->id, fmt("answer %d", i)), 500, why);
        wb_sleep_ms(40);
    }
    WB_PROMISE("framing");
    client_say(a, "done\n");
    expect_line(b, said(a->id, "done"), 500,
                " (half a line is never relayed as a line)");
    WB_PROMISE("idle");
    expect_notice(h, CHAT_IDLE, 1000,
                  " (half a line is not a complete line: after 200 ms the "
                  "client is idle)");
    expect_closed(h, 1000, "");
    server_stop(&s);
    client_free(h);
    client_free(a);
    client_free(b);
}
END_TEST

START_TEST(test_server_full)
{
    WB_PROMISE("full");
    struct server s;
    server_start(&s, config(3, 256, 4096, 10000), 0);
    struct client *a = client_join(&s);
    struct client *b = client_join(&s);
    struct client *c = client_join(&s);
    struct client *d = client_connect(&s, 0);
    expect_notice(d, CHAT_FULL, 1000, " (max_clients = 3 are connected)");
    expect_closed(d, 1000, " (a refused connection is closed)");
    client_free(d);
    int before = wb_count_fds();
    client_free(a);
    int now = fds_down_to(before - 2, 1000);
    WB_PROMISE("gone");
    WB_EXPECT(now <= before - 2,
              "a client closed its connection; the server should close "
              "its socket too (%d descriptors open, expected %d)",
              now, before - 2);
    WB_PROMISE("full");
    struct client *e = client_join(&s);
    WB_EXPECT(e->id == 4,
              "after clients 1, 2, 3 and a refused connection, the next "
              "client should be welcomed as 4; got %ld",
              e->id);
    client_say(e, "in\n");
    expect_line(b, said(e->id, "in"), 1000, "");
    server_stop(&s);
    client_free(b);
    client_free(c);
    client_free(e);
}
END_TEST

START_TEST(test_loop_refuses_client)
{
    WB_PROMISE("loop-limit");
    struct server s;
    server_start(&s, usual(), 0);
    struct client *a = client_join(&s);
    /* Take every free descriptor below FD_SETSIZE (a new descriptor gets
     * the lowest free number): the next connection's socket on the
     * server's side is then above FD_SETSIZE, and the loop of exercise 3
     * refuses to watch it. */
    fdlimit_only_high();
    struct client *d = client_connect(&s, 0);
    expect_notice(d, CHAT_FULL, 1000,
                  " (the server's socket for this connection was above "
                  "FD_SETSIZE: loop_watch() refused it, so the server "
                  "cannot serve it and must say so)");
    expect_closed(d, 1000, " (a refused connection is closed)");
    fdlimit_restore();
    client_free(d);
    /* The server goes on, and the refused connection had no id. */
    struct client *e = client_join(&s);
    WB_EXPECT(e->id == 2,
              "after client 1 and a connection the loop refused, the next "
              "client should be welcomed as 2; got %ld",
              e->id);
    client_say(e, "after\n");
    expect_line(a, said(e->id, "after"), 1000,
                " (the server goes on after refusing a connection)");
    server_stop(&s);
    client_free(a);
    client_free(e);
}
END_TEST

START_TEST(test_clients_that_vanish)
{
    WB_PROMISE("gone");
    struct server s;
    server_start(&s, usual(), 0);
    struct client *a = client_join(&s);
    struct client *b = client_join(&s);
    int base = wb_count_fds();
    long gone[8];
    int ngone = 0;
    /* Resets right after the welcome, and after half a line. */
    for (int i = 0; i < 4; i++) {
        struct client *x = client_join(&s);
        gone[ngone++] = x->id;
        if (i % 2)
            client_say(x, "half a li");
        client_reset(x);
    }
    /* A plain close. */
    struct client *x = client_join(&s);
    gone[ngone++] = x->id;
    client_free(x);
    /* Half-closes: the server reads end of file and closes. */
    for (int i = 0; i < 2; i++) {
        x = client_join(&s);
        gone[ngone++] = x->id;
        ck_assert_int_eq(shutdown(x->fd, SHUT_WR), 0);
        expect_closed(x, 1000,
                      " (it half-closed: end of file means it has left)");
        client_free(x);
    }
    /* A last line without a newline, then end of file. */
    x = client_join(&s);
    long bye_id = x->id;
    client_say(x, "bye");
    ck_assert_int_eq(shutdown(x->fd, SHUT_WR), 0);
    expect_closed(x, 1000, "");
    client_free(x);

    int now = fds_down_to(base, 1500);
    WB_EXPECT(now <= base,
              "8 clients left (resets, a close, half-closes): the server "
              "should close each one's socket; %d descriptors more than "
              "before they came are still open",
              now - base);
    /* b gets "bye" (lines of the reset ones may come before it). */
    char line[512];
    size_t len = 0;
    int err = 0, r, found = 0;
    const char *want = said(bye_id, "bye");
    while (!found && (r = client_read(b, line, sizeof line, &len, 1000,
                                      &err)) == GOT_LINE) {
        long from = 0;
        found = strcmp(line, want) == 0;
        int known = sscanf(line, "%ld:", &from) == 1;
        for (int i = 0; !found && known && i < ngone; i++)
            known = from != gone[i] ? known : 2;
        WB_EXPECT(found || known == 2, "client %ld got the unexpected line %s",
                  b->id, show(line, len));
    }
    WB_EXPECT(found,
              "client %ld should get %s: a last line without a newline, "
              "before end of file, is relayed; got %s",
              b->id, show(want, strlen(want)), outcome(r, err, line, len));
    client_say(a, "still here\n");
    expect_line(b, said(a->id, "still here"), 1000, "");
    server_stop(&s);
    client_free(a);
    client_free(b);
}
END_TEST

static volatile sig_atomic_t sigpipes;

static void on_sigpipe(int sig)
{
    (void)sig;
    sigpipes++;
}

START_TEST(test_no_sigpipe)
{
    WB_PROMISE("sigpipe");
    /* SIGPIPE is counted by a handler of the test (by default it would
     * kill the process, the test with it, and the message would name no
     * promise). */
    struct sigaction count, old;
    memset(&count, 0, sizeof count);
    count.sa_handler = on_sigpipe;
    count.sa_flags = SA_RESTART;
    sigemptyset(&count.sa_mask);
    ck_assert_int_eq(sigaction(SIGPIPE, &count, &old), 0);
    sigpipes = 0;
    struct server s;
    server_start(&s, usual(), 0);
    /* x is accepted first, so the loop serves it first in an iteration. */
    struct client *x = client_join(&s);
    struct client *y = client_join(&s);
    long x_id = x->id;
    /* While the server is stalled: x sends a line and resets its
     * connection, y sends a line. In the next iteration the server reads
     * x's line (the reset is consumed by that read), then y's, which it
     * relays to x: a send() to a reset connection. */
    server_stall(&s);
    client_say(x, "hello\n");
    client_reset(x);
    client_say(y, "are you there?\n");
    wb_sleep_ms(10);
    server_release(&s);
    expect_line(y, said(x_id, "hello"), 1000, "");
    struct client *z = client_join(&s);
    client_say(z, "after\n");
    expect_line(y, said(z->id, "after"), 1000,
                " (the server should survive sending to a reset "
                "connection: send() with MSG_NOSIGNAL)");
    WB_EXPECT(sigpipes == 0,
              "the server raised SIGPIPE %d times: it sent to a socket "
              "whose peer reset the connection, and SIGPIPE kills a "
              "process by default. Send with send(fd, buf, n, "
              "MSG_NOSIGNAL), never write()",
              (int)sigpipes);
    server_stop(&s);
    sigaction(SIGPIPE, &old, NULL);
    client_free(y);
    client_free(z);
}
END_TEST

START_TEST(test_idle_server_sleeps)
{
    WB_PROMISE("no-spin");
    struct server s;
    server_start(&s, usual(), 0);
    enum { N = 5 };
    struct client *cl[N];
    for (int i = 0; i < N; i++)
        cl[i] = client_join(&s);
    /* Some traffic first, so that queues fill and empty. */
    for (int k = 0; k < 20; k++)
        for (int i = 0; i < N; i++)
            client_say(cl[i], fmt("message %d\n", k));
    for (int i = 0; i < N; i++)
        for (int k = 0; k < 20 * (N - 1); k++) {
            char line[128];
            size_t len = 0;
            int err = 0;
            int r = client_read(cl[i], line, sizeof line, &len, 1000, &err);
            WB_EXPECT(r == GOT_LINE,
                      "client %ld should get %d lines; line "
                      "%d was %s",
                      cl[i]->id, 20 * (N - 1), k + 1,
                      outcome(r, err, line, len));
        }
    wb_sleep_ms(20);
    struct effort e = effort_now(&s);
    wb_sleep_ms(200);
    e = effort_since(&s, e);
    WB_EXPECT(!spun(e),
              "with 5 clients connected and silent for %lld ms, the "
              "server called select() %ld times and used %.1f ms of CPU "
              "time; expected a call or two and under 10 ms. Watch a "
              "client for LOOP_WRITE only while bytes wait in its queue",
              (long long)(e.wall / MS), e.selects, (double)e.cpu / MS);
    server_stop(&s);
    for (int i = 0; i < N; i++)
        client_free(cl[i]);
}
END_TEST

START_TEST(test_accept_without_descriptors)
{
    WB_PROMISE("accept-fail");
    struct server s;
    server_start(&s, usual(), 0);
    enum { N = 3 };
    struct client *cl[N];
    int fds[N];
    for (int i = 0; i < N; i++) {
        fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ck_assert_int_ge(fds[i], 0);
    }
    /* No descriptor left: the lowest free number becomes the limit. */
    struct rlimit old, low;
    ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &old), 0);
    int lowest = dup(0);
    ck_assert_int_ge(lowest, 0);
    close(lowest);
    low = old;
    low.rlim_cur = (rlim_t)lowest;
    ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &low), 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons((uint16_t)s.port);
    for (int i = 0; i < N; i++)
        ck_assert_int_eq(connect(fds[i], (struct sockaddr *)&a, sizeof a), 0);
    /* The listening socket is readable and accept() fails with EMFILE. */
    wb_sleep_ms(30);
    struct effort e = effort_now(&s);
    wb_sleep_ms(200);
    e = effort_since(&s, e);
    setrlimit(RLIMIT_NOFILE, &old);
    WB_EXPECT(!spun(e),
              "with connections waiting and accept() failing with EMFILE "
              "(no descriptor left) for %lld ms, the server called "
              "select() %ld times and used %.1f ms of CPU time: it spins "
              "on the listening socket, which stays readable. Stop "
              "watching it, and try again 100 ms later",
              (long long)(e.wall / MS), e.selects, (double)e.cpu / MS);
    /* With descriptors again, the waiting clients get in. */
    for (int i = 0; i < N; i++) {
        cl[i] = calloc(1, sizeof *cl[i]);
        ck_assert_msg(cl[i] != NULL, "out of memory");
        cl[i]->fd = fds[i];
        client_welcome(cl[i], 1500);
    }
    server_stop(&s);
    for (int i = 0; i < N; i++)
        client_free(cl[i]);
}
END_TEST

START_TEST(test_stop_closes_clients)
{
    WB_PROMISE("stop");
    struct server s;
    server_start(&s, usual(), 0);
    struct client *a = client_join(&s);
    struct client *b = client_join(&s);
    client_say(a, "last words\n");
    expect_line(b, said(a->id, "last words"), 1000, "");
    server_stop(&s); /* fails unless loop_run() returned by itself */
    expect_closed(a, 1000, " (chat_stop() closes every client)");
    expect_closed(b, 1000, " (chat_stop() closes every client)");
    client_free(a);
    client_free(b);
}
END_TEST

/* One client streams an endless line (no newline) as fast as it can,
 * from a thread of its own, while two others talk: their lines must
 * still arrive at once, and the flooder must be cut off. */
struct flood {
    int fd;
    atomic_int stop;
    int err;     /* the send() error that ended it; 0: none */
    size_t sent; /* bytes */
};

static void *flood_main(void *arg)
{
    struct flood *f = arg;
    static char junk[65536];
    memset(junk, 'f', sizeof junk);
    int64_t end = wb_now_ns() + 1500 * MS;
    while (!atomic_load(&f->stop) && wb_now_ns() < end) {
        ssize_t n = send(f->fd, junk, sizeof junk, MSG_NOSIGNAL);
        if (n > 0) {
            f->sent += (size_t)n;
            continue;
        }
        if (n == -1 && errno == EINTR)
            continue;
        f->err = n == -1 ? errno : EPIPE;
        break;
    }
    return NULL;
}

START_TEST(test_endless_line_does_not_stall_others)
{
    WB_PROMISE("endless-line");
    struct server s;
    server_start(&s, usual(), 0);
    struct client *a = client_join(&s);
    struct client *b = client_join(&s);
    struct client *f = client_join(&s);
    struct flood fl = {.fd = f->fd};
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, flood_main, &fl), 0);
    wb_sleep_ms(20); /* the flood is on */
    int64_t worst = 0;
    for (int i = 0; i < 10; i++) {
        int64_t t0 = wb_now_ns();
        client_say(a, fmt("ping %d\n", i));
        expect_line(b, said(a->id, fmt("ping %d", i)), 300,
                    fmt(" (client %ld streams one endless line, no newline, "
                        "as fast as it can: the server must not spend its "
                        "time dropping it while the others wait. A fill "
                        "drops a bounded part of a too-long line, then the "
                        "loop goes round)",
                        f->id));
        if (wb_now_ns() - t0 > worst)
            worst = wb_now_ns() - t0;
        wb_sleep_ms(10);
    }
    atomic_store(&fl.stop, 1);
    pthread_join(t, NULL);
    WB_EXPECT(fl.err == EPIPE || fl.err == ECONNRESET,
              "client %ld streamed %zu bytes without a newline (max_line "
              "256): the server should have disconnected it (its send() "
              "should fail with EPIPE or ECONNRESET); it was still "
              "connected after 1.5 s%s",
              f->id, fl.sent,
              fl.err ? fmt(" (error %s)", wb_errname(fl.err)) : "");
    server_stop(&s);
    client_free(a);
    client_free(b);
    client_free(f);
}
END_TEST

/* A slowloris: one byte every 50 ms, never a newline. Bytes are not a
 * complete line: it is idle all the same. */
START_TEST(test_bytes_without_a_line_are_idle)
{
    WB_PROMISE("idle");
    struct server s;
    server_start(&s, config(16, 256, 4096, 250), 0);
    struct client *c = client_join(&s);
    int64_t t0 = wb_now_ns();
    int dropped = 0;
    for (int i = 0; i < 30 && !dropped; i++) {
        char x = 'x';
        if (send(c->fd, &x, 1, MSG_NOSIGNAL) != 1)
            break; /* closed already */
        dropped = readable_within(c->fd, 50);
    }
    WB_EXPECT(dropped,
              "client %ld sent one byte every 50 ms for %lld ms, never a "
              "newline, and was not dropped: only a complete line restarts "
              "the idle time of 250 ms",
              c->id, (long long)((wb_now_ns() - t0) / MS));
    expect_notice(c, CHAT_IDLE, 500,
                  fmt(" (it sent one byte every 50 ms for %lld ms, never a "
                      "newline: only a complete line restarts the idle "
                      "time of 250 ms)",
                      (long long)((wb_now_ns() - t0) / MS)));
    expect_closed(c, 1000, "");
    server_stop(&s);
    client_free(c);
}
END_TEST

/* One line 100 ms after arriving, then silence: dropped idle_ms after
 * that line (not after its arrival, not much later, and not never). */
START_TEST(test_idle_counts_from_last_line)
{
    WB_PROMISE("idle");
    /* The other client, o, is idle from its arrival too: idle_ms leaves it
     * time to receive c's line even on a loaded machine (at 250 ms, a
     * TSan build under a load of 20 dropped o first). */
    struct server s;
    server_start(&s, config(16, 256, 4096, 800), 0);
    struct client *c = client_join(&s);
    struct client *o = client_join(&s);
    wb_sleep_ms(100);
    int64_t said_at = wb_now_ns();
    client_say(c, "just once\n");
    expect_line(o, said(c->id, "just once"), 1000, "");
    expect_notice(c, CHAT_IDLE, 2500,
                  " (it said one line, then nothing: idle_ms = 800 ms after "
                  "that line it is idle; the idle timer must be set again "
                  "when it finds the client spoke meanwhile)");
    int64_t after = wb_now_ns() - said_at;
    WB_EXPECT(after >= 795 * MS,
              "client %ld was dropped as idle %lld ms after its last line; "
              "idle_ms is 800: the idle time counts from the last complete "
              "line",
              c->id, (long long)(after / MS));
    /* When its first timer runs, 800 ms after it came, it spoke 700 ms
     * ago: 100 ms are left. A timer set again for idle_ms plus the time
     * it was quiet (1,500 ms) would drop it 2,200 ms after its line. */
    WB_EXPECT(after < 1400 * MS,
              "client %ld was dropped as idle %lld ms after its last line; "
              "idle_ms is 800: when the idle timer finds that the client "
              "spoke since it was set, it is set again for the time left "
              "(idle_ms minus the time since that line), no more",
              c->id, (long long)(after / MS));
    expect_closed(c, 1000, "");
    server_stop(&s);
    client_free(c);
    client_free(o);
}
END_TEST

/* A queue forms for a client that reads late (small socket buffers),
 * then it reads everything: every line arrives whole and in order (sends
 * are partial: what the socket did not take stays queued), and once the
 * queue is empty the server sleeps again (no LOOP_WRITE left). */
START_TEST(test_late_reader_gets_every_line)
{
    WB_PROMISE("slow-reader");
    enum { LINES = 300, LEN = 200 };
    struct server s;
    server_start(&s, config(16, 256, 128 * 1024, 10000), 4096);
    struct client *late = client_connect(&s, 4096);
    client_welcome(late, 1000);
    struct client *from = client_join(&s);
    char text[LEN + 2];
    for (int i = 0; i < LINES; i++) {
        memset(text, 'a' + i % 26, LEN);
        snprintf(text, 12, "line %04u ", (unsigned)i % 10000u);
        text[10] = '.';
        text[LEN] = '\n';
        client_send(from, text, LEN + 1);
    }
    wb_sleep_ms(50);
    char want[LEN + 40];
    for (int i = 0; i < LINES; i++) {
        int head = snprintf(want, sizeof want, "%ld: ", from->id);
        memset(want + head, 'a' + i % 26, LEN);
        snprintf(want + head, 12, "line %04u ", (unsigned)i % 10000u);
        want[head + 10] = '.';
        expect_line_n(late, want, (size_t)head + LEN, 1000,
                      fmt(" (line %d of %d: client %ld read only after all "
                          "were sent, and its queue of 128 KiB holds them "
                          "all; what send() did not take must stay queued, "
                          "whole)",
                          i + 1, LINES, late->id));
    }
    WB_PROMISE("no-spin");
    wb_sleep_ms(20);
    struct effort e = effort_now(&s);
    wb_sleep_ms(200);
    e = effort_since(&s, e);
    WB_EXPECT(!spun(e),
              "a queue formed for a client and was sent; then, with "
              "nothing to send for %lld ms, the server called select() %ld "
              "times and used %.1f ms of CPU time. Stop watching for "
              "LOOP_WRITE once the queue is empty",
              (long long)(e.wall / MS), e.selects, (double)e.cpu / MS);
    server_stop(&s);
    client_free(late);
    client_free(from);
}
END_TEST

/* chat_stop() while accepting is paused (accept() failed with EMFILE):
 * the pause's timer goes too, and loop_run() returns. */
START_TEST(test_stop_while_accept_paused)
{
    WB_PROMISE("stop");
    struct server s;
    server_start(&s, usual(), 0);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(fd, 0);
    struct rlimit old, low;
    ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &old), 0);
    int lowest = dup(0);
    ck_assert_int_ge(lowest, 0);
    close(lowest);
    low = old;
    low.rlim_cur = (rlim_t)lowest;
    ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &low), 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons((uint16_t)s.port);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    wb_sleep_ms(30); /* accept() failed: the server paused accepting */
    server_stop(&s); /* fails unless loop_run() returned by itself */
    setrlimit(RLIMIT_NOFILE, &old);
    close(fd);
}
END_TEST

/* make check CHAPTER=4 EXERCISE=chat TRACE=1 draws the server's
 * callbacks during this test: short reads and writes, one client's
 * queue filling, never a long bar (unless the server blocks). */
const char *const wb_trace_test = "test_slow_reader_does_not_stall_others";

/* A client that sends at once: Nagle's algorithm off on its side, so
 * any wait left is the server's. */
static struct client *client_join_nodelay(const struct server *s)
{
    struct client *c = client_join(s);
    int one = 1;
    ck_assert_int_eq(
        setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one), 0);
    return c;
}

START_TEST(test_relay_without_delay)
{
    WB_PROMISE("no-delay");
    enum { ROUNDS = 100, TALKERS = 3 };
    struct server s;
    server_start(&s, usual(), 0);
    struct client *c[TALKERS];
    for (int i = 0; i < TALKERS; i++)
        c[i] = client_join_nodelay(&s);
    /* A conversation: in each round every client says a line, then reads
     * the other two. The server sends each client two small writes in a
     * row, and the clients, which talk as well as listen, delay their
     * acknowledgements: Nagle's algorithm would hold the second write
     * until the first is acknowledged. */
    int64_t t0 = wb_now_ns(), limit = 1500 * MS;
    int rounds = 0;
    while (rounds < ROUNDS && wb_now_ns() - t0 < limit) {
        for (int i = 0; i < TALKERS; i++)
            client_say(c[i], fmt("round %d\n", rounds));
        for (int i = 0; i < TALKERS; i++)
            for (int k = 0; k < TALKERS - 1; k++) {
                char line[512];
                size_t len = 0;
                int err = 0, r;
                long from = 0;
                int n = -1;
                r = client_read(c[i], line, sizeof line, &len, 1000, &err);
                WB_EXPECT(r == GOT_LINE &&
                              sscanf(line, "%ld: round %d", &from, &n) == 2 &&
                              n == rounds && from != c[i]->id,
                          "in round %d, client %ld should get the line "
                          "\"N: round %d\" of another client within "
                          "1000 ms; got %s",
                          rounds, c[i]->id, rounds, outcome(r, err, line, len));
            }
        rounds++;
    }
    double ms = (double)(wb_now_ns() - t0) / 1e6;
    WB_EXPECT(rounds == ROUNDS,
              "%d rounds of %d clients talking (each says a line, then "
              "reads the others') should take well under a second (a "
              "fraction of a millisecond each on loopback); only %d were "
              "done in %.0f ms (%.1f ms each): is every second small write "
              "to a client waiting for its delayed acknowledgement? Set "
              "TCP_NODELAY on the client sockets",
              ROUNDS, TALKERS, rounds, ms, ms / (rounds > 0 ? rounds : 1));
    server_stop(&s);
    for (int i = 0; i < TALKERS; i++)
        client_free(c[i]);
}
END_TEST

/* The least each rule of chat_config allows is allowed; descriptor 0 is
 * a listening descriptor like any other; a max_line whose
 * max_line + CHAT_OVERHEAD does not fit in a size_t is refused. */
START_TEST(test_config_bounds)
{
    WB_PROMISE("config");
    loop *l = loop_new();
    ck_assert_msg(l != NULL, "loop_new() failed");
    int lfd = listen_socket(0, NULL);
    chat_config least = config(1, 1, 1 + CHAT_OVERHEAD, 1);
    chat *c = chat_start(l, lfd, &least);
    WB_EXPECT(c != NULL,
              "chat_start() with max_clients 1, max_line 1, max_queue "
              "max_line + CHAT_OVERHEAD and idle_ms 1 (the least each rule "
              "allows) should return a server; got NULL%s",
              wb_errno_note(-1));
    chat_stop(c);

    int saved = dup(0);
    ck_assert_int_eq(dup2(lfd, 0), 0);
    chat_config ok = usual();
    errno = 0;
    c = chat_start(l, 0, &ok);
    int err = errno;
    WB_EXPECT(c != NULL,
              "chat_start() with a listening socket on descriptor 0 should "
              "return a server (0 is a descriptor like any other; only a "
              "negative one is refused); got NULL (%s)",
              wb_errname(err));
    chat_stop(c);
    if (saved >= 0) {
        ck_assert_int_eq(dup2(saved, 0), 0);
        close(saved);
    } else {
        close(0);
    }

    chat_config huge = config(16, SIZE_MAX - CHAT_OVERHEAD + 1, SIZE_MAX, 1);
    expect_refused(l, lfd, &huge,
                   "max_line SIZE_MAX - CHAT_OVERHEAD + 1 (no max_queue can "
                   "be max_line + CHAT_OVERHEAD: the sum does not fit in a "
                   "size_t)");
    WB_PROMISE("stop");
    int64_t t0 = wb_now_ns();
    int rc = loop_run(l);
    WB_EXPECT(rc == 0 && wb_now_ns() - t0 < 500 * MS,
              "after two servers were started and stopped, nothing should "
              "be left on the loop, so loop_run() returns 0 at once; it "
              "returned %d after %lld ms",
              rc, (long long)((wb_now_ns() - t0) / MS));
    loop_free(l);
    close(lfd);
}
END_TEST

/* chat_start() with each of its allocations failing in turn. */
START_TEST(test_start_without_memory)
{
    WB_PROMISE("no-memory");
    loop *l = loop_new();
    ck_assert_msg(l != NULL, "loop_new() failed");
    int lfd = listen_socket(0, NULL);
    chat_config ok = usual();
    chat *c = NULL;
    int n;
    for (n = 1; n <= 20 && c == NULL; n++) {
        wb_alloc_fail(n);
        errno = 0;
        c = chat_start(l, lfd, &ok);
        int err = errno, calls = wb_alloc_calls();
        wb_alloc_fail(0);
        if (c != NULL) {
            WB_EXPECT(calls < n,
                      "chat_start() with its allocation %d failing (NULL, "
                      "ENOMEM) returned a server: it should return NULL "
                      "with ENOMEM",
                      n);
            break;
        }
        WB_EXPECT(err == ENOMEM,
                  "chat_start() with its allocation %d failing should "
                  "return NULL with ENOMEM; got NULL (%s)",
                  n, wb_errname(err));
        size_t bytes = 0, blocks = wb_alloc_live(&bytes);
        WB_EXPECT(blocks == 0,
                  "chat_start() failed for lack of memory (its allocation "
                  "%d) and left %zu blocks (%zu bytes) allocated: a failed "
                  "call frees what it allocated",
                  n, blocks, bytes);
    }
    WB_EXPECT(c != NULL, "chat_start() should succeed once no allocation "
                         "fails; got NULL after 20 tries");
    chat_stop(c);
    int64_t t0 = wb_now_ns();
    int rc = loop_run(l);
    WB_EXPECT(rc == 0 && wb_now_ns() - t0 < 500 * MS,
              "the chat_start() calls that failed for lack of memory, and "
              "a chat_stop(), should leave nothing on the loop, so "
              "loop_run() returns 0 at once; it returned %d after %lld ms",
              rc, (long long)((wb_now_ns() - t0) / MS));
    loop_free(l);
    close(lfd);
}
END_TEST

/* What a refused connection gets: at most the line CHAT_FULL (no
 * welcome), then the end of the connection. @p r, @p line, @p len and
 * @p err: what the first client_read() of @p d gave. */
static void expect_rest_turned_away(struct client *d, int r, char *line,
                                    size_t len, int err, long ms,
                                    const char *why)
{
    if (r == GOT_LINE && len == strlen(CHAT_FULL) - 1 &&
        memcmp(line, CHAT_FULL, len) == 0)
        r = client_read(d, line, 512, &len, ms, &err);
    WB_EXPECT(r == GOT_EOF || r == GOT_ERROR,
              "a connection should be closed (after at most %s, never a "
              "welcome) within %ld ms; got %s%s",
              show(CHAT_FULL, strlen(CHAT_FULL) - 1), ms,
              outcome(r, err, line, len), why);
}

static void expect_turned_away(struct client *d, long ms, const char *why)
{
    char line[512];
    size_t len = 0;
    int err = 0;
    int r = client_read(d, line, sizeof line, &len, ms, &err);
    expect_rest_turned_away(d, r, line, len, err, ms, why);
}

/* After connections were turned away for lack of memory, with client
 * @p a the only one left: the server counts 1 and serves a new client.
 * Stops the server. */
static void expect_serving_on(struct server *s, struct client *a)
{
    size_t now = clients_become(s, 1, 1000);
    WB_EXPECT(now == 1,
              "connections were turned away for lack of memory (and those "
              "welcomed left), with one client staying: chat_clients() "
              "should say 1; it says %zu",
              now);
    struct client *e = client_join(s);
    client_say(e, "after\n");
    expect_line(a, said(e->id, "after"), 1000,
                " (the server goes on after turning connections away for "
                "lack of memory)");
    server_stop(s);
    client_free(e);
}

/* New connections with the server's first, then its second allocation
 * for them failing. */
START_TEST(test_admit_without_memory)
{
    WB_PROMISE("no-memory");
    struct server s;
    server_start(&s, usual(), 0);
    struct client *a = client_join(&s);
    for (int n = 1; n <= 2; n++) {
        wb_alloc_fail(n);
        struct client *d = client_connect(&s, 0);
        expect_turned_away(d, 1000,
                           fmt(" (the server's allocation %d for the new "
                               "connection failed: it cannot serve it)",
                               n));
        wb_alloc_fail(0);
        client_free(d);
    }
    expect_serving_on(&s, a);
    client_free(a);
}
END_TEST

/* New connections with the first, second, ... allocation of a building
 * block under the server failing (its linebuf, its loop's timers:
 * tests/support/alloc.c), until a connection makes fewer: each is turned
 * away, or welcomed and served. */
START_TEST(test_admit_without_block_memory)
{
    WB_PROMISE("no-memory");
    struct server s;
    server_start(&s, config(16, 256, 4096, 400), 0);
    for (int n = 1; n <= 16; n++) {
        wb_block_alloc_fail(n);
        struct client *d = client_connect(&s, 0);
        char line[512];
        size_t len = 0;
        int err = 0;
        int r = client_read(d, line, sizeof line, &len, 1000, &err);
        int calls = wb_block_alloc_calls();
        wb_block_alloc_fail(0);
        if (r == GOT_LINE && strncmp(line, "welcome ", 8) == 0) {
            /* Welcomed: a client like any other, dropped when idle. */
            expect_notice(d, CHAT_IDLE, 2000,
                          fmt(" (idle_ms is 400; it was welcomed while the "
                              "allocation %d of a building block under the "
                              "server failed: a client the server welcomes "
                              "has an idle timer like any other)",
                              n));
            client_free(d);
            if (calls < n)
                break; /* no allocation failed */
            continue;
        }
        expect_rest_turned_away(
            d, r, line, len, err, 1000,
            fmt(" (the allocation %d of a building block under the server, "
                "its linebuf's or its loop's, failed: the server should "
                "turn the connection away, or welcome and serve it)",
                n));
        client_free(d);
    }
    struct client *a = client_join(&s);
    expect_serving_on(&s, a);
    client_free(a);
}
END_TEST

/* A client spoke, so its idle timer, when it runs, must be set again for
 * the time left; the loop has no memory for it then. */
START_TEST(test_idle_timer_not_set_again)
{
    WB_PROMISE("no-memory");
    struct server s;
    /* The test's own timer is the loop's first (its id may be 1): a
     * server that cancels a timer it does not own stops it. */
    server_start_after_timer(&s, config(16, 256, 4096, 400), 1200);
    struct client *o = client_join(&s);
    struct client *c = client_join(&s);
    wb_sleep_ms(100);
    client_say(c, "once\n");
    expect_line(o, said(c->id, "once"), 1000, "");
    /* The server has read the line: what the loop allocates next is
     * for the timers (o's runs first, and drops it). */
    wb_block_alloc_fail(1);
    char line[512];
    size_t len = 0;
    int err = 0, r;
    while ((r = client_read(c, line, sizeof line, &len, 2500, &err)) ==
               GOT_LINE &&
           len == strlen(CHAT_IDLE) - 1 && memcmp(line, CHAT_IDLE, len) == 0)
        continue;
    wb_block_alloc_fail(0);
    WB_EXPECT(r == GOT_EOF || r == GOT_ERROR,
              "client %ld spoke once, then its idle timer could not be set "
              "again for the time left (the loop had no memory): it should "
              "be disconnected (after at most %s) within 2500 ms of its "
              "line; got %s",
              c->id, show(CHAT_IDLE, strlen(CHAT_IDLE) - 1),
              outcome(r, err, line, len));
    expect_notice(o, CHAT_IDLE, 1000, "");
    WB_PROMISE("shared-loop");
    WB_EXPECT(readable_within(s.rang[0], 2000),
              "the test's own timer of 1,200 ms, on the same loop, did not "
              "run within 2 s of the server dropping a client whose idle "
              "timer could not be set again: the server may cancel only "
              "its own timers");
    WB_PROMISE("no-memory");
    size_t now = clients_become(&s, 0, 1000);
    WB_EXPECT(now == 0,
              "both clients were disconnected: chat_clients() should say "
              "0; it says %zu",
              now);
    struct client *e = client_join(&s);
    struct client *f = client_join(&s);
    client_say(e, "after\n");
    expect_line(f, said(e->id, "after"), 1000,
                " (the server goes on after a client's idle timer could not "
                "be set again)");
    server_stop(&s);
    client_free(o);
    client_free(c);
    client_free(e);
    client_free(f);
}
END_TEST

/* A client's queue must grow for a long message, and cannot. */
START_TEST(test_queue_cannot_grow)
{
    WB_PROMISE("no-memory");
    struct server s;
    server_start(&s, usual(), 0);
    struct client *a = client_join(&s);
    struct client *b = client_join(&s);
    struct client *c = client_join(&s);
    char text[260];
    memset(text, 'q', 256);
    text[256] = '\n';
    /* The message to b is the first allocation after this: no queue
     * holds 256 bytes and more yet. */
    wb_alloc_fail(1);
    client_send(a, text, 257);
    char want[300];
    int head = snprintf(want, sizeof want, "%ld: ", a->id);
    memset(want + head, 'q', 256);
    expect_line_n(c, want, (size_t)head + 256, 1000,
                  " (client 2's queue could not grow; client 3's could)");
    wb_alloc_fail(0);
    expect_closed(b, 1000,
                  " (its queue could not grow for a message: it cannot be "
                  "served, and is disconnected like a client whose queue "
                  "is full)");
    client_say(a, "after\n");
    expect_line(c, said(a->id, "after"), 1000, "");
    size_t now = clients_become(&s, 2, 1000);
    WB_EXPECT(now == 2,
              "one of 3 clients was disconnected: chat_clients() should "
              "say 2; it says %zu",
              now);
    server_stop(&s);
    client_free(a);
    client_free(b);
    client_free(c);
}
END_TEST

/* The server's end of client @p c's connection: the descriptor of this
 * process whose peer is @p c's own end. */
static int server_fd_of(const struct client *c)
{
    struct sockaddr_in mine, peer;
    socklen_t n = sizeof mine;
    ck_assert_int_eq(getsockname(c->fd, (struct sockaddr *)&mine, &n), 0);
    for (int fd = 0; fd < FD_SETSIZE; fd++) {
        n = sizeof peer;
        if (fd != c->fd && getpeername(fd, (struct sockaddr *)&peer, &n) == 0 &&
            peer.sin_family == AF_INET && peer.sin_port == mine.sin_port)
            return fd;
    }
    ck_abort_msg("the server's end of client %ld's connection was not found",
                 c->id);
    return -1;
}

/* Every send() of the server takes one byte at a time
 * (tests/support/wrap.c): what it did not take waits in the queue, and
 * every welcome, line and notice still arrives whole. */
START_TEST(test_sends_of_one_byte)
{
    WB_PROMISE("slow-reader");
    struct server s;
    server_start(&s, config(16, 64, 4096, 5000), 0);
    wb_wrap_send_limit(-1, 1);
    struct client *a = client_join(&s);
    struct client *b = client_join(&s);
    client_say(a, "one byte at a time\n");
    expect_line(b, said(a->id, "one byte at a time"), 1000,
                " (every send() of the server took 1 byte: the rest of a "
                "message waits in the queue until the socket is writable)");
    client_say(b, "first\nsecond\n");
    expect_line(a, said(b->id, "first"), 1000, " (sends of 1 byte)");
    expect_line(a, said(b->id, "second"), 1000, " (sends of 1 byte)");
    WB_PROMISE("too-long");
    char line[70];
    memset(line, 'x', 65);
    line[65] = '\n';
    client_send(a, line, 66);
    expect_notice(a, CHAT_TOO_LONG, 1000,
                  " (max_line is 64; every send() of the server took 1 "
                  "byte: the notice must still arrive whole)");
    expect_closed(a, 1000, "");
    wb_wrap_send_limit(-1, -1);
    server_stop(&s);
    client_free(a);
    client_free(b);
}
END_TEST

/* Client b's socket takes nothing (its send() fails with EAGAIN,
 * tests/support/wrap.c) while lines for it fill its queue to exactly
 * max_queue bytes: b stays, and gets them all once it can; one byte more
 * and it is disconnected. */
START_TEST(test_queue_exactly_full)
{
    WB_PROMISE("slow-reader");
    struct server s;
    server_start(&s, config(16, 256, 4096, 5000), 0);
    struct client *a = client_join(&s);
    struct client *b = client_join(&s);
    struct client *c = client_join(&s);
    int bfd = server_fd_of(b);
    enum { MSG = 64, LINES = 4096 / MSG };
    char text[MSG];
    int head = snprintf(text, sizeof text, "%ld: ", a->id);
    size_t body = MSG - (size_t)head - 1; /* the message: head, body, \n */
    for (int round = 0; round < 2; round++) {
        wb_wrap_send_limit(bfd, 0);
        for (int i = 0; i < LINES; i++) {
            char line[MSG + 1];
            memset(line, 'a' + (i % 26), body);
            line[body] = '\n';
            client_send(a, line, body + 1);
        }
        for (int i = 0; i < LINES; i++) {
            memset(text + head, 'a' + (i % 26), body);
            expect_line_n(c, text, MSG - 1, 1000, "");
        }
        if (round == 1) {
            /* Full to the byte: one more line does not fit. */
            client_say(a, "x\n");
            expect_line(c, said(a->id, "x"), 1000, "");
            wb_wrap_send_limit(-1, -1);
            expect_closed(b, 1000,
                          " (its queue held max_queue = 4,096 bytes it "
                          "could not send, and one more line came for it)");
            break;
        }
        wb_wrap_send_limit(-1, -1);
        for (int i = 0; i < LINES; i++) {
            memset(text + head, 'a' + (i % 26), body);
            expect_line_n(b, text, MSG - 1, 1000,
                          " (its queue held exactly max_queue = 4,096 bytes "
                          "while its socket took nothing: every line fits, "
                          "and it stays connected)");
        }
    }
    server_stop(&s);
    client_free(a);
    client_free(b);
    client_free(c);
}
END_TEST

/* chat_clients() follows clients coming and going. */
START_TEST(test_clients_counted)
{
    WB_PROMISE("count");
    WB_EXPECT(chat_clients(NULL) == 0,
              "chat_clients(NULL) should be 0; got %zu", chat_clients(NULL));
    struct server s;
    server_start(&s, config(3, 256, 4096, 10000), 0);
    size_t now = server_clients(&s);
    WB_EXPECT(now == 0, "a new server should count 0 clients; got %zu", now);
    struct client *a = client_join(&s);
    struct client *b = client_join(&s);
    struct client *c = client_join(&s);
    now = server_clients(&s);
    WB_EXPECT(now == 3,
              "3 clients were welcomed: chat_clients() should say 3; it "
              "says %zu",
              now);
    struct client *d = client_connect(&s, 0);
    expect_notice(d, CHAT_FULL, 1000, " (max_clients = 3 are connected)");
    expect_closed(d, 1000, "");
    client_free(d);
    now = server_clients(&s);
    WB_EXPECT(now == 3,
              "a connection refused (server full) is no client: "
              "chat_clients() should still say 3; it says %zu",
              now);
    client_free(b);
    now = clients_become(&s, 2, 1000);
    WB_EXPECT(now == 2,
              "one of 3 clients closed its connection: chat_clients() "
              "should say 2 within 1 s; it says %zu",
              now);
    struct client *e = client_join(&s);
    now = server_clients(&s);
    WB_EXPECT(now == 3,
              "a client left and another came: chat_clients() should say "
              "3; it says %zu",
              now);
    server_stop(&s);
    client_free(a);
    client_free(c);
    client_free(e);
}
END_TEST

/* A reader that takes its lines a few at a time while more keep coming:
 * its queue is sent in parts and added to in between, and every line
 * still arrives whole and in order. */
START_TEST(test_reader_in_bursts_gets_every_line)
{
    WB_PROMISE("slow-reader");
    enum { ROUNDS = 6, BATCH = 100, READ = 50, LEN = 200 };
    struct server s;
    /* At most 350 messages of 204 bytes (71,400 bytes) are ever unread:
     * the queue never holds more, and stays within 72 KiB. */
    server_start(&s, config(16, 256, 72 * 1024, 10000), 4096);
    struct client *late = client_connect(&s, 4096);
    client_welcome(late, 1000);
    struct client *from = client_join(&s);
    char text[LEN + 2], want[LEN + 40];
    int sent = 0, got = 0;
    for (int round = 0; round <= ROUNDS; round++) {
        for (int i = 0; round < ROUNDS && i < BATCH; i++, sent++) {
            memset(text, 'a' + sent % 26, LEN);
            snprintf(text, 12, "line %04d ", sent % 10000);
            text[10] = '.';
            text[LEN] = '\n';
            client_send(from, text, LEN + 1);
        }
        int upto = round < ROUNDS ? got + READ : sent;
        for (; got < upto; got++) {
            int head = snprintf(want, sizeof want, "%ld: ", from->id);
            memset(want + head, 'a' + got % 26, LEN);
            snprintf(want + head, 12, "line %04d ", got % 10000);
            want[head + 10] = '.';
            expect_line_n(late, want, (size_t)head + LEN, 1000,
                          fmt(" (line %d of %d: client %ld reads %d lines "
                              "after every %d sent; its queue of 72 KiB "
                              "holds them all: what send() did not take "
                              "stays queued, whole and in order, while "
                              "new lines join it)",
                              got + 1, ROUNDS * BATCH, late->id, READ, BATCH));
        }
    }
    server_stop(&s);
    client_free(late);
    client_free(from);
}
END_TEST

/* The very first connection comes when the loop cannot watch it: the
 * idle timer the server may have set for it (the loop's first timer) goes
 * with it, or loop_run() would not return after chat_stop(). */
START_TEST(test_loop_refuses_first_connection)
{
    WB_PROMISE("loop-limit");
    struct server s;
    server_start(&s, usual(), 0);
    fdlimit_only_high();
    struct client *d = client_connect(&s, 0);
    expect_notice(d, CHAT_FULL, 1000,
                  " (the server's socket for this connection was above "
                  "FD_SETSIZE: loop_watch() refused it)");
    expect_closed(d, 1000, " (a refused connection is closed)");
    fdlimit_restore();
    client_free(d);
    server_stop(&s); /* fails unless loop_run() returned by itself */
}
END_TEST

/* A client whose socket on the server's side is descriptor 0 is served
 * like any other. */
START_TEST(test_client_on_descriptor_0)
{
    WB_PROMISE("welcome");
    struct server s;
    server_start(&s, usual(), 0);
    struct client *a = calloc(1, sizeof *a);
    ck_assert_msg(a != NULL, "out of memory");
    a->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(a->fd, 0);
    /* Descriptor 0 free: accept() returns the lowest free number. */
    int saved = fcntl(0, F_DUPFD_CLOEXEC, 3);
    close(0);
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons((uint16_t)s.port);
    ck_assert_int_eq(connect(a->fd, (struct sockaddr *)&addr, sizeof addr), 0);
    client_welcome(a, 1000);
    struct client *b = client_join(&s);
    client_say(a, "from zero\n");
    expect_line(b, said(a->id, "from zero"), 1000,
                " (the server's socket for client 1 is descriptor 0, which "
                "accept() may return like any other)");
    client_say(b, "to zero\n");
    expect_line(a, said(b->id, "to zero"), 1000, "");
    server_stop(&s);
    client_free(a);
    client_free(b);
    if (saved >= 0) {
        ck_assert_int_eq(dup2(saved, 0), 0);
        close(saved);
    }
}
END_TEST

/* Line @p i of 200 bytes ("0042 zzz..."), as relayed from client @p id,
 * in @p want (240 bytes); returns its length. */
static size_t numbered(char *want, long id, int i)
{
    int head = snprintf(want, 240, "%ld: %04d ", id, i % 10000);
    memset(want + head, 'z', (size_t)(200 - 5));
    want[head + 195] = '\0';
    return (size_t)head + 195;
}

/* Client `from` says @p lines numbered lines of 200 bytes; client `to`
 * reads them all, so they have been relayed to `slow` too, which reads
 * nothing: its socket is full and the rest waits in its queue. */
static void fill_slow_client(struct client *from, struct client *to, int lines)
{
    char want[240];
    for (int i = 0; i < lines; i++) {
        size_t n = numbered(want, from->id, i);
        size_t head = (size_t)(strchr(want, ' ') + 1 - want);
        want[n] = '\n';
        client_send(from, want + head, n + 1 - head);
    }
    for (int i = 0; i < lines; i++) {
        size_t n = numbered(want, from->id, i);
        expect_line_n(to, want, n, 1000, fmt(" (line %d of %d)", i + 1, lines));
    }
}

/* A client whose socket is full and whose queue holds lines sends a line
 * too long: its notice cannot be sent now, and the server must not wait
 * (or try again and again) to send it. */
START_TEST(test_too_long_with_full_socket)
{
    WB_PROMISE("too-long");
    enum { LINES = 300 };
    struct server s;
    server_start(&s, config(16, 256, 128 * 1024, 10000), 4096);
    struct client *slow = client_connect(&s, 4096);
    client_welcome(slow, 1000);
    struct client *a = client_join(&s);
    struct client *b = client_join(&s);
    fill_slow_client(a, b, LINES);
    char line[300];
    memset(line, 'x', 299);
    line[299] = '\n';
    client_send(slow, line, 300);
    client_say(a, "after\n");
    expect_line(b, said(a->id, "after"), 1000,
                fmt(" (client %ld, whose socket is full, sent a line too "
                    "long: its notice waits, or is dropped, but the server "
                    "must not block or spin on it)",
                    slow->id));
    /* It gets the lines that fitted, perhaps the notice, then the end. */
    char got[512];
    size_t len = 0;
    int err = 0, r, lines = 0;
    long from;
    char colon;
    while ((r = client_read(slow, got, sizeof got, &len, 1000, &err)) ==
               GOT_LINE &&
           sscanf(got, "%ld%c", &from, &colon) == 2 && colon == ':')
        lines++;
    if (r == GOT_LINE && len == strlen(CHAT_TOO_LONG) - 1 &&
        memcmp(got, CHAT_TOO_LONG, len) == 0)
        r = client_read(slow, got, sizeof got, &len, 1000, &err);
    WB_EXPECT(r == GOT_EOF || r == GOT_ERROR,
              "client %ld sent a line too long: after the %d lines it got, "
              "and %s or not, it should be disconnected; got %s",
              slow->id, lines, show(CHAT_TOO_LONG, strlen(CHAT_TOO_LONG) - 1),
              outcome(r, err, got, len));
    server_stop(&s);
    client_free(slow);
    client_free(a);
    client_free(b);
}
END_TEST

/* A client with lines waiting in its queue (its socket full) resets its
 * connection: the server finds the reset when it sends, and cleans up. */
START_TEST(test_reset_with_queue)
{
    WB_PROMISE("gone");
    enum { LINES = 300 };
    struct server s;
    server_start(&s, config(16, 256, 128 * 1024, 10000), 4096);
    struct client *slow = client_connect(&s, 4096);
    client_welcome(slow, 1000);
    struct client *a = client_join(&s);
    struct client *b = client_join(&s);
    fill_slow_client(a, b, LINES);
    int before = wb_count_fds();
    client_reset(slow);
    int now = fds_down_to(before - 2, 1000);
    WB_EXPECT(now <= before - 2,
              "a client whose queue held lines (its socket full) reset its "
              "connection: the server should close its socket (%d "
              "descriptors open, expected %d)",
              now, before - 2);
    client_say(a, "after\n");
    expect_line(b, said(a->id, "after"), 1000,
                " (the server goes on after a client reset with lines "
                "waiting for it)");
    server_stop(&s);
    client_free(a);
    client_free(b);
}
END_TEST

/* The test's own timer on the server's loop (the loop's first one, id
 * 1) still runs after the server dropped an idle client. */
START_TEST(test_shared_loop_timer_kept)
{
    WB_PROMISE("shared-loop");
    struct server s;
    server_start_after_timer(&s, config(16, 256, 4096, 100), 400);
    struct client *c = client_join(&s);
    expect_notice(c, CHAT_IDLE, 1000, " (idle_ms is 100)");
    expect_closed(c, 1000, "");
    WB_EXPECT(readable_within(s.rang[0], 1500),
              "the test's own timer of 400 ms, on the same loop, did not "
              "run within 1.5 s after the server dropped an idle client: "
              "the server may cancel only its own timers");
    server_stop(&s);
    client_free(c);
}
END_TEST

/* A line of max_line bytes is relayed when max_line is large: 1 MiB,
 * with queues that start small. */
START_TEST(test_megabyte_line_relayed)
{
    WB_PROMISE("too-long");
    enum { BIG = 1 << 20 };
    struct server s;
    server_start(&s, config(16, BIG, BIG + 64, 10000), 0);
    struct client *a = client_join(&s);
    struct client *b = client_join(&s);
    char *line = malloc(BIG + 1);
    ck_assert_msg(line != NULL, "out of memory");
    for (size_t i = 0; i < BIG; i++)
        line[i] = (char)('a' + i % 23);
    line[BIG] = '\n';
    client_send(a, line, BIG + 1);
    /* Read the message: "1: ", the line, "\n". */
    char head[16];
    int hlen = snprintf(head, sizeof head, "%ld: ", a->id);
    size_t want = (size_t)hlen + BIG + 1, got = 0;
    char *buf = malloc(want);
    ck_assert_msg(buf != NULL, "out of memory");
    int64_t end = wb_now_ns() + 2000 * MS;
    while (got < want && wb_now_ns() < end) {
        if (!readable_within(b->fd, 100))
            continue;
        ssize_t n = recv(b->fd, buf + got, want - got, 0);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    size_t bad = 0;
    while (bad < got && bad < (size_t)hlen && buf[bad] == head[bad])
        bad++;
    if (bad == (size_t)hlen)
        while (bad < got && bad < want - 1 &&
               buf[bad] == line[bad - (size_t)hlen])
            bad++;
    if (bad == want - 1 && got == want && buf[bad] == '\n')
        bad++;
    WB_EXPECT(got == want && bad == want,
              "max_line is 1 MiB: client %ld sent a line of 1 MiB, and "
              "client %ld should get it whole (%zu bytes with \"%ld: \" and "
              "the newline); it got %zu bytes within 2 s, the first wrong "
              "one at byte %zu",
              a->id, b->id, want, a->id, got, bad);
    free(buf);
    free(line);
    server_stop(&s);
    client_free(a);
    client_free(b);
}
END_TEST

/* A client whose socket was full, with lines queued, sends a line too
 * long and reads at once: in the same iteration of the loop, its socket
 * has room again by the time the server disconnects it. Whatever the
 * server sends it then is the rest of its lines, in order, and the
 * notice. The loop is stalled (a callback that blocks) between select()
 * and the server's callback for the client, while the client reads. */
START_TEST(test_too_long_after_reading)
{
    WB_PROMISE("too-long");
    enum { LINES = 300 };
    struct server s;
    server_start(&s, config(16, 256, 128 * 1024, 10000), 4096);
    struct client *slow = client_connect(&s, 4096);
    client_welcome(slow, 1000);
    struct client *a = client_join(&s);
    struct client *b = client_join(&s);
    fill_slow_client(a, b, LINES);
    char want[240];
    size_t wlen;
    /* It reads a few lines: the server sends part of its queue, and its
     * socket is full again. */
    for (int i = 0; i < 60; i++) {
        wlen = numbered(want, a->id, i);
        expect_line_n(slow, want, wlen, 1000, "");
    }
    wb_sleep_ms(50);
    server_stall(&s);
    char line[300];
    memset(line, 'x', 299);
    line[299] = '\n';
    client_send(slow, line, 300);
    wb_sleep_ms(10);
    /* A second stall: in the next iteration, select() reports the stall
     * pipe (a lower descriptor, served first) and the slow client's
     * line. */
    ck_assert_int_eq(write(s.stall[1], "s", 1), 1);
    server_release(&s);
    WB_EXPECT(readable_within(s.stalled[0], 1000),
              "the test could not stall the server's loop a second time");
    char c1;
    ck_assert_int_eq(read(s.stalled[0], &c1, 1), 1);
    /* Read everything that is there: the server's socket empties. */
    int lines = 60;
    char got[512];
    size_t len = 0;
    int err = 0, r;
    while ((r = client_read(slow, got, sizeof got, &len, 100, &err)) ==
           GOT_LINE) {
        wlen = numbered(want, a->id, lines);
        WB_EXPECT(len == wlen && memcmp(got, want, wlen) == 0,
                  "client %ld should get lines %s; line %d was %s", slow->id,
                  show(want, wlen), lines + 1, show(got, len));
        lines++;
    }
    server_release(&s);
    /* Then the server disconnects it: the rest of its queue, perhaps the
     * notice, the end. */
    while ((r = client_read(slow, got, sizeof got, &len, 1000, &err)) ==
               GOT_LINE &&
           len == (wlen = numbered(want, a->id, lines)) &&
           memcmp(got, want, wlen) == 0)
        lines++;
    if (r == GOT_LINE && len == strlen(CHAT_TOO_LONG) - 1 &&
        memcmp(got, CHAT_TOO_LONG, len) == 0)
        r = client_read(slow, got, sizeof got, &len, 1000, &err);
    WB_EXPECT(r == GOT_EOF || r == GOT_ERROR,
              "client %ld sent a line too long: after %d whole lines %s, "
              "and %s or not, it should be disconnected; got %s (what the "
              "server sends last is what was queued, from where its last "
              "send() stopped, then the notice)",
              slow->id, lines, show(want, wlen),
              show(CHAT_TOO_LONG, strlen(CHAT_TOO_LONG) - 1),
              outcome(r, err, got, len));
    server_stop(&s);
    client_free(slow);
    client_free(a);
    client_free(b);
}
END_TEST

/* Read the lines @p want (of @p wlen bytes) that arrive within @p ms of
 * each other; stop after the line CHAT_TOO_LONG (*notice becomes 1) and
 * fail on any other line, or on more than @p max lines. Returns how many
 * lines @p want came. */
static int read_lines_like(struct client *c, long from, int first, int max,
                           long ms, int *notice)
{
    char want[240];
    char got[512];
    size_t len = 0, nlen = strlen(CHAT_TOO_LONG) - 1;
    int err = 0, n = 0;
    while (!*notice &&
           client_read(c, got, sizeof got, &len, ms, &err) == GOT_LINE) {
        if (len == nlen && memcmp(got, CHAT_TOO_LONG, nlen) == 0) {
            *notice = 1;
            break;
        }
        size_t wlen = numbered(want, from, first + n);
        WB_EXPECT(len == wlen && memcmp(got, want, wlen) == 0,
                  "client %ld should get lines %s, then perhaps %s; got %s",
                  c->id, show(want, wlen), show(CHAT_TOO_LONG, nlen),
                  show(got, len));
        WB_EXPECT(n < max, "client %ld got more lines than were sent", c->id);
        n++;
    }
    return n;
}

/* As test_too_long_after_reading, with a short queue: when the server
 * disconnects the client, its socket has room for the rest of the queue
 * and the notice. The client gets every line, the notice, then the end,
 * and nothing else. */
START_TEST(test_too_long_notice_after_queue)
{
    WB_PROMISE("too-long");
    enum { LINES = 300 };
    struct server s;
    server_start(&s, config(16, 256, 128 * 1024, 10000), 4096);
    struct client *slow = client_connect(&s, 4096);
    client_welcome(slow, 1000);
    struct client *a = client_join(&s);
    struct client *b = client_join(&s);
    fill_slow_client(a, b, LINES);
    char want[240];
    size_t wlen = numbered(want, a->id, 0);
    int notice = 0;
    /* How much the sockets hold: what the client can read while the
     * server is stalled. */
    server_stall(&s);
    int lines = read_lines_like(slow, a->id, 0, LINES, 100, &notice);
    size_t held = (size_t)lines * (wlen + 1) + slow->len;
    server_release(&s);
    /* Read on until about half that much is left in the queue (the
     * sockets full again above it). */
    size_t total = (size_t)LINES * (wlen + 1);
    while (lines < LINES &&
           total - (size_t)lines * (wlen + 1) > held + held / 2) {
        wlen = numbered(want, a->id, lines);
        expect_line_n(slow, want, wlen, 1000, "");
        lines++;
    }
    wb_sleep_ms(50);
    server_stall(&s);
    char line[300];
    memset(line, 'x', 299);
    line[299] = '\n';
    client_send(slow, line, 300);
    wb_sleep_ms(10);
    ck_assert_int_eq(write(s.stall[1], "s", 1), 1);
    server_release(&s);
    WB_EXPECT(readable_within(s.stalled[0], 1000),
              "the test could not stall the server's loop a second time");
    char c1;
    ck_assert_int_eq(read(s.stalled[0], &c1, 1), 1);
    lines += read_lines_like(slow, a->id, lines, LINES - lines, 100, &notice);
    server_release(&s);
    lines += read_lines_like(slow, a->id, lines, LINES - lines, 1000, &notice);
    char got[512];
    size_t len = 0;
    int err = 0;
    int r = client_read(slow, got, sizeof got, &len, 1000, &err);
    WB_EXPECT((r == GOT_EOF || r == GOT_ERROR) && (!notice || slow->len == 0),
              "client %ld sent a line too long: after %d whole lines %s, "
              "and %s, it should be disconnected, with nothing after the "
              "notice; got %s (and %zu bytes without a newline)",
              slow->id, lines, show(want, numbered(want, a->id, lines)),
              notice ? fmt("the notice %s",
                           show(CHAT_TOO_LONG, strlen(CHAT_TOO_LONG) - 1))
                     : "no notice",
              outcome(r, err, got, len), slow->len);
    server_stop(&s);
    client_free(slow);
    client_free(a);
    client_free(b);
}
END_TEST

Suite *wb_suite(void)
{
    threadwatch_start_machinery();
    /* The reference loop records the server's callbacks for TRACE=1. */
    setenv("WB_TRACE_LOOP", "1", 1);
    Suite *s = wb_begin("chat", "chapters/04-select/chapter.md");
    WB_ADD(s, test_bad_config, "Serving many clients in one thread");
    WB_ADD_TIMEOUT(s, test_welcome_and_relay,
                   "Serving many clients in one thread", 5.0);
    WB_ADD_TIMEOUT(s, test_lines_in_pieces, "Framing lines on a byte stream",
                   5.0);
    WB_ADD_TIMEOUT(s, test_bytes_unchanged, "Framing lines on a byte stream",
                   5.0);
    WB_ADD_TIMEOUT(s, test_two_hundred_clients,
                   "Serving many clients in one thread", 10.0);
    WB_ADD_TIMEOUT(s, test_slow_reader_does_not_stall_others,
                   "Backpressure and clients that never read", 10.0);
    WB_ADD_TIMEOUT(s, test_line_too_long, "Framing lines on a byte stream",
                   5.0);
    WB_ADD_TIMEOUT(s, test_megabyte_line, "Framing lines on a byte stream",
                   5.0);
    WB_ADD_TIMEOUT(s, test_idle_client_dropped, "Timers in the loop", 5.0);
    WB_ADD_TIMEOUT(s, test_half_line_then_silence, "Timers in the loop", 5.0);
    WB_ADD_TIMEOUT(s, test_server_full, "Serving many clients in one thread",
                   5.0);
    WB_ADD_TIMEOUT(s, test_loop_refuses_client, "Descriptors past FD_SETSIZE",
                   5.0);
    WB_ADD_TIMEOUT(s, test_clients_that_vanish,
                   "Serving many clients in one thread", 5.0);
    WB_ADD_TIMEOUT(s, test_no_sigpipe, "SIGPIPE on a closed peer", 5.0);
    WB_ADD_TIMEOUT(s, test_idle_server_sleeps,
                   "Asking for write readiness all the time", 5.0);
    WB_ADD_TIMEOUT(s, test_accept_without_descriptors, "accept can fail", 5.0);
    WB_ADD_TIMEOUT(s, test_endless_line_does_not_stall_others,
                   "Framing lines on a byte stream", 5.0);
    WB_ADD_TIMEOUT(s, test_bytes_without_a_line_are_idle, "Timers in the loop",
                   5.0);
    WB_ADD_TIMEOUT(s, test_idle_counts_from_last_line, "Timers in the loop",
                   5.0);
    WB_ADD_TIMEOUT(s, test_late_reader_gets_every_line,
                   "Backpressure and clients that never read", 5.0);
    WB_ADD_TIMEOUT(s, test_stop_while_accept_paused, "accept can fail", 5.0);
    WB_ADD_TIMEOUT(s, test_stop_closes_clients,
                   "Serving many clients in one thread", 5.0);
    WB_ADD_TIMEOUT(s, test_relay_without_delay,
                   "Small writes and Nagle's algorithm", 5.0);
    WB_ADD(s, test_config_bounds, "Serving many clients in one thread");
    WB_ADD(s, test_start_without_memory, "Serving many clients in one thread");
    WB_ADD_TIMEOUT(s, test_admit_without_block_memory,
                   "Serving many clients in one thread", 5.0);
    WB_ADD_TIMEOUT(s, test_idle_timer_not_set_again, "Timers in the loop", 5.0);
    WB_ADD_TIMEOUT(s, test_sends_of_one_byte,
                   "Backpressure and clients that never read", 5.0);
    WB_ADD_TIMEOUT(s, test_queue_exactly_full,
                   "Backpressure and clients that never read", 5.0);
    WB_ADD_TIMEOUT(s, test_admit_without_memory,
                   "Serving many clients in one thread", 5.0);
    WB_ADD_TIMEOUT(s, test_queue_cannot_grow,
                   "Backpressure and clients that never read", 5.0);
    WB_ADD_TIMEOUT(s, test_clients_counted,
                   "Serving many clients in one thread", 5.0);
    WB_ADD_TIMEOUT(s, test_reader_in_bursts_gets_every_line,
                   "Backpressure and clients that never read", 5.0);
    WB_ADD_TIMEOUT(s, test_loop_refuses_first_connection,
                   "Descriptors past FD_SETSIZE", 5.0);
    WB_ADD_TIMEOUT(s, test_client_on_descriptor_0,
                   "Serving many clients in one thread", 5.0);
    WB_ADD_TIMEOUT(s, test_too_long_with_full_socket,
                   "Backpressure and clients that never read", 5.0);
    WB_ADD_TIMEOUT(s, test_reset_with_queue,
                   "Backpressure and clients that never read", 5.0);
    WB_ADD_TIMEOUT(s, test_shared_loop_timer_kept, "Timers in the loop", 5.0);
    WB_ADD_TIMEOUT(s, test_megabyte_line_relayed,
                   "Framing lines on a byte stream", 5.0);
    WB_ADD_TIMEOUT(s, test_too_long_after_reading,
                   "Backpressure and clients that never read", 5.0);
    WB_ADD_TIMEOUT(s, test_too_long_notice_after_queue,
                   "Backpressure and clients that never read", 5.0);
    return s;
}
