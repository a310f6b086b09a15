/**
 * @file kv.h
 * @brief A key-value server that speaks the Redis protocol, in one
 *        thread, on the event loop of chapter 4.
 *
 * Exercise 1 of chapter 7 ("The same job, every way"),
 * the first capstone.
 *
 * Clients connect over TCP and send requests; the server keeps a table
 * of keys and values and answers each request. It speaks enough RESP2
 * (the protocol of redis) that the real `redis-cli` and
 * `redis-benchmark` can drive it. One thread serves every client: the
 * server is a set of callbacks on a ::loop (loop.h, chapter 4), with a
 * timer per client. The tests link the loop and its timer queue: in the
 * workbook the reference solutions, in a handout yours, graded first.
 * The same kv.c runs unchanged on chapter 6's epoll loop (eloop.c).
 *
 * The protocol. A request is either an array of bulk strings,
 * `*2\r\n$3\r\nGET\r\n$1\r\nk\r\n` (what redis-cli sends), or an inline
 * line of words separated by spaces, `GET k\r\n` (what you type into
 * `nc`); an empty inline line is no request and gets no answer. Names of
 * commands are case-insensitive. The replies:
 *
 * | request          | reply                                              |
 * |------------------|----------------------------------------------------|
 * | `PING`           | `+PONG\r\n`                                        |
 * | `PING msg`       | msg as a bulk string: `$3\r\nmsg\r\n`              |
 * | `ECHO msg`       | msg as a bulk string                               |
 * | `SET k v`        | `+OK\r\n` (replaces any value of k)                |
 * | `GET k`          | v as a bulk string, or `$-1\r\n` when k is unset   |
 * | `DEL k1 k2 ...`  | how many were set, as an integer: `:2\r\n`         |
 * | `SLEEP ms`       | `+OK\r\n`, ms milliseconds later (0 to 10000)      |
 * | `SAVE`           | what the ::kv_save_fn and kv_save_done() decide    |
 * | `QUIT`           | `+OK\r\n`, then the server closes the connection   |
 * | anything else    | an error, `-ERR ...\r\n` (see below)               |
 *
 * Parsing: the exercise is the asynchronous server, not the parser.
 * Use resp_parse() of chapters/07-every-way/resp.h (include it as
 * "07-every-way/resp.h"), the parser every server of the chapter shares:
 * it is restartable (give it all the unparsed bytes; it returns 0 until
 * a whole request is there, then the bytes the request took, or -1 and
 * an error message for a malformed request, in `error`: the text of the
 * reply, `ERR Protocol error: ...`, without the leading `-` and the
 * closing `\r\n`), and its arguments point
 * into your buffer. It limits one argument to `RESP_MAX_BULK` bytes,
 * an inline line to `RESP_MAX_INLINE` and a request to `RESP_MAX_ARGS`
 * arguments; `max_request` may limit a request further. Do not use the
 * rest of resp.h (its table is one per process, and it ends the process
 * when memory runs out): the server keeps its own table, one per ::kv.
 *
 * Bad input:
 * - an unknown command (`-ERR unknown command 'NAME'`), a wrong number
 *   of arguments (`-ERR wrong number of arguments for 'NAME' command`),
 *   a bad SLEEP time: an error reply, and the connection stays;
 * - a malformed request (resp_parse() returns -1: a bulk length that
 *   lies, garbage where a `$` belongs, a line or argument over resp.h's
 *   limits) or a request over `max_request` bytes: an error reply that
 *   starts `-ERR Protocol error`, every reply before it, and then the
 *   server closes the connection: it runs nothing more the client sends
 *   (it may read and drop what still comes, a bounded amount, so that
 *   the client gets the error before the close; see [stop] for a stop
 *   meanwhile).
 *
 * Ordering. Requests of one client are answered in the order they were
 * sent, exactly one reply each, also when a client sends many before
 * reading any reply (pipelining: redis-benchmark -P 16), and also when
 * one of them waits (SLEEP, SAVE): the requests after it wait with it.
 * Requests of different clients are independent: one client's SLEEP or
 * SAVE delays no other client.
 *
 * Promises (each checked by the tests that name its tag):
 *
 * - [config] kv_start() refuses a NULL loop or configuration, a negative
 *   listening descriptor and a configuration that breaks a rule of
 *   ::kv_config with `EINVAL`, and a listening descriptor the loop
 *   refuses to watch with loop_watch()'s error.
 * - [commands] Each command of the table above gets its reply; keys and
 *   values are any bytes (NUL bytes, `\r`, `\n` included) of any length
 *   the limits allow.
 * - [inline] Inline requests are served like arrays.
 * - [pipeline] Requests sent together, or cut anywhere into pieces, are
 *   answered in order, one reply each: 10,000 pipelined requests
 *   included.
 * - [errors] Unknown commands and wrong numbers of arguments get their
 *   error reply and the connection stays.
 * - [malformed] A malformed request gets a `-ERR Protocol error` reply
 *   after the replies of the requests before it, then the connection is
 *   closed; the server goes on serving the others.
 * - [too-big] A request of `max_request` bytes is served; a longer one
 *   (an argument of a megabyte, an endless line with no newline) gets
 *   `-ERR Protocol error: request too big` and the connection is closed;
 *   the server never holds more than `max_request` bytes of one
 *   client's unparsed input.
 * - [many] Many clients are served at once, their requests interleaved:
 *   100 clients at once with pipelined requests each.
 * - [sleep] `SLEEP ms` answers `+OK` no earlier than ms milliseconds
 *   later, on a timer of the loop: meanwhile other clients are served
 *   at once, and the requests the same client sent after it wait.
 * - [save] `SAVE` calls the configured ::kv_save_fn once, on the loop's
 *   thread, and the client gets nothing more until kv_save_done() is
 *   called for it; the reply then takes its place in that client's
 *   order. With no save function, or when it returns -1, the reply is
 *   `-ERR ...` at once, the second naming strerror(errno).
 * - [backpressure] A client that sends requests and never reads their
 *   replies does not grow the server's memory without bound: once
 *   `max_queue` bytes of its replies are waiting, the server runs no
 *   more of its requests and reads no more from it until it reads; the
 *   other clients are served meanwhile.
 * - [idle] A client that the server could neither read from nor write
 *   to for `idle_ms` milliseconds is disconnected (counted from its
 *   arrival, then from its last byte read or written; a client waiting
 *   for its SLEEP or SAVE reply is not idle).
 * - [full] With `max_clients` clients connected, the next connection
 *   gets `-ERR max number of clients reached\r\n` and is closed; so does
 *   a connection the loop refuses to watch.
 * - [accept-fail] When accept() fails for lack of descriptors
 *   (`EMFILE`, `ENFILE`), the server does not spin on the listening
 *   socket, which stays readable: it stops watching it, and tries again
 *   100 ms later.
 * - [gone] A client that closes, half-closes (shutdown(`SHUT_WR`)) or
 *   resets its connection, even in the middle of a request or with
 *   replies pending, is cleaned up: its socket closed, its memory freed,
 *   its place free. After a half-close, the requests it sent whole are
 *   still answered before the server closes.
 * - [sigpipe] Sending to a client that has reset its connection never
 *   raises `SIGPIPE` (send() with `MSG_NOSIGNAL`).
 * - [no-delay] Every client socket has `TCP_NODELAY` set, as redis
 *   does: a client that sends one request and waits for its reply, 200
 *   times, is done well within a second.
 * - [no-spin] An idle server sleeps: it uses almost no CPU time while no
 *   client sends anything, even after it has sent a lot.
 * - [stop] kv_stop() stops accepting, answers every request already
 *   received whole (the bytes that had reached the server's socket when
 *   kv_stop() was called included: no request that a client has sent
 *   before the stop is lost), waits for the SAVE replies still due,
 *   sends every reply, and closes each client once its replies are sent
 *   (or it is idle for `idle_ms`); a client already closing after a
 *   protocol error is closed at once. It stops watching the listening
 *   socket (it does not close it). When the last client is closed and
 *   the last kv_save_done() called, the server frees itself and leaves
 *   nothing on the loop: with nothing else there, loop_run() returns.
 *   kv_stop(NULL) does nothing.
 * - [clients] kv_clients() counts the clients accepted whose
 *   connection the server has not closed yet: a connection refused as
 *   over `max_clients` is none, and a client leaves the count once the
 *   server has closed its socket. kv_clients(NULL) is 0.
 * - [no-memory] When an allocation fails, kv_start() fails with
 *   `ENOMEM` and leaves nothing allocated; in a running server, the
 *   request that needed it gets an `-ERR` reply or its client is
 *   closed (a new connection may be refused), never left waiting; the
 *   others are served, the keys set stay set, and kv_stop() still
 *   frees everything.
 *
 * Errors are reported the system-call way: NULL with `errno` set.
 *
 * Which thread may call what: the server lives on its loop. Call every
 * function from the thread that runs the loop (before loop_run(), from
 * a callback of the loop, or after loop_run() returned).
 */
