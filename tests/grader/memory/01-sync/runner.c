/* Hostile: allocates and touches 3 GB. */
#include "runner.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int runner_run(const struct runner_task *tasks, size_t n,
               struct runner_record *records)
{
    (void)tasks;
    (void)n;
    (void)records;
    for (int i = 0; i < 3 * 16; i++) {
        char *p = malloc(64u << 20);
        if (p == NULL)
            abort();
        memset(p, 1, 64u << 20);
    }
    return 0;
}

int64_t runner_span_ns(const struct runner_record *records, size_t n)
{
    return n == 0 ? 0 : records[n - 1].end_ns - records[0].start_ns;
}
