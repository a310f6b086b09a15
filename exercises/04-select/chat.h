/**
 * @file chat.h
 * @brief A chat server for many clients, in one thread, on the event
 *        loop of exercise 3.
 *
 * Exercise 4 of chapter 4 ("One thread, many waits: select() event
 * loops").
 *
 * Clients connect over TCP and send lines of text; every line a client
 * sends goes to every other connected client, prefixed with the
 * sender's id. One thread serves them all: the server is a set of
 * callbacks on a ::loop (loop.h), reading with a ::linebuf each
 * (linebuf.h) and dropping idle clients with the loop's timers. The
 * tests link all three: in the workbook the reference solutions, in a
 * handout yours, graded first.
 *
 * The protocol, every line ending with a newline:
 *
 * | when                                | the server sends               |
 * |-------------------------------------|--------------------------------|
 * | it accepts a client, with id N      | `welcome N` to it              |
 * | client N sends the line L           | `N: L` to every other client   |
 * | client N sends a line too long      | ::CHAT_TOO_LONG, then closes N |
 * | client N is idle for `idle_ms`      | ::CHAT_IDLE, then closes N     |
 * | `max_clients` are connected and     | ::CHAT_FULL, then closes the   |
 * | one more connects                   | new connection                 |
 * | the loop refuses to watch a new     | ::CHAT_FULL, then closes it    |
 * | connection (loop_watch() fails)     |                                |
 *
 * Ids are 1, 2, 3, ... in the order clients are accepted; a refused
 * connection gets none. A line is relayed byte for byte, NUL bytes,
 * carriage returns and non-ASCII bytes included, without its newline.
 *
 * One slow client must not hold up the others: the server never blocks.
 * Every socket is non-blocking, and what a client cannot take at once
 * waits in that client's output queue, of at most `max_queue` bytes,
 * sent as the socket becomes writable. A client whose queue is full
 * when another line arrives for it is not reading: it is disconnected.
 *
 * How many descriptors the server can serve is the loop's business, not
 * the server's: it sets no limit of its own on descriptor numbers (it
 * never tests `FD_SETSIZE`), serves every client whose socket the loop
 * agrees to watch, and refuses the others like one client too many. On
 * the select() loop of exercise 3 that stops at `FD_SETSIZE` (1,024
 * with glibc); linked with a loop on epoll (chapter 6's `chat_epoll`),
 * the same server serves 2,000 clients at once.
 *
 * A client that has gone away makes send() fail with `EPIPE`, which
 * would also raise `SIGPIPE` and kill the whole server. The server sends
 * with `send(..., MSG_NOSIGNAL)` (POSIX.1-2008) and never write(), and
 * does not touch the process's signal dispositions.
 *
 * Promises (each checked by the tests that name its tag):
 *
 * - [config] chat_start() refuses a NULL loop or configuration, a
 *   negative listening descriptor and a configuration that breaks a
 *   rule of ::chat_config with `EINVAL`, and a listening descriptor the
 *   loop refuses to watch with loop_watch()'s error (the loop of
 *   exercise 3: `EINVAL` for one at or above `FD_SETSIZE`).
 * - [welcome] An accepted client first gets `welcome N`, with N its id:
 *   1, 2, 3, ... in the order of acceptance.
 * - [broadcast] Every line a client sends reaches every other client
 *   connected when the server reads it, exactly once, as `N: line`,
 *   lines of one sender in the order sent; never the sender itself.
 *   200 clients at once are served.
 * - [framing] A line that arrives in pieces is relayed whole, several
 *   lines that arrive together are relayed one by one, and pieces of
 *   lines from different clients never mix.
 * - [bytes] The bytes of a line are relayed unchanged, whatever they
 *   are: NUL bytes, carriage returns, bytes above 127.
 * - [too-long] A line of `max_line` bytes is relayed; a longer one is
 *   not (no part of it): its sender gets ::CHAT_TOO_LONG and is
 *   disconnected, however long the line (a 1 MiB line included).
 * - [slow-reader] The server never blocks on a client: while one client
 *   reads nothing, the others get every line at once. A client that
 *   reads late gets every line whole and in order, as long as they fit
 *   in its queue; it is disconnected when a line does not fit in its
 *   queue of `max_queue` bytes. (The queue is the server's own: the
 *   kernel's socket buffers, often megabytes on loopback, fill first and
 *   do not count.)
 * - [endless-line] A client that streams one endless line (no newline)
 *   as fast as it can does not hold up the others: their lines are
 *   relayed at once meanwhile, and it is disconnected as [too-long]
 *   says (linebuf_fill() returns after dropping a bounded part of a
 *   too-long line).
 * - [idle] A client that sends no complete line for `idle_ms`
 *   milliseconds (counted from its arrival, then from its last complete
 *   line) gets ::CHAT_IDLE and is disconnected.
 * - [full] With `max_clients` clients connected, the next connection
 *   gets ::CHAT_FULL and is closed; once a client has left, a new one is
 *   welcome again.
 * - [loop-limit] A connection whose descriptor the loop refuses to
 *   watch (loop_watch() fails: on the loop of exercise 3, a descriptor
 *   at or above `FD_SETSIZE`) gets ::CHAT_FULL and is closed, with no
 *   id; the server goes on serving the others.
 * - [gone] A client that closes its connection, half-closes it
 *   (shutdown(`SHUT_WR`)) or resets it is cleaned up: its socket is
 *   closed and its place freed. An unfinished last line before the end
 *   of file is relayed as a line. A reset may lose what the client sent
 *   last: its unfinished line may be relayed or not.
 * - [sigpipe] Sending to a client that has reset its connection never
 *   raises `SIGPIPE`.
 * - [no-spin] An idle server sleeps: it uses almost no CPU time while
 *   no client sends anything, even after it has sent a lot.
 * - [accept-fail] When accept() fails for lack of descriptors
 *   (`EMFILE`), the server does not spin on the listening socket that
 *   stays readable: it stops accepting, and tries again 100 ms later.
 * - [no-delay] A relayed line reaches the other clients without waiting
 *   for the network's timers (Nagle's algorithm holding a small write
 *   until the one before is acknowledged, while the client delays its
 *   acknowledgement): three clients that talk in rounds (each says a
 *   line, then reads the other two) get through 100 rounds well within
 *   a second on loopback.
 * - [count] chat_clients() counts the clients welcomed and not yet
 *   disconnected: a refused connection is not counted, and a client
 *   that has left is not counted once the server has seen it go.
 * - [no-memory] When an allocation fails, chat_start() returns NULL with
 *   `ENOMEM` and leaves nothing allocated or watched. A new connection
 *   the server has no memory for is closed without a welcome (it may get
 *   ::CHAT_FULL first), a client whose queue cannot grow for a line is
 *   disconnected like one whose queue is full, and a client whose idle
 *   timer cannot be set again (loop_add_timer() fails) is disconnected
 *   (it may get ::CHAT_IDLE first); the others are served on. The same
 *   holds when the allocation that fails is the loop's or the linebuf's.
 * - [shared-loop] The loop may carry other work (the caller's timers
 *   and descriptors): the server cancels only its own timers and
 *   unwatches only its own descriptors.
 * - [stop] chat_stop() closes every client, stops watching the listening
 *   socket (it does not close it) and cancels the server's timers: with
 *   nothing else on the loop, loop_run() returns.
 *
 * Errors are reported the system-call way: NULL with `errno` set.
 *
 * Which thread may call what: the server lives on its loop. Call
 * chat_start(), chat_clients() and chat_stop() from the thread that
 * runs the loop (before loop_run(), from a callback of the loop, or
 * after loop_run() returned). To stop the server from another thread,
 * watch a pipe on the same loop and call chat_stop() from its callback.
 */
