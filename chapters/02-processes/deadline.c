/*
 * deadline: read a child's output, but only until a time limit.
 *
 * The child prints a line every 200 ms, `lines` times, then exits. The
 * parent reads the pipe with poll(), which waits until there is data to
 * read or the time left runs out, whichever comes first. If the limit
 * passes before end of file, the parent kills the child with SIGKILL,
 * then reaps it either way.
 *
 *     deadline [limit_ms [lines]]    defaults: 500 ms, 10 lines
 *     deadline 2000 3                the child finishes in time
 *
 * The times printed vary a little from run to run.
 */
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "die.h"

static long deadline_now_ms(void)
{
    struct timespec t;
    if (clock_gettime(CLOCK_MONOTONIC, &t) == -1)
        die("clock_gettime");
    return (long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* The child: `lines` lines, 200 ms apart. */
static void deadline_child(int fd, long lines)
{
    for (long i = 1; i <= lines; i++) {
        struct timespec t = {0, 200 * 1000000L};
        while (nanosleep(&t, &t) == -1 && errno == EINTR)
            continue;
        char line[32];
        int len = snprintf(line, sizeof line, "tick %ld\n", i);
        if (write(fd, line, (size_t)len) != len)
            _exit(1);
    }
    _exit(0);
}

int main(int argc, char *argv[])
{
    long limit = argc > 1 ? strtol(argv[1], NULL, 10) : 500;
    long lines = argc > 2 ? strtol(argv[2], NULL, 10) : 10;
    if (limit < 1 || limit > 60000 || lines < 0 || lines > 1000) {
        fprintf(stderr, "usage: deadline [limit_ms [lines]]\n");
        return 2;
    }
    int fds[2];
    if (pipe(fds) == -1)
        die("pipe");
    if (fflush(stdout) == EOF)
        die("fflush");
    long start = deadline_now_ms();
    pid_t pid = fork();
    if (pid == -1)
        die("fork");
    if (pid == 0) {
        if (close(fds[0]) == -1)
            _exit(1);
        deadline_child(fds[1], lines);
    }
    if (close(fds[1]) == -1)
        die("close");

    // [poll]
    int timed_out = 0;
    for (;;) {
        long left = start + limit - deadline_now_ms(); /* recomputed */
        if (left <= 0) {
            timed_out = 1;
            break;
        }
        struct pollfd p = {.fd = fds[0], .events = POLLIN};
        int ready = poll(&p, 1, (int)left); /* data, end of file, or time */
        if (ready == -1 && errno == EINTR)
            continue;
        if (ready == -1)
            die("poll");
        if (ready == 0)
            continue; /* no data before the time ran out */
        char buf[256];
        ssize_t got = read(fds[0], buf, sizeof buf);
        if (got == -1 && errno == EINTR)
            continue;
        if (got == -1)
            die("read");
        if (got == 0) { /* end of file: the child is done */
            printf("%5ld ms  end of file\n", deadline_now_ms() - start);
            break;
        }
        printf("%5ld ms  got: %.*s", deadline_now_ms() - start, (int)got, buf);
    }
    if (timed_out) {
        printf("%5ld ms  time is up: kill the child\n",
               deadline_now_ms() - start);
        if (kill(pid, SIGKILL) == -1)
            die("kill");
    }
    int status; /* killed or not, the child must be reaped */
    while (waitpid(pid, &status, 0) == -1)
        if (errno != EINTR)
            die("waitpid");
    // [poll]
    if (close(fds[0]) == -1)
        die("close");
    if (WIFSIGNALED(status))
        printf("deadline: the child was killed by signal %d\n",
               WTERMSIG(status));
    else
        printf("deadline: the child exited with status %d\n",
               WEXITSTATUS(status));
    return 0;
}
