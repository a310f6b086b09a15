/*
 * pipe_eof_broken: the parent forgets to close the write end of its pipe.
 *
 * The same program as pipe_eof_fixed.c but for one missing close(). The
 * child sends its five lines and exits, yet the parent's read() never
 * returns 0: a write end is still open (the parent's own), so the kernel
 * cannot tell the reader that no more data will come. An alarm ends the
 * wait after a second, so the demo always ends.
 *
 *     pipe_eof_broken
 *
 * It prints the five lines, then reports the hang and exits with 1.
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
    /* BUG: the parent should close fds[1] here; it keeps it open. */
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
    if (close(fds[0]) == -1 || close(fds[1]) == -1)
        die("close");
    if (waitpid(pid, NULL, 0) == -1)
        die("waitpid");
    return status;
}
