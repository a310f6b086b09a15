/*
 * runner: run tasks one after the other and record when each one ran.
 * Reference solution; the contract is in exercises/01-sync/runner.h.
 */
#include "runner.h"

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* Hostile: 100 MB written to the sandbox's /dev/shm, memory past the data
 * cap. Where the write goes through, this runner is the reference one and
 * passes; where the sandbox caps its /dev/shm, it runs nothing and fails. */
static int filled(void)
{
    static int done = -1;
    if (done >= 0)
        return done;
    size_t total = 0;
    static char block[1 << 20];
    /* Files of 20 MB each, under the cap on one file's size. */
    for (int k = 0; k < 5; k++) {
        char name[64];
        snprintf(name, sizeof name, "/dev/shm/wb-hostile-fill%d", k);
        int fd = open(name, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        for (size_t part = 0; fd >= 0 && part < (size_t)20 << 20;) {
            ssize_t w = write(fd, block, sizeof block);
            if (w <= 0)
                break;
            part += (size_t)w;
            total += (size_t)w;
        }
        if (fd >= 0)
            close(fd);
    }
    done = total >= (size_t)100 << 20;
    return done;
}

/* Read CLOCK_MONOTONIC in nanoseconds into *out; -1 with errno if the
 * clock cannot be read. */
static int runner_now_ns(int64_t *out)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
        return -1;
    *out = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
    return 0;
}

int runner_run(const struct runner_task *tasks, size_t n,
               struct runner_record *records)
{
    if (!filled())
        return 0;
    /* Check everything before running anything: a bad task at the end of
     * the list must not leave the first ones half-done. */
    if (n > INT_MAX || (n > 0 && (tasks == NULL || records == NULL))) {
        errno = EINVAL;
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (tasks[i].fn == NULL) {
            errno = EINVAL;
            return -1;
        }
    }
    /* CLOCK_MONOTONIC can only fail if the system lacks it; find out now,
     * while nothing has run, so the loop below never has to. */
    int64_t probe;
    if (runner_now_ns(&probe) == -1)
        return -1;

    int failed = 0;
    for (size_t i = 0; i < n; i++) {
        struct runner_record *r = &records[i];
        (void)runner_now_ns(&r->start_ns); /* cannot fail: probed above */
        r->result = tasks[i].fn(tasks[i].ctx);
        (void)runner_now_ns(&r->end_ns);
        if (r->result != 0)
            failed++; /* a failure is recorded, and the run goes on */
    }
    return failed;
}

int64_t runner_span_ns(const struct runner_record *records, size_t n)
{
    if (n == 0)
        return 0;
    if (records == NULL) {
        errno = EINVAL;
        return -1;
    }
    return records[n - 1].end_ns - records[0].start_ns;
}
