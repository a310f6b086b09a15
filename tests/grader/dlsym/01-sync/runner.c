/* Hostile: the fixture's functions looked up by name at run time. */
#define _GNU_SOURCE
#include "runner.h"

#include <dlfcn.h>
#include <stddef.h>
#include <stdint.h>

static void quiet(void)
{
    void *f = dlsym(RTLD_DEFAULT, "wb_promise");
    (void)f;
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
