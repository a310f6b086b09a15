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
    /* TODO: see fullio.h. Read: chapter 1, "Partial reads and writes",
     * "Blocking calls: where the time goes" and "Exit codes and errors". */
    (void)fd;
    (void)buf;
    (void)n;
    errno = ENOSYS;
    return -1;
}

ssize_t fullio_write(int fd, const void *buf, size_t n)
{
    /* TODO: see fullio.h. Read: chapter 1, "Partial reads and writes" and
     * "Exit codes and errors". */
    (void)fd;
    (void)buf;
    (void)n;
    errno = ENOSYS;
    return -1;
}
