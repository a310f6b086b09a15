/*
 * uringcopy: copy a file with io_uring, up to `depth` requests in flight.
 * Reference solution; the contract is in exercises/06-beyond/uringcopy.h.
 *
 * One slot per request in flight: a buffer of `block` bytes that goes
 * free -> reading -> filled -> writing -> free. The slot is the request's
 * user data, so a completion finds its slot at once.
 *
 * Linux-only: io_uring through liburing.
 */
#define _GNU_SOURCE
#include "uringcopy.h"

#include <errno.h>
#include <liburing.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>

enum slot_state { SLOT_FREE, SLOT_READING, SLOT_FILLED, SLOT_WRITING };

struct slot {
    enum slot_state state;
    unsigned long long off; /* where the block starts, in the stream */
    size_t len;             /* bytes in buf (filled) */
    size_t pos;             /* bytes read so far, then bytes written */
    char *buf;
};

struct copy {
    struct io_uring ring;
    struct slot *slots;
    unsigned depth;
    size_t block;
    int src, dst;
    int src_regular, dst_regular;
    unsigned long long next_read;  /* offset of the next block to read */
    unsigned long long next_write; /* stream destination: next in order */
    int eof;                       /* a read returned 0 */
    int reading, writing;          /* requests of each kind in flight */
    int err;                       /* first error number, 0 if none */
};

static int is_regular(int fd, int *regular)
{
    struct stat st;
    if (fstat(fd, &st) == -1)
        return -1;
    *regular = S_ISREG(st.st_mode);
    return 0;
}

/* Queue a read of what the slot still lacks; 0, or -1 with no SQE. */
static int queue_read(struct copy *c, struct slot *s)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(&c->ring);
    if (sqe == NULL)
        return -1;
    /* -1: a pipe or device reads at its current position. */
    uint64_t off = c->src_regular ? s->off + s->pos : (uint64_t)-1;
    io_uring_prep_read(sqe, c->src, s->buf + s->pos,
                       (unsigned)(c->block - s->pos), off);
    io_uring_sqe_set_data(sqe, s);
    s->state = SLOT_READING;
    c->reading++;
    return 0;
}

static int queue_write(struct copy *c, struct slot *s)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(&c->ring);
    if (sqe == NULL)
        return -1;
    uint64_t off = c->dst_regular ? s->off + s->pos : (uint64_t)-1;
    io_uring_prep_write(sqe, c->dst, s->buf + s->pos,
                        (unsigned)(s->len - s->pos), off);
    io_uring_sqe_set_data(sqe, s);
    s->state = SLOT_WRITING;
    c->writing++;
    return 0;
}

// [fill]
/* Put every request that may start now on the submission queue. */
static void fill_queue(struct copy *c)
{
    for (unsigned i = 0; i < c->depth && c->err == 0; i++) {
        struct slot *s = &c->slots[i];
        if (s->state == SLOT_FILLED &&
            (c->dst_regular || (c->writing == 0 && s->off == c->next_write))) {
            s->pos = 0;
            queue_write(c, s);
        }
    }
    for (unsigned i = 0; i < c->depth && c->err == 0 && !c->eof; i++) {
        struct slot *s = &c->slots[i];
        if (s->state != SLOT_FREE)
            continue;
        if (!c->src_regular && c->reading > 0)
            break; /* a stream: one read at a time, in order */
        s->off = c->next_read;
        s->pos = 0;
        if (c->src_regular)
            c->next_read += c->block;
        queue_read(c, s);
    }
}
// [fill]

// [complete]
static void on_complete(struct copy *c, struct slot *s, int res)
{
    if (s->state == SLOT_READING) {
        c->reading--;
        if (res < 0) {
            if (c->err == 0)
                c->err = -res;
            s->state = SLOT_FREE;
        } else if (res == 0) {
            c->eof = 1; /* the end: only a read of 0 says so */
            s->len = s->pos;
            s->state = s->len > 0 ? SLOT_FILLED : SLOT_FREE;
        } else if (!c->src_regular) {
            /* A stream gives what it has: that is a whole block. */
            s->len = (size_t)res;
            s->state = SLOT_FILLED;
            c->next_read += (size_t)res;
        } else {
            s->pos += (size_t)res;
            if (s->pos < c->block && c->err != 0) {
                s->state = SLOT_FREE; /* failed: submit nothing more */
            } else if (s->pos < c->block) {
                queue_read(c, s); /* short: read the rest */
            } else {
                s->len = s->pos;
                s->state = SLOT_FILLED;
            }
        }
        return;
    }
    c->writing--;
    if (res <= 0) {
        if (c->err == 0)
            c->err = res < 0 ? -res : EIO;
        s->state = SLOT_FREE;
        return;
    }
    s->pos += (size_t)res;
    if (s->pos < s->len && c->err != 0) {
        s->state = SLOT_FREE;
        return;
    }
    if (s->pos < s->len) {
        queue_write(c, s); /* short: write the rest */
        return;
    }
    c->next_write += s->len;
    s->state = SLOT_FREE;
}
// [complete]

// [run]
static void run(struct copy *c)
{
    for (;;) {
        fill_queue(c);
        if (c->reading + c->writing == 0)
            return; /* done, or failed with nothing left in flight */
        int rc = io_uring_submit_and_wait(&c->ring, 1);
        if (rc < 0 && rc != -EINTR) {
            /* io_uring_enter() itself failed: nothing more can be
             * waited for; io_uring_queue_exit() cancels the rest. */
            if (c->err == 0)
                c->err = -rc;
            return;
        }
        struct io_uring_cqe *cqe;
        while (io_uring_peek_cqe(&c->ring, &cqe) == 0) {
            /* Copy what the entry says before handing its slot back. */
            struct slot *s = io_uring_cqe_get_data(cqe);
            int res = cqe->res;
            io_uring_cqe_seen(&c->ring, cqe);
            on_complete(c, s, res);
        }
    }
}
// [run]

int uringcopy(int src, int dst, unsigned depth, size_t block)
{
    if (src < 0 || dst < 0) {
        errno = EBADF;
        return -1;
    }
    if (depth == 0 || depth > 64 || block == 0 || block > 16u << 20) {
        errno = EINVAL;
        return -1;
    }
    struct copy c = {.depth = depth, .block = block, .src = src, .dst = dst};
    if (is_regular(src, &c.src_regular) == -1 ||
        is_regular(dst, &c.dst_regular) == -1)
        return -1;
    c.slots = calloc(depth, sizeof *c.slots);
    if (c.slots == NULL)
        return -1;
    for (unsigned i = 0; i < depth; i++) {
        c.slots[i].buf = malloc(block);
        if (c.slots[i].buf == NULL) {
            c.err = ENOMEM;
            break;
        }
    }
    int rc = c.err == 0 ? io_uring_queue_init(depth, &c.ring, 0) : 0;
    if (c.err == 0 && rc < 0)
        c.err = -rc;
    if (c.err == 0) {
        run(&c);
        io_uring_queue_exit(&c.ring);
    }
    for (unsigned i = 0; i < depth; i++)
        free(c.slots[i].buf);
    free(c.slots);
    if (c.err != 0) {
        errno = c.err;
        return -1;
    }
    return 0;
}
