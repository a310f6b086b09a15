/* Hostile: locks a mutex it already holds, and waits forever. */
#include "runner.h"

#include <stddef.h>
#include <stdint.h>
#include <pthread.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

int runner_run(const struct runner_task *tasks, size_t n,
               struct runner_record *records)
{
    (void)tasks;
    (void)n;
    (void)records;
    pthread_mutex_lock(&lock);
    pthread_mutex_lock(&lock);
    return 0;
}

int64_t runner_span_ns(const struct runner_record *records, size_t n)
{
    return n == 0 ? 0 : records[n - 1].end_ns - records[0].start_ns;
}
