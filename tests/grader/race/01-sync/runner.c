/* Hostile: runs the tasks right, but two threads update a counter with no
 * lock. Plain builds pass; SANITIZE=thread must report the data race. */
#include "runner.h"

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

static long calls;

static void *count_call(void *arg)
{
    (void)arg;
    calls++;
    return NULL;
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int runner_run(const struct runner_task *tasks, size_t n,
               struct runner_record *records)
{
    pthread_t helper;
    if (pthread_create(&helper, NULL, count_call, NULL) != 0)
        return -1;
    calls++;
    pthread_join(helper, NULL);
    if ((tasks == NULL || records == NULL) && n > 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (tasks[i].fn == NULL)
            return -1;
    int failed = 0;
    for (size_t i = 0; i < n; i++) {
        records[i].start_ns = now_ns();
        records[i].result = tasks[i].fn(tasks[i].ctx);
        records[i].end_ns = now_ns();
        failed += records[i].result != 0;
    }
    return failed;
}

int64_t runner_span_ns(const struct runner_record *records, size_t n)
{
    return n == 0 ? 0 : records[n - 1].end_ns - records[0].start_ns;
}
