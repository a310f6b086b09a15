/*
 * same_job.c: readiness against completion on the same job (Linux only,
 * hence _GNU_SOURCE; needs liburing). The job: get the 5 bytes a child
 * writes into a pipe 100 ms from now. "epoll" asks to be told when the
 * pipe CAN be read, then reads it itself: two steps, the second one ours.
 * "uring" asks the kernel to DO the read, before any data exists; the
 * completion arrives with the bytes already in our buffer.
 *
 * Run: same_job epoll|uring
 */
// link: -luring
#define _GNU_SOURCE
#include <fcntl.h>
#include <liburing.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "die.h"

int main(int argc, char **argv)
{
    if (argc != 2 ||
        (strcmp(argv[1], "epoll") != 0 && strcmp(argv[1], "uring") != 0)) {
        fprintf(stderr, "usage: same_job epoll|uring\n");
        return 2;
    }
    int p[2];
    if (pipe2(p, O_CLOEXEC) == -1)
        die("pipe2");
    fflush(stdout);
    pid_t child = fork();
    if (child == -1)
        die("fork");
    if (child == 0) {
        nanosleep(&(struct timespec){0, 100 * 1000000L}, NULL);
        _exit(write(p[1], "hello", 5) == 5 ? 0 : 1);
    }
    char buf[16] = {0};
    if (strcmp(argv[1], "epoll") == 0) {
        // [readiness]
        int ep = epoll_create1(EPOLL_CLOEXEC);
        struct epoll_event ev = {.events = EPOLLIN, .data.fd = p[0]};
        if (ep == -1 || epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev) == -1)
            die("epoll");
        printf("epoll: asked to be told when the pipe can be read\n");
        if (epoll_wait(ep, &ev, 1, 2000) != 1) /* 1: "you may read now" */
            die("epoll_wait");
        printf("epoll: told it is readable; buffer still \"%s\"\n", buf);
        ssize_t n = read(p[0], buf, sizeof buf - 1); /* the work: ours */
        if (n == -1)
            die("read");
        printf("epoll: our read() got %zd bytes: \"%s\"\n", n, buf);
        // [readiness]
        if (close(ep) == -1)
            die("close");
    } else {
        // [completion]
        struct io_uring ring;
        int en = io_uring_queue_init(4, &ring, 0);
        if (en < 0)
            die_en(-en, "io_uring_queue_init");
        struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
        if (sqe == NULL)
            die_en(EAGAIN, "io_uring_get_sqe");
        io_uring_prep_read(sqe, p[0], buf, sizeof buf - 1,
                           0); /* 2: "read this" */
        if ((en = io_uring_submit(&ring)) < 0)
            die_en(-en, "io_uring_submit");
        printf("uring: asked the kernel to read, before any data exists\n");
        struct io_uring_cqe *cqe;
        if ((en = io_uring_wait_cqe(&ring, &cqe)) < 0)
            die_en(-en, "io_uring_wait_cqe");
        int res = cqe->res;
        io_uring_cqe_seen(&ring, cqe);
        if (res < 0)
            die_en(-res, "read");
        printf(
            "uring: told it is done: %d bytes already in the buffer: \"%s\"\n",
            res, buf);
        // [completion]
        io_uring_queue_exit(&ring);
    }
    int st;
    if (waitpid(child, &st, 0) == -1 || close(p[0]) == -1 || close(p[1]) == -1)
        die("cleanup");
    return 0;
}
