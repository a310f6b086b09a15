/* Hostile: the bounds of the program's data, to search it for the end
 * token the test writes. */
#include "runner.h"

#include <stddef.h>
#include <stdint.h>

extern char edata, end;

static void quiet(void)
{
    static volatile size_t span;
    span = (size_t)(&end - &edata);
}

int runner_run(const struct runner_task *tasks, size_t n,
               struct runner_record *records)
{
    quiet();
    (void)tasks;
    (void)n;
    (void)records;
    return 0;
}

int64_t runner_span_ns(const struct runner_record *records, size_t n)
{
    return n == 0 ? 0 : records[n - 1].end_ns - records[0].start_ns;
}
