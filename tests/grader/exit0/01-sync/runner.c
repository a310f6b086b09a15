/* Hostile (an honest mistake): ends the process with status 0, as the
 * chapter's demo programs end. Check alone would count every test as
 * passed; the grader must say the test never reached its end. */
#include "runner.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

int runner_run(const struct runner_task *tasks, size_t n,
               struct runner_record *records)
{
    (void)tasks;
    (void)n;
    (void)records;
    exit(0);
}

int64_t runner_span_ns(const struct runner_record *records, size_t n)
{
    return n == 0 ? 0 : records[n - 1].end_ns - records[0].start_ns;
}
