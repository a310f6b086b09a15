/*
 * steps.c: a synchronous program runs its steps one at a time.
 *
 * Three steps: wait 200 ms (as for a reply from a server), compute for
 * 100 ms of CPU time, wait 100 ms more (as for a disk). Each call returns
 * only when its step is finished, so each step starts when the one before
 * it ends, and the program takes the sum of the steps. The table gives the
 * start and end of every step, in seconds since the program started.
 *
 * Run: steps    (make demos builds it)
 */
#include <stdio.h>
#include <time.h>

#include "die.h"

static double seconds(clockid_t clock)
{
    struct timespec t;
    if (clock_gettime(clock, &t) == -1)
        die("clock_gettime");
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void wait_ms(long ms)
{
    struct timespec left = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&left, &left) == -1)
        if (errno != EINTR)
            die("nanosleep");
}

/* volatile: the compiler must really do the additions we ask for. */
static volatile unsigned long sink;

static void compute_ms(long ms)
{
    double until = seconds(CLOCK_PROCESS_CPUTIME_ID) + (double)ms / 1e3;
    while (seconds(CLOCK_PROCESS_CPUTIME_ID) < until)
        for (int i = 0; i < 100000; i++)
            sink += (unsigned long)i;
}

static double t0;

static void report(const char *step, double start, double end)
{
    printf("%-22s %7.3f %7.3f\n", step, start - t0, end - t0);
}

int main(void)
{
    t0 = seconds(CLOCK_MONOTONIC);
    printf("%-22s %7s %7s\n", "step", "start", "end");
    // [steps]
    double a = seconds(CLOCK_MONOTONIC);
    wait_ms(200); /* 1: wait for a reply */
    double b = seconds(CLOCK_MONOTONIC);
    compute_ms(100); /* 2: compute with it */
    double c = seconds(CLOCK_MONOTONIC);
    wait_ms(100); /* 3: wait for the disk */
    double d = seconds(CLOCK_MONOTONIC);
    // [steps]
    report("1 wait 200 ms", a, b);
    report("2 compute 100 ms", b, c);
    report("3 wait 100 ms", c, d);
    printf("total %.3f s: the sum of the steps\n", d - t0);
    return 0;
}
