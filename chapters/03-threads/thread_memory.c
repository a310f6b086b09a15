/*
 * thread_memory.c: what a thread costs in memory. Starts n threads that
 * do nothing but wait, and compares the process's virtual size (VmSize)
 * and resident memory (VmRSS) before and after. Each thread reserves a
 * whole stack of address space, but only the pages it touches become
 * real memory. A second argument sets the stack size in KiB
 * (pthread_attr_setstacksize) instead of the default.
 *
 * Linux-only: it reads /proc/self/status.
 *
 *   thread_memory [n [stack_kib]]   (default 100, the default stack)
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "die.h"

#define MAX_THREADS 1000

static pthread_barrier_t all_started;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t go_cond = PTHREAD_COND_INITIALIZER;
static int go = 0; /* protected by lock */

/* The value of a "Name:  123 kB" line of /proc/self/status, in KiB. */
static long status_kib(const char *name)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (f == NULL)
        die("/proc/self/status");
    char line[256];
    long kib = -1;
    size_t len = strlen(name);
    while (fgets(line, sizeof line, f) != NULL)
        if (strncmp(line, name, len) == 0 && line[len] == ':')
            kib = atol(line + len + 1);
    if (fclose(f) != 0)
        die("fclose");
    return kib;
}

static void *on_wait(void *arg)
{
    int rc = pthread_barrier_wait(&all_started);
    if (rc != 0 && rc != PTHREAD_BARRIER_SERIAL_THREAD)
        die_en(rc, "pthread_barrier_wait");
    int en = pthread_mutex_lock(&lock);
    while (en == 0 && !go) /* sleep until main says go */
        en = pthread_cond_wait(&go_cond, &lock);
    if (en != 0 || (en = pthread_mutex_unlock(&lock)) != 0)
        die_en(en, "on_wait");
    return arg;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 100;
    long stack_kib = argc > 2 ? atol(argv[2]) : 0;
    if (n < 1 || n > MAX_THREADS || stack_kib < 0) {
        fprintf(stderr, "usage: %s [n (1-%d) [stack_kib]]\n", argv[0],
                MAX_THREADS);
        return 2;
    }
    // [attr]
    pthread_attr_t attr;
    int en = pthread_attr_init(&attr);
    if (en != 0)
        die_en(en, "pthread_attr_init");
    if (stack_kib > 0 &&
        (en = pthread_attr_setstacksize(&attr, (size_t)stack_kib * 1024)) != 0)
        die_en(en, "pthread_attr_setstacksize");
    size_t stack;
    if ((en = pthread_attr_getstacksize(&attr, &stack)) != 0)
        die_en(en, "pthread_attr_getstacksize");
    // [attr]
    if ((en = pthread_barrier_init(&all_started, NULL, (unsigned)n + 1)) != 0)
        die_en(en, "pthread_barrier_init");

    long size0 = status_kib("VmSize"), rss0 = status_kib("VmRSS");
    pthread_t threads[MAX_THREADS];
    for (int i = 0; i < n; i++)
        if ((en = pthread_create(&threads[i], &attr, on_wait, NULL)) != 0)
            die_en(en, "pthread_create");
    int rc = pthread_barrier_wait(&all_started); /* all n are running */
    if (rc != 0 && rc != PTHREAD_BARRIER_SERIAL_THREAD)
        die_en(rc, "pthread_barrier_wait");
    long size1 = status_kib("VmSize"), rss1 = status_kib("VmRSS");
    long threads_now = status_kib("Threads"); /* a count, not KiB */

    printf("%d threads with %zu KiB stacks (%ld threads in the process)\n", n,
           stack / 1024, threads_now);
    printf("  address space: %8ld KiB more, %7.1f KiB per thread\n",
           size1 - size0, (double)(size1 - size0) / n);
    printf("  resident:      %8ld KiB more, %7.1f KiB per thread\n",
           rss1 - rss0, (double)(rss1 - rss0) / n);

    if ((en = pthread_mutex_lock(&lock)) != 0)
        die_en(en, "pthread_mutex_lock");
    go = 1;
    if ((en = pthread_cond_broadcast(&go_cond)) != 0 ||
        (en = pthread_mutex_unlock(&lock)) != 0)
        die_en(en, "broadcast or unlock");
    for (int i = 0; i < n; i++)
        if ((en = pthread_join(threads[i], NULL)) != 0)
            die_en(en, "pthread_join");
    if ((en = pthread_attr_destroy(&attr)) != 0 ||
        (en = pthread_barrier_destroy(&all_started)) != 0)
        die_en(en, "destroy");
    return 0;
}
