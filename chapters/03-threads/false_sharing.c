/*
 * false_sharing.c: two threads that share no variable can still slow each
 * other down, when their variables share a cache line.
 *
 * Each thread adds 1 to a counter of its own, n times; no thread ever
 * reads another's counter, so there is no race and no lock. The program
 * runs that twice: once with the counters next to each other (8 bytes
 * apart, all in one 64-byte cache line), once with each counter padded
 * to a cache line of its own. A core writes a line only when it holds the
 * only copy of it, so in the first run the one line moves from core to
 * core at (nearly) every increment. The counters are volatile, so that
 * every increment really is a load and a store to memory, as it would be
 * for a counter the compiler cannot keep in a register.
 *
 *   false_sharing [threads [n]]   (default 2 100000000)
 *
 * Run it on an otherwise idle machine: the effect needs the threads to
 * run at the same time, on different cores.
 */
#include <pthread.h>
#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "die.h"

#define MAX_THREADS 8
#define LINE 64 /* the cache line size of x86-64 and most ARM64 cores */

// [slots]
struct packed { /* 8 bytes: eight of them share one cache line */
    volatile long count;
};

struct padded { /* aligned and sized to a whole line: one per line */
    alignas(LINE) volatile long count;
};

static alignas(LINE) struct packed packed[MAX_THREADS];
static struct padded padded[MAX_THREADS];
// [slots]

static long n;

static double now_s(void)
{
    struct timespec t;
    if (clock_gettime(CLOCK_MONOTONIC, &t) != 0)
        die("clock_gettime");
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void *on_packed(void *arg)
{
    volatile long *c = &packed[(long)arg].count;
    for (long i = 0; i < n; i++)
        (*c)++;
    return NULL;
}

static void *on_padded(void *arg)
{
    volatile long *c = &padded[(long)arg].count;
    for (long i = 0; i < n; i++)
        (*c)++;
    return NULL;
}

/* Start `threads` threads running `fn`, join them; the wall time. */
static double run(void *(*fn)(void *), int threads)
{
    pthread_t t[MAX_THREADS];
    double t0 = now_s();
    for (long k = 0; k < threads; k++) {
        int en = pthread_create(&t[k], NULL, fn, (void *)k);
        if (en != 0)
            die_en(en, "pthread_create");
    }
    for (int k = 0; k < threads; k++) {
        int en = pthread_join(t[k], NULL);
        if (en != 0)
            die_en(en, "pthread_join");
    }
    return now_s() - t0;
}

int main(int argc, char **argv)
{
    int threads = argc > 1 ? atoi(argv[1]) : 2;
    n = argc > 2 ? atol(argv[2]) : 100000000;
    if (threads < 1 || threads > MAX_THREADS || n < 1) {
        fprintf(stderr, "usage: %s [threads (1-%d) [n]]\n", argv[0],
                MAX_THREADS);
        return 2;
    }
    double one_line = run(on_packed, threads);
    double own_lines = run(on_padded, threads);
    for (int k = 0; k < threads; k++)
        if (packed[k].count != n || padded[k].count != n) {
            fprintf(stderr, "a count is wrong\n"); /* cannot happen */
            return 1;
        }
    printf("%d threads, %ld increments each, each to a counter of its own\n",
           threads, n);
    printf("  counters %2zu bytes apart, one cache line: %6.3f s\n",
           sizeof packed[0], one_line);
    printf("  counters %2zu bytes apart, a line each:    %6.3f s\n",
           sizeof padded[0], own_lines);
    printf("  sharing a line took %.1f times as long\n", one_line / own_lines);
    return 0;
}