#ifndef KV_H
#define KV_H

#include "04-select/loop.h"

#include <stddef.h>

/** @brief The reply to a connection over `max_clients`, before it is
 *         closed. */
#define KV_FULL "-ERR max number of clients reached\r\n"

/** @brief A key-value server. Opaque: use the functions below. */
typedef struct kv kv;

/** @brief One SAVE waiting for its reply. Opaque; made by the server,
 *         handed to the ::kv_save_fn, freed by kv_save_done(). */
typedef struct kv_pending kv_pending;

/**
 * @brief Called on the loop's thread when a client sends SAVE.
 *
 * The server answers that client nothing (and runs none of its later
 * requests) until kv_save_done(@p k, @p p, err) is called for @p p,
 * later, from the loop's thread (from within this call is allowed too).
 *
 * @param k    the server.
 * @param p    the SAVE; pass it to kv_save_done() exactly once.
 * @param ctx  `save_ctx` of the configuration.
 * @return 0 when kv_save_done() will be (or was) called; -1 with errno
 *         set when not: the server then answers the SAVE at once with
 *         `-ERR ` and strerror(errno), and frees @p p itself.
 */
typedef int (*kv_save_fn)(kv *k, kv_pending *p, void *ctx);

/** @brief The limits of one server. */
typedef struct kv_config {
    /** How many clients may be connected at once; at least 1. */
    size_t max_clients;
    /** The most bytes one request may take, as sent (headers, `\r\n`
     *  and arguments); at least 64. */
    size_t max_request;
    /** How many bytes of replies may wait for one client before the
     *  server stops running its requests; at least 64. A single reply
     *  may be longer: it is queued whole. */
    size_t max_queue;
    /** How long a client may go without a byte read or written, in
     *  milliseconds; at least 1. */
    long idle_ms;
    /** Called for SAVE; NULL: SAVE answers `-ERR SAVE is not enabled`. */
    kv_save_fn save;
    /** Passed to @ref save as is. */
    void *save_ctx;
} kv_config;

