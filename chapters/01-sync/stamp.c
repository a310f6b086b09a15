/*
 * stamp.c: a filter that shows *when* each line reaches it. It copies
 * standard input to standard output, putting in front of each line the
 * time since stamp started, in seconds. Put it at the end of a pipeline to
 * see when the program before it really wrote its lines: a program whose
 * output is a pipe writes in blocks of several KiB (stdio's buffer), so
 * its lines may all arrive at once, long after they were printed.
 *
 * stamp itself flushes after every line, because what reads it (a person,
 * or the next program) wants each line as soon as it is there.
 *
 * Run: (echo 1; sleep 1; echo 2) | scale 3 | stamp     (make demos builds it)
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "die.h"

static double stamp_now(void)
{
    struct timespec t;
    if (clock_gettime(CLOCK_MONOTONIC, &t) == -1)
        die("clock_gettime");
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(void)
{
    double start = stamp_now();
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, stdin)) != -1) {
        printf("%5.1f s  %s", stamp_now() - start, line);
        if (len > 0 && line[len - 1] != '\n')
            putchar('\n');
        if (fflush(stdout) == EOF) /* each line now, not in a block later */
            die("stamp: standard output");
    }
    if (ferror(stdin))
        die("stamp: standard input");
    free(line);
    return 0;
}
