/**
 * @file fullio.h
 * @brief Read and write exactly n bytes, through partial transfers and
 *        signals.
 *
 * Exercise 2 of chapter 1 ("Synchronous programs: one step at a time").
 *
 * One call of `read()` or `write()` may move fewer bytes than asked:
 * a pipe or a socket hands over what it has now, a terminal one line, and
 * a signal that arrives while the call waits can cut it short (it then
 * returns the bytes moved so far, or -1 with `errno` `EINTR` when none
 * were). None of that is an error. fullio_read() and fullio_write() call
 * `read()` / `write()` again and again until the whole request is done,
 * so the caller sees only three outcomes: everything, end of file, or a
 * real error.
 *
 * Later chapters come back to these two functions where they move data
 * through pipes; no later exercise links them.
 *
 * Both functions block the calling thread until they return (unless the
 * descriptor is non-blocking, see below). They keep no state: any thread
 * may call them, but two threads reading (or writing) the same
 * descriptor at the same time get each other's bytes in between theirs.
 *
 * Promises of both functions (each checked by the tests that name its
 * tag; each function's own are listed with it):
 *
 * - [zero] With n = 0 both return 0 at once and do nothing else: they
 *   look neither at the buffer nor at the descriptor, so a NULL buffer
 *   or a bad descriptor is no error then.
 * - [einval] A NULL buffer while n > 0, or n greater than `SSIZE_MAX`,
 *   gives -1 with `errno` `EINVAL`, decided before the descriptor is
 *   used: nothing is read or written, and a bad descriptor in the same
 *   call does not change the answer.
 * - [ebadf] A descriptor that is not open, or not open for reading
 *   (fullio_read()) or writing (fullio_write()), gives -1 with `errno`
 *   `EBADF`.
 */
#ifndef FULLIO_H
#define FULLIO_H

#include <stddef.h>
#include <sys/types.h>

/**
 * @brief Read up to @p n bytes from @p fd into @p buf, stopping early only
 *        at end of file.
 *
 * Calls `read()` until @p n bytes have arrived or `read()` returns 0 (end
 * of file: for a pipe, every write end has been closed).
 *
 * - [read-all] A short `read()` is followed by another for the rest,
 *   into the rest of the buffer: however the bytes come in (one at a
 *   time included), the first @p n of them end up in @p buf, in order,
 *   and the count is @p n. Nothing is stored past `buf[n-1]`, and no
 *   byte after the n-th is taken from @p fd.
 * - [read-eof] At end of file fullio_read() returns the bytes it got,
 *   fewer than @p n: 0 when the input was already at its end.
 * - [read-eintr] A `read()` interrupted by a signal handler (`EINTR`) is
 *   simply called again, whether or not some bytes had arrived before.
 * - [read-error] If `read()` fails after some bytes have already been
 *   stored, those bytes are not thrown away: the function returns their
 *   count, and the error, which is normally still there, is reported by
 *   the next call. On a non-blocking descriptor that means: the bytes
 *   available now, or -1 with `EAGAIN` when there are none.
 *
 * @param fd   a descriptor open for reading.
 * @param buf  where the bytes go: at least @p n bytes owned by the
 *             caller. May be NULL only when @p n is 0.
 * @param n    how many bytes to read. 0 does nothing and returns 0,
 *             whatever @p fd and @p buf are.
 *             At most `SSIZE_MAX`, so that the count fits the return
 *             value.
 * @return the number of bytes read: @p n, or fewer (possibly 0) only when
 *         end of file came first or an error came after some bytes; or
 *         -1 with `errno` set when nothing was read:
 *         - `EINVAL`: @p buf is NULL while @p n > 0, or @p n is greater
 *           than `SSIZE_MAX` (nothing is read; checked before @p fd,
 *           so this comes first even when @p fd is bad too);
 *         - `EBADF`: @p fd is not an open descriptor, or not open for
 *           reading;
 *         - any other error of `read()` (`EAGAIN` on a non-blocking
 *           descriptor with no data, `EIO`, `EISDIR`, ...), except
 *           `EINTR`, which is retried.
 */
ssize_t fullio_read(int fd, void *buf, size_t n);

/**
 * @brief Write all @p n bytes of @p buf to @p fd.
 *
 * Calls `write()` until every byte has been accepted. A write larger
 * than a pipe's buffer therefore waits, piece by piece, for the reader
 * to make room.
 *
 * - [write-all] After a short write, fullio_write() continues from where
 *   it stopped: the descriptor receives the @p n bytes of @p buf, each
 *   once, in order, and nothing after them (no byte past `buf[n-1]` is
 *   read), and the count is @p n.
 * - [write-eintr] A `write()` interrupted by a signal handler (`EINTR`)
 *   is called again, whether or not some bytes had gone out before.
 * - [write-error] If `write()` fails after some bytes were written, the
 *   function returns that count: the caller knows exactly which bytes
 *   went out, and the next call reports the error. On a non-blocking
 *   descriptor that means: as many bytes as fitted now, or -1 with
 *   `EAGAIN` when none did.
 * - [write-zero] A `write()` that returns 0 for a non-empty request
 *   moved nothing and reported no error; calling it again might do the
 *   same for ever. fullio_write() stops there: it returns the count
 *   written before, or -1 with `errno` `EIO` when that is 0.
 * - [epipe] Writing to a pipe whose read ends are all closed, with
 *   `SIGPIPE` ignored, handled or blocked, gives -1 with `errno` `EPIPE`.
 * - [sigpipe] fullio_write() changes no signal disposition and no signal
 *   mask. Writing to a pipe whose read ends are all closed raises
 *   `SIGPIPE`, which ends the process unless the caller ignores,
 *   handles or blocks it: that choice is the caller's.
 *
 * @param fd   a descriptor open for writing.
 * @param buf  the bytes to write: at least @p n bytes owned by the
 *             caller, only read. May be NULL only when @p n is 0.
 * @param n    how many bytes to write. 0 does nothing and returns 0,
 *             whatever @p fd and @p buf are.
 *             At most `SSIZE_MAX`.
 * @return @p n when everything was written; fewer when an error came
 *         after some bytes were written; or -1 with `errno` set when
 *         nothing was written:
 *         - `EINVAL`: @p buf is NULL while @p n > 0, or @p n is greater
 *           than `SSIZE_MAX` (nothing is written; checked before @p fd,
 *           so this comes first even when @p fd is bad too);
 *         - `EBADF`: @p fd is not an open descriptor, or not open for
 *           writing;
 *         - `EPIPE`: nobody can ever read what is written (the pipe's
 *           read ends are closed; `SIGPIPE` ignored, handled or blocked);
 *         - `EIO`: `write()` returned 0, taking nothing (see
 *           [write-zero]);
 *         - any other error of `write()` (`EAGAIN` on a full
 *           non-blocking descriptor, `ENOSPC`, `EIO`, ...), except
 *           `EINTR`, which is retried.
 */
ssize_t fullio_write(int fd, const void *buf, size_t n);

#endif
