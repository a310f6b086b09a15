/*
 * server_uring.c: chapter 7's key-value server (resp.h) on one thread
 * and io_uring (liburing). Linux-only, hence _GNU_SOURCE. Instead of
 * asking "which socket is ready?", the loop hands the kernel the work
 * itself (accept, recv into this buffer, send these bytes, a timeout for
 * a SLEEP) and learns from each completion that it is done. The price:
 * a buffer handed to the kernel is the kernel's until its completion, so
 * a client never has more than one recv and one send in flight, the
 * replies being sent sit in a buffer of their own, and requests are run
 * only when no recv is in flight. At most MAX_CLIENTS clients; one more
 * is closed at once.
 *
 * Run: server_uring [SECONDS]   (prints "port N"; ends after SECONDS,
 *      default 60, or on SIGTERM). Try: redis-cli -p N ping
 */
// link: -luring
#define _GNU_SOURCE
#include <liburing.h>

#include "resp.h"

#define MAX_CLIENTS 10000

enum { OP_ACCEPT, OP_RECV, OP_SEND, OP_TIMEOUT };

typedef struct {
    resp_conn c;
    resp_buf flight; /* the replies being sent */
    size_t flight_sent;
    int fd, recv, send, timer, dead;
    struct __kernel_timespec ts;
} client;

static struct io_uring ring;
static int clients;

static void submit(int fd, int op, client *k, void *buf, size_t len)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
    if (sqe == NULL) { /* the queue is full: hand it over, take another */
        if (io_uring_submit(&ring) < 0 ||
            (sqe = io_uring_get_sqe(&ring)) == NULL)
            die("io_uring_get_sqe");
    }
    if (op == OP_ACCEPT)
        io_uring_prep_accept(sqe, fd, NULL, NULL, SOCK_CLOEXEC);
    else if (op == OP_RECV)
        io_uring_prep_recv(sqe, fd, buf, len, 0);
    else if (op == OP_SEND)
        io_uring_prep_send(sqe, fd, buf, len, MSG_NOSIGNAL);
    else
        io_uring_prep_timeout(sqe, buf, 0, 0);
    io_uring_sqe_set_data64(sqe, (uint64_t)(uintptr_t)k | (uint64_t)op);
}

/* After a completion: run what came, then put in flight what the client
   needs next; free it once it is dead and nothing is in flight. */
static void next(client *k)
{
    resp_conn *c = &k->c;
    if (!k->dead && !k->recv)
        resp_run(c, 1); /* no recv owns c->in now */
    if (!k->dead && !k->recv && resp_wants_read(c) &&
        resp_room(c, 16384) == 0) {
        submit(k->fd, OP_RECV, k, c->in.p + c->in.len, c->in.cap - c->in.len);
        k->recv = 1;
    }
    if (!k->dead && !k->send && k->flight.len == 0 && resp_wants_write(c)) {
        resp_buf t = k->flight; /* swap: the replies go in flight */
        k->flight = c->out;
        c->out = t;
        c->out.len = c->sent = k->flight_sent = 0;
    }
    if (!k->dead && !k->send && k->flight.len > k->flight_sent) {
        submit(k->fd, OP_SEND, k, k->flight.p + k->flight_sent,
               k->flight.len - k->flight_sent);
        k->send = 1;
    }
    if (!k->dead && !k->timer && c->wake_ns != 0) {
        int64_t ns = c->wake_ns - resp_now_ns();
        k->ts.tv_sec = ns > 0 ? ns / 1000000000 : 0;
        k->ts.tv_nsec = ns > 0 ? ns % 1000000000 : 0;
        submit(-1, OP_TIMEOUT, k, &k->ts, 0);
        k->timer = 1;
    }
    if (!k->dead && c->closing && !k->send && k->flight.len == 0 &&
        !resp_wants_write(c)) {
        k->dead = 1;
    }
    if (k->dead && shutdown(k->fd, SHUT_RDWR) == -1 && errno != ENOTCONN)
        perror("shutdown"); /* ends the recv in flight */
    if (k->dead && !k->recv && !k->send && !k->timer) {
        close(k->fd);
        resp_free(c);
        free(k->flight.p);
        free(k);
        clients--;
    }
}

int main(int argc, char *argv[])
{
    int lfd = resp_listen(argc, argv), err;
    if ((err = io_uring_queue_init(4096, &ring, 0)) < 0)
        die_en(-err, "io_uring_queue_init");
    submit(lfd, OP_ACCEPT, NULL, NULL, 0);
    // [loop]
    for (;;) {
        struct io_uring_cqe *cqe;
        if ((err = io_uring_submit_and_wait(&ring, 1)) < 0 && err != -EINTR)
            die_en(-err, "io_uring_submit_and_wait");
        while (io_uring_peek_cqe(&ring, &cqe) == 0) {
            uint64_t data = io_uring_cqe_get_data64(cqe);
            int res = cqe->res; /* copy before the slot is given back */
            io_uring_cqe_seen(&ring, cqe);
            client *k = (client *)(uintptr_t)(data & ~(uint64_t)3);
            switch (data & 3) {
            case OP_ACCEPT:
                submit(lfd, OP_ACCEPT, NULL, NULL, 0);
                if (res >= 0 && clients >= MAX_CLIENTS)
                    close(res); /* one too many */
                else if (res >= 0 && (k = calloc(1, sizeof *k)) == NULL)
                    die("calloc");
                else if (res >= 0) {
                    resp_client(res, 0);
                    k->fd = res;
                    clients++;
                    next(k);
                }
                break;
            case OP_RECV:
                k->recv = 0;
                if (res > 0)
                    k->c.in.len += (size_t)res;
                else if (res == 0 && !k->dead) { /* half-closed: answer, go */
                    resp_run(&k->c, 1);
                    k->c.closing = 1;
                } else {
                    k->dead = 1;
                }
                next(k);
                break;
            case OP_SEND:
                k->send = 0;
                if (res > 0 && (k->flight_sent += (size_t)res) == k->flight.len)
                    k->flight.len = k->flight_sent = 0;
                if (res <= 0)
                    k->dead = 1;
                next(k);
                break;
            default: /* OP_TIMEOUT: res is -ETIME */
                k->timer = 0;
                if (!k->dead)
                    resp_wake(&k->c);
                next(k);
            }
        }
    }
    // [loop]
}
