/*
 * linebuf: cutting a byte stream into lines (reference solution).
 *
 * The contract is in exercises/04-select/linebuf.h.
 *
 * One buffer of max_line + 1 bytes (a longest line and its '\n') plus one
 * for the NUL written after a line handed out by linebuf_rest(). The
 * bytes not yet handed out are buf[start..end); buf[start..scanned) is
 * known to hold no '\n', so a line that arrives one byte at a time is
 * searched once, not once per byte.
 *
 * The buffer never grows. When it is full and holds no '\n', the line in
 * it is longer than max_line: its bytes are dropped, and so are the next
 * ones up to and including the next '\n' (skipping), and linebuf_next()
 * reports EMSGSIZE once for each such line. One fill drops at most about
 * 4 * max_line bytes of too-long lines before it returns, even when more
 * is there to read, whether it is in the middle of one endless line or
 * between many short too-long ones: the descriptor stays readable, and
 * the next fill goes on.
 */
#include "linebuf.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* While skipping a too-long line, one linebuf_fill() drops at most about
 * this many times max_line bytes, then returns: a peer that streams an
 * endless line must not keep the caller (an event loop) from the others. */
enum { LINEBUF_SKIP_LINES = 4 };

struct linebuf {
    char *buf;       /* cap + 1 bytes */
    size_t cap;      /* max_line + 1: a longest line and its '\n' */
    size_t start;    /* the first byte not handed out yet */
    size_t end;      /* one past the last byte read */
    size_t scanned;  /* buf[start..scanned) holds no '\n' */
    bool skipping;   /* dropping the rest of a too-long line */
    size_t too_long; /* skipped lines linebuf_next() has not reported */
    bool eof;        /* the last read() returned 0 */
};

linebuf *linebuf_new(size_t max_line)
{
    if (max_line == 0) {
        errno = EINVAL;
        return NULL;
    }
    if (max_line > SIZE_MAX - 2) {
        errno = ENOMEM;
        return NULL;
    }
    linebuf *lb = calloc(1, sizeof *lb);
    if (lb == NULL)
        return NULL;
    lb->cap = max_line + 1;
    lb->buf = malloc(lb->cap + 1);
    if (lb->buf == NULL) {
        free(lb);
        return NULL;
    }
    return lb;
}

void linebuf_free(linebuf *lb)
{
    if (lb == NULL)
        return;
    free(lb->buf);
    free(lb);
}

static void forget_all(linebuf *lb)
{
    lb->start = lb->end = lb->scanned = 0;
}

/* Make room at the end of the buffer for read(). False when the buffer is
 * full of complete lines the caller has not taken yet. */
static bool make_room(linebuf *lb)
{
    if (lb->end < lb->cap)
        return true;
    if (lb->start > 0) {
        memmove(lb->buf, lb->buf + lb->start, lb->end - lb->start);
        lb->end -= lb->start;
        lb->scanned -= lb->start;
        lb->start = 0;
        return true;
    }
    if (memchr(lb->buf + lb->scanned, '\n', lb->end - lb->scanned) != NULL)
        return false;
    /* cap bytes and no '\n': longer than max_line. */
    forget_all(lb);
    lb->skipping = true;
    /* The buffer held no complete line, so this report comes before every
     * line kept after it: a count keeps the order. */
    lb->too_long++;
    return true;
}

ssize_t linebuf_fill(linebuf *lb, int fd)
{
    if (lb == NULL) {
        errno = EINVAL;
        return -1;
    }
    size_t total = 0, dropped = 0;
    for (;;) {
        /* Whether still skipping or not: a stream of too-long lines that
         * each end soon after the buffer overflowed is as endless. */
        if (dropped >= LINEBUF_SKIP_LINES * (lb->cap - 1))
            break; /* enough for one call: let the caller serve others */
        size_t had = lb->end - lb->start;
        if (!make_room(lb)) {
            if (total == 0) {
                errno = ENOBUFS;
                return -1;
            }
            break;
        }
        if (lb->skipping && lb->end == 0)
            dropped += had; /* make_room() dropped a too-long line */
        ssize_t n = read(fd, lb->buf + lb->end, lb->cap - lb->end);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (total == 0)
                return -1; /* EAGAIN, or a real error */
            break;         /* read() will say it again next time */
        }
        if (n == 0) {
            lb->eof = true;
            break;
        }
        lb->eof = false;
        total += (size_t)n;
        if (lb->skipping) {
            /* While skipping, the buffer is empty and end is 0. */
            char *nl = memchr(lb->buf, '\n', (size_t)n);
            if (nl == NULL) {
                dropped += (size_t)n; /* all of it is the long line's */
                continue;
            }
            dropped += (size_t)(nl + 1 - lb->buf);
            lb->skipping = false;
            lb->start = lb->scanned = (size_t)(nl + 1 - lb->buf);
        }
        lb->end += (size_t)n;
    }
    return (ssize_t)total;
}

int linebuf_next(linebuf *lb, const char **line, size_t *len)
{
    if (lb == NULL || line == NULL || len == NULL) {
        errno = EINVAL;
        return -1;
    }
    if (lb->too_long > 0) {
        lb->too_long--;
        errno = EMSGSIZE;
        return -1;
    }
    char *nl = memchr(lb->buf + lb->scanned, '\n', lb->end - lb->scanned);
    if (nl == NULL) {
        lb->scanned = lb->end;
        return 0;
    }
    *nl = '\0';
    *line = lb->buf + lb->start;
    *len = (size_t)(nl - *line);
    lb->start = lb->scanned = (size_t)(nl + 1 - lb->buf);
    if (lb->start == lb->end)
        forget_all(lb); /* the line stays where it is, still valid */
    return 1;
}

int linebuf_rest(linebuf *lb, const char **line, size_t *len)
{
    if (lb == NULL || line == NULL || len == NULL || !lb->eof) {
        errno = EINVAL;
        return -1;
    }
    int r = linebuf_next(lb, line, len);
    if (r != 0 || lb->start == lb->end)
        return r;
    lb->buf[lb->end] = '\0';
    *line = lb->buf + lb->start;
    *len = lb->end - lb->start;
    forget_all(lb);
    return 1;
}
