/*
 * linebuf: cutting a byte stream into lines, on a non-blocking
 * descriptor.
 *
 * The contract is in linebuf.h. Run the tests with
 *
 *     make check CHAPTER=4 EXERCISE=linebuf
 *
 * and ask for a hint with `make hint CHAPTER=4 EXERCISE=linebuf`.
 */
#include "linebuf.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* TODO: the fields you need. */
struct linebuf {
    int unused;
};

linebuf *linebuf_new(size_t max_line)
{
    /* TODO: see linebuf.h. Read: chapter 4, "Framing lines on a byte
     * stream". */
    (void)max_line;
    errno = ENOSYS;
    return NULL;
}

void linebuf_free(linebuf *lb)
{
    /* TODO: see linebuf.h. Read: chapter 4, "Framing lines on a byte
     * stream". */
    (void)lb;
}

ssize_t linebuf_fill(linebuf *lb, int fd)
{
    /* TODO: see linebuf.h. Read: chapter 4, "Non-blocking descriptors", "The
     * timeout and EINTR" and "Framing lines on a byte stream". */
    (void)lb;
    (void)fd;
    errno = ENOSYS;
    return -1;
}

int linebuf_next(linebuf *lb, const char **line, size_t *len)
{
    /* TODO: see linebuf.h. Read: chapter 4, "Framing lines on a byte
     * stream". */
    (void)lb;
    (void)line;
    (void)len;
    errno = ENOSYS;
    return -1;
}

int linebuf_rest(linebuf *lb, const char **line, size_t *len)
{
    /* TODO: see linebuf.h. Read: chapter 4, "Framing lines on a byte
     * stream". */
    (void)lb;
    (void)line;
    (void)len;
    errno = ENOSYS;
    return -1;
}
