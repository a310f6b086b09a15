/*
 * wallcpu.c: wall time against CPU time, for three jobs of about 300 ms.
 *
 * Each job is timed twice: by the wall clock (CLOCK_MONOTONIC: how long we
 * waited for it) and by the CPU time the process was charged for it
 * (getrusage: user time in our code, system time in the kernel for us).
 *   sleep  nanosleep() for 300 ms: the process is blocked, no CPU is used
 *   spin   a loop that computes until it has used 300 ms of CPU time
 *   read   read() standard input to its end: blocked while no data comes
 *
 * Run: (sleep 1; echo hello) | wallcpu    (make demos builds it)
 */
#include <stdio.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "die.h"

// [clocks]
/* Wall time: a clock that only moves forward, whatever the date does. */
static double wall_ms(void)
{
    struct timespec t;
    if (clock_gettime(CLOCK_MONOTONIC, &t) == -1)
        die("clock_gettime");
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* CPU time the kernel charged to this process so far, user and system. */
static void cpu_ms(double *user, double *sys)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) == -1)
        die("getrusage");
    *user =
        (double)ru.ru_utime.tv_sec * 1e3 + (double)ru.ru_utime.tv_usec / 1e3;
    *sys = (double)ru.ru_stime.tv_sec * 1e3 + (double)ru.ru_stime.tv_usec / 1e3;
}
// [clocks]

static void job_sleep(void)
{
    struct timespec left = {0, 300 * 1000000L};
    while (nanosleep(&left, &left) == -1)
        if (errno != EINTR)
            die("nanosleep");
}

static double cpu_clock_ms(void)
{
    struct timespec t;
    if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t) == -1)
        die("clock_gettime");
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* volatile: the compiler must really do the additions we ask for. */
static volatile unsigned long sink;

static void job_spin(void)
{
    double until = cpu_clock_ms() + 300;
    while (cpu_clock_ms() < until)
        for (int i = 0; i < 100000; i++)
            sink += (unsigned long)i;
}

static void job_read(void)
{
    char buf[4096];
    ssize_t got;
    while ((got = read(STDIN_FILENO, buf, sizeof buf)) != 0)
        if (got == -1 && errno != EINTR)
            die("read");
}

// [measure]
static void measure(const char *name, void (*job)(void))
{
    double user0, sys0, user1, sys1;
    double wall0 = wall_ms();
    cpu_ms(&user0, &sys0);
    job();
    double wall = wall_ms() - wall0;
    cpu_ms(&user1, &sys1);
    double cpu = (user1 - user0) + (sys1 - sys0);
    printf("%-6s %9.1f %9.1f %9.1f ", name, wall, user1 - user0, sys1 - sys0);
    if (wall >= 1) /* a ratio of two tiny numbers means nothing */
        printf("%8.0f%%\n", 100 * cpu / wall);
    else
        printf("%9s\n", "-");
}
// [measure]

int main(void)
{
    double start = wall_ms();
    printf("%-6s %9s %9s %9s %9s\n", "job", "wall ms", "user ms", "sys ms",
           "CPU/wall");
    measure("sleep", job_sleep);
    measure("spin", job_spin);
    measure("read", job_read);

    double user, sys;
    cpu_ms(&user, &sys);
    printf("whole program: %.1f ms of wall time, %.1f ms of CPU time\n",
           wall_ms() - start, user + sys);
    return 0;
}
