/*
 * Known-wrong fullio: fullio_read() calls read() once.
 *
 * The bug: one read() returns what has arrived so far, not what was
 * asked for; on a pipe fed in pieces the caller gets a fragment and
 * believes it is everything. Caught by test_read_collects_partial_chunks
 * (and test_read_stops_at_eof_before_n, test_read_1mib_in_pieces).
 */
#include "fullio.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <sys/types.h>
#include <unistd.h>

ssize_t fullio_read(int fd, void *buf, size_t n)
{
    if (n == 0)
        return 0;
    if (buf == NULL || n > SSIZE_MAX) {
        errno = EINVAL;
        return -1;
    }
    unsigned char *p = buf;
    size_t done = 0;
    while (done < n) {
        ssize_t got = read(fd, p + done, n - done);
        if (got > 0) {
            done += (size_t)got;
            break; /* BUG: a short read is taken as the whole answer */
        } else if (got == 0) {
            break; /* end of file: a short count is the answer */
        } else if (errno == EINTR) {
            continue; /* a signal handler ran; nothing was lost */
        } else {
            /* Keep the bytes we have; the error will come back on the
             * next call. */
            return done > 0 ? (ssize_t)done : -1;
        }
    }
    return (ssize_t)done;
}

ssize_t fullio_write(int fd, const void *buf, size_t n)
{
    if (n == 0)
        return 0;
    if (buf == NULL || n > SSIZE_MAX) {
        errno = EINVAL;
        return -1;
    }
    const unsigned char *p = buf;
    size_t done = 0;
    while (done < n) {
        ssize_t put = write(fd, p + done, n - done);
        if (put > 0) {
            done += (size_t)put; /* a short write: continue where it
                                    stopped, never from the start */
        } else if (put == -1 && errno == EINTR) {
            continue;
        } else if (put == -1) {
            return done > 0 ? (ssize_t)done : -1;
        } else {
            /* write() returned 0 for a non-empty request: it would do so
             * again, so stop instead of looping forever. */
            if (done > 0)
                return (ssize_t)done;
            errno = EIO;
            return -1;
        }
    }
    return (ssize_t)done;
}
