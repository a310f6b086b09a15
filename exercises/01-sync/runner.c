/*
 * runner: run tasks one after the other and record when each one ran.
 *
 * The contract is in runner.h. Run the tests with
 *
 *     make check CHAPTER=1 EXERCISE=runner
 *
 * and ask for a hint with `make hint CHAPTER=1 EXERCISE=runner`.
 */
#include "runner.h"

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

int runner_run(const struct runner_task *tasks, size_t n,
               struct runner_record *records)
{
    /* TODO: see runner.h. Read: chapter 1, "One step at a time", "Measuring
     * wall time and CPU time", "N tasks in sequence" and "Exit codes and
     * errors". */
    (void)tasks;
    (void)n;
    (void)records;
    errno = ENOSYS;
    return -1;
}

int64_t runner_span_ns(const struct runner_record *records, size_t n)
{
    /* TODO: see runner.h. Read: chapter 1, "N tasks in sequence". */
    (void)records;
    (void)n;
    errno = ENOSYS;
    return -1;
}
