/* Hostile: follows a NULL pointer. */
#include "runner.h"

#include <stddef.h>
#include <stdint.h>

int runner_run(const struct runner_task *tasks, size_t n,
               struct runner_record *records)
{
    (void)tasks;
    (void)records;
    volatile int *nowhere = NULL;
    return *nowhere + (int)n;
}

int64_t runner_span_ns(const struct runner_record *records, size_t n)
{
    return n == 0 ? 0 : records[n - 1].end_ns - records[0].start_ns;
}
