/* Hostile: the test kills the suite's main() (its parent) with SIGKILL,
 * which read as a time limit. */
#include "runner.h"

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

int runner_run(const struct runner_task *tasks, size_t n,
               struct runner_record *records)
{
    (void)tasks;
    (void)n;
    (void)records;
    kill(getppid(), SIGKILL);
    return 0;
}

int64_t runner_span_ns(const struct runner_record *records, size_t n)
{
    return n == 0 ? 0 : records[n - 1].end_ns - records[0].start_ns;
}
