/*
 * Known-wrong fullio: fullio_read() treats EINTR after some bytes like a
 * real error, and returns the count it has.
 *
 * The bug: the check "an error after some bytes returns their count"
 * comes before the check for EINTR. A signal that interrupts the wait
 * for the rest of the data then cuts the read short, although nothing
 * went wrong and the rest is still coming: the caller gets 5 bytes of
 * 10 and takes them for end of file. Caught by
 * test_read_retries_after_eintr (the second half arrives 60 ms after the
 * first, while SIGALRM comes every 10 ms).
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
        } else if (done > 0) {
            /* BUG: checked before EINTR, so a signal ends the read. */
            return (ssize_t)done;
        } else if (errno == EINTR) {
            continue;
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
