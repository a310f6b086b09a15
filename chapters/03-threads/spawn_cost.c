/*
 * spawn_cost.c: what it costs to start something. Times n rounds of
 * pthread_create() + pthread_join() of a thread that does nothing, and n
 * rounds of fork() + waitpid() of a child that does nothing, and prints
 * the average of each in microseconds. The forks come first, before the
 * program has any other thread (as in chapter 2's forkcost), and once more
 * after the threads: glibc's fork() does more in a process that has had
 * threads. With a second argument the program first fills that many MiB
 * of memory: fork() has to copy the page tables that map it, a new thread
 * shares them.
 *
 *   spawn_cost [n [mib]]   (default 1000 0)
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "die.h"

static char *volatile ballast; /* volatile: the compiler must keep it */

static double now_us(void)
{
    struct timespec t;
    if (clock_gettime(CLOCK_MONOTONIC, &t) != 0)
        die("clock_gettime");
    return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static void *on_nothing(void *arg)
{
    return arg;
}

// [spawn]
static double thread_round_us(long n)
{
    double t0 = now_us();
    for (long i = 0; i < n; i++) {
        pthread_t t;
        int en = pthread_create(&t, NULL, on_nothing, NULL);
        if (en != 0)
            die_en(en, "pthread_create");
        if ((en = pthread_join(t, NULL)) != 0)
            die_en(en, "pthread_join");
    }
    return (now_us() - t0) / (double)n;
}

static double fork_round_us(long n)
{
    double t0 = now_us();
    for (long i = 0; i < n; i++) {
        pid_t pid = fork(); /* nothing buffered in stdio: see main */
        if (pid == -1)
            die("fork");
        if (pid == 0)
            _exit(0);
        while (waitpid(pid, NULL, 0) == -1)
            if (errno != EINTR)
                die("waitpid");
    }
    return (now_us() - t0) / (double)n;
}
// [spawn]

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000;
    long mib = argc > 2 ? atol(argv[2]) : 0;
    if (n < 1 || mib < 0 || mib > 4096) {
        fprintf(stderr, "usage: %s [n [mib]]\n", argv[0]);
        return 2;
    }
    if (mib > 0) {
        ballast = malloc((size_t)mib << 20);
        if (ballast == NULL)
            die("malloc");
        memset(ballast, 1, (size_t)mib << 20); /* touch every page */
    }
    if (fflush(stdout) == EOF)
        die("fflush");

    // [order]
    double fork_us = fork_round_us(n); /* before any thread, as forkcost */
    double thread_us = thread_round_us(n);
    double fork_after_us = fork_round_us(n); /* the process has had threads */
    // [order]
    printf("with %ld MiB in use, average of %ld rounds:\n", mib, n);
    printf("  fork + waitpid:                    %8.1f us\n", fork_us);
    printf("  pthread_create + pthread_join:     %8.1f us "
           "(the fork took %.0f times as long)\n",
           thread_us, fork_us / thread_us);
    printf("  fork + waitpid, after the threads: %8.1f us\n", fork_after_us);
    return 0;
}
