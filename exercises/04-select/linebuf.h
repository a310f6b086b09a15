/**
 * @file linebuf.h
 * @brief Cutting a byte stream into lines, on a non-blocking descriptor.
 *
 * Exercise 1 of chapter 4 ("One thread, many waits: select() event
 * loops").
 *
 * A pipe or a socket carries bytes, not lines: one read() may bring half
 * a line, or three lines and the start of a fourth. A ::linebuf keeps the
 * bytes that arrived in a buffer of fixed size and hands out the complete
 * lines one at a time. An event loop uses it like this, each time
 * select() says the descriptor is readable:
 *
 *     ssize_t n = linebuf_fill(lb, fd);     // take in what is there
 *     while ((r = linebuf_next(lb, &line, &len)) != 0)
 *         if (r == 1) handle(line, len);    // r == -1: a line too long
 *     if (n == 0)                           // end of file
 *         if (linebuf_rest(lb, &line, &len) == 1) handle(line, len);
 *
 * A line is the bytes before a `\n`. Its length is counted without the
 * `\n`, and it may be at most `max_line` bytes: a peer that sends a
 * longer line (or never sends a newline at all) must not make the
 * program use more memory, so the buffer never grows.
 *
 * Promises (each checked by the tests that name its tag):
 *
 * - [lines] One linebuf_fill() may take in several lines; linebuf_next()
 *   hands them out one per call, in order, without their `\n`.
 * - [split] A line split across reads, at any byte, comes out whole: the
 *   bytes of an unfinished line are kept from one fill to the next.
 * - [drain] One linebuf_fill() reads until read() reports `EAGAIN`, end
 *   of file, a full buffer holds a line not yet taken, or [skip-bounded]
 *   stops it: it takes in everything available, even when that is more
 *   than one read().
 * - [skip-bounded] A too-long line does not keep one linebuf_fill()
 *   busy, nor do many: once the call has dropped 4 × `max_line` bytes or
 *   more of too-long lines (of one endless line, or of many that each
 *   end soon after `max_line`), it returns the count read, even when
 *   more is available. That count is at most 8 × (`max_line` + 1) bytes
 *   (linebuf_fill() says where the 8 comes from). The descriptor is
 *   still readable, so the caller's loop serves its other descriptors
 *   and comes back: the next fill goes on skipping.
 * - [enobufs] When the buffer is full of complete lines not taken yet,
 *   linebuf_fill() reads nothing and returns -1 with `ENOBUFS` (never 0,
 *   which means end of file).
 * - [eagain] With nothing to read on a non-blocking descriptor,
 *   linebuf_fill() returns -1 with errno `EAGAIN` and changes nothing.
 * - [eof-rest] At end of file linebuf_fill() returns 0, and
 *   linebuf_rest() hands out the bytes after the last newline as a last
 *   line.
 * - [cr-kept] A `\r` before the `\n` is part of the line.
 * - [max-line] A line of exactly `max_line` bytes is handed out.
 * - [too-long] A longer line is reported once by linebuf_next() (-1,
 *   `EMSGSIZE`) and skipped whole; the line after it comes out intact.
 *   Several too-long lines taken in by one fill are reported once each,
 *   in their places among the other lines.
 * - [bounded] Memory stays O(`max_line`), however long a line is.
 * - [eintr] A read() interrupted by a signal (`EINTR`) is retried, never
 *   reported.
 * - [read-error] Any other error of read() is reported with its errno.
 * - [bad-args] NULL arguments and a `max_line` of 0 fail with `EINVAL`;
 *   a `max_line` so large that the buffer's size overflows (`SIZE_MAX`)
 *   fails with `ENOMEM`.
 *
 * Errors are reported the system-call way: -1 (or NULL) with `errno` set.
 *
 * Which thread may call what: a ::linebuf is not thread-safe. Use it
 * from one thread at a time (in this chapter: the event loop's thread).
 */
#ifndef LINEBUF_H
#define LINEBUF_H

#include <stddef.h>
#include <sys/types.h>

/**
 * @brief A line framer. Opaque: use the functions below.
 *
 * Made by linebuf_new(), freed by linebuf_free().
 */
typedef struct linebuf linebuf;

/**
 * @brief Make an empty line framer for lines of at most @p max_line bytes.
 *
 * Allocates a buffer of about `max_line` bytes, once: nothing later
 * allocates more.
 *
 * @param max_line  the longest line accepted, in bytes, without its
 *                  `\n`; at least 1.
 * @return the framer, to be freed with linebuf_free(); NULL with errno
 *         set on failure:
 *         - `EINVAL`: @p max_line is 0;
 *         - `ENOMEM`: no memory for the buffer (or @p max_line is so
 *           large that its size overflows).
 */
linebuf *linebuf_new(size_t max_line);

