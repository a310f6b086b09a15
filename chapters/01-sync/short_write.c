/*
 * short_write.c: one write() call may write only part of what it was given.
 *
 * It writes 1 MiB to standard output with as few write() calls as it can,
 * and says on standard error how much each call wrote. Run it into a pipe
 * whose reader waits before reading: the pipe holds 64 KiB, the first
 * write() blocks once it is full, and a timer signal 200 ms later ends that
 * call early. write() then returns the bytes it did write, a short count,
 * and the loop must write the rest. With SA_RESTART (pass "restart") the
 * result is the same: a call that has written something is never restarted.
 *
 * Run: short_write [restart] | (sleep 0.6; wc -c)    (make demos builds it)
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "die.h"

#define TOTAL (1024 * 1024)

static void on_alarm(int sig)
{
    (void)sig; /* nothing to do: the signal is only there to interrupt */
}

int main(int argc, char *argv[])
{
    static char buf[TOTAL];
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    if (argc > 1 && strcmp(argv[1], "restart") == 0)
        sa.sa_flags = SA_RESTART;
    if (sigemptyset(&sa.sa_mask) == -1 || sigaction(SIGALRM, &sa, NULL) == -1)
        die("sigaction");

    /* One SIGALRM, 200 ms from now. */
    timer_t timer;
    struct sigevent ev;
    memset(&ev, 0, sizeof ev);
    ev.sigev_notify = SIGEV_SIGNAL;
    ev.sigev_signo = SIGALRM;
    struct itimerspec when = {{0, 0}, {0, 200 * 1000000L}};
    if (timer_create(CLOCK_MONOTONIC, &ev, &timer) == -1 ||
        timer_settime(timer, 0, &when, NULL) == -1)
        die("timer_create");

    memset(buf, 'x', sizeof buf);
    // [loop]
    size_t done = 0;
    int calls = 0;
    while (done < TOTAL) {
        ssize_t n = write(STDOUT_FILENO, buf + done, TOTAL - done);
        calls++;
        if (n == -1 && errno == EINTR) { /* interrupted before any byte */
            fprintf(stderr, "write #%d: EINTR, nothing written\n", calls);
            continue;
        }
        if (n == -1)
            die("write");
        fprintf(stderr, "write #%d: asked for %zu bytes, wrote %zd\n", calls,
                TOTAL - done, n);
        done += (size_t)n;
    }
    // [loop]
    fprintf(stderr, "all %d bytes written in %d call%s\n", TOTAL, calls,
            calls == 1 ? "" : "s");
    if (timer_delete(timer) == -1)
        die("timer_delete");
    return 0;
}
