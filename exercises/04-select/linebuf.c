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

/* TODO: the fields: the buffer (allocated once, max_line + 1 bytes for a
 * line and its '\n', plus one for the NUL you write after a line), where
 * the unused bytes start and end in it, how far you have already searched
 * for a '\n', whether a too-long line is being skipped (and whether that
 * is still to be reported), whether read() has said end of file. */
struct linebuf {
    int unused;
};

linebuf *linebuf_new(size_t max_line)
{
    /* TODO: EINVAL for a max_line of 0; allocate the framer and its
     * buffer (ENOMEM, with a check that max_line + 2 does not overflow).
     * Read: chapter 4, "Framing lines on a byte stream". */
    (void)max_line;
    errno = ENOSYS;
    return NULL;
}

void linebuf_free(linebuf *lb)
{
    /* TODO: nothing for NULL; free the buffer and the framer (not the
     * descriptor: it is not the framer's).
     * Read: chapter 4, "Framing lines on a byte stream". */
    (void)lb;
}

ssize_t linebuf_fill(linebuf *lb, int fd)
{
    /* TODO: loop on read() into the free end of the buffer (move the
     * unused bytes to the front when the end is reached) until read()
     * says EAGAIN/EWOULDBLOCK or 0, or the buffer is full of complete
     * lines. Retry EINTR. When the buffer is full and holds no '\n', the
     * line is too long: drop it and skip the rest of it as it arrives,
     * but return once this call has dropped 4 * max_line bytes (the
     * descriptor stays readable; the next call goes on skipping).
     * Return the bytes read, 0 at end of file, or -1 with errno.
     * Read: chapter 4, "Non-blocking descriptors", "The timeout and
     * EINTR" and "Framing lines on a byte stream". */
    (void)lb;
    (void)fd;
    errno = ENOSYS;
    return -1;
}

int linebuf_next(linebuf *lb, const char **line, size_t *len)
{
    /* TODO: report a skipped too-long line first (-1, EMSGSIZE); then
     * search the buffered bytes for '\n' (memchr, starting where the
     * last search stopped); when found, put a NUL in its place and hand
     * out the line.
     * Read: chapter 4, "Framing lines on a byte stream". */
    (void)lb;
    (void)line;
    (void)len;
    errno = ENOSYS;
    return -1;
}

int linebuf_rest(linebuf *lb, const char **line, size_t *len)
{
    /* TODO: EINVAL before end of file; complete lines first, as
     * linebuf_next(); then the bytes after the last '\n', once, with a
     * NUL after them.
     * Read: chapter 4, "Framing lines on a byte stream". */
    (void)lb;
    (void)line;
    (void)len;
    errno = ENOSYS;
    return -1;
}
