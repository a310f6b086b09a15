/*
 * copy_cost.c: one file copied three ways, timed (Linux only for io_uring,
 * hence _GNU_SOURCE; needs liburing). "rw" is the plain loop: read() a
 * 128 KiB block, write() it, again. "pool" gives the blocks to
 * four threads that pread() and pwrite() them, the way chapter 5 sends blocking
 * work to a thread pool. "uring" keeps 16 blocks in flight through
 * io_uring: each slot reads a block, and when that read completes, writes
 * it; short reads and writes are continued, and a negative cqe->res is an
 * error number. bench.sh also counts the system calls of each with strace.
 *
 * Run: copy_cost rw|pool|uring SRC DST
 */
// link: -luring
#define _GNU_SOURCE
#include <fcntl.h>
#include <liburing.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "die.h"

enum { BLOCK = 128 * 1024, DEPTH = 16, THREADS = 4 };
static int in, out;
static off_t size;

static void put(const char *b, ssize_t n, off_t off) /* all n bytes at off */
{
    for (ssize_t w; n > 0; b += w, n -= w, off += w)
        if ((w = pwrite(out, b, (size_t)n, off)) == -1)
            die("pwrite");
}

static void copy_rw(void) /* read() a block, write() all of it, again */
{
    static char buf[BLOCK];
    for (ssize_t n, w; (n = read(in, buf, BLOCK)) != 0;) {
        if (n == -1)
            die("read");
        for (char *b = buf; n > 0; b += w, n -= w)
            if ((w = write(out, b, (size_t)n)) == -1)
                die("write");
    }
}

static atomic_long next_block;
static void *
pool_worker(void *arg) /* takes the next block until none is left */
{
    static _Thread_local char buf[BLOCK];
    (void)arg;
    for (off_t off;
         (off = (off_t)atomic_fetch_add(&next_block, 1) * BLOCK) < size;) {
        ssize_t want = size - off < BLOCK ? (ssize_t)(size - off) : BLOCK;
        for (ssize_t got = 0, n; got < want; got += n) { /* short: go on */
            if ((n = pread(in, buf + got, (size_t)(want - got), off + got)) ==
                -1)
                die("pread");
            if (n == 0)
                die_en(EIO, "pread: the file shrank");
        }
        put(buf, want, off);
    }
    return NULL;
}

static void copy_pool(void)
{
    pthread_t t[THREADS];
    int en = 0;
    for (int i = 0; i < THREADS && en == 0; i++)
        en = pthread_create(&t[i], NULL, pool_worker, NULL);
    for (int i = 0; i < THREADS && en == 0; i++)
        en = pthread_join(t[i], NULL);
    if (en != 0)
        die_en(en, "pthread");
}

// [uring]
struct slot {
    char buf[BLOCK];
    off_t off;         /* where this block starts in both files */
    unsigned len, got; /* bytes in the block; bytes read or written so far */
    int writing;       /* 0: reading it in, 1: writing it out */
};
static struct slot slots[DEPTH];
static struct io_uring ring;

static void submit(struct slot *s) /* the next step of a slot */
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
    if (sqe == NULL)
        die_en(EAGAIN, "io_uring_get_sqe: the submission queue is full");
    if (s->writing)
        io_uring_prep_write(sqe, out, s->buf + s->got, s->len - s->got,
                            (__u64)(s->off + s->got));
    else
        io_uring_prep_read(sqe, in, s->buf + s->got, s->len - s->got,
                           (__u64)(s->off + s->got));
    io_uring_sqe_set_data(sqe, s); /* which slot, when it completes */
}

static void copy_uring(void)
{
    off_t next = 0;
    int busy = 0;
    for (int i = 0; i < DEPTH && next < size; i++, busy++, next += BLOCK) {
        slots[i] = (struct slot){
            .off = next,
            .len = size - next < BLOCK ? (unsigned)(size - next) : BLOCK};
        submit(&slots[i]);
    }
    while (busy > 0) {
        int en =
            io_uring_submit_and_wait(&ring, 1); /* hand over, sleep for one */
        if (en < 0)
            die_en(-en, "io_uring_submit_and_wait");
        struct io_uring_cqe *cqe;
        while (io_uring_peek_cqe(&ring, &cqe) ==
               0) { /* every completion there is */
            struct slot *s = io_uring_cqe_get_data(cqe);
            int res = cqe->res;            /* read it before... */
            io_uring_cqe_seen(&ring, cqe); /* ...giving the entry back */
            if (res < 0)
                die_en(-res, s->writing ? "write" : "read");
            if (res == 0 && !s->writing)
                die_en(EIO, "read: the file shrank");
            s->got += (unsigned)res;
            if (s->got < s->len) { /* short: continue where it stopped */
                submit(s);
            } else if (!s->writing) {
                s->writing = 1, s->got = 0;
                submit(s);
            } else if (next <
                       size) { /* block done: the slot takes the next one */
                *s = (struct slot){.off = next,
                                   .len = size - next < BLOCK
                                              ? (unsigned)(size - next)
                                              : BLOCK};
                next += BLOCK;
                submit(s);
            } else {
                busy--;
            }
        }
    }
}
// [uring]

int main(int argc, char **argv)
{
    if (argc != 4 || (strcmp(argv[1], "rw") && strcmp(argv[1], "pool") &&
                      strcmp(argv[1], "uring"))) {
        fprintf(stderr, "usage: copy_cost rw|pool|uring SRC DST\n");
        return 2;
    }
    struct stat st;
    if ((in = open(argv[2], O_RDONLY | O_CLOEXEC)) == -1 ||
        fstat(in, &st) == -1)
        die(argv[2]);
    if ((out = open(argv[3], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) ==
        -1)
        die(argv[3]);
    size = st.st_size;
    int en = argv[1][0] == 'u' ? io_uring_queue_init(2 * DEPTH, &ring, 0) : 0;
    if (en < 0)
        die_en(-en, "io_uring_queue_init");
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (argv[1][0] == 'r')
        copy_rw();
    else if (argv[1][0] == 'p')
        copy_pool();
    else
        copy_uring();
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) +
               (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("%-5s %4lld MiB  %.3f s\n", argv[1], (long long)(size >> 20), s);
    if (argv[1][0] == 'u')
        io_uring_queue_exit(&ring);
    if (close(in) == -1 || close(out) == -1)
        die("close");
    return 0;
}
