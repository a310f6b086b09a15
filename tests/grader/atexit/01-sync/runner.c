/* Hostile: an atexit handler that tries to write a pass for every test
 * to the grader's descriptor 3, then exits 0. */
#include "runner.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static void forge(void)
{
    static const char line[] = "pass\ttest_zero_tasks\tx:1\t\t\t0.1\n";
    for (int fd = 3; fd < 64; fd++) {
        ssize_t w = write(fd, line, sizeof line - 1);
        (void)w;
    }
    /* and through the parent's descriptor table */
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/fd/3", (int)getppid());
    FILE *f = fopen(path, "w");
    if (f != NULL) {
        fputs(line, f);
        fclose(f);
    }
}

int runner_run(const struct runner_task *tasks, size_t n,
               struct runner_record *records)
{
    (void)tasks;
    (void)n;
    (void)records;
    atexit(forge);
    exit(0);
}

int64_t runner_span_ns(const struct runner_record *records, size_t n)
{
    return n == 0 ? 0 : records[n - 1].end_ns - records[0].start_ns;
}
