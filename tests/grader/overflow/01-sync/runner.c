/* Hostile: writes past the end of a heap block. Plain builds may not
 * notice; SANITIZE=address must report it. */
#include "runner.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

int runner_run(const struct runner_task *tasks, size_t n,
               struct runner_record *records)
{
    (void)tasks;
    (void)records;
    volatile char *block = malloc(8);
    if (block == NULL)
        return -1;
    block[8 + n] = 1;
    free((void *)block);
    return 0;
}

int64_t runner_span_ns(const struct runner_record *records, size_t n)
{
    return n == 0 ? 0 : records[n - 1].end_ns - records[0].start_ns;
}
