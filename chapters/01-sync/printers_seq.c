/*
 * printers_seq.c: the two printers, one after the other.
 *
 * printer_one() prints "One" ten times, printer_two() prints "Two" ten
 * times, each sleeping a random 0..max_ms ms before every line and first
 * printing a title, the program's name, its parent's pid and its own pid.
 * main() calls one, then the other: the total is the sum of all twenty
 * sleeps. Chapters 2 and 3 run the same printers at the same time, with the
 * same sleeps for the same seed (each printer has a generator of its own).
 *
 * Run: printers_seq [max_ms [seed]]   (make demos builds it)
 *      max_ms: longest sleep in ms (default 3000); seed: default the time
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "die.h"
#include "trace.h"

#define PRINTS 10   /* lines per printer */
#define TIMELINE 50 /* columns of the timeline drawn at the end */

static const char *program = "printers_seq";
static struct timespec start;
static long max_ms = 3000;
static uint32_t seed;

static double seconds_since_start(void)
{
    struct timespec now;
    if (clock_gettime(CLOCK_MONOTONIC, &now) == -1)
        die("clock_gettime");
    return (double)(now.tv_sec - start.tv_sec) +
           (double)(now.tv_nsec - start.tv_nsec) / 1e9;
}

/* xorshift32: a small generator whose state the caller keeps, so the same
   seed gives the same numbers on every system and in every chapter. */
static uint32_t next_random(uint32_t *state)
{
    uint32_t x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *state = x;
}

static void sleep_ms(long ms)
{
    struct timespec left = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&left, &left) == -1)
        if (errno != EINTR) /* a signal cut the sleep short: sleep the rest */
            die("nanosleep");
}

// [printer]
/* Print the title, who we are, then `word` ten times with random sleeps.
   Returns the milliseconds it slept in total. */
static long print_ten(const char *word, uint32_t stream)
{
    uint32_t state = (seed ^ 0x9e3779b9u) * 2654435761u + stream;
    long slept = 0;

    if (state == 0) /* xorshift would stay at 0 forever */
        state = 1;
    printf("--- printer %s ---\n", word);
    printf("  program:    %s\n", program);
    printf("  parent pid: %ld\n", (long)getppid());
    printf("  own pid:    %ld\n", (long)getpid());
    for (int i = 1; i <= PRINTS; i++) {
        long ms = (long)(next_random(&state) % (uint32_t)(max_ms + 1));
        int64_t began = trace_now();
        sleep_ms(ms);
        char label[16];
        snprintf(label, sizeof label, "%s %d", word, i);
        trace_span(label, began, trace_now()); /* for the timeline */
        slept += ms;
        printf("%7.3f s  %s %d (slept %ld ms)\n", seconds_since_start(), word,
               i, ms);
        if (fflush(stdout) == EOF)
            die("fflush");
    }
    return slept;
}

static long printer_one(void)
{
    return print_ten("One", 1);
}

static long printer_two(void)
{
    return print_ten("Two", 2);
}
// [printer]

static void usage(void)
{
    fprintf(stderr, "usage: %s [max_ms [seed]]\n", program);
    exit(2);
}

/* A whole number from 0 to max, or the usage message. */
static unsigned long parse(const char *text, unsigned long max)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || text[0] == '-' || v > max)
        usage();
    return v;
}

static void draw(const char *word, double from, double to, double total)
{
    char row[TIMELINE + 1];
    for (int c = 0; c < TIMELINE; c++) {
        double t = (c + 0.5) * total / TIMELINE; /* middle of the column */
        row[c] = (t >= from && t < to) ? '=' : ' ';
    }
    row[TIMELINE] = '\0';
    printf("  %s |%s|\n", word, row);
}

int main(int argc, char *argv[])
{
    const char *slash = argc > 0 ? strrchr(argv[0], '/') : NULL;
    if (argc > 0)
        program = slash ? slash + 1 : argv[0];
    if (argc > 3)
        usage();
    if (clock_gettime(CLOCK_MONOTONIC, &start) == -1)
        die("clock_gettime");
    max_ms = argc > 1 ? (long)parse(argv[1], 3600000) : 3000;
    seed =
        argc > 2 ? (uint32_t)parse(argv[2], UINT32_MAX) : (uint32_t)time(NULL);
    printf("%s: sleeps of 0..%ld ms, seed %lu\n", program, max_ms,
           (unsigned long)seed);

    // [main]
    double one_start = seconds_since_start();
    long slept = printer_one(); /* returns only when One is done */
    double one_end = seconds_since_start();
    slept += printer_two(); /* so Two starts only now */
    double total = seconds_since_start();
    // [main]

    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) == -1)
        die("getrusage");
    double cpu = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                 (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
    printf("total: %.3f s of wall time, %.3f s of CPU time; "
           "the sleeps add up to %.3f s\n",
           total, cpu, (double)slept / 1000);
    printf("timeline, %.3f s per column:\n", total / TIMELINE);
    draw("One", one_start, one_end, total);
    draw("Two", one_end, total, total);
    return 0;
}
