/* Hostile: replaces functions the test support calls (readdir, waitpid,
 * fopen) to hide a leaked descriptor and a zombie, and leaks both. */
#define _GNU_SOURCE
#include "runner.h"

#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <unistd.h>

struct dirent *readdir(DIR *d)
{
    (void)d;
    return NULL;
}

pid_t waitpid(pid_t pid, int *status, int options)
{
    (void)pid;
    (void)status;
    (void)options;
    return 0;
}

FILE *fopen(const char *path, const char *mode)
{
    (void)path;
    (void)mode;
    return NULL;
}

int runner_run(const struct runner_task *tasks, size_t n,
               struct runner_record *records)
{
    (void)tasks;
    (void)records;
    int fds[2];
    if (pipe(fds) == 0 && fork() == 0)
        _exit(0);
    for (size_t i = 0; i < n; i++)
        records[i].result = tasks[i].fn(tasks[i].ctx);
    return 0;
}

int64_t runner_span_ns(const struct runner_record *records, size_t n)
{
    return n == 0 ? 0 : records[n - 1].end_ns - records[0].start_ns;
}
