/*
 * busy_poll.c: waiting for a non-blocking descriptor by asking again and
 * again (busy polling) against sleeping in select() until it is ready.
 *
 * A child writes one line into a pipe after delay_ms. The parent waits
 * for it either by calling read() on the non-blocking pipe in a loop
 * ("spin") or by calling select() once ("select"), then prints how long
 * it waited, how many calls it made, and how much CPU time it used.
 *
 * Run: busy_poll spin|select [delay_ms]   (default 500)
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "die.h"

static double now_ms(void)
{
    struct timespec t;
    if (clock_gettime(CLOCK_MONOTONIC, &t) == -1)
        die("clock_gettime");
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static double cpu_ms(void) /* user + system time of this process */
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) == -1)
        die("getrusage");
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

int main(int argc, char *argv[])
{
    char *end = "";
    long delay = argc > 2 ? strtol(argv[2], &end, 10) : 500;
    int spin = argc > 1 && strcmp(argv[1], "spin") == 0;
    if (argc < 2 || argc > 3 || (!spin && strcmp(argv[1], "select") != 0) ||
        *end != '\0' || delay < 0 || delay > 10000) {
        fprintf(stderr, "usage: busy_poll spin|select [delay_ms]\n");
        return 2;
    }
    int p[2];
    if (pipe(p) == -1)
        die("pipe");
    pid_t pid = fork();
    if (pid == -1)
        die("fork");
    if (pid == 0) { /* the child: wait, then write one line */
        struct timespec ts = {delay / 1000, (delay % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) == -1)
            if (errno != EINTR)
                die("nanosleep");
        if (write(p[1], "ready\n", 6) != 6)
            die("write");
        _exit(0);
    }
    if (close(p[1]) == -1)
        die("close");
    int flags = fcntl(p[0], F_GETFL);
    if (flags == -1 || fcntl(p[0], F_SETFL, flags | O_NONBLOCK) == -1)
        die("fcntl");

    double t0 = now_ms(), c0 = cpu_ms();
    long calls = 0;
    char buf[64];
    ssize_t n;
    if (spin) {
        // [spin]
        while ((n = read(p[0], buf, sizeof buf)) == -1 &&
               (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            calls++; /* not yet: ask again at once */
        // [spin]
    } else {
        // [select]
        fd_set readable;
        int ready;
        do { /* sleep until p[0] is readable; no timeout */
            FD_ZERO(&readable);
            FD_SET(p[0], &readable);
            calls++;
            ready = select(p[0] + 1, &readable, NULL, NULL, NULL);
        } while (ready == -1 && errno == EINTR);
        if (ready == -1)
            die("select");
        n = read(p[0], buf, sizeof buf); /* ready: this will not block */
        // [select]
    }
    if (n <= 0)
        die("read");
    calls = spin ? calls + 1 : calls; /* the read() that got the line */
    printf("%s: got \"%.*s\" after %.0f ms of wall time and %.0f ms of "
           "CPU time, in %ld call%s\n",
           argv[1], (int)(n - 1), buf, now_ms() - t0, cpu_ms() - c0, calls,
           calls == 1 ? "" : "s");
    if (waitpid(pid, NULL, 0) == -1)
        die("waitpid");
    return 0;
}
