/*
 * printers_threads.c: the two printers of printers_seq.c, each in a
 * thread of its own, in one process. Both print the same pid and
 * different thread ids; the total is about the longer printer, not the
 * sum of both. The same seed gives the same sleeps as printers_seq and
 * printers_fork. Linux-only: the thread id comes from gettid(), which
 * needs _GNU_SOURCE.
 *
 * Run: printers_threads [max_ms [seed]]
 *      max_ms: longest sleep in ms (default 3000); seed: default the time
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "die.h"
#include "trace.h"

#define PRINTS 10   /* lines per printer */
#define TIMELINE 50 /* columns of the timeline drawn at the end */

static const char *program = "printers_threads";
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

/* xorshift32, as in printers_seq.c: its state belongs to one printer, so
   the two threads never share (or race on) a generator. */
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
        if (errno != EINTR)
            die("nanosleep");
}

// [printer]
struct printer {
    const char *word; /* in: what to print */
    uint32_t stream;  /* in: which random stream (1 or 2) */
    long slept;       /* out: milliseconds slept in total */
    double from, to;  /* out: when it started and ended, in s */
};

static void *on_print(void *arg)
{
    struct printer *p = arg;
    uint32_t state = (seed ^ 0x9e3779b9u) * 2654435761u + p->stream;

    if (state == 0) /* xorshift would stay at 0 forever */
        state = 1;
    p->from = seconds_since_start();
    printf("--- printer %s ---\n"
           "  program:    %s\n  parent pid: %ld\n"
           "  own pid:    %ld\n  thread id:  %ld\n",
           p->word, program, (long)getppid(), (long)getpid(), (long)gettid());
    for (int i = 1; i <= PRINTS; i++) {
        long ms = (long)(next_random(&state) % (uint32_t)(max_ms + 1));
        int64_t began = trace_now();
        sleep_ms(ms);
        char label[16];
        snprintf(label, sizeof label, "%s %d", p->word, i);
        trace_span(label, began, trace_now()); /* for the timeline */
        p->slept += ms;
        printf("%7.3f s  %s %d (slept %ld ms)\n", seconds_since_start(),
               p->word, i, ms);
        if (fflush(stdout) == EOF)
            die("fflush");
    }
    p->to = seconds_since_start();
    return NULL;
}
// [printer]

static void usage(void)
{
    fprintf(stderr, "usage: %s [max_ms [seed]]\n", program);
    exit(2);
}

/* A whole number from 0 to 3600000, or the usage message. */
static long parse(const char *text)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || v < 0 || v > 3600000)
        usage();
    return v;
}

static void draw(const char *word, double from, double to, double total)
{
    char row[TIMELINE + 1] = "";
    for (int c = 0; c < TIMELINE; c++) {
        double t = (c + 0.5) * total / TIMELINE; /* middle of the column */
        row[c] = (t >= from && t < to) ? '=' : ' ';
    }
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
    max_ms = argc > 1 ? parse(argv[1]) : 3000;
    seed = argc > 2 ? (uint32_t)parse(argv[2]) : (uint32_t)time(NULL);
    printf("%s: sleeps of 0..%ld ms, seed %lu; main thread: pid %ld, "
           "thread id %ld\n",
           program, max_ms, (unsigned long)seed, (long)getpid(),
           (long)gettid());

    // [main]
    struct printer printers[2] = {{"One", 1, 0, 0, 0}, {"Two", 2, 0, 0, 0}};
    pthread_t threads[2];
    for (int i = 0; i < 2; i++) {
        int en = pthread_create(&threads[i], NULL, on_print, &printers[i]);
        if (en != 0)
            die_en(en, "pthread_create");
    }
    for (int i = 0; i < 2; i++) { /* wait for both */
        int en = pthread_join(threads[i], NULL);
        if (en != 0)
            die_en(en, "pthread_join");
    }
    double total = seconds_since_start();
    // [main]
    long one = printers[0].slept, two = printers[1].slept;
    printf("total: %.3f s of wall time; the sleeps of One add up to %.3f s, "
           "of Two to %.3f s\n",
           total, (double)one / 1000, (double)two / 1000);
    printf("one after the other (printers_seq) they take at least %.3f s\n",
           (double)(one + two) / 1000);
    printf("timeline, %.3f s per column:\n", total / TIMELINE);
    draw("One", printers[0].from, printers[0].to, total);
    draw("Two", printers[1].from, printers[1].to, total);
    return 0;
}
