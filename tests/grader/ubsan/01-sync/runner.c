/* Hostile: a signed integer overflow. Plain builds may not notice;
 * SANITIZE=undefined must stop the test and show the learner the line
 * (gcc's UndefinedBehaviorSanitizer writes its report to standard error,
 * not to the report path the fixture sets). */
#include "runner.h"

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

int runner_run(const struct runner_task *tasks, size_t n,
               struct runner_record *records)
{
    (void)tasks;
    (void)records;
    volatile int big = INT_MAX;
    big = big + (int)(n + 1);
    return 0;
}

int64_t runner_span_ns(const struct runner_record *records, size_t n)
{
    return n == 0 ? 0 : records[n - 1].end_ns - records[0].start_ns;
}
