/*
 * uring_basics.c: io_uring's two queues, user data and cqe->res (Linux
 * 5.6 and later, for IORING_OP_READ; Linux only, hence _GNU_SOURCE; needs
 * liburing). Three requests go into the submission queue: read 11 bytes of a
 * file at offset 0, read 5 at offset 6, and read from a descriptor open only
 * for writing. One io_uring_submit() hands all three to the kernel; each comes
 * back as a completion carrying the user data we attached (here a name)
 * and res: the byte count, or a negative error number (-EBADF).
 *
 * Run: uring_basics
 */
// link: -luring
#define _GNU_SOURCE
#include <fcntl.h>
#include <liburing.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "die.h"

struct req {
    const char *name;
    char buf[32];
};

int main(void)
{
    FILE *f = tmpfile();
    if (f == NULL || fputs("hello, ring\n", f) == EOF || fflush(f) == EOF)
        die("tmpfile");
    int fd = fileno(f), wo = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (wo == -1)
        die("open");
    // [submit]
    struct io_uring ring;
    int en = io_uring_queue_init(8, &ring, 0); /* room for 8 requests */
    if (en < 0)
        die_en(-en, "io_uring_queue_init");
    static struct req reqs[3] = {
        {"whole", {0}}, {"tail", {0}}, {"write-only", {0}}};
    int fds[3] = {fd, fd, wo};
    unsigned lens[3] = {11, 5, 4}, offs[3] = {0, 6, 0};
    for (int i = 0; i < 3; i++) {
        struct io_uring_sqe *sqe = io_uring_get_sqe(&ring); /* a free entry */
        if (sqe == NULL) /* the submission queue is full */
            die_en(EAGAIN, "io_uring_get_sqe");
        io_uring_prep_read(sqe, fds[i], reqs[i].buf, lens[i], offs[i]);
        io_uring_sqe_set_data(sqe, &reqs[i]); /* comes back in the completion */
    }
    int sent = io_uring_submit(&ring); /* one system call for all three */
    if (sent < 0)
        die_en(-sent, "io_uring_submit");
    printf("submitted %d requests\n", sent);
    // [submit]
    // [complete]
    for (int i = 0; i < sent; i++) {
        struct io_uring_cqe *cqe;
        if ((en = io_uring_wait_cqe(&ring, &cqe)) < 0)
            die_en(-en, "io_uring_wait_cqe");
        struct req *r = io_uring_cqe_get_data(cqe);
        int res = cqe->res;            /* copy what we need... */
        io_uring_cqe_seen(&ring, cqe); /* ...then give the entry back */
        if (res < 0)
            printf("%-10s failed: res %d (%s)\n", r->name, res, strerror(-res));
        else
            printf("%-10s read %d bytes: \"%.*s\"\n", r->name, res, res,
                   r->buf);
    }
    // [complete]
    io_uring_queue_exit(&ring);
    if (close(wo) == -1 || fclose(f) == EOF)
        die("close");
    return 0;
}
