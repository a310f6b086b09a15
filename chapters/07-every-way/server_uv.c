/*
 * server_uv.c: chapter 7's key-value server (resp.h) on libuv, the loop
 * under Node.js. The loop is libuv's (epoll on Linux); the program is
 * its callbacks: on_connection, on_alloc and on_read, on_write, and
 * on_wake for the timer of a SLEEP. Each client is read only while it
 * may be (uv_read_start/uv_read_stop), and its replies go out in one
 * uv_write at a time from a buffer of their own, which libuv owns until
 * on_write. At most MAX_CLIENTS clients; one more is closed at once.
 *
 * Run: server_uv [SECONDS]   (prints "port N"; ends after SECONDS,
 *      default 60, or on SIGTERM). Try: redis-cli -p N ping
 */
// link: -luv
#include <uv.h>

#include "resp.h"

#define MAX_CLIENTS 10000

typedef struct {
    uv_tcp_t tcp;
    uv_timer_t timer;
    uv_write_t req;
    resp_conn c;
    resp_buf flight; /* the replies libuv is writing */
    int reading, writing, closed;
} client;

static int clients;

static void check(int err, const char *what)
{
    if (err < 0) {
        fprintf(stderr, "%s: %s\n", what, uv_strerror(err));
        exit(1);
    }
}

static void on_close(uv_handle_t *h)
{
    client *k = h->data;
    if (++k->closed < 2) /* the socket and the timer */
        return;
    resp_free(&k->c);
    free(k->flight.p);
    free(k);
    clients--;
}

static void drop(client *k)
{
    if (uv_is_closing((uv_handle_t *)&k->tcp))
        return;
    uv_close((uv_handle_t *)&k->tcp, on_close);
    uv_close((uv_handle_t *)&k->timer, on_close);
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    client *k = h->data;
    (void)hint;
    *buf = uv_buf_init(NULL, 0); /* too big a request: UV_ENOBUFS */
    if (resp_room(&k->c, 16384) == 0)
        *buf = uv_buf_init(k->c.in.p + k->c.in.len,
                           (unsigned)(k->c.in.cap - k->c.in.len));
}

static void on_write(uv_write_t *req, int status);
static void on_wake(uv_timer_t *t);
static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf);

/* After every callback: run what came, then ask libuv for what this
   client needs next (a write, reading or not, a timer), or close it. */
static void step(client *k)
{
    resp_conn *c = &k->c;
    long ms = resp_run(c, 1);
    if (ms > 0)
        check(uv_timer_start(&k->timer, on_wake, (uint64_t)ms, 0),
              "uv_timer_start");
    if (!k->writing && resp_wants_write(c)) {
        resp_buf t = k->flight;
        k->flight = c->out;
        c->out = t;
        c->out.len = c->sent = 0;
        uv_buf_t b = uv_buf_init(k->flight.p, (unsigned)k->flight.len);
        check(uv_write(&k->req, (uv_stream_t *)&k->tcp, &b, 1, on_write),
              "uv_write");
        k->writing = 1;
    }
    if (c->closing && !k->writing) {
        drop(k);
    } else if (resp_wants_read(c) != k->reading) {
        k->reading = !k->reading;
        check(k->reading
                  ? uv_read_start((uv_stream_t *)&k->tcp, on_alloc, on_read)
                  : uv_read_stop((uv_stream_t *)&k->tcp),
              "uv_read_start/stop");
    }
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    client *k = s->data;
    (void)buf;
    if (n > 0) {
        k->c.in.len += (size_t)n;
    } else if (n == UV_EOF) { /* half-closed: answer what came, then go */
        resp_run(&k->c, 1);
        k->c.closing = 1;
    } else if (n < 0 && n != UV_ENOBUFS) {
        drop(k); /* reset */
        return;
    }
    step(k);
}

static void on_write(uv_write_t *req, int status)
{
    client *k = req->handle->data;
    k->writing = 0;
    k->flight.len = 0;
    if (status < 0) /* reset, or not reading */
        drop(k);
    else if (!uv_is_closing((uv_handle_t *)&k->tcp))
        step(k);
}

static void on_wake(uv_timer_t *t)
{
    client *k = t->data;
    resp_wake(&k->c);
    step(k);
}

static void on_connection(uv_stream_t *server, int status)
{
    client *k = calloc(1, sizeof *k);
    if (status < 0 || k == NULL)
        die("on_connection");
    check(uv_tcp_init(server->loop, &k->tcp), "uv_tcp_init");
    check(uv_timer_init(server->loop, &k->timer), "uv_timer_init");
    k->tcp.data = k->timer.data = k;
    clients++;
    if (uv_accept(server, (uv_stream_t *)&k->tcp) < 0 ||
        clients > MAX_CLIENTS) {
        drop(k); /* gone already, or one too many */
        return;
    }
    check(uv_tcp_nodelay(&k->tcp, 1), "uv_tcp_nodelay");
    step(k);
}

int main(int argc, char *argv[])
{
    uv_tcp_t server;
    int lfd = resp_listen(argc, argv);
    uv_loop_t *loop = uv_default_loop();
    check(uv_tcp_init(loop, &server), "uv_tcp_init");
    check(uv_tcp_open(&server, lfd), "uv_tcp_open");
    check(uv_listen((uv_stream_t *)&server, SOMAXCONN, on_connection),
          "uv_listen");
    // [loop]
    return uv_run(loop, UV_RUN_DEFAULT);
    // [loop]
}
