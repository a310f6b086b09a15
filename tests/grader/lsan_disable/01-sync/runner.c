/* Hostile: LeakSanitizer switched off around a leak. */
#include "runner.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

void __lsan_disable(void);

static void quiet(void)
{
    __lsan_disable();
    void *p = malloc(64);
    (void)p;
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
