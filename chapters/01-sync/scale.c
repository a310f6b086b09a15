/*
 * scale.c: a filter. It multiplies every number it reads by FACTOR.
 *
 * It reads the files named on the command line one after the other, or
 * standard input when there are none (or for "-"), one number per line,
 * and writes each number times FACTOR on standard output; a blank line is
 * passed through. What goes wrong goes to standard error, and the exit
 * status tells the caller how it went:
 *   0  every line was a number
 *   1  a file could not be read or a line was not a number (those lines
 *      are reported and skipped; the others are still written)
 *   2  the command line itself was wrong (usage message)
 *
 * Run: scale 1000 < data/seconds.txt     seq 3 | scale 0.5
 *      scale 2 data/bad.txt; echo "exit status $?"   (make demos builds it)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "die.h"

/* A whole line holding one finite number (spaces around it allowed). */
static int parse_number(const char *text, double *value)
{
    char *end;
    *value = strtod(text, &end);
    if (end == text || !isfinite(*value))
        return -1;
    end += strspn(end, " \t");
    return *end == '\0' ? 0 : -1;
}

// [filter]
/* Scale every line of `in`; return the number of bad lines. */
static long scale_stream(FILE *in, const char *name, double factor)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    long lineno = 0, bad = 0;
    double v;

    while ((len = getline(&line, &cap, in)) != -1) {
        lineno++;
        if (len > 0 && line[len - 1] == '\n')
            line[--len] = '\0';
        if (line[strspn(line, " \t")] == '\0') {
            putchar('\n');
        } else if (parse_number(line, &v) == 0) {
            printf("%.10g\n", v * factor);
        } else {
            fflush(stdout); /* keep stdout and stderr in order */
            fprintf(stderr, "scale: %s:%ld: not a number: \"%s\"\n", name,
                    lineno, line);
            bad++;
        }
    }
    if (ferror(in)) {
        fprintf(stderr, "scale: %s: read error\n", name);
        bad++;
    }
    free(line);
    return bad;
}
// [filter]

// [main]
int main(int argc, char *argv[])
{
    double factor;
    if (argc < 2 || parse_number(argv[1], &factor) == -1) {
        fprintf(stderr, "usage: scale FACTOR [FILE...]\n");
        return 2;
    }
    int status = 0;
    if (argc == 2 && scale_stream(stdin, "stdin", factor) > 0)
        status = 1;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "-") == 0) {
            if (scale_stream(stdin, "stdin", factor) > 0)
                status = 1;
            continue;
        }
        FILE *in = fopen(argv[i], "r");
        if (in == NULL) {
            fflush(stdout);
            fprintf(stderr, "scale: %s: %s\n", argv[i], strerror(errno));
            status = 1; /* report it, go on with the next file */
            continue;
        }
        if (scale_stream(in, argv[i], factor) > 0)
            status = 1;
        if (fclose(in) == EOF)
            die(argv[i]);
    }
    if (fflush(stdout) == EOF || ferror(stdout)) {
        perror("scale: standard output");
        return 1;
    }
    return status;
}
// [main]
