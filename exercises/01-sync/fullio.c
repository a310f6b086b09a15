/*
 * fullio: read and write exactly n bytes, through partial transfers and
 * signals.
 *
 * The contract is in fullio.h. Run the tests with
 *
 *     make check CHAPTER=1 EXERCISE=fullio
 *
 * and ask for a hint with `make hint CHAPTER=1 EXERCISE=fullio`.
 */
#include "fullio.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <sys/types.h>
#include <unistd.h>

ssize_t fullio_read(int fd, void *buf, size_t n)
{
    /* TODO: check the arguments (n == 0, NULL buf, n above SSIZE_MAX).
     * Then call read() in a loop, each time for the bytes still missing:
     * add what it returns, call it again after EINTR, stop at end of file
     * (read() returns 0). An error after some bytes returns the count so
     * far; an error before any returns -1.
     * Read: chapter 1, "Partial reads and writes", "Blocking calls:
     * where the time goes" and "Exit codes and errors". */
    (void)fd;
    (void)buf;
    (void)n;
    errno = ENOSYS;
    return -1;
}

ssize_t fullio_write(int fd, const void *buf, size_t n)
{
    /* TODO: the same loop around write(): continue from where a short
     * write stopped, retry after EINTR, and return n once every byte is
     * out (or the count so far when an error comes after some bytes).
     * Read: chapter 1, "Partial reads and writes" and "Exit codes and
     * errors". */
    (void)fd;
    (void)buf;
    (void)n;
    errno = ENOSYS;
    return -1;
}
