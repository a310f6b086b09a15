/*
 * Known-wrong fullio: an error after some bytes returns -1.
 *
 * The bug: the bytes already transferred are forgotten. For a read they
 * are in the buffer but the caller is told there are none; for a write
 * the caller cannot know which bytes went out, so it resends them or
 * gives up. Caught by test_read_nonblocking_keeps_count and
 * test_write_nonblocking_keeps_count.
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
            return -1; /* BUG: the bytes read so far are lost */
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
            return -1; /* BUG: the count written so far is lost */
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
