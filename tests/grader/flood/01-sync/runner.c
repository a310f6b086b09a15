/* Hostile: writes to standard output without end. */
#include "runner.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

int runner_run(const struct runner_task *tasks, size_t n,
               struct runner_record *records)
{
    (void)tasks;
    (void)n;
    (void)records;
    static const char line[] = "all work and no play makes a dull program\n";
    for (;;)
        fwrite(line, 1, sizeof line - 1, stdout);
}

int64_t runner_span_ns(const struct runner_record *records, size_t n)
{
    return n == 0 ? 0 : records[n - 1].end_ns - records[0].start_ns;
}
