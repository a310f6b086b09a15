/* Hostile: a constructor that exists only in the ThreadSanitizer build
 * (the one chapter 3 and 5 grade with), absent from a plain compile of
 * the same file. It would forge a pass before any test runs. */
#include "runner.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
__attribute__((constructor)) static void forge(void)
{
    static const char line[] = "pass\ttest_zero_tasks\tx:1\t\t\t0.1\n";
    ssize_t w = write(3, line, sizeof line - 1);
    (void)w;
    exit(0);
}
#endif

int runner_run(const struct runner_task *tasks, size_t n,
               struct runner_record *records)
{
    (void)tasks;
    (void)n;
    (void)records;
    return 0;
}

int64_t runner_span_ns(const struct runner_record *records, size_t n)
{
    return n == 0 ? 0 : records[n - 1].end_ns - records[0].start_ns;
}
