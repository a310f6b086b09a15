/*
 * printers_fork: chapter 1's two printers, each in a process of its own.
 *
 * "One" and "Two" each print a title, the program's name, the parent's
 * pid and their own pid, then their word ten times after random sleeps of
 * 0..max_ms ms: the same sleeps for the same seed as printers_seq. main()
 * forks a child per printer, then waits for both: the total is about the
 * longer printer's sleeps, not the sum of both. Each child records its
 * sleeps with trace.h, so the book can draw one lane per process.
 *
 * Run: printers_fork [max_ms [seed]]
 *      max_ms: longest sleep in ms (default 3000); seed: default the time
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "die.h"
#include "trace.h"

#define PRINTS 10   /* lines per printer */
#define TIMELINE 50 /* columns of the timeline drawn at the end */

static const char *program = "printers_fork";
static int64_t start; /* trace_now() when main() began, in ns */
static long max_ms = 3000;
static uint32_t seed;

static double seconds_since_start(void) /* one clock for all processes */
{
    return (double)(trace_now() - start) / 1e9;
}

/* xorshift32, as in printers_seq: the same seed gives the same sleeps. */
static uint32_t next_random(uint32_t *state)
{
    uint32_t x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *state = x;
}

/* The ten sleeps of printer `stream` (1 for One, 2 for Two); their sum. */
static long printer_sleeps(uint32_t stream, long ms[PRINTS])
{
    uint32_t state = (seed ^ 0x9e3779b9u) * 2654435761u + stream;
    long sum = 0;
    if (state == 0) /* xorshift would stay at 0 forever */
        state = 1;
    for (int i = 0; i < PRINTS; i++)
        sum += ms[i] = (long)(next_random(&state) % (uint32_t)(max_ms + 1));
    return sum;
}

static void sleep_ms(long ms) /* runs in a child: errors end it with _exit */
{
    struct timespec left = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&left, &left) == -1)
        if (errno != EINTR)
            _exit(1);
}

// [printer]
/* The body of one child: the title block, then ten lines. */
static void print_ten(const char *word, uint32_t stream)
{
    long ms[PRINTS];
    printer_sleeps(stream, ms);
    printf("--- printer %s ---\n  program:    %s\n  parent pid: %ld\n"
           "  own pid:    %ld\n",
           word, program, (long)getppid(), (long)getpid());
    if (fflush(stdout) == EOF)
        _exit(1); /* a child ends with _exit(), even on an error */
    for (int i = 1; i <= PRINTS; i++) {
        char label[16];
        int64_t began = trace_now();
        sleep_ms(ms[i - 1]);
        snprintf(label, sizeof label, "%s %d", word, i);
        trace_span(label, began, trace_now()); /* one bar of the timeline */
        printf("%7.3f s  %s %d (slept %ld ms)\n", seconds_since_start(), word,
               i, ms[i - 1]);
        if (fflush(stdout) == EOF) /* one line at a time, even to a file */
            _exit(1);
    }
}
// [printer]

/* A whole number from 0 to 3600000; otherwise (or for NULL) the usage. */
static long parse(const char *text)
{
    char *end = NULL;
    errno = 0;
    long v = text != NULL ? strtol(text, &end, 10) : -1;
    if (v < 0 || v > 3600000 || errno != 0 || end == text || *end != '\0') {
        fprintf(stderr, "usage: %s [max_ms [seed]]\n", program);
        exit(2);
    }
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
    static const char *const words[2] = {"One", "Two"};
    const char *slash = argc > 0 ? strrchr(argv[0], '/') : NULL;
    if (argc > 0)
        program = slash ? slash + 1 : argv[0];
    if (argc > 3)
        parse(NULL); /* too many arguments: the usage message */
    start = trace_now();
    max_ms = argc > 1 ? parse(argv[1]) : 3000;
    seed = argc > 2 ? (uint32_t)parse(argv[2]) : (uint32_t)time(NULL);
    printf("%s: sleeps of 0..%ld ms, seed %lu, parent pid %ld\n", program,
           max_ms, (unsigned long)seed, (long)getpid());

    // [main]
    pid_t pids[2];
    double ended[2];
    if (fflush(stdout) == EOF) /* or the children print it again */
        die("fflush");
    for (int p = 0; p < 2; p++) {
        pids[p] = fork();
        if (pids[p] == -1)
            die("fork");
        if (pids[p] == 0) { /* the child: print, then end */
            print_ten(words[p], (uint32_t)p + 1);
            _exit(0);
        }
    }
    for (int reaped = 0; reaped < 2; reaped++) { /* whichever ends first */
        int status;
        pid_t pid;
        while ((pid = wait(&status)) == -1)
            if (errno != EINTR)
                die("wait");
        int p = pid == pids[0] ? 0 : 1;
        ended[p] = seconds_since_start();
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            fprintf(stderr, "%s: printer %s failed\n", program, words[p]);
    }
    double total = seconds_since_start();
    // [main]

    long ms[PRINTS];
    long one = printer_sleeps(1, ms), two = printer_sleeps(2, ms);
    printf("total: %.3f s of wall time\n", total);
    printf("the sleeps of One add up to %.3f s, of Two to %.3f s;\n",
           (double)one / 1000, (double)two / 1000);
    printf("one after the other (printers_seq) they take at least %.3f s\n",
           (double)(one + two) / 1000);
    printf("timeline, %.3f s per column:\n", total / TIMELINE);
    draw(words[0], 0, ended[0], total);
    draw(words[1], 0, ended[1], total);
    return 0;
}
