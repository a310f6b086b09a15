/*
 * ntasks.c: N tasks of T milliseconds each, done in sequence, take N x T.
 *
 * For N = 1, 2, 4, 8 and 16 it runs N tasks one after the other and prints
 * a table: what N x T predicts, the wall time measured with CLOCK_MONOTONIC
 * and the CPU time the process used (getrusage). A "sleep" task waits T ms
 * (like a program waiting for a disk or a server); a "spin" task computes
 * for T ms of CPU time. Either way the times add up.
 *
 * Run: ntasks [T_ms [sleep|spin]]   (default: 50 sleep; make demos builds it)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "die.h"

static double now_ms(clockid_t clock)
{
    struct timespec t;
    if (clock_gettime(clock, &t) == -1)
        die("clock_gettime");
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static double cpu_ms(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) == -1)
        die("getrusage");
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

/* Waits: the process sleeps, the CPU is free for others. */
static void task_sleep(long ms)
{
    struct timespec left = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&left, &left) == -1)
        if (errno != EINTR)
            die("nanosleep");
}

/* Computes: keeps the CPU busy until it has used `ms` of CPU time. */
/* volatile: the compiler must really do the additions we ask for. */
static volatile unsigned long sink;

static void task_spin(long ms)
{
    double until = now_ms(CLOCK_PROCESS_CPUTIME_ID) + (double)ms;
    while (now_ms(CLOCK_PROCESS_CPUTIME_ID) < until)
        for (int i = 0; i < 100000; i++)
            sink += (unsigned long)i;
}

int main(int argc, char *argv[])
{
    long t_ms = 50;
    void (*task)(long) = task_sleep;
    char *end;

    if (argc > 3)
        goto usage;
    if (argc > 1) {
        errno = 0;
        t_ms = strtol(argv[1], &end, 10);
        if (errno != 0 || end == argv[1] || *end != '\0' || t_ms < 0 ||
            t_ms > 10000)
            goto usage;
    }
    if (argc > 2) {
        if (strcmp(argv[2], "spin") == 0)
            task = task_spin;
        else if (strcmp(argv[2], "sleep") != 0)
            goto usage;
    }

    printf("tasks of %ld ms (%s), one after the other\n", t_ms,
           task == task_spin ? "spin" : "sleep");
    printf("%4s %12s %12s %12s\n", "N", "N x T (ms)", "wall (ms)", "CPU (ms)");
    for (int n = 1; n <= 16; n *= 2) {
        double wall0 = now_ms(CLOCK_MONOTONIC), cpu0 = cpu_ms();
        // [loop]
        for (int i = 0; i < n; i++)
            task(t_ms); /* the next task starts when this one returns */
        // [loop]
        double wall = now_ms(CLOCK_MONOTONIC) - wall0, cpu = cpu_ms() - cpu0;
        printf("%4d %12ld %12.1f %12.1f\n", n, n * t_ms, wall, cpu);
    }
    return 0;

usage:
    fprintf(stderr, "usage: ntasks [T_ms [sleep|spin]]\n");
    return 2;
}
