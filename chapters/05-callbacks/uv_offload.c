/*
 * uv_offload.c: the offload of this chapter with libuv. Six jobs go to
 * libuv's thread pool with uv_queue_work(): the work callback runs on a
 * pool thread (100 ms of sleep, then a square), the after-work callback
 * on the loop thread with a status. The sixth job is cancelled while it
 * still waits in the queue, so its after-work callback gets UV_ECANCELED.
 * A 10 ms timer ticks all along and records its worst gap. The pool has
 * two threads here (UV_THREADPOOL_SIZE, read once, at the first job).
 *
 * Build: needs libuv (Debian: libuv1-dev).   Run: uv_offload
 */
// link: -luv
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <uv.h>

#include "die.h"
#include "trace.h"

#define JOBS 6

static pthread_t loop_thread;
static uv_timer_t ticker;
static int64_t last_tick, worst_gap;
static int jobs_left = JOBS;

static void check_uv(int rc, const char *what) /* libuv: 0 or -errno */
{
    if (rc < 0) {
        fprintf(stderr, "%s: %s\n", what, uv_strerror(rc));
        exit(1);
    }
}

// [job]
struct job {
    uv_work_t req; /* first member: a uv_work_t * is a struct job * */
    int n, result;
};

static void on_work(uv_work_t *req) /* a pool thread */
{
    struct job *j = (struct job *)req;
    int64_t t0 = trace_now();
    struct timespec ts = {0, 100 * 1000000L};
    while (nanosleep(&ts, &ts) == -1)
        continue; /* EINTR: sleep the rest */
    j->result = j->n * j->n;
    char label[16];
    snprintf(label, sizeof label, "work %d", j->n);
    trace_span(label, t0, trace_now());
}

static void on_after_work(uv_work_t *req, int status) /* the loop thread */
{
    struct job *j = (struct job *)req;
    int64_t t0 = trace_now();
    if (status == UV_ECANCELED)
        printf("job %d: cancelled before it started (%s)\n", j->n,
               uv_err_name(status));
    else
        printf("job %d: status %d, %d squared is %2d, on the %s thread\n", j->n,
               status, j->n, j->result,
               pthread_equal(pthread_self(), loop_thread) ? "loop" : "WRONG");
    char label[16];
    snprintf(label, sizeof label, "done %d", j->n);
    trace_span(label, t0, trace_now());
    if (--jobs_left == 0)
        uv_close((uv_handle_t *)&ticker, NULL); /* then uv_run() returns */
}
// [job]

static void on_tick(uv_timer_t *timer)
{
    int64_t now = trace_now();
    if (now - last_tick > worst_gap)
        worst_gap = now - last_tick;
    last_tick = now;
    (void)timer;
}

int main(void)
{
    static struct job jobs[JOBS];
    loop_thread = pthread_self();
    if (setenv("UV_THREADPOOL_SIZE", "2", 1) == -1)
        die("setenv");
    uv_loop_t *loop = uv_default_loop();
    check_uv(uv_timer_init(loop, &ticker), "uv_timer_init");
    check_uv(uv_timer_start(&ticker, on_tick, 10, 10), "uv_timer_start");
    last_tick = trace_now();
    // [submit]
    int64_t t0 = trace_now();
    for (int i = 0; i < JOBS; i++) {
        jobs[i].n = i + 1;
        check_uv(uv_queue_work(loop, &jobs[i].req, on_work, on_after_work),
                 "uv_queue_work");
    }
    int rc = uv_cancel((uv_req_t *)&jobs[JOBS - 1].req); /* still queued */
    trace_span("submit", t0, trace_now());
    printf("uv_cancel(job %d): %s\n", JOBS, rc == 0 ? "0" : uv_err_name(rc));
    int64_t start = trace_now();
    check_uv(uv_run(loop, UV_RUN_DEFAULT), "uv_run");
    // [submit]
    printf("uv_run returned after %.0f ms; worst gap between ticks %.1f ms\n",
           (double)(trace_now() - start) / 1e6, (double)worst_gap / 1e6);
    check_uv(uv_loop_close(loop), "uv_loop_close");
    return 0;
}
