/*
 * Known-wrong fullio: after a short write, fullio_write() writes from
 * the start of the buffer again.
 *
 * The bug: the loop counts the bytes written but always passes buf, not
 * buf + done, so after a short write the reader gets the first bytes
 * twice and never the last ones. Caught by
 * test_write_retries_after_eintr_and_short_writes (the reading child
 * sees wrong bytes).
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
            done += (size_t)got; /* a short read: go on for the rest */
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
        ssize_t put = write(fd, p, n - done); /* BUG: not p + done */
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
