/*
 * deadline: read a child's output, and wait for the child, but only until
 * a time limit.
 *
 * The child prints a line every 200 ms, `lines` times; then, if after_ms
 * is given, it closes its end of the pipe and runs on for after_ms. The
 * parent reads the pipe with poll(), which waits for data or for the time
 * left, whichever comes first; it reads on POLLIN or POLLHUP, since at
 * end of file Linux reports POLLHUP alone. End of file only says that no
 * write end is open, so the parent then waits for the child with WNOHANG
 * and short sleeps, still not past the limit. When the limit passes it
 * kills the child with SIGKILL; either way it reaps it.
 *
 *     deadline [limit_ms [lines [after_ms]]]   defaults: 500 ms, 10 lines, 0
 *     deadline 2000 3                the child finishes in time
 *     deadline 300 1 2000            end of file at 200 ms, killed at 300
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

static void deadline_sleep_ms(long ms)
{
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&t, &t) == -1 && errno == EINTR)
        continue;
}

/* The child: `lines` lines 200 ms apart, then after_ms with no pipe. */
static void deadline_child(int fd, long lines, long after_ms)
{
    for (long i = 1; i <= lines; i++) {
        deadline_sleep_ms(200);
        char line[32];
        int len = snprintf(line, sizeof line, "tick %ld\n", i);
        if (write(fd, line, (size_t)len) != len)
            _exit(1);
    }
    if (after_ms > 0) {
        if (close(fd) == -1)
            _exit(1);
        deadline_sleep_ms(after_ms);
    }
    _exit(0);
}

int main(int argc, char *argv[])
{
    long limit = argc > 1 ? strtol(argv[1], NULL, 10) : 500;
    long lines = argc > 2 ? strtol(argv[2], NULL, 10) : 10;
    long after = argc > 3 ? strtol(argv[3], NULL, 10) : 0;
    if (limit < 1 || limit > 60000 || lines < 0 || lines > 1000 || after < 0 ||
        after > 60000) {
        fprintf(stderr, "usage: deadline [limit_ms [lines [after_ms]]]\n");
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
        deadline_child(fds[1], lines, after);
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
        /* POLLIN: data. POLLHUP alone: no write end, nothing left to read
           (Linux). Either way read() does not block, and says which. */
        if ((p.revents & (POLLIN | POLLHUP | POLLERR)) == 0) {
            errno = EBADF; /* POLLNVAL: fds[0] is not an open descriptor */
            die("poll");
        }
        char buf[256];
        ssize_t got = read(fds[0], buf, sizeof buf);
        if (got == -1 && errno == EINTR)
            continue;
        if (got == -1)
            die("read");
        if (got == 0) { /* end of file: no write end is open any more */
            printf("%5ld ms  end of file\n", deadline_now_ms() - start);
            break;
        }
        printf("%5ld ms  got: %.*s", deadline_now_ms() - start, (int)got, buf);
    }
    int status, reaped = 0;
    while (!timed_out && !reaped) { /* the child may still be running */
        pid_t w = waitpid(pid, &status, WNOHANG); /* 0: not ended yet */
        if (w == -1 && errno != EINTR)
            die("waitpid");
        long left = start + limit - deadline_now_ms();
        if (w == pid)
            reaped = 1;
        else if (left <= 0)
            timed_out = 1;
        else
            deadline_sleep_ms(left < 5 ? left : 5);
    }
    if (!reaped) {
        printf("%5ld ms  time is up: kill the child\n",
               deadline_now_ms() - start);
        if (kill(pid, SIGKILL) == -1)
            die("kill");
        while (waitpid(pid, &status, 0) == -1) /* short: it is dying */
            if (errno != EINTR)
                die("waitpid");
    }
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