/**
 * @brief Free a framer and its buffer.
 *
 * Lines handed out by linebuf_next() or linebuf_rest() become invalid.
 * The descriptor it read from is not closed: it is not the framer's.
 *
 * @param lb  the framer; NULL does nothing.
 */
void linebuf_free(linebuf *lb);

/**
 * @brief Read what is available on @p fd into the buffer.
 *
 * Calls read() on @p fd again and again, until read() fails with
 * `EAGAIN` (or `EWOULDBLOCK`), or returns 0 (end of file), or the buffer
 * is full and holds a complete line not yet taken with linebuf_next()
 * (so take every line after each fill). A read() interrupted by a signal
 * (`EINTR`) is retried. The bytes of a line too long for the buffer are
 * dropped as they arrive, so they never fill it; once one call has
 * dropped 4 × `max_line` bytes or more, it returns what it read so far,
 * even when more is waiting: an event loop must not spend all its time
 * on one client that streams an endless line. The descriptor stays
 * readable, and the next call goes on skipping.
 *
 * So one call reads at most 8 × (`max_line` + 1) bytes while it skips.
 * Where that comes from: a read() never asks for more than the buffer's
 * free room, `max_line` + 1 bytes at most. The call reads the
 * 4 × `max_line` bytes it drops, at most one buffer more in the read()
 * that crosses that mark, and at most one buffer of the lines after the
 * too-long one, which it keeps: under 6 × (`max_line` + 1). The promise
 * leaves room for two reads more, for a fill that looks at its count
 * of dropped bytes a little later than right before each read().
 *
 * @p fd should be non-blocking (`O_NONBLOCK`): on a blocking descriptor
 * the call waits for more data after the available bytes, until end of
 * file or until the buffer is full.
 *
 * @param lb  the framer; must not be NULL.
 * @param fd  the descriptor to read from; the framer does not keep it
 *            and never closes it.
 * @return the number of bytes read (more than 0), whether or not a
 *         read() then reported `EAGAIN`, end of file or an error (an
 *         error or end of file is reported again by the next call);
 *         0 at end of file when nothing was read;
 *         -1 with errno set when nothing was read:
 *         - `EAGAIN` (or `EWOULDBLOCK`): nothing to read now;
 *         - `ENOBUFS`: the buffer is full and holds complete lines:
 *           take them with linebuf_next() first;
 *         - `EINVAL`: @p lb is NULL;
 *         - any other errno of read() (`EBADF`, `ECONNRESET`, ...).
 */
ssize_t linebuf_fill(linebuf *lb, int fd);

/**
 * @brief Hand out the next complete line.
 *
 * The line is returned without its `\n` (a `\r` before it is kept),
 * NUL-terminated, in the framer's buffer: it stays valid until the next
 * call of any function on @p lb. A line may itself contain NUL bytes;
 * @p len counts them.
 *
 * When the next line is longer than `max_line`, the call returns -1
 * with `EMSGSIZE`, once for that line. The line is skipped: its bytes
 * that arrived are dropped, the rest is dropped as it arrives, and the
 * following calls go on with the line after it.
 *
 * @param lb    the framer; must not be NULL.
 * @param line  receives the line; written only when 1 is returned. Must
 *              not be NULL.
 * @param len   receives its length in bytes, without the `\n`; written
 *              only when 1 is returned. Must not be NULL.
 * @return 1 when a line was handed out; 0 when no complete line is
 *         buffered (fill again once the descriptor is readable); -1 with
 *         errno set:
 *         - `EMSGSIZE`: the next line is longer than `max_line` and is
 *           skipped;
 *         - `EINVAL`: @p lb, @p line or @p len is NULL.
 */
int linebuf_next(linebuf *lb, const char **line, size_t *len);

/**
 * @brief At end of file, hand out the unterminated rest as a last line.
 *
 * Call it once linebuf_fill() has seen end of file: after a fill that
 * returned 0, or after one that returned bytes and then met end of
 * file in the same call (read() returned 0; the next fill returns 0).
 * Call linebuf_next() first until it returns 0.
 * When bytes arrived after the last `\n` (and they are not part of a
 * line being skipped as too long), they are handed out once as a last
 * line, as linebuf_next() would (no `\n` to remove); the next call
 * returns 0. Complete lines still buffered come first, as from
 * linebuf_next().
 *
 * @param lb    the framer; must not be NULL.
 * @param line  receives the line; written only when 1 is returned. Must
 *              not be NULL.
 * @param len   receives its length in bytes; written only when 1 is
 *              returned. Must not be NULL.
 * @return 1 when a line was handed out; 0 when nothing is left; -1 with
 *         errno set:
 *         - `EMSGSIZE`: as linebuf_next();
 *         - `EINVAL`: an argument is NULL, or no linebuf_fill() has
 *           met end of file yet.
 */
int linebuf_rest(linebuf *lb, const char **line, size_t *len);

#endif
