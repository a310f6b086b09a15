/*
 * uring_link.c: linked io_uring requests (Linux 5.6 and later, for
 * IORING_OP_READ and _WRITE; Linux only, hence _GNU_SOURCE; needs liburing).
 * IOSQE_IO_LINK makes the next request wait for this one, and cancels it if
 * this one fails (or is short). Chain 1 writes a line to a file and then reads
 * it back: the read starts only after the write completed. Chain 2 starts with
 * a read from a descriptor that is open only for writing: it fails with -EBADF,
 * and the write linked behind it never runs: its res is -ECANCELED.
 *
 * Run: uring_link
 */
// link: -luring
#define _GNU_SOURCE
#include <fcntl.h>
#include <liburing.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "die.h"

static void show(struct io_uring *ring, int n)
{
    for (int i = 0; i < n; i++) {
        struct io_uring_cqe *cqe;
        int en = io_uring_wait_cqe(ring, &cqe);
        if (en < 0)
            die_en(-en, "io_uring_wait_cqe");
        const char *name = io_uring_cqe_get_data(cqe);
        int res = cqe->res;
        io_uring_cqe_seen(ring, cqe);
        printf("  %-24s res %3d %s\n", name, res,
               res < 0 ? strerror(-res) : "");
    }
}

int main(void)
{
    FILE *f = tmpfile();
    int wo = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (f == NULL || wo == -1)
        die("open");
    struct io_uring ring;
    int en = io_uring_queue_init(8, &ring, 0);
    if (en < 0)
        die_en(-en, "io_uring_queue_init");
    static char line[] = "linked\n", back[16];
    // [chain]
    struct io_uring_sqe *w = io_uring_get_sqe(&ring);
    struct io_uring_sqe *r = io_uring_get_sqe(&ring); /* 2 of the 8 */
    if (w == NULL || r == NULL)
        die_en(EAGAIN, "io_uring_get_sqe");
    io_uring_prep_write(w, fileno(f), line, 7, 0);
    io_uring_sqe_set_data(w, "write 7 bytes");
    w->flags |= IOSQE_IO_LINK; /* the next request waits for this one */
    io_uring_prep_read(r, fileno(f), back, sizeof back, 0);
    io_uring_sqe_set_data(r, "then read them back");
    // [chain]
    printf("chain 1 (one submit):\n");
    if ((en = io_uring_submit(&ring)) < 0)
        die_en(-en, "io_uring_submit");
    show(&ring, 2);
    printf("  read back: %.6s\n", back);
    // [broken]
    struct io_uring_sqe *bad = io_uring_get_sqe(&ring);
    struct io_uring_sqe *next = io_uring_get_sqe(&ring);
    if (bad == NULL || next == NULL)
        die_en(EAGAIN, "io_uring_get_sqe");
    io_uring_prep_read(bad, wo, back, sizeof back, 0); /* fails: EBADF */
    io_uring_sqe_set_data(bad, "read a write-only fd");
    bad->flags |= IOSQE_IO_LINK;
    io_uring_prep_write(next, fileno(f), line, 7, 7);
    io_uring_sqe_set_data(next, "then write");
    // [broken]
    printf("chain 2 (one submit):\n");
    if ((en = io_uring_submit(&ring)) < 0)
        die_en(-en, "io_uring_submit");
    show(&ring, 2);
    io_uring_queue_exit(&ring);
    if (close(wo) == -1 || fclose(f) == EOF)
        die("close");
    return 0;
}
