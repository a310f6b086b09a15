/*
 * pipe_eof_fixed: a child sends its results to the parent through a pipe.
 *
 * The child computes five squares and writes them, as text, into the
 * pipe. The parent reads until end of file and prints what arrived. Both
 * close the ends they do not use; in particular the parent closes the
 * write end, so that when the child exits no writer is left and read()
 * returns 0 (end of file). Compare pipe_eof_broken.c.
 *
 *     pipe_eof_fixed
 *
 * The output is the same on every run.
 */
#include <signal.h>
#include <stdio.h>
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

/* Write all n bytes, whatever the pipe accepts per call. */
static void write_all(int fd, const char *buf, size_t n)
{
    while (n > 0) {
        ssize_t put = write(fd, buf, n);
        if (put == -1 && errno == EINTR)
            continue;
        if (put == -1)
            _exit(1);
        buf += put;
        n -= (size_t)put;
    }
}

int main(void)
{
    struct sigaction sa = {.sa_handler = on_alarm}; /* no SA_RESTART */
    if (sigemptyset(&sa.sa_mask) == -1 || sigaction(SIGALRM, &sa, NULL))
        die("sigaction");

    // [child]
    int fds[2]; /* fds[0] is the read end, fds[1] the write end */
    if (pipe(fds) == -1)
        die("pipe");
    if (fflush(stdout) == EOF)
        die("fflush");
    pid_t pid = fork();
    if (pid == -1)
        die("fork");
    if (pid == 0) {
        if (close(fds[0]) == -1) /* the child only writes */
            _exit(1);
        for (int i = 1; i <= 5; i++) {
            char line[64];
            int len =
                snprintf(line, sizeof line, "%d squared is %d\n", i, i * i);
            write_all(fds[1], line, (size_t)len);
        }
        _exit(0); /* closes fds[1]: the child's write end is gone */
    }
    // [child]

    // [close]
    if (close(fds[1]) == -1) /* the parent only reads */
        die("close");
    // [close]

    // [read]
    alarm(1); /* never wait more than a second for the end of file */
    int status = 0;
    char buf[256];
    for (;;) {
        ssize_t got = read(fds[0], buf, sizeof buf);
        if (got > 0) {
            if (fwrite(buf, 1, (size_t)got, stdout) != (size_t)got)
                die("fwrite");
        } else if (got == 0) {
            printf("parent: end of file, the child has no more to say\n");
            break;
        } else if (errno == EINTR && timed_out) {
            printf("parent: read() still blocked after 1 s: no end of "
                   "file,\n        because a write end is still open\n");
            status = 1;
            break;
        } else if (errno != EINTR) {
            die("read");
        }
    }
    alarm(0);
    // [read]
    if (close(fds[0]) == -1)
        die("close");
    if (waitpid(pid, NULL, 0) == -1)
        die("waitpid");
    return status;
}