#ifndef CHAT_H
#define CHAT_H

#include "loop.h"

#include <stddef.h>

/** @brief Sent to a client before it is disconnected for a line over
 *         `max_line` bytes. */
#define CHAT_TOO_LONG "error: line too long\n"

/** @brief Sent to a client before it is disconnected for being idle. */
#define CHAT_IDLE "error: idle too long\n"

/** @brief Sent to a connection refused because `max_clients` are
 *         connected, or because the loop refuses to watch it. */
#define CHAT_FULL "server full\n"

/**
 * @brief The most bytes a relayed message adds to a line: the sender's
 *        id, `": "` and the newline.
 */
#define CHAT_OVERHEAD 32

/** @brief The limits of one chat server. */
typedef struct chat_config {
    /** How many clients may be connected at once; at least 1. */
    size_t max_clients;
    /** The longest line a client may send, in bytes, without its
     *  newline; at least 1. */
    size_t max_line;
    /** The most bytes waiting to be sent to one client; at least
     *  `max_line` + ::CHAT_OVERHEAD, so that one longest line fits. */
    size_t max_queue;
    /** How long a client may go without sending a complete line, in
     *  milliseconds; at least 1. */
    long idle_ms;
} chat_config;

/**
 * @brief A chat server. Opaque: use the functions below.
 *
 * Made by chat_start(), freed by chat_stop().
 */
typedef struct chat chat;

/**
 * @brief Start serving the listening socket @p listen_fd on @p l.
 *
 * Makes @p listen_fd non-blocking and watches it; everything else
 * happens in the loop's callbacks once loop_run() runs: accepting
 * clients (each made non-blocking, and watched), reading their lines,
 * relaying them, dropping idle clients. The configuration is copied.
 *
 * @param l          the loop to serve on; must not be NULL.
 * @param listen_fd  a socket already bound and listening (socket(),
 *                   bind(), listen()); it stays the caller's: chat_stop()
 *                   does not close it.
 * @param cfg        the limits; must not be NULL. Read only during the
 *                   call.
 * @return the server, to be stopped and freed with chat_stop(); NULL
 *         with errno set:
 *         - `EINVAL`: @p l or @p cfg is NULL, @p listen_fd is
 *           negative, or a field of @p cfg breaks its rule (see
 *           ::chat_config);
 *         - `ENOMEM`: no memory;
 *         - the errno of fcntl() on @p listen_fd (`EBADF`);
 *         - the errno of loop_watch() when the loop refuses to watch
 *           @p listen_fd (the loop of exercise 3: `EINVAL` for a
 *           descriptor at or above `FD_SETSIZE`).
 */
chat *chat_start(loop *l, int listen_fd, const chat_config *cfg);

/**
 * @brief How many clients are connected now.
 * @param c  the server; NULL counts as none.
 * @return the number of accepted clients not yet disconnected.
 */
size_t chat_clients(const chat *c);

/**
 * @brief Stop the server and free it.
 *
 * Closes every client's socket (what is still queued for them is
 * dropped), stops watching the listening socket without closing it, and
 * cancels every timer of the server. Nothing of the server is left on
 * the loop.
 *
 * @param c  the server; NULL does nothing.
 */
void chat_stop(chat *c);

#endif
