/*
 * bigout_fixed: read a child's output to the end, THEN wait for it.
 *
 * The child writes `bytes` bytes into a pipe (default 1000000). The
 * parent reads until end of file and only then calls waitpid(). A pipe
 * holds a limited amount (64 KiB on Linux); reading first keeps it from
 * filling, so the child never blocks for long. Compare bigout_broken.c.
 *
 *     bigout_fixed [bytes]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "die.h"

/* The child: write `bytes` bytes of 'x' into fd, 4 KiB at a time. */
static void bigout_child(int fd, long bytes)
{
    char block[4096];
    memset(block, 'x', sizeof block);
    while (bytes > 0) {
        size_t n = bytes < (long)sizeof block ? (size_t)bytes : sizeof block;
        ssize_t put = write(fd, block, n);
        if (put == -1 && errno == EINTR)
            continue;
        if (put == -1)
            _exit(1);
        bytes -= put;
    }
    _exit(0);
}

/* Read fd to end of file; return how many bytes came. */
static long bigout_drain(int fd)
{
    char buf[8192];
    long total = 0;
    for (;;) {
        ssize_t got = read(fd, buf, sizeof buf);
        if (got == 0)
            return total;
        if (got == -1 && errno == EINTR)
            continue;
        if (got == -1)
            die("read");
        total += got;
    }
}

int main(int argc, char *argv[])
{
    long bytes = argc > 1 ? strtol(argv[1], NULL, 10) : 1000000;
    if (bytes < 0) {
        fprintf(stderr, "usage: bigout_fixed [bytes]\n");
        return 2;
    }
    int fds[2];
    if (pipe(fds) == -1)
        die("pipe");
    if (fflush(stdout) == EOF)
        die("fflush");
    pid_t pid = fork();
    if (pid == -1)
        die("fork");
    if (pid == 0) {
        if (close(fds[0]) == -1)
            _exit(1);
        bigout_child(fds[1], bytes); /* never returns */
    }
    if (close(fds[1]) == -1)
        die("close");

    // [order]
    long got = bigout_drain(fds[0]); /* first read to end of file... */
    int status;
    while (waitpid(pid, &status, 0) == -1) /* ...then reap the child */
        if (errno != EINTR)
            die("waitpid");
    // [order]
    printf("parent: read %ld bytes\n", got);
    printf("parent: child exited with status %d\n", WEXITSTATUS(status));
    if (close(fds[0]) == -1)
        die("close");
    return 0;
}
