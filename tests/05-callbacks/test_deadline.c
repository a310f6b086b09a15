/*
 * Tests of deadline (exercises/05-callbacks/deadline.h): a request on an
 * offload with a time limit. The offload is the reference solution of
 * exercise 2 (tests/05-callbacks/deadline.links links it).
 *
 * The work of a request either returns at once, sleeps a set time, or
 * waits at a gate that the test opens (from a loop callback, or from the
 * request's own on_done), so the test decides who wins the race: the
 * work or the limit. Every on_done here is on_done(), which writes down
 * in a struct done what it got, when, on which thread, and whether the
 * work had finished at that moment.
 *
 * Memory is counted with heap_in_use(): the sanitizer's own count when
 * one is linked in, glibc's otherwise, so a record that is never freed
 * shows as bytes left behind in every build.
 *
 * "The loop does not spin" is counted, not timed: the suite links
 * tests/support/selects.c, which counts the select() calls.
 *
 * Linux and glibc (wb_heap_in_use(), selects.c).
 */
#define _GNU_SOURCE
#include "wb.h"
#include "deadline.h"
#include "threadwatch.h"
#include "timedwait.h"
#include "fdlimit.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <time.h>
#include <unistd.h>

#define MS 1000000LL /* nanoseconds */

/* --- Memory, CPU time and select() calls -------------------------------- */

/* ThreadSanitizer reads this before TSAN_OPTIONS, which overrides it. A
 * test that fails half-way leaves the offload's workers running, and
 * ThreadSanitizer then sleeps 1 s at exit by default, waiting for them
 * to report: a stub would take seconds to fail. */
const char *__tsan_default_options(void);
const char *__tsan_default_options(void)
{
    return "atexit_sleep_ms=0";
}

/* Bytes allocated and not yet freed by the whole process. */
static long heap_in_use(void)
{
    return (long)wb_heap_in_use();
}

/* Every select() is counted (tests/support/selects.c, in deadline.links). */

/* --- A gate that work waits at ------------------------------------------ */

struct gate {
    pthread_mutex_t lock;
    pthread_cond_t opened;
    int open;
};

static void gate_init(struct gate *g)
{
    memset(g, 0, sizeof *g);
    ck_assert_int_eq(pthread_mutex_init(&g->lock, NULL), 0);
    ck_assert_int_eq(pthread_cond_init(&g->opened, NULL), 0);
}

static void gate_destroy(struct gate *g)
{
    pthread_cond_destroy(&g->opened);
    pthread_mutex_destroy(&g->lock);
}

static void gate_open(struct gate *g)
{
    pthread_mutex_lock(&g->lock);
    g->open = 1;
    pthread_cond_broadcast(&g->opened);
    pthread_mutex_unlock(&g->lock);
}

static void gate_close(struct gate *g)
{
    pthread_mutex_lock(&g->lock);
    g->open = 0;
    pthread_mutex_unlock(&g->lock);
}

/* Wait until the gate opens, @p max_ms at most (a broken deadline must
 * not hang a worker forever). */
static void gate_wait(struct gate *g, long max_ms)
{
    struct timespec end = timedwait_deadline(max_ms);
    pthread_mutex_lock(&g->lock);
    while (!g->open &&
           pthread_cond_timedwait(&g->opened, &g->lock, &end) != ETIMEDOUT)
        continue;
    pthread_mutex_unlock(&g->lock);
}

/* --- The work of a request ---------------------------------------------- */

struct work {
    int status;        /* what it returns */
    long sleep_us;     /* sleeps this long first */
    struct gate *gate; /* then waits here, if set ... */
    long gate_max_ms;  /* ... this long at most */
    atomic_int runs;   /* how many times it started */
    atomic_int done;   /* how many times it finished */
};

static int on_work(void *req)
{
    struct work *w = req;
    atomic_fetch_add(&w->runs, 1);
    if (w->sleep_us > 0) {
        struct timespec ts = {w->sleep_us / 1000000,
                              (w->sleep_us % 1000000) * 1000};
        while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
            continue;
    }
    if (w->gate != NULL)
        gate_wait(w->gate, w->gate_max_ms);
    atomic_fetch_add(&w->done, 1);
    return w->status;
}

