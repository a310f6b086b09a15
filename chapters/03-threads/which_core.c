/*
 * which_core.c: cores do not contain threads; the kernel puts threads on
 * cores, and moves them. T threads each spin for about 300 ms, asking
 * sched_getcpu() over and over which core they are on right now. Each
 * reports how many of its samples it took on each core, how often it
 * was moved, and how much CPU time it got in those 300 ms. With more
 * threads than cores, the threads take turns: each gets a share of the
 * cores, and many run on more than one of them.
 *
 * Linux-only: sched_getcpu() needs _GNU_SOURCE.
 *
 *   which_core [threads]   (default 4)
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "die.h"

#define MAX_THREADS 16
#define MAX_CPUS 64
#define SPIN_NS 300000000L

struct where {
    long samples[MAX_CPUS]; /* how many samples saw each core */
    long moves;             /* how often the core changed */
    double cpu_ms;          /* CPU time this thread got */
};

static long elapsed_ns(const struct timespec *from)
{
    struct timespec now;
    if (clock_gettime(CLOCK_MONOTONIC, &now) != 0)
        die("clock_gettime");
    return (now.tv_sec - from->tv_sec) * 1000000000L +
           (now.tv_nsec - from->tv_nsec);
}

// [sample]
static void *on_spin(void *arg)
{
    struct where *w = arg;
    struct timespec start;
    if (clock_gettime(CLOCK_MONOTONIC, &start) != 0)
        die("clock_gettime");
    int last = -1;
    while (elapsed_ns(&start) < SPIN_NS) {
        int cpu = sched_getcpu(); /* the core running this thread now */
        if (cpu < 0)
            die("sched_getcpu");
        if (cpu < MAX_CPUS)
            w->samples[cpu]++;
        if (last != -1 && cpu != last)
            w->moves++;
        last = cpu;
    }
    struct timespec used; /* CPU time of this thread alone */
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &used) != 0)
        die("clock_gettime");
    w->cpu_ms = (double)used.tv_sec * 1e3 + (double)used.tv_nsec / 1e6;
    return NULL;
}
// [sample]

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 4;
    if (n < 1 || n > MAX_THREADS) {
        fprintf(stderr, "usage: %s [threads (1-%d)]\n", argv[0], MAX_THREADS);
        return 2;
    }
    static struct where where[MAX_THREADS];
    pthread_t threads[MAX_THREADS];
    for (int i = 0; i < n; i++) {
        int en = pthread_create(&threads[i], NULL, on_spin, &where[i]);
        if (en != 0)
            die_en(en, "pthread_create");
    }
    for (int i = 0; i < n; i++) {
        int en = pthread_join(threads[i], NULL);
        if (en != 0)
            die_en(en, "pthread_join");
        long total = 0;
        for (int c = 0; c < MAX_CPUS; c++)
            total += where[i].samples[c];
        printf("thread %d:", i);
        for (int c = 0; c < MAX_CPUS; c++)
            if (where[i].samples[c] > 0)
                printf(" core %d %3.0f%%", c,
                       100.0 * (double)where[i].samples[c] / (double)total);
        printf("; moves: %ld; CPU time: %.0f ms of %ld\n", where[i].moves,
               where[i].cpu_ms, SPIN_NS / 1000000);
    }
    return 0;
}
