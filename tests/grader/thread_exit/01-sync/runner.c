/* Hostile: pthread_exit() in the test's only thread: the process ends
 * with status 0 once no thread is left. */
#include "runner.h"

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

int runner_run(const struct runner_task *tasks, size_t n,
               struct runner_record *records)
{
    (void)tasks;
    (void)n;
    (void)records;
    pthread_exit(NULL);
}

int64_t runner_span_ns(const struct runner_record *records, size_t n)
{
    return n == 0 ? 0 : records[n - 1].end_ns - records[0].start_ns;
}