/* --- What on_done saw --------------------------------------------------- */

struct done {
    int calls;
    int status;      /* of the first call */
    int statuses[4]; /* of the first 4 calls */
    void *req, *ctx;
    offload *o;
    int64_t at_ns; /* when the first call came */
    int in_submit; /* it ran inside deadline_submit() */
    int in_run;    /* it ran from loop_run() */
    int work_done; /* the work had finished when it came */
    pthread_t thread;
    struct gate *open; /* opened by the call, if set */
    /* If set, the call submits another deadline request. */
    struct work *resubmit;
    struct done *resubmit_done;
    long resubmit_ms;
    long resubmit_id;
    int resubmit_errno;
};

static int in_submit, in_run;
static loop *the_loop;

static void on_done(offload *o, void *req, int status, void *ctx)
{
    struct done *d = ctx;
    if (d->calls < 4)
        d->statuses[d->calls] = status;
    if (d->calls++ > 0)
        return;
    d->status = status;
    d->req = req;
    d->ctx = ctx;
    d->o = o;
    d->at_ns = wb_now_ns();
    d->in_submit = in_submit;
    d->in_run = in_run;
    d->work_done = req != NULL && atomic_load(&((struct work *)req)->done);
    d->thread = pthread_self();
    if (d->open != NULL)
        gate_open(d->open);
    if (d->resubmit != NULL) {
        errno = 0;
        d->resubmit_id =
            deadline_submit(o, the_loop, d->resubmit_ms, on_work, on_done,
                            d->resubmit, d->resubmit_done);
        d->resubmit_errno = errno;
    }
}

static loop *new_loop(void)
{
    loop *l = loop_new();
    ck_assert_msg(l != NULL, "loop_new() failed: out of memory?");
    the_loop = l;
    return l;
}

static offload *new_offload(loop *l, size_t nworkers)
{
    offload *o = offload_new(l, nworkers);
    ck_assert_msg(o != NULL, "offload_new(l, %zu) failed", nworkers);
    return o;
}

static long submit(offload *o, loop *l, long ms, struct work *w, struct done *d)
{
    in_submit = 1;
    errno = 0;
    long id = deadline_submit(o, l, ms, on_work, on_done, w, d);
    in_submit = 0;
    WB_EXPECT(id > 0,
              "deadline_submit(o, l, %ld, work, on_done, req, ctx) should "
              "return an id > 0; got %ld%s",
              ms, id, wb_errno_note(id));
    return id;
}

static int64_t run(loop *l)
{
    int64_t t0 = wb_now_ns();
    in_run = 1;
    int rc = loop_run(l);
    in_run = 0;
    WB_EXPECT(rc == 0, "loop_run() should return 0; got %d%s", rc,
              wb_errno_note(rc));
    return wb_now_ns() - t0;
}

/* on_done ran once, from loop_run(), on this thread, not inside
 * deadline_submit(), with @p status and the request's req and ctx. The
 * promise the test named stays named afterwards. */
static void expect_done(const struct done *d, const struct work *w, int status,
                        const char *what)
{
    char tag[64] = "";
    (void)sscanf(wb_promise_prefix(), "[%63[a-z0-9-]]", tag);
    WB_PROMISE("exactly-once");
    WB_EXPECT(d->calls == 1,
              "on_done of %s should run exactly once; it ran %d times%s%s%s",
              what, d->calls, d->calls > 1 ? " (with " : "",
              d->calls > 1 ? wb_errname(d->statuses[0]) : "",
              d->calls > 1 ? ", then again)" : "");
    if (d->calls == 0) {
        wb_promise(tag);
        return;
    }
    WB_PROMISE("loop-thread");
    WB_EXPECT(
        !d->in_submit && d->in_run && pthread_equal(d->thread, pthread_self()),
        "on_done of %s should run on the loop's thread, from "
        "loop_run(), never inside deadline_submit(); it ran %s",
        what,
        d->in_submit                                ? "inside the submit"
        : !pthread_equal(d->thread, pthread_self()) ? "on another thread"
                                                    : "outside loop_run()");
    wb_promise(tag);
    WB_EXPECT(d->status == status,
              "on_done of %s should get the status %s; it got %s", what,
              wb_errname(status), wb_errname(d->status));
    WB_EXPECT(d->req == w && d->ctx == d,
              "on_done of %s should get the req and ctx given to "
              "deadline_submit(), unchanged",
              what);
}

