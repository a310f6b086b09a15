/*
 * ticker.c: what one slow callback does to an event loop. A select() loop
 * runs a ticker every 10 ms for 1.3 s. At 100 ms a request arrives that
 * needs 1 s of work:
 *   inline   computes for 1 s inside the loop's callback;
 *   sleep    makes a blocking call of 1 s there (nanosleep);
 *   offload  computes on a thread of its own, which writes a byte into a
 *            pipe the loop watches when the result is ready.
 * At the end it prints how many ticks ran and the worst gap between two.
 *
 * Run: ticker inline|sleep|offload
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/select.h>
#include <time.h>
#include <unistd.h>

#include "die.h"
#include "trace.h"

static double now_ms(void)
{
    struct timespec t;
    if (clock_gettime(CLOCK_MONOTONIC, &t) == -1)
        die("clock_gettime");
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static unsigned long result;
static int done_pipe[2];

// [work]
static unsigned long compute(double ms) /* ms of pure computing */
{
    int64_t t0 = trace_now();
    double end = now_ms() + ms;
    unsigned long x = 1;
    do
        for (int i = 0; i < 100000; i++)
            x = x * 6364136223846793005UL + 1442695040888963407UL;
    while (now_ms() < end);
    trace_span("work", t0, trace_now());
    return x;
}

static void *on_thread(void *arg) /* the offloaded work */
{
    (void)arg;
    result = compute(1000);
    if (write(done_pipe[1], "!", 1) != 1) /* tell the loop */
        die("write");
    return NULL;
}
// [work]

int main(int argc, char *argv[])
{
    const char *mode = argc == 2 ? argv[1] : "";
    if (strcmp(mode, "inline") && strcmp(mode, "sleep") &&
        strcmp(mode, "offload")) {
        fprintf(stderr, "usage: ticker inline|sleep|offload\n");
        return 2;
    }
    if (pipe(done_pipe) == -1)
        die("pipe");
    pthread_t t;
    double start = now_ms(), next_tick = start + 10, last = start, worst = 0;
    double request_at = start + 100, result_at = 0;
    int ticks = 0, requested = 0, waiting = 0;
    // [loop]
    while (requested == 0 || waiting || now_ms() < start + 1300) {
        double due =
            !requested && request_at < next_tick ? request_at : next_tick;
        double wait = due - now_ms();
        struct timeval tv = {0, wait > 0 ? (long)(wait * 1000) : 0};
        fd_set rd;
        FD_ZERO(&rd);
        FD_SET(done_pipe[0], &rd);
        int n = select(done_pipe[0] + 1, &rd, NULL, NULL, &tv);
        if (n == -1 && errno != EINTR)
            die("select");
        double now = now_ms();
        if (n > 0 && FD_ISSET(done_pipe[0], &rd)) { /* the result is in */
            char byte;
            if (read(done_pipe[0], &byte, 1) != 1)
                die("read");
            int en = pthread_join(t, NULL);
            if (en != 0)
                die_en(en, "pthread_join");
            waiting = 0;
            result_at = now - start;
        }
        if (now >= next_tick) { /* the ticker's callback */
            int64_t t0 = trace_now();
            ticks++;
            if (now - last > worst)
                worst = now - last;
            last = now;
            while (next_tick <= now) /* skip the ticks that were missed */
                next_tick += 10;
            trace_span("tick", t0, trace_now());
        }
        if (!requested && now >= request_at) { /* the request's callback */
            requested = 1;
            if (strcmp(mode, "inline") == 0) {
                result = compute(1000); /* the loop is stuck here */
                result_at = now_ms() - start;
            } else if (strcmp(mode, "sleep") == 0) {
                struct timespec ts = {1, 0};
                int64_t t0 = trace_now();
                while (nanosleep(&ts, &ts) == -1) /* and here */
                    if (errno != EINTR)
                        die("nanosleep");
                trace_span("blocking call", t0, trace_now());
                result_at = now_ms() - start;
            } else {
                int en = pthread_create(&t, NULL, on_thread, NULL);
                if (en != 0)
                    die_en(en, "pthread_create");
                waiting = 1; /* and the loop goes on at once */
            }
        }
    }
    // [loop]
    double total = now_ms() - start;
    printf("%s: %d ticks in %.0f ms (a tick every 10 ms would be %.0f)\n", mode,
           ticks, total, total / 10);
    printf("worst gap between two ticks: %.1f ms\n", worst);
    printf("request at 100 ms, its result ready at %.0f ms\n", result_at);
    if (close(done_pipe[0]) == -1 || close(done_pipe[1]) == -1)
        die("close");
    return 0;
}