/**
 * @brief Start serving the listening socket @p listen_fd on @p l.
 *
 * Makes @p listen_fd non-blocking and watches it; everything else
 * happens in the loop's callbacks once loop_run() runs. The
 * configuration is copied.
 *
 * @param l          the loop; must not be NULL.
 * @param listen_fd  a socket already bound and listening; it stays the
 *                   caller's: kv_stop() does not close it.
 * @param cfg        the limits; must not be NULL.
 * @return the server; NULL with errno set: `EINVAL` (see [config]),
 *         `ENOMEM`, the errno of fcntl() on @p listen_fd, or of
 *         loop_watch().
 */
kv *kv_start(loop *l, int listen_fd, const kv_config *cfg);

/**
 * @brief Stop the server: finish what was asked, then free it.
 *
 * See [stop]. After this call use @p k only for kv_save_done() of the
 * SAVEs already handed out; the server frees itself when they are done
 * and every client is closed.
 *
 * @param k  the server; NULL does nothing. Calling it twice is an
 *           error of the caller.
 */
void kv_stop(kv *k);

/**
 * @brief Call @p fn for every key and value, now, in any order.
 *
 * On the loop's thread. The pointers are valid only during the call
 * of @p fn, which must not change the server.
 *
 * @param k    the server; must not be NULL.
 * @param fn   called once per key, with the key's and value's bytes and
 *             lengths (not NUL-terminated), and @p arg.
 * @param arg  passed to @p fn as is.
 * @return 0 once every key was seen; the first non-zero value @p fn
 *         returned, when it stopped early.
 */
int kv_each(const kv *k,
            int (*fn)(const char *key, size_t klen, const char *val,
                      size_t vlen, void *arg),
            void *arg);

/**
 * @brief How many clients are connected now.
 * @param k  the server; NULL counts as none.
 * @return the number of accepted clients not yet closed.
 */
size_t kv_clients(const kv *k);

/**
 * @brief Finish a SAVE: answer it and free @p p.
 *
 * @p err 0 answers `+OK`, any other value `-ERR ` and strerror(@p err).
 * The reply takes its place in that client's order: the requests it
 * pipelined after the SAVE are answered after it. If the client is
 * gone, @p p is just freed. Exactly once per @p p, on the loop's thread.
 *
 * @param k    the server that made @p p.
 * @param p    the SAVE.
 * @param err  0, or an errno value.
 */
void kv_save_done(kv *k, kv_pending *p, int err);

#endif