/* --- Tests -------------------------------------------------------------- */

START_TEST(test_bad_arguments)
{
    WB_PROMISE("bad-args");
    loop *l = new_loop();
    offload *o = new_offload(l, 1);
    struct work w = {0};
    struct done d = {0};
    struct {
        offload *o;
        loop *l;
        long ms;
        offload_work_fn work;
        offload_done_fn done;
        const char *call;
    } bad[] = {
        {NULL, l, 500, on_work, on_done, "deadline_submit(NULL, l, ...)"},
        {o, NULL, 500, on_work, on_done, "deadline_submit(o, NULL, ...)"},
        {o, l, -1, on_work, on_done, "deadline_submit(o, l, -1, ...)"},
        {o, l, 500, NULL, on_done, "deadline_submit() with a NULL work"},
        {o, l, 500, on_work, NULL, "deadline_submit() with a NULL on_done"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        errno = 0;
        long id = deadline_submit(bad[i].o, bad[i].l, bad[i].ms, bad[i].work,
                                  bad[i].done, &w, &d);
        WB_EXPECT(id == -1 && errno == EINVAL,
                  "%s should fail with -1 and EINVAL; got %ld, errno %s",
                  bad[i].call, id, wb_errname(errno));
        /* The arguments are wrong whatever the memory: EINVAL still,
         * with the first allocation failing (tests/support/alloc.c). */
        wb_alloc_fail(1);
        errno = 0;
        id = deadline_submit(bad[i].o, bad[i].l, bad[i].ms, bad[i].work,
                             bad[i].done, &w, &d);
        int err = errno;
        wb_alloc_fail(0);
        WB_EXPECT(id == -1 && err == EINVAL,
                  "%s should fail with -1 and EINVAL, even when there is "
                  "no memory: look at the arguments before allocating; got "
                  "%ld, errno %s",
                  bad[i].call, id, wb_errname(err));
    }
    int64_t took = run(l);
    WB_EXPECT(took < 300 * MS && atomic_load(&w.runs) == 0 && d.calls == 0,
              "refused submissions should leave nothing behind; then "
              "loop_run() took %lld ms, the work ran %d times and on_done "
              "%d times",
              (long long)(took / MS), atomic_load(&w.runs), d.calls);
    offload_free(o);
    loop_free(l);
}
END_TEST

START_TEST(test_work_wins)
{
    WB_PROMISE("work-wins");
    loop *l = new_loop();
    offload *o = new_offload(l, 2);
    struct work w1 = {.status = EIO}, w2 = {.status = 0, .sleep_us = 20000};
    struct done d1 = {0}, d2 = {0};
    submit(o, l, 1000, &w1, &d1);
    submit(o, l, 1000, &w2, &d2);
    int64_t took = run(l);
    expect_done(&d1, &w1, EIO, "a request whose work failed at once");
    expect_done(&d2, &w2, 0, "a request whose work took 20 ms of 1000");
    WB_PROMISE("timer-cancelled");
    WB_EXPECT(took < 900 * MS, /* a kept 1000 ms timer is >= 1000 */
              "both works were done within 20 ms, well before their limit "
              "of 1000 ms: their timers should have been cancelled, so "
              "that loop_run() returns; it took %lld ms (the timers kept "
              "it waiting)",
              (long long)(took / MS));
    offload_free(o);
    loop_free(l);
}
END_TEST

START_TEST(test_timeout_wins)
{
    WB_PROMISE("timeout");
    loop *l = new_loop();
    offload *o = new_offload(l, 1);
    struct gate g;
    gate_init(&g);
    /* The work waits until on_done opens the gate (1 s at most). */
    struct work w = {.status = 0, .gate = &g, .gate_max_ms = 1000};
    struct done d = {.open = &g};
    int64_t t0 = wb_now_ns();
    submit(o, l, 50, &w, &d);
    run(l);
    expect_done(&d, &w, ETIMEDOUT,
                "a request whose work was still running at its limit");
    long after_ms = (long)((d.at_ns - t0) / MS);
    WB_PROMISE("timeout");
    WB_EXPECT(d.calls == 0 || (after_ms >= 50 && after_ms < 600),
              "a limit of 50 ms should be reported (ETIMEDOUT) no earlier "
              "than 50 ms after deadline_submit() and soon after; it came "
              "after %ld ms",
              after_ms);
    WB_EXPECT(d.calls == 0 || !d.work_done,
              "the limit passed while the work was still running: on_done "
              "should get ETIMEDOUT then, not wait for the work to finish");
    WB_PROMISE("swallowed");
    WB_EXPECT(atomic_load(&w.done) == 1 && d.calls <= 1,
              "the work finished after its limit; its late completion "
              "must not reach the caller: on_done ran %d times",
              d.calls);
    offload_free(o);
    loop_free(l);
    gate_destroy(&g);
}
END_TEST

/* A limit of 0 has passed already, yet it is reported from the loop. */
START_TEST(test_zero_limit)
{
    WB_PROMISE("loop-thread");
    loop *l = new_loop();
    offload *o = new_offload(l, 1);
    struct gate g;
    gate_init(&g);
    /* The work waits until on_done opens the gate (1 s at most). */
    struct work w = {.status = 0, .gate = &g, .gate_max_ms = 1000};
    struct done d = {.open = &g};
    submit(o, l, 0, &w, &d);
    int early = d.calls;
    WB_EXPECT(early == 0,
              "a limit of 0 times out in the loop's next iteration: "
              "on_done ran inside deadline_submit(), before loop_run(); "
              "the code after the submit must run first");
    run(l);
    WB_PROMISE("timeout");
    if (early == 0)
        expect_done(&d, &w, ETIMEDOUT,
                    "a request with a limit of 0 whose work was running");
    offload_free(o);
    loop_free(l);
    gate_destroy(&g);
}
END_TEST

static void on_open_gate(loop *l, void *ctx)
{
    (void)l;
    gate_open(ctx);
}

/* A request submitted straight to the offload, to keep its worker busy. */
static void on_blocker_done(offload *o, void *req, int status, void *ctx)
{
    (void)o;
    (void)req;
    (void)status;
    (*(int *)ctx)++;
}

/* Keeps the only worker of @p o busy with @p blocker, whose work waits at
 * its gate until a timer of @p l opens it after @p open_ms; its on_done
 * counts in *@p done. */
static void block_worker(offload *o, loop *l, struct work *blocker, int *done,
                         long open_ms)
{
    ck_assert_msg(offload_submit(o, on_work, on_blocker_done, blocker, done) >
                      0,
                  "offload_submit() failed");
    ck_assert_msg(loop_add_timer(l, open_ms, on_open_gate, blocker->gate) > 0,
                  "loop_add_timer() failed");
}

START_TEST(test_timeout_cancels_queued_work)
{
    WB_PROMISE("cancel-queued");
    loop *l = new_loop();
    offload *o = new_offload(l, 1);
    struct gate g;
    gate_init(&g);
    struct work blocker = {.gate = &g, .gate_max_ms = 1500};
    int blocker_done = 0;
    block_worker(o, l, &blocker, &blocker_done, 150);
    /* Behind the blocker on the only worker: still queued at 30 ms. */
    struct work w = {.status = 0};
    struct done d = {0};
    submit(o, l, 30, &w, &d);
    run(l);
    expect_done(&d, &w, ETIMEDOUT, "a request still queued at its limit");
    WB_PROMISE("cancel-queued");
    WB_EXPECT(atomic_load(&w.runs) == 0,
              "the limit of 30 ms passed while the request waited behind "
              "another on the only worker: it should be cancelled on the "
              "offload (offload_cancel()), so that its work never runs; it "
              "ran %d times, for nobody",
              atomic_load(&w.runs));
    WB_EXPECT(blocker_done == 1, "the blocking request should complete");
    offload_free(o);
    loop_free(l);
    gate_destroy(&g);
}
END_TEST

START_TEST(test_cancel_by_id)
{
    WB_PROMISE("cancel");
    loop *l = new_loop();
    offload *o = new_offload(l, 1);
    struct gate g;
    gate_init(&g);
    struct work blocker = {.gate = &g, .gate_max_ms = 1500};
    int blocker_done = 0;
    block_worker(o, l, &blocker, &blocker_done, 30);
    struct work w = {0};
    struct done d = {0};
    long id = submit(o, l, 1000, &w, &d);
    errno = 0;
    int rc = offload_cancel(o, id);
    WB_EXPECT(rc == 0,
              "offload_cancel(o, id) with the id deadline_submit() "
              "returned, while the request waits for the only worker, "
              "should return 0; got %d%s",
              rc, wb_errno_note(rc));
    int64_t took = run(l);
    expect_done(&d, &w, ECANCELED, "a request cancelled by its id");
    WB_PROMISE("cancel");
    WB_EXPECT(atomic_load(&w.runs) == 0,
              "the work of a cancelled request should never run; it ran");
    WB_EXPECT(took < 900 * MS, /* a kept 1000 ms timer is >= 1000 */
              "once the request was cancelled, its timer (1000 ms) should "
              "be cancelled too, so that loop_run() returns; it took %lld "
              "ms",
              (long long)(took / MS));
    offload_free(o);
    loop_free(l);
    gate_destroy(&g);
}
END_TEST

/* tests/05-callbacks/deadline.links links tests/support/wrap.c: a failed
 * clock_gettime() makes the loop's loop_add_timer() fail. */
START_TEST(test_submit_fails_cleanly)
{
    WB_PROMISE("fails-cleanly");
    loop *l = new_loop();
    offload *o = new_offload(l, 1);
    struct work w = {0};
    struct done d = {0};
    wb_wrap_fail(WB_CLOCK_GETTIME, 1, EINVAL, 1);
    errno = 0;
    long id = deadline_submit(o, l, 100, on_work, on_done, &w, &d);
    int err = errno;
    wb_wrap_reset(WB_CLOCK_GETTIME, 0);
    int64_t took = run(l);
    WB_EXPECT(id == -1 && err != 0,
              "with the loop's clock failing, no timer can be added: "
              "deadline_submit() should fail with -1 and errno set; got "
              "%ld, errno %s",
              id, wb_errname(err));
    WB_EXPECT(atomic_load(&w.runs) == 0 && d.calls == 0,
              "a deadline_submit() that failed should leave nothing "
              "behind; its work ran %d times and on_done %d times. Add "
              "the timer first: a timer can be taken back, work that "
              "started cannot",
              atomic_load(&w.runs), d.calls);
    WB_EXPECT(took < 200 * MS,
              "after a failed deadline_submit() nothing is pending: "
              "loop_run() should return at once; it took %lld ms",
              (long long)(took / MS));

    /* offload_submit() fails after the timer was added: the offload's
     * pipe is at or above FD_SETSIZE, so its loop_watch() gives EINVAL
     * at the first submit. The timer must be taken back. */
    fdlimit_only_high(); /* tests/support/fdlimit.c, in deadline.links */
    offload *high = new_offload(l, 1);
    fdlimit_restore();
    struct work wh = {0};
    struct done dh = {0};
    errno = 0;
    id = deadline_submit(high, l, 50, on_work, on_done, &wh, &dh);
    err = errno;
    took = run(l);
    WB_EXPECT(id == -1 && err == EINVAL,
              "offload_submit() failed with EINVAL (its descriptor is at "
              "or above FD_SETSIZE): deadline_submit() should fail with -1 "
              "and its errno; got %ld, errno %s",
              id, wb_errname(err));
    WB_EXPECT(atomic_load(&wh.runs) == 0 && dh.calls == 0 && took < 50 * MS,
              "offload_submit() failed after the timer was added: "
              "deadline_submit() should cancel the timer, so that nothing "
              "of the request is left; on_done ran %d times (%s), the work "
              "%d times, and loop_run() took %lld ms",
              dh.calls, dh.calls ? wb_errname(dh.status) : "-",
              atomic_load(&wh.runs), (long long)(took / MS));
    offload_free(high);

    /* offload_free() has begun: offload_submit() fails with EPIPE. The
     * first request is stopped while its work runs; offload_free() then
     * completes it, and its on_done submits a second. */
    struct gate g;
    gate_init(&g);
    struct work w1 = {.gate = &g, .gate_max_ms = 1500}, w2 = {0};
    struct done d1 = {.resubmit = &w2, .resubmit_ms = 500}, d2 = {0};
    d1.resubmit_done = &d2;
    submit(o, l, 1000, &w1, &d1);
    /* The loop does not run: the worker starts the work all the same. */
    int64_t end = wb_now_ns() + 1000 * MS;
    while (atomic_load(&w1.runs) == 0 && wb_now_ns() < end)
        wb_sleep_ms(1);
    gate_open(&g);
    offload_free(o);
    WB_EXPECT(d1.calls == 1 && d1.status == 0,
              "offload_free() should complete the request whose work was "
              "running, with the work's status 0; on_done ran %d times "
              "(status %s)",
              d1.calls, wb_errname(d1.status));
    WB_EXPECT(d1.resubmit_id == -1 && d1.resubmit_errno == EPIPE,
              "deadline_submit() from an on_done that offload_free() runs "
              "should fail with -1 and EPIPE (from offload_submit()); got "
              "%ld, errno %s",
              d1.resubmit_id, wb_errname(d1.resubmit_errno));
    took = run(l);
    WB_EXPECT(took < 200 * MS && d2.calls == 0,
              "the first request completed inside offload_free() and the "
              "second deadline_submit() (limit 500 ms) failed: no timer of "
              "either should be left, so loop_run() returns at once; it "
              "took %lld ms, and on_done of the failed one ran %d times",
              (long long)(took / MS), d2.calls);
    loop_free(l);
    gate_destroy(&g);
}
END_TEST

/* The n-th allocation of the deadline fails (tests/support/alloc.c), for
 * n = 1, 2, ... until a submit makes fewer than n: -1 with ENOMEM and
 * nothing left, or a request that works. */
START_TEST(test_submit_out_of_memory)
{
    WB_PROMISE("fails-cleanly");
    loop *l = new_loop();
    offload *o = new_offload(l, 1);
    int failed = 0;
    for (int n = 1; n <= 20; n++) {
        struct work w = {.status = EIO};
        struct done d = {0};
        wb_alloc_fail(n);
        in_submit = 1;
        errno = 0;
        long id = deadline_submit(o, l, 1000, on_work, on_done, &w, &d);
        int err = errno;
        in_submit = 0;
        int calls = wb_alloc_calls();
        wb_alloc_fail(0);
        int64_t took = run(l);
        if (id == -1) {
            failed++;
            WB_EXPECT(err == ENOMEM,
                      "deadline_submit() with its allocation %d failing "
                      "returned -1: errno should be ENOMEM; got %s",
                      n, wb_errname(err));
            WB_EXPECT(atomic_load(&w.runs) == 0 && d.calls == 0 &&
                          took < 500 * MS,
                      "deadline_submit() failed for want of memory: nothing "
                      "of the request should be left; its work ran %d "
                      "times, on_done %d times, and loop_run() took %lld ms",
                      atomic_load(&w.runs), d.calls, (long long)(took / MS));
        } else {
            WB_EXPECT(id > 0,
                      "deadline_submit() with its allocation %d failing "
                      "should return an id > 0 or -1 with ENOMEM; got %ld",
                      n, id);
            char what[96];
            snprintf(what, sizeof what,
                     "a request accepted with its allocation %d failing", n);
            expect_done(&d, &w, EIO, what);
        }
        if (calls < n)
            break; /* no allocation failed */
    }
    WB_EXPECT(failed > 0,
              "deadline_submit() with its first allocation failing should "
              "return -1 with ENOMEM; it never failed");
    offload_free(o);
    loop_free(l);
}
END_TEST

START_TEST(test_late_completions_freed)
{
    WB_PROMISE("swallowed");
    enum { N = 200 };
    static struct work w[N];
    static struct done d[N];
    loop *l = new_loop();
    offload *o = new_offload(l, 2);
    struct gate g;
    gate_init(&g);
    long left = 0;
    int wrong = 0, first_wrong = -1;
    /* Two workers take two requests and wait at the gate; the others
     * wait in the queue. All time out at 5 ms; the gate opens at 40 ms.
     * The first pass lets the loop and the offload grow their tables. */
    for (int pass = 0; pass < 2; pass++) {
        gate_close(&g);
        memset(d, 0, sizeof d);
        long before = heap_in_use();
        for (int i = 0; i < N; i++) {
            w[i] = (struct work){.gate = &g, .gate_max_ms = 1500};
            submit(o, l, 5, &w[i], &d[i]);
        }
        ck_assert_msg(loop_add_timer(l, 40, on_open_gate, &g) > 0,
                      "loop_add_timer() failed");
        run(l);
        left = heap_in_use() - before;
        for (int i = 0; i < N; i++)
            if (d[i].calls != 1 || d[i].status != ETIMEDOUT) {
                wrong++;
                if (first_wrong < 0)
                    first_wrong = i;
            }
    }
    WB_EXPECT(wrong == 0,
              "%d requests timed out at 5 ms while their work waited (2 at "
              "a gate, the rest in the queue): each should get on_done once "
              "with ETIMEDOUT; %d did not (request %d: %d calls, %s)",
              N, wrong, first_wrong, first_wrong < 0 ? 0 : d[first_wrong].calls,
              first_wrong < 0 ? "-" : wb_errname(d[first_wrong].status));
    WB_PROMISE("swallowed");
    WB_EXPECT(left < 4096,
              "%d requests timed out, and the late completion of each "
              "arrived later (the work's status, or ECANCELED for those "
              "cancelled in the queue); once loop_run() returned, %ld "
              "bytes were still allocated: the record kept for a late "
              "completion must be freed when it arrives",
              N, left);
    offload_free(o);
    loop_free(l);
    gate_destroy(&g);
}
END_TEST

/* --- The race at the limit ---------------------------------------------- */

struct race {
    offload *o;
    loop *l;
    struct work *w;
    struct done *d;
    int n, next, failed;
};

static struct race *the_race;

/* Requests in flight at once, and workers: enough workers for the late
 * work of the requests that timed out, so new ones rarely queue. */
enum { RACE_IN_FLIGHT = 3, RACE_WORKERS = 6 };
enum { RACE_MIN_US = 300, RACE_SPAN_US = 1400 };

static void on_race_done(offload *o, void *req, int status, void *ctx);

static void submit_next(struct race *r)
{
    int i = r->next++;
    /* Work of 0.3 to 1.7 ms against a limit of 1 ms: some each way,
     * and many finish right at the limit. */
    r->w[i] = (struct work){
        .status = 0, .sleep_us = RACE_MIN_US + (i * 7919L) % RACE_SPAN_US};
    long id = deadline_submit(r->o, r->l, 1, on_work, on_race_done, &r->w[i],
                              &r->d[i]);
    if (id <= 0)
        r->failed++;
}

static void on_race_done(offload *o, void *req, int status, void *ctx)
{
    struct race *r = the_race;
    on_done(o, req, status, ctx);
    if (r->next < r->n && ((struct done *)ctx)->calls == 1)
        submit_next(r);
}

START_TEST(test_race_at_the_limit)
{
    WB_PROMISE("exactly-once");
    loop *l = new_loop();
    offload *o = new_offload(l, RACE_WORKERS);
    int n = (int)wb_scaled(2000, 100);
    struct race r = {o, l, calloc(n, sizeof *r.w), calloc(n, sizeof *r.d), n,
                     0, 0};
    ck_assert_msg(r.w != NULL && r.d != NULL, "out of memory");
    the_race = &r;
    /* A few in flight: each completion submits the next. */
    for (int i = 0; i < RACE_IN_FLIGHT && r.next < n; i++)
        submit_next(&r);
    run(l);
    int never = 0, twice = 0, odd = 0, wins = 0, first_bad = -1;
    for (int i = 0; i < r.next; i++) {
        never += r.d[i].calls == 0;
        twice += r.d[i].calls > 1;
        odd += r.d[i].calls == 1 && r.d[i].status != 0 &&
               r.d[i].status != ETIMEDOUT;
        wins += r.d[i].calls == 1 && r.d[i].status == 0;
        if (first_bad < 0 &&
            (r.d[i].calls != 1 ||
             (r.d[i].status != 0 && r.d[i].status != ETIMEDOUT)))
            first_bad = i;
    }
    WB_EXPECT(r.failed == 0 && r.next == n,
              "all %d requests should have been submitted; %d were, %d "
              "submissions failed",
              n, r.next, r.failed);
    WB_EXPECT(never == 0 && twice == 0 && odd == 0,
              "%d requests raced their limit (work of 0.3-1.7 ms, limit 1 ms; "
              "%d finished first): each should get exactly one on_done, "
              "with 0 or ETIMEDOUT; %d got none, %d more than one, %d "
              "another status (request %d: %d calls, first %s, second %s)",
              r.next, wins, never, twice, odd, first_bad,
              first_bad < 0 ? 0 : r.d[first_bad].calls,
              first_bad < 0 ? "-" : wb_errname(r.d[first_bad].statuses[0]),
              first_bad < 0 || r.d[first_bad].calls < 2
                  ? "-"
                  : wb_errname(r.d[first_bad].statuses[1]));
    offload_free(o);
    loop_free(l);
    free(r.w);
    free(r.d);
}
END_TEST

START_TEST(test_loop_does_not_spin)
{
    WB_PROMISE("no-spin");
    loop *l = new_loop();
    offload *o = new_offload(l, 2);
    /* One request whose work wins at 100 ms (limit 400 ms), one that
     * times out at 50 ms and completes late at 250 ms. */
    struct work w1 = {.sleep_us = 100000}, w2 = {.sleep_us = 250000};
    struct done d1 = {0}, d2 = {0};
    long selects = wb_select_calls();
    int64_t cpu = threadwatch_cpu_ns();
    submit(o, l, 400, &w1, &d1);
    submit(o, l, 50, &w2, &d2);
    int64_t took = run(l);
    cpu = threadwatch_cpu_ns() - cpu;
    selects = wb_select_calls() - selects;
    expect_done(&d1, &w1, 0, "a request whose work won at 100 ms");
    expect_done(&d2, &w2, ETIMEDOUT, "a request that timed out at 50 ms");
    WB_PROMISE("no-spin");
    WB_EXPECT(selects < 20 && cpu < (int64_t)(20 * MS / wb_stress()),
              "the loop waited %lld ms for two requests (a limit, a work's "
              "end, a late completion): it should sleep in select() until "
              "one of them comes, a handful of select() calls; it made %ld "
              "and used %.1f ms of CPU time. A deadline is one timer, not "
              "a check of the clock again and again",
              (long long)(took / MS), selects, (double)cpu / MS);
    offload_free(o);
    loop_free(l);
}
END_TEST

Suite *wb_suite(void)
{
    Suite *s = wb_begin("deadline", "chapters/05-callbacks/chapter.md");
    WB_ADD(s, test_bad_arguments, "A deadline races the work");
    WB_ADD(s, test_work_wins, "A deadline races the work");
    WB_ADD(s, test_timeout_wins, "A deadline races the work");
    WB_ADD(s, test_zero_limit, "A deadline races the work");
    WB_ADD(s, test_timeout_cancels_queued_work, "Cancellation and timeouts");
    WB_ADD(s, test_cancel_by_id, "Cancellation and timeouts");
    WB_ADD(s, test_submit_fails_cleanly, "Who owns the request");
    WB_ADD(s, test_submit_out_of_memory, "Who owns the request");
    WB_ADD(s, test_late_completions_freed, "Who owns the request");
    WB_ADD_TIMEOUT(s, test_race_at_the_limit, "Exactly once", 5.0);
    WB_ADD(s, test_loop_does_not_spin, "Cancellation and timeouts");
    return s;
}
