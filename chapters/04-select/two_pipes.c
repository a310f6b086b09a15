/*
 * two_pipes.c: one thread waits for two pipes with select(). Two children
 * write lines at their own pace, one every 100 ms and one every 170 ms;
 * the parent handles each line as soon as it arrives, whichever pipe it
 * comes from, and stops when both pipes are at end of file. A blocking
 * read() on either pipe would have made the other one wait.
 *
 * Run: two_pipes
 */
#include <stdio.h>
#include <sys/select.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "die.h"

static struct timespec start;

static double ms_now(void)
{
    struct timespec t;
    if (clock_gettime(CLOCK_MONOTONIC, &t) == -1)
        die("clock_gettime");
    return (double)(t.tv_sec - start.tv_sec) * 1e3 +
           (double)(t.tv_nsec - start.tv_nsec) / 1e6;
}

/* A child that writes `count` lines, one every `every_ms`, then exits. */
static int writer(const char *name, int count, long every_ms, pid_t *pid)
{
    int p[2];
    if (pipe(p) == -1)
        die("pipe");
    if (fflush(stdout) == EOF)
        die("fflush");
    if ((*pid = fork()) == -1)
        die("fork");
    if (*pid == 0) {
        if (close(p[0]) == -1)
            die("close");
        for (int i = 1; i <= count; i++) {
            struct timespec ts = {0, every_ms * 1000000L};
            while (nanosleep(&ts, &ts) == -1)
                if (errno != EINTR)
                    die("nanosleep");
            char line[32];
            int len = snprintf(line, sizeof line, "%s %d\n", name, i);
            if (write(p[1], line, (size_t)len) != len)
                die("write");
        }
        _exit(0);
    }
    if (close(p[1]) == -1)
        die("close");
    return p[0];
}

int main(void)
{
    pid_t pids[2];
    if (clock_gettime(CLOCK_MONOTONIC, &start) == -1)
        die("clock_gettime");
    int fds[2] = {writer("fast", 5, 100, &pids[0]),
                  writer("slow", 3, 170, &pids[1])};
    int open_fds = 2;

    // [loop]
    while (open_fds > 0) {
        fd_set readable;
        int maxfd = -1;
        FD_ZERO(&readable); /* select() changed it: build it anew */
        for (int i = 0; i < 2; i++)
            if (fds[i] != -1) {
                FD_SET(fds[i], &readable);
                if (fds[i] > maxfd)
                    maxfd = fds[i];
            }
        int n = select(maxfd + 1, &readable, NULL, NULL, NULL);
        if (n == -1 && errno == EINTR)
            continue;
        if (n == -1)
            die("select");
        printf("%6.1f ms  select() returned %d\n", ms_now(), n);
        for (int i = 0; i < 2; i++) {
            if (fds[i] == -1 || !FD_ISSET(fds[i], &readable))
                continue;
            char buf[64];
            ssize_t got = read(fds[i], buf, sizeof buf); /* will not block */
            if (got == -1)
                die("read");
            if (got == 0) { /* end of file: stop watching it */
                printf("%6.1f ms    pipe %d: end of file\n", ms_now(), i);
                if (close(fds[i]) == -1)
                    die("close");
                fds[i] = -1;
                open_fds--;
            } else {
                printf("%6.1f ms    pipe %d: %.*s", ms_now(), i, (int)got, buf);
            }
        }
    }
    // [loop]
    for (int i = 0; i < 2; i++)
        if (waitpid(pids[i], NULL, 0) == -1)
            die("waitpid");
    return 0;
}
