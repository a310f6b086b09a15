/**
 * @file etfair.h
 * @brief Fair edge-triggered reading: drain every ready descriptor, but
 *        a budget of bytes at a time, in turns. Linux only (epoll).
 *
 * Exercise 2 of chapter 6 ("Beyond select(): epoll, signals, children
 * and io_uring").
 *
 * An ::etfair reads many non-blocking descriptors (sockets, pipes) on
 * one epoll instance, registered edge-triggered (`EPOLLET`): epoll
 * reports a descriptor when data arrives, not again while it sits
 * unread. Two rules follow, and they pull in opposite directions:
 *
 * - an edge-triggered reader must read until read() says `EAGAIN`,
 *   or the bytes it left behind wait until the peer sends more, which
 *   may be never;
 * - a reader that drains one descriptor before it looks at the next is
 *   at the mercy of the fastest sender: a client that sends as fast as
 *   the reader reads is never drained, and the others wait forever.
 *
 * So an etfair reads in rounds. Each round, each ready descriptor gets a
 * turn of at most `budget` bytes. A descriptor whose turn ended with
 * `EAGAIN` is drained: it waits for its next edge. One whose budget ran
 * out first still has data, and no edge will come for it: the etfair
 * keeps it on its own ready list, behind every other descriptor of this
 * round, and serves it again in the next round. The flooder is the one
 * slowed down, to `budget` bytes per round, while every other descriptor
 * still gets its turn in each round.
 *
 *     etfair *r = etfair_new(16384);
 *     etfair_add(r, client_fd, on_data, client);   // O_NONBLOCK
 *     for (;;)
 *         etfair_round(r, -1);  // wait, then one turn per ready descriptor
 *
 * Promises (each checked by the tests that name its tag):
 *
 * - [drain] No data is left behind: every byte a descriptor holds is
 *   delivered without the peer sending more, however many read() calls
 *   it takes, even when one read() returns less than was there, and
 *   whatever the descriptor's number (0 included).
 * - [budget] In one round, at most `budget` bytes are read from one
 *   descriptor, in one or more callbacks.
 * - [carry] A descriptor whose budget ran out before `EAGAIN` is served
 *   again in the next round without a new edge, and etfair_round() does
 *   not wait then: it returns the number of such descriptors, and a
 *   round with one of them returns at once, whatever its timeout.
 * - [fair] In each round, every descriptor that is ready when the round
 *   begins gets its turn: one that floods (is never drained) delays the
 *   others by at most one turn of `budget` bytes per round, and is not
 *   starved either.
 * - [eof] At end of file the callback gets `n == 0`, once, after the
 *   data before it, and the descriptor is removed from the etfair
 *   (not closed: the callback may close it).
 * - [error] When read() fails with an error other than `EAGAIN` and
 *   `EINTR` (`ECONNRESET`, say), the callback gets `n == -errno`, once,
 *   and the descriptor is removed (not closed).
 * - [remove] After etfair_remove(), from a callback (of that descriptor
 *   or another) or outside a round, the descriptor gets no callback,
 *   even when it was ready in the current round or waiting on the ready
 *   list; it can be added again.
 * - [wait] With nothing ready, etfair_round() sleeps in epoll_wait() for
 *   up to `timeout_ms` and returns 0; it does not spin. A signal that
 *   interrupts the wait (`EINTR`) is no error: the round ends early and
 *   returns as it would have (0 with nothing left over). Any other error
 *   of epoll_wait() makes etfair_round() return -1 with its errno.
 * - [bad-args] Invalid arguments fail with `EINVAL` (a blocking
 *   descriptor included: a drained read would block instead of saying
 *   `EAGAIN`), a descriptor already added with `EEXIST`, an unknown one
 *   with `ENOENT`, etfair_round() from a callback with `EBUSY`; a
 *   failed call changes nothing and keeps no memory (etfair_new() with no
 *   descriptor left gives `EMFILE`, etfair_add() with no memory
 *   `ENOMEM`).
 * - [free] etfair_free() calls no callback, closes its epoll instance
 *   and no added descriptor.
 *
 * Errors are reported the system-call way: -1 (or NULL) with `errno` set.
 *
 * Which thread may call what: an ::etfair is not thread-safe; every
 * function is called from one thread, its callbacks included.
 */
#ifndef ETFAIR_H
#define ETFAIR_H

