/*
 * select_eintr.c: the timeout of select(), and a signal that cuts it short.
 *
 * The program waits up to 400 ms for a pipe that nobody writes to, while a
 * child sends it SIGUSR1 after 150 ms. First with one select() call: it
 * returns -1 with errno EINTR after 150 ms, even though the handler was
 * installed with SA_RESTART (Linux never restarts select()). Then the
 * right way: keep the deadline, and after EINTR wait again for the time
 * that is left, computed from the clock.
 *
 * Run: select_eintr
 */
#include <signal.h>
#include <stdio.h>
#include <sys/select.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "die.h"

static volatile sig_atomic_t signals; /* how many SIGUSR1 came */

static void on_signal(int sig)
{
    (void)sig;
    signals++;
}

static double now_ms(void)
{
    struct timespec t;
    if (clock_gettime(CLOCK_MONOTONIC, &t) == -1)
        die("clock_gettime");
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static pid_t signal_me_in(long ms) /* a child that sends SIGUSR1 later */
{
    pid_t parent = getpid(), pid = fork();
    if (pid == -1)
        die("fork");
    if (pid == 0) {
        struct timespec ts = {0, ms * 1000000L};
        while (nanosleep(&ts, &ts) == -1)
            if (errno != EINTR)
                die("nanosleep");
        if (kill(parent, SIGUSR1) == -1)
            die("kill");
        _exit(0);
    }
    return pid;
}

/* One select() for fd to become readable, waiting at most *tv. */
static int wait_readable(int fd, struct timeval *tv)
{
    fd_set readable;
    FD_ZERO(&readable);
    FD_SET(fd, &readable);
    return select(fd + 1, &readable, NULL, NULL, tv);
}

int main(void)
{
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART; /* restarts read(), never select() */
    if (sigemptyset(&sa.sa_mask) == -1 || sigaction(SIGUSR1, &sa, NULL) == -1)
        die("sigaction");
    int p[2];
    if (pipe(p) == -1) /* we keep the write end: no end of file */
        die("pipe");

    // [once]
    pid_t child = signal_me_in(150);
    double t0 = now_ms();
    struct timeval tv = {0, 400 * 1000}; /* 400 ms */
    int n = wait_readable(p[0], &tv);
    printf("one select(): returned %d (%s) after %.0f ms; signals: %d\n", n,
           n == -1 && errno == EINTR ? "EINTR" : "no error", now_ms() - t0,
           (int)signals);
    printf("  the timeval now says %ld ms (Linux writes the time left)\n",
           (long)(tv.tv_sec * 1000 + tv.tv_usec / 1000));
    // [once]
    if (waitpid(child, NULL, 0) == -1)
        die("waitpid");

    // [deadline]
    child = signal_me_in(150);
    t0 = now_ms();
    double deadline = t0 + 400;
    for (;;) {
        double left = deadline - now_ms();
        if (left < 0)
            left = 0;
        long us = (long)(left * 1000) + 1; /* round up: never wake early */
        tv = (struct timeval){us / 1000000, us % 1000000};
        n = wait_readable(p[0], &tv);
        if (n == -1 && errno == EINTR) {
            printf("deadline loop: EINTR at %.0f ms, %.0f ms left: "
                   "waiting again\n",
                   now_ms() - t0, deadline - now_ms());
            continue;
        }
        if (n == -1)
            die("select");
        break;
    }
    printf("deadline loop: returned %d (timeout) at %.0f ms; signals: %d\n", n,
           now_ms() - t0, (int)signals);
    // [deadline]
    if (waitpid(child, NULL, 0) == -1)
        die("waitpid");
    return 0;
}
