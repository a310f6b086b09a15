/*
 * cores: more processes than cores, measured.
 *
 * For N = 1, 2, 4, ... up to max_procs, the program starts N children at
 * once and waits for all of them, twice: first CPU-bound children, each
 * burning work_ms of CPU time in a loop; then sleep-bound children, each
 * sleeping work_ms. For each N it prints the wall time until the first
 * child finished and until the last one did, and the CPU time the
 * children used (getrusage).
 *
 *     cores [work_ms [max_procs]]      defaults: 200 ms, 16 processes
 *
 * The numbers depend on the machine and on whatever else it is running.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "die.h"

static double cores_now_ms(clockid_t clock)
{
    struct timespec t;
    if (clock_gettime(clock, &t) == -1)
        die("clock_gettime");
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static double cores_children_cpu_ms(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_CHILDREN, &ru) == -1)
        die("getrusage");
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

// [work]
/* A child's work: burn `ms` of its own CPU time, or sleep `ms`. */
static void cores_child(int cpu_bound, long ms)
{
    if (cpu_bound) {
        /* Counts CPU time this process used, not time on the clock: with
         * more processes than cores, each gets only part of a core. */
        volatile unsigned x = 1; /* volatile: the loop must really run */
        while (cores_now_ms(CLOCK_PROCESS_CPUTIME_ID) < (double)ms)
            for (int i = 0; i < 100000; i++)
                x = x * 1103515245u + 12345u;
    } else {
        struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
        while (nanosleep(&t, &t) == -1)
            if (errno != EINTR)
                _exit(1);
    }
    _exit(0);
}
// [work]

/* Run n children at once; report wall ms to the first and last end. */
static void cores_batch(int cpu_bound, int n, long ms, double *first,
                        double *last, double *cpu)
{
    double cpu0 = cores_children_cpu_ms();
    double t0 = cores_now_ms(CLOCK_MONOTONIC);
    if (fflush(stdout) == EOF)
        die("fflush");
    for (int i = 0; i < n; i++) {
        pid_t pid = fork();
        if (pid == -1)
            die("fork");
        if (pid == 0)
            cores_child(cpu_bound, ms);
    }
    for (int done = 0; done < n; done++) {
        int status;
        while (wait(&status) == -1)
            if (errno != EINTR)
                die("wait");
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            fprintf(stderr, "cores: a child failed\n");
            exit(1);
        }
        if (done == 0)
            *first = cores_now_ms(CLOCK_MONOTONIC) - t0;
    }
    *last = cores_now_ms(CLOCK_MONOTONIC) - t0;
    *cpu = cores_children_cpu_ms() - cpu0;
}

int main(int argc, char *argv[])
{
    long ms = argc > 1 ? strtol(argv[1], NULL, 10) : 200;
    long max = argc > 2 ? strtol(argv[2], NULL, 10) : 16;
    if (ms < 1 || ms > 10000 || max < 1 || max > 256) {
        fprintf(stderr, "usage: cores [work_ms [max_procs]]\n");
        return 2;
    }
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    printf("cores: %ld cores online; each child: %ld ms of work\n", online, ms);
    /* The columns line up with the rows' printf() below. */
    printf("        | one after |        CPU-bound children        |"
           " sleeping\n");
    printf("  procs | the other | first done   all done   CPU used |"
           " all done\n");

    // [table]
    for (int n = 1; n <= max; n *= 2) {
        double c_first, c_last, c_cpu, s_first, s_last, s_cpu;
        cores_batch(1, n, ms, &c_first, &c_last, &c_cpu);
        cores_batch(0, n, ms, &s_first, &s_last, &s_cpu);
        printf("  %5d | %6ld ms | %7.0f ms %7.0f ms %7.0f ms | %5.0f ms\n", n,
               n * ms, c_first, c_last, c_cpu, s_last);
    }
    // [table]
    return 0;
}
