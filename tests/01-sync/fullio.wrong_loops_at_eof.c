/*
 * Known-wrong fullio: fullio_read() does not stop at end of file.
 *
 * The bug: read() returning 0 means end of file, and it will return 0
 * again forever; a loop that only stops at n bytes spins at full CPU and
 * never returns. Caught by test_read_stops_at_eof_before_n (a timeout),
 * and test_read_empty_input_and_zero_bytes.
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
            continue; /* BUG: end of file is not the end of the loop */
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
