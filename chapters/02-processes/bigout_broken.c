/*
 * bigout_broken: wait for the child first, read its output after.
 *
 * The child writes `bytes` bytes into a pipe (default 1000000). The
 * parent calls waitpid() first and means to read afterwards. With a small
 * output that works; with more than the pipe holds (64 KiB on Linux) the
 * child blocks in write() until someone reads, and the parent blocks in
 * waitpid() until the child ends: a deadlock. An alarm ends the wait
 * after a second: the parent kills the child, reaps it, and counts what
 * was stuck in the pipe. Compare bigout_fixed.c.
 *
 *     bigout_broken 1000       works
 *     bigout_broken [bytes]    deadlocks when bytes > the pipe's capacity
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "die.h"

static volatile sig_atomic_t timed_out;

static void on_alarm(int sig)
{
    (void)sig;
    timed_out = 1;
}

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
        fprintf(stderr, "usage: bigout_broken [bytes]\n");
        return 2;
    }
    struct sigaction sa = {.sa_handler = on_alarm}; /* no SA_RESTART */
    if (sigemptyset(&sa.sa_mask) == -1 || sigaction(SIGALRM, &sa, NULL))
        die("sigaction");

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
    alarm(1);
    int status;
    pid_t done;
    while ((done = waitpid(pid, &status, 0)) == -1 && errno == EINTR &&
           !timed_out)
        continue; /* BUG: waits while the child may be stuck writing */
    alarm(0);
    // [order]
    if (done == -1 && !timed_out)
        die("waitpid");
    if (timed_out) {
        printf("parent: waitpid() still blocked after 1 s: deadlock\n");
        if (kill(pid, SIGKILL) == -1 || waitpid(pid, &status, 0) == -1)
            die("kill/waitpid");
        printf("parent: killed the child; %ld bytes were stuck in the "
               "pipe\n",
               bigout_drain(fds[0]));
        if (close(fds[0]) == -1)
            die("close");
        return 1;
    }
    printf("parent: child exited with status %d\n", WEXITSTATUS(status));
    printf("parent: read %ld bytes\n", bigout_drain(fds[0]));
    if (close(fds[0]) == -1)
        die("close");
    return 0;
}
