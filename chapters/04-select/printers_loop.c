/*
 * printers_loop.c: the two printers of printers_seq.c in one thread of one
 * process. Each sleep becomes a timer in an event loop: a printer asks to
 * be called back after ms milliseconds and returns at once; the loop
 * waits in select() until the earliest deadline and runs the callback
 * that is due. The same seed gives the same sleeps as in chapters 1 to 3;
 * the total is about the longer printer, as with two processes or two
 * threads, and both printers report the same pid and the same thread id.
 * Linux-only: the thread id comes from gettid(), which needs _GNU_SOURCE.
 *
 * Run: printers_loop [max_ms [seed]]
 *      max_ms: longest sleep in ms (default 3000); seed: default the time
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <time.h>
#include <unistd.h>

#include "die.h"
#include "trace.h"

#define PRINTS 10 /* lines per printer */

static int64_t start;
static long max_ms = 3000;
static uint32_t seed;

static uint32_t next_random(uint32_t *state) /* xorshift32, as before */
{
    uint32_t x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *state = x;
}

// [heap]
struct timer {
    int64_t deadline;            /* CLOCK_MONOTONIC, ns */
    void (*on_timer)(void *ctx); /* what to call then */
    void *ctx;
};
static struct timer heap[16]; /* a binary min-heap on deadline */
static size_t timers;

static void timer_add(int64_t deadline, void (*on_timer)(void *), void *ctx)
{
    size_t i = timers++; /* a hole at the end; move it up */
    if (i == sizeof heap / sizeof heap[0])
        die_en(ENOMEM, "timer_add");
    while (i > 0 && heap[(i - 1) / 2].deadline > deadline) {
        heap[i] = heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    heap[i] = (struct timer){deadline, on_timer, ctx};
}

static struct timer timer_pop(void) /* the earliest; timers > 0 */
{
    struct timer top = heap[0], last = heap[--timers];
    size_t i = 0, child;
    while ((child = 2 * i + 1) < timers) { /* move the hole down */
        if (child + 1 < timers &&
            heap[child + 1].deadline < heap[child].deadline)
            child++;
        if (heap[child].deadline >= last.deadline)
            break;
        heap[i] = heap[child];
        i = child;
    }
    heap[i] = last;
    return top;
}
// [heap]

// [printer]
struct printer {
    const char *word;
    uint32_t state; /* its own random stream */
    int printed;
    long ms;       /* the sleep now running */
    int64_t began; /* when that sleep began */
};

static void on_wake(void *ctx)
{
    struct printer *p = ctx;
    int64_t now = trace_now();
    char label[16];
    snprintf(label, sizeof label, "%s %d", p->word, ++p->printed);
    trace_span(label, p->began, now);
    printf("%7.3f s  %s %d (slept %ld ms)\n", (double)(now - start) / 1e9,
           p->word, p->printed, p->ms);
    if (p->printed == PRINTS)
        return; /* no new timer: this printer is done */
    p->ms = (long)(next_random(&p->state) % (uint32_t)(max_ms + 1));
    p->began = now;
    timer_add(now + p->ms * 1000000, on_wake, p); /* and return at once */
}

static void printer_start(struct printer *p, uint32_t stream)
{
    p->state = (seed ^ 0x9e3779b9u) * 2654435761u + stream;
    if (p->state == 0)
        p->state = 1;
    printf("--- printer %s ---\n  program:    printers_loop\n"
           "  parent pid: %ld\n  own pid:    %ld\n  thread id:  %ld\n",
           p->word, (long)getppid(), (long)getpid(), (long)gettid());
    p->ms = (long)(next_random(&p->state) % (uint32_t)(max_ms + 1));
    p->began = trace_now();
    timer_add(p->began + p->ms * 1000000, on_wake, p);
}
// [printer]

static long parse(const char *text)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || v < 0 || v > 3600000) {
        fprintf(stderr, "usage: printers_loop [max_ms [seed]]\n");
        exit(2);
    }
    return v;
}

int main(int argc, char *argv[])
{
    start = trace_now();
    max_ms = argc > 3 ? parse("") : argc > 1 ? parse(argv[1]) : 3000;
    seed = argc > 2 ? (uint32_t)parse(argv[2]) : (uint32_t)time(NULL);
    printf("printers_loop: sleeps of 0..%ld ms, seed %lu; pid %ld\n", max_ms,
           (unsigned long)seed, (long)getpid());
    struct printer one = {.word = "One"}, two = {.word = "Two"};
    printer_start(&one, 1);
    printer_start(&two, 2);
    if (fflush(stdout) == EOF)
        die("fflush");

    // [loop]
    long waits = 0;
    while (timers > 0) {
        int64_t wait = heap[0].deadline - trace_now(); /* nearest deadline */
        if (wait < 0)
            wait = 0;
        wait = (wait + 999) / 1000; /* to whole microseconds, rounded up */
        struct timeval tv = {(time_t)(wait / 1000000), (long)(wait % 1000000)};
        if (select(0, NULL, NULL, NULL, &tv) == -1 && errno != EINTR)
            die("select");
        waits++;
        int64_t now = trace_now();
        while (timers > 0 && heap[0].deadline <= now) { /* run what is due */
            struct timer t = timer_pop();
            t.on_timer(t.ctx);
        }
        if (fflush(stdout) == EOF)
            die("fflush");
    }
    // [loop]

    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) == -1)
        die("getrusage");
    printf("total: %.3f s of wall time, %.3f s of CPU time, %ld select() "
           "calls\n",
           (double)(trace_now() - start) / 1e9,
           (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
               (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6,
           waits);
    return 0;
}
