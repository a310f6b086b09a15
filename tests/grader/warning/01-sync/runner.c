/* Hostile: compiles, with a warning the grader must show, and fails. */
#include "runner.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

int runner_run(const struct runner_task *tasks, size_t n,
               struct runner_record *records)
{
    int failures = 0; /* never used: -Wunused-variable */
    (void)tasks;
    (void)n;
    (void)records;
    errno = ENOSYS;
    return -1;
}

int64_t runner_span_ns(const struct runner_record *records, size_t n)
{
    (void)records;
    (void)n;
    errno = ENOSYS;
    return -1;
}
