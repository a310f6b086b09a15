/*
 * batch_stats.c: a batch program. Input, process, output, in that order.
 *
 * It reads every number of a file (or of standard input), one per line,
 * keeping them all in memory; sorts them; then prints the count, the
 * smallest, the median, the 90th percentile (nearest rank), the largest
 * and the mean. It cannot print the median before it has read the last
 * line, so nothing comes out until all the input is in. A line that is not
 * a number stops the batch with exit status 1 and no report: a report of
 * part of the data would look right and be wrong.
 *
 * Run: batch_stats data/latencies.txt    (make demos builds it)
 *      scale 1000 < data/seconds.txt | batch_stats
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "die.h"

static int compare(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Nearest rank: the smallest value with at least p% of the values <= it. */
static double percentile(const double *v, size_t n, int p)
{
    size_t rank = ((size_t)p * n + 99) / 100; /* ceil(p * n / 100) */
    return v[rank > 0 ? rank - 1 : 0];
}

int main(int argc, char *argv[])
{
    if (argc > 2) {
        fprintf(stderr, "usage: batch_stats [FILE]\n");
        return 2;
    }
    const char *name = argc > 1 ? argv[1] : "stdin";
    FILE *in = argc > 1 ? fopen(argv[1], "r") : stdin;
    if (in == NULL)
        die(argv[1]);

    // [input]
    double *v = NULL;
    size_t n = 0, cap = 0;
    char *line = NULL;
    size_t len = 0;
    long lineno = 0, bad = 0; /* bad: the first line that isn't a number */
    while (getline(&line, &len, in) != -1) { /* lines of any length */
        char *end;
        lineno++;
        if (line[strspn(line, " \t\n")] == '\0' || line[0] == '#')
            continue; /* blank line or comment */
        double x = strtod(line, &end);
        if (end == line || end[strspn(end, " \t\n")] != '\0') {
            bad = lineno;
            break;
        }
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            double *bigger = realloc(v, cap * sizeof *v);
            if (bigger == NULL)
                die("realloc");
            v = bigger;
        }
        v[n++] = x;
    }
    if (ferror(in))
        die(name);
    free(line);
    if (bad != 0) {
        fprintf(stderr, "batch_stats: %s:%ld: not a number\n", name, bad);
        free(v);
        return 1;
    }
    // [input]

    // [process]
    if (n == 0) {
        fprintf(stderr, "batch_stats: %s: no numbers\n", name);
        return 1;
    }
    qsort(v, n, sizeof *v, compare);
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += v[i];
    // [process]

    // [output]
    printf("count  %zu\n", n);
    printf("min    %.1f\n", v[0]);
    printf("median %.1f\n", percentile(v, n, 50));
    printf("p90    %.1f\n", percentile(v, n, 90));
    printf("max    %.1f\n", v[n - 1]);
    printf("mean   %.1f\n", sum / (double)n);
    // [output]
    free(v);
    if (in != stdin && fclose(in) == EOF)
        die(name);
    return 0;
}
