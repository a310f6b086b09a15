/*
 * cpu_bound.c: one CPU-bound job split over T threads. It counts the
 * primes below a limit by trial division. The numbers are dealt out in
 * blocks of 1000, like cards: thread k takes blocks k, k + T, k + 2T, ...
 * so every thread gets a fair share of big and small numbers. It prints the
 * wall time and the CPU time of the whole process: with T threads on T free
 * cores the wall time shrinks, while the CPU time stays about the same; more
 * threads than cores gain nothing. Each thread counts in a local variable
 * and stores its total once: the structs of all the threads lie side by
 * side, in one or two cache lines (see false_sharing.c).
 *
 *   cpu_bound [threads [limit]]   (default 1 2000000)
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "die.h"

#define MAX_THREADS 64
#define BLOCK 1000

static long limit;
static int nthreads;

static double seconds(clockid_t clock)
{
    struct timespec t;
    if (clock_gettime(clock, &t) != 0)
        die("clock_gettime");
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int is_prime(long n)
{
    if (n < 2)
        return 0;
    for (long d = 2; d * d <= n; d++)
        if (n % d == 0)
            return 0;
    return 1;
}

// [work]
struct share {
    int k;      /* in: this thread's number, 0 to T - 1 */
    long found; /* out: how many primes it found */
};

static void *on_count(void *arg)
{
    struct share *s = arg;
    long found = 0; /* a local: on this thread's stack, or in a register */
    for (long b = (long)s->k * BLOCK; b < limit; b += (long)nthreads * BLOCK)
        for (long n = b; n < b + BLOCK && n < limit; n++)
            found += is_prime(n);
    s->found = found; /* one store into the shared array, at the end */
    return NULL;
}
// [work]

int main(int argc, char **argv)
{
    nthreads = argc > 1 ? atoi(argv[1]) : 1;
    limit = argc > 2 ? atol(argv[2]) : 2000000;
    if (nthreads < 1 || nthreads > MAX_THREADS || limit < 0) {
        fprintf(stderr, "usage: %s [threads (1-%d) [limit]]\n", argv[0],
                MAX_THREADS);
        return 2;
    }
    double wall0 = seconds(CLOCK_MONOTONIC);
    double cpu0 = seconds(CLOCK_PROCESS_CPUTIME_ID); /* all threads */

    pthread_t threads[MAX_THREADS];
    struct share shares[MAX_THREADS];
    for (int k = 0; k < nthreads; k++) {
        shares[k] = (struct share){k, 0};
        int en = pthread_create(&threads[k], NULL, on_count, &shares[k]);
        if (en != 0)
            die_en(en, "pthread_create");
    }
    long primes = 0;
    for (int k = 0; k < nthreads; k++) {
        int en = pthread_join(threads[k], NULL);
        if (en != 0)
            die_en(en, "pthread_join");
        primes += shares[k].found;
    }

    double wall = seconds(CLOCK_MONOTONIC) - wall0;
    double cpu = seconds(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
    printf("%d thread%s: %ld primes below %ld; wall %.3f s, CPU %.3f s\n",
           nthreads, nthreads == 1 ? "" : "s", primes, limit, wall, cpu);
    return 0;
}
