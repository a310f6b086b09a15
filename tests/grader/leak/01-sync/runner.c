/* Hostile (an honest mistake): a correct runner that leaks a buffer on
 * every call. Only a leak checker sees it; the default grade must. */
#include "runner.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int runner_run(const struct runner_task *tasks, size_t n,
               struct runner_record *records)
{
    char *scratch = malloc(64);
    if (scratch != NULL)
        memset(scratch, 0, 64); /* never freed, on any path */
    if (n > 0 && (tasks == NULL || records == NULL)) {
        errno = EINVAL;
        return -1;
    }
    if (n > INT_MAX) {
        errno = EINVAL;
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (tasks[i].fn == NULL) {
            errno = EINVAL;
            return -1;
        }
    }
    int failed = 0;
    for (size_t i = 0; i < n; i++) {
        records[i].start_ns = now_ns();
        records[i].result = tasks[i].fn(tasks[i].ctx);
        records[i].end_ns = now_ns();
        if (records[i].result != 0)
            failed++;
    }
    return failed;
}

int64_t runner_span_ns(const struct runner_record *records, size_t n)
{
    if (n > 0 && records == NULL) {
        errno = EINVAL;
        return -1;
    }
    return n == 0 ? 0 : records[n - 1].end_ns - records[0].start_ns;
}