#include <stddef.h>
#include <sys/types.h>

/**
 * @brief A fair edge-triggered reader. Opaque: use the functions below.
 *
 * Made by etfair_new(), freed by etfair_free().
 */
typedef struct etfair etfair;

/**
 * @brief Called by etfair_round() with what it read from a descriptor.
 *
 * Runs in etfair_round(), which waits until it returns: it must not
 * block. It may call etfair_add() and etfair_remove() (for @p fd or any
 * other), and close @p fd once it is removed (after end of file or an
 * error it already is); not etfair_round() nor etfair_free().
 *
 * @param r    the etfair that read.
 * @param fd   the descriptor.
 * @param data the bytes read when @p n > 0, valid only during the call;
 *             NULL otherwise.
 * @param n    how many bytes (at least 1); 0 at end of file; `-errno`
 *             when read() failed. After 0 or a negative @p n the
 *             descriptor is no longer in the etfair.
 * @param ctx  the context given to etfair_add(), unchanged.
 */
typedef void (*etfair_cb)(etfair *r, int fd, const char *data, ssize_t n,
                          void *ctx);

/**
 * @brief Make an etfair with no descriptor.
 * @param budget the most bytes read from one descriptor in one round;
 *               at least 1.
 * @return the etfair, to be freed with etfair_free(); NULL with errno
 *         `EINVAL` for a @p budget of 0, `ENOMEM` without memory, or
 *         the errno of epoll_create1(). Its epoll descriptor is
 *         close-on-exec.
 */
etfair *etfair_new(size_t budget);

/**
 * @brief Free an etfair: no callback runs, no added descriptor is
 *        closed (they are the caller's). Not from a callback.
 * @param r the etfair; NULL does nothing.
 */
void etfair_free(etfair *r);

/**
 * @brief Read @p fd from now on, edge-triggered.
 *
 * Data already waiting in @p fd counts: it is read in the next round.
 *
 * @param r      the etfair; must not be NULL.
 * @param fd     an open, non-blocking (`O_NONBLOCK`) descriptor epoll
 *               can wait for: a socket, a pipe, a terminal.
 * @param on_data the callback; must not be NULL.
 * @param ctx    passed to @p on_data as is; may be NULL.
 * @return 0 on success; -1 with errno set, and nothing changed:
 *         - `EINVAL`: @p r or @p on_data is NULL, @p fd is negative, or
 *           @p fd is not in non-blocking mode;
 *         - `EEXIST`: @p fd is already added;
 *         - `EBADF`: @p fd is not open;
 *         - `EPERM`: epoll cannot wait for @p fd (a regular file);
 *         - `ENOMEM`: no memory.
 */
int etfair_add(etfair *r, int fd, etfair_cb on_data, void *ctx);

/**
 * @brief Stop reading @p fd: its callback is not called again, not even
 *        later in the current round. The descriptor is not closed.
 * @param r  the etfair; must not be NULL.
 * @param fd the descriptor.
 * @return 0 on success; -1 with errno `EINVAL` (@p r is NULL) or
 *         `ENOENT` (@p fd is not added, any number included).
 */
int etfair_remove(etfair *r, int fd);

/**
 * @brief One round: wait for ready descriptors if none is left over,
 *        then give each ready descriptor one turn.
 *
 * When descriptors are left on the ready list by the last round (their
 * budget ran out), it does not wait: it asks epoll what else is ready
 * (timeout 0). Otherwise it waits in epoll_wait() for up to
 * @p timeout_ms. Then each descriptor on the ready list, in order (the
 * left-over ones first, then the newly reported), gets one turn: reads
 * of up to its `budget` in all, each passed to the callback, until
 * read() says `EAGAIN` (drained: off the list until its next edge), end
 * of file or an error (removed, after its callback), or the budget is
 * spent (back at the end of the ready list, for the next round).
 * A signal that interrupts the wait (`EINTR`) ends the round early,
 * with no error.
 *
 * @param r          the etfair; must not be NULL.
 * @param timeout_ms the longest wait in milliseconds; -1 for no limit.
 * @return how many descriptors are left on the ready list (0 when every
 *         one was drained); -1 with errno `EINVAL` (@p r is NULL),
 *         `EBUSY` (called from a callback), or another errno of
 *         epoll_wait().
 */
int etfair_round(etfair *r, int timeout_ms);

#endif
