/*
 * Tests of offload (exercises/05-callbacks/offload.h): work on a pool of
 * threads, completion on the event loop of chapter 4.
 *
 * The loop is the reference loop (solutions/04-select/loop.c, through
 * offload.links). Each request is a `struct job` of the test: its work
 * notes which thread ran it and may wait at a gate the test opens; its
 * on_done notes the thread, the status, and how many times it ran. While
 * the gate is closed the test knows exactly which requests are running,
 * which are queued, and which are done.
 *
 * Linux-only: it reads /proc/self/status and the CPU time of one thread.
 */
#define _GNU_SOURCE
#include "wb.h"
#include "offload.h"
#include "newfds.h"
#include "timedwait.h"
#include "fdlimit.h"
#include "threadwatch.h"
#include "trace.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <time.h>
#include <unistd.h>

static loop *new_loop(void)
{
    loop *l = loop_new();
    ck_assert_msg(l != NULL, "loop_new() failed: out of memory?");
    return l;
}

static offload *new_offload(loop *l, size_t nworkers)
{
    errno = 0;
    offload *o = offload_new(l, nworkers);
    WB_EXPECT(o != NULL,
              "offload_new(l, %zu) should return an offload; got NULL "
              "with errno %s",
              nworkers, wb_errname(errno));
    return o;
}

static void run_ok(loop *l)
{
    int rc = loop_run(l);
    WB_EXPECT(rc == 0, "loop_run() should return 0; got -1%s",
              wb_errno_note(rc));
}

/* --- The board: what the requests of one test report ---------------------- */

struct board {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    int gate_open;
    int started, running, max_running, finished; /* work */
    int meet; /* meeting work waits until this many have started */
    int met_timeout;
    pthread_t loop_thread; /* set by the thread that runs the loop */
    int dones;             /* on_done calls, all requests */
    int in_call;           /* the loop's thread is inside submit/cancel */
    offload *o;            /* for on_done functions that call it */
    int order[16];         /* ids of the first requests, as they started */
};

struct job {
    struct board *b;
    int id;
    int gated;  /* work waits at the gate */
    int sleep;  /* work sleeps this many ms */
    int status; /* what work returns */
    atomic_int work_runs;
    pthread_t work_thread;
    int done_runs;
    int done_status;
    int done_off_loop;  /* on_done ran off the loop's thread */
    int done_in_call;   /* on_done ran inside submit or cancel */
    int wrong_pointers; /* on_done got another req or ctx */
    int submit_rc;      /* what a submit from on_done returned */
    int submit_errno;
};

static void board_init(struct board *b)
{
    memset(b, 0, sizeof *b);
    ck_assert_int_eq(pthread_mutex_init(&b->lock, NULL), 0);
    ck_assert_int_eq(pthread_cond_init(&b->changed, NULL), 0);
    b->loop_thread = pthread_self();
}

static void board_free(struct board *b)
{
    pthread_cond_destroy(&b->changed);
    pthread_mutex_destroy(&b->lock);
}

static void job_init(struct job *j, struct board *b, int id)
{
    memset(j, 0, sizeof *j);
    j->b = b;
    j->id = id;
    atomic_init(&j->work_runs, 0);
}

static void open_gate(struct board *b)
{
    timedwait_set(&b->lock, &b->changed, &b->gate_open, 1);
}

/* Wait until *field reaches @p want, at most @p ms; return its value. */
static int wait_board(struct board *b, const int *field, int want, long ms)
{
    return timedwait_counter(&b->lock, &b->changed, field, want, ms);
}

static int read_dones(struct board *b)
{
    pthread_mutex_lock(&b->lock);
    int n = b->dones;
    pthread_mutex_unlock(&b->lock);
    return n;
}

static int on_work(void *req)
{
    struct job *j = req;
    struct board *b = j->b;
    int64_t t0 = trace_now();
    atomic_fetch_add(&j->work_runs, 1);
    j->work_thread = pthread_self();
    pthread_mutex_lock(&b->lock);
    if (b->started < (int)(sizeof b->order / sizeof b->order[0]))
        b->order[b->started] = j->id;
    b->started++;
    b->running++;
    if (b->running > b->max_running)
        b->max_running = b->running;
    pthread_cond_broadcast(&b->changed);
    /* The gate and the meeting wait 3 s at most, so that a broken offload
     * cannot keep a worker forever. */
    struct timespec end = timedwait_deadline(3000);
    while (j->gated && !b->gate_open &&
           pthread_cond_timedwait(&b->changed, &b->lock, &end) != ETIMEDOUT)
        continue;
    end = timedwait_deadline(1500);
    while (b->started < b->meet && !b->met_timeout)
        if (pthread_cond_timedwait(&b->changed, &b->lock, &end) == ETIMEDOUT)
            b->met_timeout = 1;
    pthread_cond_broadcast(&b->changed);
    pthread_mutex_unlock(&b->lock);
    if (j->sleep > 0)
        wb_sleep_ms(j->sleep);
    pthread_mutex_lock(&b->lock);
    b->running--;
    b->finished++;
    pthread_cond_broadcast(&b->changed);
    pthread_mutex_unlock(&b->lock);
    char label[32];
    snprintf(label, sizeof label, "work %d", j->id);
    trace_span(label, t0, trace_now());
    return j->status;
}

static void note_done(offload *o, struct job *j, int status, void *ctx)
{
    struct board *b = j->b;
    pthread_mutex_lock(&b->lock);
    j->done_runs++;
    j->done_status = status;
    j->done_off_loop += !pthread_equal(pthread_self(), b->loop_thread);
    j->done_in_call += b->in_call;
    j->wrong_pointers += ctx != b || (b->o != NULL && o != b->o);
    b->dones++;
    pthread_cond_broadcast(&b->changed);
    pthread_mutex_unlock(&b->lock);
}

static void on_done(offload *o, void *req, int status, void *ctx)
{
    int64_t t0 = trace_now();
    struct job *j = req;
    note_done(o, j, status, ctx);
    char label[32];
    snprintf(label, sizeof label, "done %d", j->id);
    trace_span(label, t0, trace_now());
}

static long submit_ok(offload *o, struct job *j)
{
    struct board *b = j->b;
    b->in_call = 1;
    errno = 0;
    long id = offload_submit(o, on_work, on_done, j, b);
    b->in_call = 0;
    WB_EXPECT(id > 0, "offload_submit() should return an id > 0; got %ld%s", id,
              wb_errno_note(id));
    return id;
}

static int cancel_noted(struct board *b, offload *o, long id, int *err)
{
    b->in_call = 1;
    errno = 0;
    int rc = offload_cancel(o, id);
    *err = rc == -1 ? errno : 0;
    b->in_call = 0;
    return rc;
}

/* Check what a job's on_done got. */
static void expect_done(const struct job *j, int want_status, int want_ran)
{
    char tag[64] = "";
    (void)sscanf(wb_promise_prefix(), "[%63[a-z0-9-]]", tag);
    WB_PROMISE("exactly-once");
    WB_EXPECT(j->done_runs == 1,
              "request %d: its on_done should run exactly once; it ran %d "
              "times",
              j->id, j->done_runs);
    wb_promise(tag);
    WB_EXPECT(j->done_status == want_status,
              "request %d: on_done should get status %s; got %s", j->id,
              wb_errname(want_status), wb_errname(j->done_status));
    WB_EXPECT(atomic_load(&j->work_runs) == want_ran,
              "request %d: its work should have run %d time%s; it ran %d",
              j->id, want_ran, want_ran == 1 ? "" : "s",
              atomic_load(&j->work_runs));
}

/* --- Arguments and failures ----------------------------------------------- */

START_TEST(test_bad_arguments)
{
    WB_PROMISE("bad-args");
    loop *l = new_loop();
    int before = threadwatch_count();
    errno = 0;
    offload *o = offload_new(NULL, 2);
    WB_EXPECT(o == NULL && errno == EINVAL,
              "offload_new(NULL, 2) should give NULL with errno EINVAL; got "
              "%s with errno %s",
              o == NULL ? "NULL" : "an offload", wb_errname(errno));
    errno = 0;
    o = offload_new(l, 0);
    WB_EXPECT(o == NULL && errno == EINVAL,
              "offload_new(l, 0) should give NULL with errno EINVAL: 0 "
              "workers could run nothing; got %s with errno %s",
              o == NULL ? "NULL" : "an offload", wb_errname(errno));
    WB_EXPECT(threadwatch_count() == before,
              "a failed offload_new() should start no thread");
    struct board b;
    board_init(&b);
    struct job j;
    job_init(&j, &b, 1);
    o = new_offload(l, 2);
    struct {
        offload *o;
        offload_work_fn work;
        offload_done_fn done;
        const char *call;
    } bad[] = {
        {NULL, on_work, on_done, "offload_submit(NULL, work, on_done, ...)"},
        {o, NULL, on_done, "offload_submit(o, NULL, on_done, ...)"},
        {o, on_work, NULL, "offload_submit(o, work, NULL, ...)"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        errno = 0;
        long id = offload_submit(bad[i].o, bad[i].work, bad[i].done, &j, &b);
        WB_EXPECT(id == -1 && errno == EINVAL,
                  "%s should give -1 with errno EINVAL; got %ld with errno "
                  "%s",
                  bad[i].call, id, wb_errname(errno));
    }
    errno = 0;
    int rc = offload_cancel(NULL, 1);
    WB_EXPECT(rc == -1 && errno == EINVAL,
              "offload_cancel(NULL, 1) should give -1 with errno EINVAL; got "
              "%d with errno %s",
              rc, wb_errname(errno));
    long ids[] = {1, 0, -1, 12345};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        errno = 0;
        rc = offload_cancel(o, ids[i]);
        WB_EXPECT(rc == -1 && errno == ENOENT,
                  "offload_cancel(o, %ld) with nothing submitted should give "
                  "-1 with errno ENOENT; got %d with errno %s",
                  ids[i], rc, wb_errname(errno));
    }
    /* Nothing was accepted: nothing is pending, the loop returns at once,
     * and no callback runs. */
    int64_t t0 = wb_now_ns();
    run_ok(l);
    WB_EXPECT(wb_now_ns() - t0 < 500 * 1000000LL,
              "with nothing submitted loop_run() should return at once: an "
              "idle offload watches nothing");
    WB_EXPECT(j.done_runs == 0 && atomic_load(&j.work_runs) == 0,
              "a refused submission should run neither work nor on_done");
    offload_free(o);
    offload_free(NULL); /* does nothing */
    board_free(&b);
    loop_free(l);
}
END_TEST

/* pthread_create() and pthread_mutex_init() fail through the wraps of
 * tests/support/wrap.c (see offload.links). */
START_TEST(test_new_fails_cleanly)
{
    WB_PROMISE("fails-cleanly");
    loop *l = new_loop();
    int before = threadwatch_count();
    int fds = wb_count_fds();
    wb_wrap_reset(WB_PTHREAD_CREATE, 3); /* the third worker cannot start */
    errno = 0;
    offload *o = offload_new(l, 4);
    int err = errno;
    int creates = wb_wrap_calls(WB_PTHREAD_CREATE);
    wb_wrap_reset(WB_PTHREAD_CREATE, 0);
    int after = threadwatch_after_joins(before);
    WB_EXPECT(o == NULL && err == EAGAIN,
              "the third pthread_create() of four failed with EAGAIN: "
              "offload_new() should give NULL with errno EAGAIN; got %s with "
              "errno %s",
              o == NULL ? "NULL" : "an offload", wb_errname(err));
    WB_EXPECT(creates == 3,
              "after the third pthread_create() failed, offload_new() "
              "should start no more workers; it called pthread_create() %d "
              "times",
              creates);
    WB_EXPECT(after == before,
              "the third worker could not be started: the two already "
              "running must be stopped and joined before offload_new() "
              "returns; %d thread%s still running",
              after - before, after - before == 1 ? " is" : "s are");
    WB_EXPECT(wb_count_fds() == fds,
              "a failed offload_new() should leave no descriptor open: %d "
              "were open before, %d after",
              fds, wb_count_fds());

    wb_wrap_reset(WB_PTHREAD_MUTEX_INIT, 1);
    errno = 0;
    o = offload_new(l, 2);
    err = errno;
    wb_wrap_reset(WB_PTHREAD_MUTEX_INIT, 0);
    WB_EXPECT(o == NULL && err == ENOMEM,
              "pthread_mutex_init() failed with ENOMEM: offload_new() should "
              "give NULL with errno ENOMEM; got %s with errno %s",
              o == NULL ? "NULL" : "an offload", wb_errname(err));
    WB_EXPECT(threadwatch_after_joins(before) == before &&
                  wb_count_fds() == fds,
              "a failed offload_new() should leave no thread and no "
              "descriptor behind");

    wb_wrap_reset(WB_PTHREAD_COND_INIT, 1);
    errno = 0;
    o = offload_new(l, 2);
    err = errno;
    wb_wrap_reset(WB_PTHREAD_COND_INIT, 0);
    WB_EXPECT(o == NULL && err == ENOMEM,
              "pthread_cond_init() failed with ENOMEM: offload_new() should "
              "give NULL with errno ENOMEM; got %s with errno %s",
              o == NULL ? "NULL" : "an offload", wb_errname(err));
    offload_free(o);
    WB_EXPECT(threadwatch_after_joins(before) == before &&
                  wb_count_fds() == fds && wb_alloc_live(NULL) == 0,
              "a failed offload_new() should leave no thread, descriptor or "
              "memory behind");

    /* Out of descriptors: the pipe cannot be made. */
    fdlimit_none_left();
    errno = 0;
    o = offload_new(l, 2);
    err = errno;
    fdlimit_restore();
    WB_EXPECT(o == NULL && err == EMFILE,
              "with no descriptor left, offload_new() should give NULL with "
              "errno EMFILE (from pipe()); got %s with errno %s",
              o == NULL ? "NULL" : "an offload", wb_errname(err));
    offload_free(o);
    WB_EXPECT(threadwatch_after_joins(before) == before &&
                  wb_count_fds() == fds && wb_alloc_live(NULL) == 0,
              "offload_new() failed at pipe(): it should leave no thread, "
              "descriptor or memory behind, and close none of the "
              "caller's; %d threads, %d descriptors more and %zu blocks "
              "were left",
              threadwatch_after_joins(before) - before, wb_count_fds() - fds,
              wb_alloc_live(NULL));
    loop_free(l);
}
END_TEST

/* offload_submit() fails in loop_watch(): the offload's pipe is at or
 * above FD_SETSIZE, so select() cannot wait for it. */
START_TEST(test_submit_watch_fails)
{
    WB_PROMISE("fails-cleanly");
    loop *l = new_loop();
    fdlimit_only_high(); /* tests/support/fdlimit.c, in offload.links */
    offload *o = new_offload(l, 1);
    fdlimit_restore();
    struct board b;
    board_init(&b);
    struct job j;
    job_init(&j, &b, 1);
    size_t live = wb_alloc_live(NULL);
    b.in_call = 1;
    errno = 0;
    long id = offload_submit(o, on_work, on_done, &j, &b);
    int err = errno;
    b.in_call = 0;
    size_t kept = wb_alloc_live(NULL) - live;
    int64_t t0 = wb_now_ns();
    run_ok(l);
    int64_t took = wb_now_ns() - t0;
    WB_EXPECT(id == -1 && err == EINVAL,
              "loop_watch() fails with EINVAL (the offload's descriptor is "
              "at or above FD_SETSIZE): offload_submit() should give -1 "
              "with its errno; got %ld with errno %s",
              id, wb_errname(err));
    WB_EXPECT(id > 0 || (kept == 0 && took < 500 * 1000000LL),
              "a refused submission should keep nothing: %zu blocks more "
              "after it, and loop_run() took %lld ms",
              kept, (long long)(took / 1000000));
    offload_free(o);
    WB_EXPECT(j.done_runs == 0 && atomic_load(&j.work_runs) == 0,
              "a submission refused by loop_watch() should run neither its "
              "work nor its on_done; they ran %d and %d times",
              atomic_load(&j.work_runs), j.done_runs);
    board_free(&b);
    loop_free(l);
}
END_TEST

/* The wake-up descriptors are whatever offload_new() opened. */
START_TEST(test_descriptor_flags)
{
    WB_PROMISE("fd-flags");
    loop *l = new_loop();
    struct newfds seen; /* tests/support/newfds.c, in offload.links */
    newfds_before(&seen);
    offload *o = new_offload(l, 1);
    newfds_after(&seen);
    int opened = seen.opened, no_cloexec = seen.no_cloexec,
        blocking = seen.blocking;
    WB_EXPECT(opened > 0, "offload_new() should open a wake-up descriptor");
    WB_EXPECT(no_cloexec == 0,
              "every descriptor offload_new() opens should be close-on-exec "
              "(FD_CLOEXEC); %d of %d are not",
              no_cloexec, opened);
    WB_EXPECT(blocking == 0,
              "every descriptor offload_new() opens should be non-blocking "
              "(O_NONBLOCK); %d of %d are not",
              blocking, opened);
    offload_free(o);
    loop_free(l);
}
END_TEST

/* The n-th allocation of the offload fails (tests/support/alloc.c), for
 * n = 1, 2, ... until a call makes fewer than n. */
START_TEST(test_out_of_memory)
{
    WB_PROMISE("fails-cleanly");
    loop *l = new_loop();
    int before = threadwatch_count();
    int fds = wb_count_fds();
    int failed = 0;
    for (int n = 1; n <= 20; n++) {
        wb_alloc_fail(n);
        errno = 0;
        offload *o = offload_new(l, 2);
        int err = errno;
        int calls = wb_alloc_calls();
        wb_alloc_fail(0);
        size_t bytes;
        size_t blocks = wb_alloc_live(&bytes);
        if (o == NULL) {
            failed++;
            int threads = threadwatch_after_joins(before);
            WB_EXPECT(err == ENOMEM && blocks == 0 && threads == before &&
                          wb_count_fds() == fds,
                      "offload_new() with its allocation %d failing returned "
                      "NULL: errno should be ENOMEM and nothing left "
                      "behind; errno %s, %zu blocks (%zu bytes), %d "
                      "threads and %d descriptors left",
                      n, wb_errname(err), blocks, bytes, threads - before,
                      wb_count_fds() - fds);
            continue;
        }
        /* An offload made despite the failed allocation must work. */
        struct board b;
        board_init(&b);
        struct job j;
        job_init(&j, &b, 1);
        j.status = EIO;
        submit_ok(o, &j);
        run_ok(l);
        expect_done(&j, EIO, 1);
        offload_free(o);
        board_free(&b);
        if (calls < n)
            break; /* no allocation failed */
    }
    WB_EXPECT(failed > 0,
              "offload_new() with its first allocation failing should "
              "return NULL with ENOMEM; it never failed");

    /* offload_submit() with its allocation failing, on an idle offload
     * and on one with a request pending. */
    struct board b;
    board_init(&b);
    offload *o = new_offload(l, 1);
    b.o = o;
    struct job jobs[3];
    for (int i = 0; i < 3; i++)
        job_init(&jobs[i], &b, i + 1);
    jobs[0].gated = 1;
    for (int i = 0; i < 2; i++) {
        wb_alloc_fail(1);
        b.in_call = 1;
        errno = 0;
        long id = offload_submit(o, on_work, on_done, &jobs[1], &b);
        int err = errno;
        b.in_call = 0;
        wb_alloc_fail(0);
        WB_EXPECT(id == -1 && err == ENOMEM,
                  "offload_submit() with its allocation failing should give "
                  "-1 with errno ENOMEM; got %ld with errno %s",
                  id, wb_errname(err));
        if (i == 0) {
            int64_t t0 = wb_now_ns();
            run_ok(l);
            WB_EXPECT(wb_now_ns() - t0 < 500 * 1000000LL,
                      "a submission refused for want of memory leaves "
                      "nothing pending: loop_run() should return at once");
            submit_ok(o, &jobs[0]); /* runs, and waits at the gate */
        }
    }
    submit_ok(o, &jobs[2]);
    open_gate(&b);
    run_ok(l);
    expect_done(&jobs[0], 0, 1);
    expect_done(&jobs[2], 0, 1);
    WB_EXPECT(jobs[1].done_runs == 0 && atomic_load(&jobs[1].work_runs) == 0,
              "a submission refused for want of memory should run neither "
              "its work nor its on_done; they ran %d and %d times",
              atomic_load(&jobs[1].work_runs), jobs[1].done_runs);
    offload_free(o);
    board_free(&b);
    loop_free(l);
}
END_TEST

/* fcntl() fails through the wrap of tests/support/wrap.c (see
 * offload.links): the n-th call offload_new() makes, for n = 1, 2, ...
 * until it makes fewer than n. A pipe made with pipe2() flags makes
 * none. */
START_TEST(test_flags_fail_cleanly)
{
    WB_PROMISE("fails-cleanly");
    loop *l = new_loop();
    int before = threadwatch_count();
    int fds = wb_count_fds();
    for (int n = 1; n <= 16; n++) {
        wb_wrap_fail(WB_FCNTL, n, EBADF, 0);
        errno = 0;
        offload *o = offload_new(l, 2);
        int err = errno;
        int calls = wb_wrap_calls(WB_FCNTL);
        wb_wrap_reset(WB_FCNTL, 0);
        if (calls < n) { /* no fcntl() failed */
            WB_EXPECT(o != NULL,
                      "offload_new() should return an offload; got NULL "
                      "with errno %s",
                      wb_errname(err));
            offload_free(o);
            break;
        }
        int threads = threadwatch_after_joins(before);
        int left = wb_count_fds() - fds;
        size_t blocks = wb_alloc_live(NULL);
        WB_EXPECT(o == NULL && err != 0,
                  "fcntl() call %d of offload_new() failed (EBADF): the "
                  "pipe's flags cannot be set, so offload_new() should give "
                  "NULL with errno set; got %s with errno %s",
                  n, o == NULL ? "NULL" : "an offload", wb_errname(err));
        WB_EXPECT(o != NULL || (threads == before && left == 0 && blocks == 0),
                  "offload_new() failed at its fcntl() call %d: it should "
                  "leave nothing behind; %d threads, %d descriptors and %zu "
                  "blocks were left",
                  n, threads - before, left, blocks);
        offload_free(o);
    }
    loop_free(l);
}
END_TEST

/* --- Where work and on_done run --------------------------------------------
 */

START_TEST(test_work_on_workers_done_on_loop)
{
    enum { N = 3, JOBS = 12 };
    loop *l = new_loop();
    struct board b;
    board_init(&b);
    offload *o = new_offload(l, N);
    b.o = o;
    struct job jobs[JOBS];
    for (int i = 0; i < JOBS; i++) {
        job_init(&jobs[i], &b, i);
        jobs[i].sleep = 10;
        jobs[i].status = i % 3 == 0 ? 0 : i % 3 == 1 ? EIO : ENOSPC;
        submit_ok(o, &jobs[i]);
    }
    WB_PROMISE("loop-thread");
    WB_EXPECT(b.dones == 0,
              "on_done runs from loop_run(), never inside offload_submit() "
              "nor on a worker before the loop runs: %d on_done calls had "
              "run before loop_run() was called",
              b.dones);
    run_ok(l);
    pthread_t seen[JOBS];
    int distinct = 0;
    for (int i = 0; i < JOBS; i++) {
        const struct job *j = &jobs[i];
        WB_PROMISE("status");
        expect_done(j, j->status, 1);
        WB_PROMISE("loop-thread");
        WB_EXPECT(j->done_off_loop == 0,
                  "request %d: on_done must run on the loop's thread (the "
                  "one in loop_run()); it ran on another thread: a worker "
                  "must queue the finished request and wake the loop, not "
                  "call on_done itself",
                  i);
        WB_EXPECT(j->wrong_pointers == 0,
                  "request %d: on_done should get the offload, req and ctx "
                  "of its submission",
                  i);
        WB_PROMISE("worker-thread");
        WB_EXPECT(!pthread_equal(j->work_thread, b.loop_thread),
                  "request %d: its work ran on the loop's thread; work runs "
                  "on a worker, so that the loop never blocks",
                  i);
        int known = 0;
        for (int k = 0; k < distinct; k++)
            known |= pthread_equal(seen[k], j->work_thread);
        if (!known)
            seen[distinct++] = j->work_thread;
    }
    WB_EXPECT(distinct <= N && b.max_running <= N,
              "an offload of %d workers ran %d requests on %d different "
              "threads, up to %d at once: start %d workers once and let "
              "each run request after request",
              N, JOBS, distinct, b.max_running, N);
    offload_free(o);
    board_free(&b);
    loop_free(l);
}
END_TEST

/* make check CHAPTER=5 EXERCISE=offload TRACE=1 draws this test: work on
 * the workers' lanes, on_done on the loop's. */
const char *const wb_trace_test = "test_work_on_workers_done_on_loop";

START_TEST(test_n_run_at_once)
{
    WB_PROMISE("worker-thread");
    enum { N = 4 };
    loop *l = new_loop();
    struct board b;
    board_init(&b);
    b.meet = N;
    offload *o = new_offload(l, N);
    struct job jobs[N];
    for (int i = 0; i < N; i++) {
        job_init(&jobs[i], &b, i);
        submit_ok(o, &jobs[i]);
    }
    run_ok(l);
    WB_EXPECT(!b.met_timeout && b.max_running == N,
              "%d requests were submitted to %d workers, each waiting until "
              "all %d had started: they should all run at once; at most %d "
              "ran at once",
              N, N, N, b.max_running);
    for (int i = 0; i < N; i++)
        expect_done(&jobs[i], 0, 1);
    offload_free(o);
    board_free(&b);
    loop_free(l);
}
END_TEST

/* One worker, held by request 1 at the gate, while 2 to 7 queue up:
 * once it is free, the worker must take them in submission order. */
START_TEST(test_queue_is_fifo)
{
    WB_PROMISE("fifo");
    enum { N = 7 };
    loop *l = new_loop();
    struct board b;
    board_init(&b);
    offload *o = new_offload(l, 1);
    struct job jobs[N];
    for (int i = 0; i < N; i++) {
        job_init(&jobs[i], &b, i + 1);
        jobs[i].gated = i == 0;
    }
    submit_ok(o, &jobs[0]);
    WB_EXPECT(wait_board(&b, &b.started, 1, 2000) >= 1,
              "request 1 should start on the idle worker");
    for (int i = 1; i < N; i++)
        submit_ok(o, &jobs[i]);
    open_gate(&b);
    run_ok(l);
    char got[64] = "";
    int in_order = b.started == N;
    for (int i = 0; i < N && i < b.started; i++) {
        in_order &= b.order[i] == i + 1;
        snprintf(got + strlen(got), sizeof got - strlen(got), "%s%d",
                 i ? " " : "", b.order[i]);
    }
    WB_EXPECT(in_order,
              "requests 2 to %d waited, in that order, behind request 1 on "
              "the only worker: they should start first submitted first "
              "(1 2 3 4 5 6 7); they started in the order %s",
              N, got);
    for (int i = 0; i < N; i++)
        expect_done(&jobs[i], 0, 1);
    offload_free(o);
    board_free(&b);
    loop_free(l);
}
END_TEST

START_TEST(test_status_passed_through)
{
    WB_PROMISE("status");
    static const int statuses[] = {0, EIO, ENOENT, ETIMEDOUT, EPERM, 12345};
    enum { N = sizeof statuses / sizeof statuses[0] };
    loop *l = new_loop();
    struct board b;
    board_init(&b);
    offload *o = new_offload(l, 2);
    b.o = o;
    struct job jobs[N];
    for (int i = 0; i < N; i++) {
        job_init(&jobs[i], &b, i);
        jobs[i].status = statuses[i];
        submit_ok(o, &jobs[i]);
    }
    run_ok(l);
    for (int i = 0; i < N; i++) {
        expect_done(&jobs[i], statuses[i], 1);
        WB_EXPECT(jobs[i].wrong_pointers == 0,
                  "request %d: on_done should get the offload, req and ctx "
                  "given to offload_submit(), unchanged",
                  i);
    }
    offload_free(o);
    board_free(&b);
    loop_free(l);
}
END_TEST

/* --- loop_run() and pending work ------------------------------------------ */

struct runner {
    loop *l;
    struct board *b;
    atomic_int returned;
    int rc;
    int dones_at_return;
};

static void *runner_main(void *arg)
{
    struct runner *r = arg;
    pthread_mutex_lock(&r->b->lock);
    r->b->loop_thread = pthread_self();
    pthread_mutex_unlock(&r->b->lock);
    r->rc = loop_run(r->l);
    pthread_mutex_lock(&r->b->lock);
    r->dones_at_return = r->b->dones;
    pthread_mutex_unlock(&r->b->lock);
    atomic_store(&r->returned, 1);
    return NULL;
}

START_TEST(test_loop_waits_for_pending_work)
{
    WB_PROMISE("keeps-running");
    loop *l = new_loop();
    struct board b;
    board_init(&b);
    offload *o = new_offload(l, 2);
    struct job slow, quick;
    job_init(&slow, &b, 1);
    job_init(&quick, &b, 2);
    slow.gated = 1;
    submit_ok(o, &slow);
    submit_ok(o, &quick);
    struct runner r = {.l = l, .b = &b};
    atomic_init(&r.returned, 0);
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, runner_main, &r), 0);
    /* The quick request completes; the slow one is still running. */
    int dones = wait_board(&b, &b.dones, 1, 2000);
    wb_sleep_ms(100);
    int returned_early = atomic_load(&r.returned);
    open_gate(&b);
    int64_t end = wb_now_ns() + 1500 * 1000000LL;
    while (!atomic_load(&r.returned) && wb_now_ns() < end)
        wb_sleep_ms(2);
    int returned = atomic_load(&r.returned);
    if (!returned)
        WB_EXPECT(0,
                  "once every on_done had run (%d of 2), loop_run() should "
                  "return: nothing is pending, so the offload must stop "
                  "watching its descriptor; 1.5 s later loop_run() was "
                  "still running",
                  read_dones(&b));
    pthread_join(t, NULL);
    WB_EXPECT(dones >= 1, "the quick request should complete while the "
                          "slow one runs; no on_done ran within 2 s");
    WB_EXPECT(!returned_early,
              "loop_run() returned while a request was still running (after "
              "the first of 2 completions): the offload must keep watching "
              "its descriptor while any on_done has not run");
    WB_EXPECT(r.rc == 0 && r.dones_at_return == 2,
              "loop_run() should return 0 once both on_done calls ran; it "
              "returned %d after %d on_done calls",
              r.rc, r.dones_at_return);
    expect_done(&slow, 0, 1);
    expect_done(&quick, 0, 1);
    offload_free(o);
    board_free(&b);
    loop_free(l);
}
END_TEST

/* A chain: each on_done submits the next request, until LINKS ran. Each
 * request is allocated, and freed by its own on_done: the offload must
 * not touch it after that. */
enum { LINKS = 200 };

struct chain {
    offload *o;
    pthread_t loop_thread;
    int links, off_loop, failed;
};

struct link {
    struct chain *c;
    int n;
};

static int on_link_work(void *req)
{
    struct link *k = req;
    return k->n % 2 == 0 ? 0 : EIO;
}

static void on_link_done(offload *o, void *req, int status, void *ctx)
{
    struct chain *c = ctx;
    struct link *k = req;
    c->links++;
    c->off_loop += !pthread_equal(pthread_self(), c->loop_thread);
    c->failed += status != (k->n % 2 == 0 ? 0 : EIO);
    int n = k->n;
    free(k);
    if (n + 1 < LINKS) {
        struct link *next = malloc(sizeof *next);
        ck_assert_msg(next != NULL, "out of memory");
        *next = (struct link){c, n + 1};
        long id = offload_submit(o, on_link_work, on_link_done, next, c);
        if (id <= 0) {
            free(next);
            c->failed++;
        }
    }
}

START_TEST(test_submit_from_on_done)
{
    WB_PROMISE("keeps-running");
    loop *l = new_loop();
    struct chain c = {0};
    c.loop_thread = pthread_self();
    c.o = new_offload(l, 2);
    struct link *first = malloc(sizeof *first);
    ck_assert_msg(first != NULL, "out of memory");
    *first = (struct link){&c, 0};
    long id = offload_submit(c.o, on_link_work, on_link_done, first, &c);
    WB_EXPECT(id > 0, "offload_submit() should return an id > 0; got %ld%s", id,
              wb_errno_note(id));
    run_ok(l);
    WB_EXPECT(c.links == LINKS,
              "each on_done submitted the next request, %d in all: loop_run() "
              "should return only after the last on_done; it returned after "
              "%d. A submit from on_done makes something pending again, "
              "even when the count fell to 0 just before",
              LINKS, c.links);
    WB_PROMISE("loop-thread");
    WB_EXPECT(c.off_loop == 0 && c.failed == 0,
              "%d of %d on_done calls ran off the loop's thread, and %d got "
              "a wrong status or could not submit",
              c.off_loop, c.links, c.failed);
    offload_free(c.o);
    loop_free(l);
}
END_TEST

/* --- Cancellation ----------------------------------------------------------
 */

/* on_done cancels its own request: its on_done has been called, so the
 * id is unknown by now. */
struct self_cancel {
    long id;
    int rc, err, runs;
};

static void on_done_cancel_self(offload *o, void *req, int status, void *ctx)
{
    (void)status;
    (void)ctx;
    struct self_cancel *sc = req;
    sc->runs++;
    errno = 0;
    sc->rc = offload_cancel(o, sc->id);
    sc->err = errno;
}

static int work_nothing(void *req)
{
    (void)req;
    return 0;
}

START_TEST(test_cancel_before_start)
{
    WB_PROMISE("cancel");
    loop *l = new_loop();
    struct board b;
    board_init(&b);
    offload *o = new_offload(l, 1);
    struct job a, bb, c;
    job_init(&a, &b, 1);
    job_init(&bb, &b, 2);
    job_init(&c, &b, 3);
    a.gated = 1;
    a.status = EIO;
    c.status = ENOENT;
    long ida = submit_ok(o, &a);
    WB_EXPECT(wait_board(&b, &b.started, 1, 2000) >= 1,
              "the first request should start on the idle worker");
    long idb = submit_ok(o, &bb);
    long idc = submit_ok(o, &c);
    int err;
    int rc = cancel_noted(&b, o, idb, &err);
    WB_EXPECT(rc == 0,
              "request 2 was queued behind a running request on the only "
              "worker: offload_cancel() should return 0; got %d with errno "
              "%s",
              rc, wb_errname(err));
    WB_PROMISE("loop-thread");
    WB_EXPECT(b.dones == 0,
              "on_done of a cancelled request runs later, from loop_run(); "
              "it ran inside offload_cancel()");
    WB_PROMISE("cancel");
    rc = cancel_noted(&b, o, idb, &err);
    WB_EXPECT(rc == -1 && err == EBUSY,
              "cancelling request 2 a second time should give -1 with errno "
              "EBUSY (its on_done is on its way); got %d with errno %s",
              rc, wb_errname(err));
    rc = cancel_noted(&b, o, ida, &err);
    WB_PROMISE("exactly-once");
    WB_EXPECT(rc == -1 && err == EBUSY,
              "request 1 is running: offload_cancel() should give -1 with "
              "errno EBUSY and let it complete with its own status; got %d "
              "with errno %s",
              rc, wb_errname(err));
    WB_PROMISE("cancel");
    open_gate(&b);
    /* Request 3 runs and finishes; its on_done waits for the loop. */
    WB_EXPECT(wait_board(&b, &b.finished, 2, 2000) >= 2,
              "requests 1 and 3 should have run once the gate opened");
    rc = cancel_noted(&b, o, idc, &err);
    WB_EXPECT(rc == -1 && err == EBUSY,
              "request 3 has finished, its on_done not run yet: "
              "offload_cancel() should give -1 with errno EBUSY; got %d with "
              "errno %s",
              rc, wb_errname(err));
    run_ok(l);
    WB_PROMISE("exactly-once");
    expect_done(&a, EIO, 1);
    WB_PROMISE("cancel");
    expect_done(&bb, ECANCELED, 0);
    expect_done(&c, ENOENT, 1);
    long gone[] = {ida, idb, idc};
    for (int i = 0; i < 3; i++) {
        rc = cancel_noted(&b, o, gone[i], &err);
        WB_EXPECT(rc == -1 && err == ENOENT,
                  "request %d's on_done has run: offload_cancel() should give "
                  "-1 with errno ENOENT; got %d with errno %s",
                  i + 1, rc, wb_errname(err));
    }
    struct self_cancel sc = {0, 12345, 12345, 0};
    sc.id = offload_submit(o, work_nothing, on_done_cancel_self, &sc, NULL);
    WB_EXPECT(sc.id > 0, "offload_submit() should return an id > 0; got %ld%s",
              sc.id, wb_errno_note(sc.id));
    run_ok(l);
    WB_EXPECT(sc.runs == 1 && sc.rc == -1 && sc.err == ENOENT,
              "an on_done that cancels its own request: its on_done has "
              "been called, so offload_cancel() should give -1 with errno "
              "ENOENT; got %d with errno %s (on_done ran %d times)",
              sc.rc, wb_errname(sc.err), sc.runs);
    offload_free(o);
    board_free(&b);
    loop_free(l);
}
END_TEST

/* Cancellation finds every request, however many are pending and
 * whatever their ids: one worker held at the gate, requests queued and
 * cancelled in batches from a loop timer (their on_done calls delivered
 * in between), a few kept queued all along; then enough queued at once
 * that the offload's tables grow. Each cancel of a queued request must
 * return 0 and cancel that request, not another. */
enum { MANY = 200, MANY_BATCH = 40 };

struct many {
    struct board *b;
    offload *o;
    struct job jobs[MANY];
    long ids[MANY];
    int keep[MANY]; /* not cancelled in its batch */
    int next;       /* the next job to submit */
    int bad_cancel, bad_which, bad_rc, bad_err;
};

static void many_cancel(struct many *m, int i)
{
    int err;
    int rc = cancel_noted(m->b, m->o, m->ids[i], &err);
    if (rc != 0 && m->bad_cancel++ == 0) {
        m->bad_which = i;
        m->bad_rc = rc;
        m->bad_err = err;
    }
}

static void on_many(loop *l, void *ctx)
{
    struct many *m = ctx;
    if (m->next < 131) {
        /* A batch: submit, cancel all but the kept ones, and let the
         * loop deliver the cancellations before the next batch. */
        int first = m->next;
        for (int k = 0; k < MANY_BATCH && m->next < 131; k++) {
            int i = m->next++;
            m->keep[i] = i % 64 == 1 || i == 127;
            m->ids[i] = submit_ok(m->o, &m->jobs[i]);
        }
        for (int i = first; i < m->next; i++)
            if (!m->keep[i])
                many_cancel(m, i);
        ck_assert_msg(loop_add_timer(l, 5, on_many, m) > 0,
                      "loop_add_timer() failed");
        return;
    }
    /* The oldest kept request first, then enough at once for the
     * tables to grow, then every one of them. */
    many_cancel(m, 1);
    while (m->next < MANY) {
        int i = m->next++;
        m->ids[i] = submit_ok(m->o, &m->jobs[i]);
    }
    for (int i = 2; i < MANY; i++)
        if (m->keep[i] || i >= 131)
            many_cancel(m, i);
    open_gate(m->b);
}

START_TEST(test_cancel_finds_every_request)
{
    WB_PROMISE("cancel");
    loop *l = new_loop();
    struct board b;
    board_init(&b);
    struct many *m = calloc(1, sizeof *m);
    ck_assert_msg(m != NULL, "out of memory");
    m->b = &b;
    m->o = new_offload(l, 1);
    b.o = m->o;
    for (int i = 0; i < MANY; i++)
        job_init(&m->jobs[i], &b, i);
    m->jobs[0].gated = 1;
    m->ids[0] = submit_ok(m->o, &m->jobs[0]);
    WB_EXPECT(wait_board(&b, &b.started, 1, 2000) >= 1,
              "the first request should start on the idle worker");
    m->next = 1;
    ck_assert_msg(loop_add_timer(l, 0, on_many, m) > 0,
                  "loop_add_timer() failed");
    run_ok(l);
    WB_EXPECT(m->bad_cancel == 0,
              "%d requests were queued behind one held on the only worker, "
              "and cancelled by their ids: every cancel should return 0; "
              "%d did not, the first that of request %d (%d, errno %s)",
              MANY - 1, m->bad_cancel, m->bad_which, m->bad_rc,
              wb_errname(m->bad_err));
    int wrong = 0, first = -1;
    for (int i = 1; i < MANY; i++)
        if (m->jobs[i].done_runs != 1 || m->jobs[i].done_status != ECANCELED ||
            atomic_load(&m->jobs[i].work_runs) != 0) {
            if (wrong++ == 0)
                first = i;
        }
    WB_EXPECT(wrong == 0,
              "every queued request was cancelled: each should get one "
              "on_done with ECANCELED and never run; %d did not (request "
              "%d: on_done %d times, %s, work %d times)",
              wrong, first, first < 0 ? 0 : m->jobs[first].done_runs,
              first < 0 ? "-" : wb_errname(m->jobs[first].done_status),
              first < 0 ? 0 : atomic_load(&m->jobs[first].work_runs));
    expect_done(&m->jobs[0], 0, 1);
    offload_free(m->o);
    free(m);
    board_free(&b);
    loop_free(l);
}
END_TEST

/* Thousands of submissions and cancellations at once: each request is
 * cancelled (maybe) while queued, starting, running or done. */
struct sjob {
    struct storm *s;
    int i;
    long id;
    atomic_int work_runs;
    int done_runs, done_status;
    int cancel_ok;        /* cancels that returned 0 */
    int cancel_bad;       /* cancels that failed otherwise than they may */
    int cancel_bad_errno; /* the errno of the first bad one */
};

struct storm {
    offload *o;
    struct sjob *jobs;
    int n;         /* jobs; the second half is submitted from on_done */
    int submitted; /* accepted submissions */
    int dones;
    int submit_failed, submit_errno;
    int cancel_failed; /* cancels that returned -1 */
};

static int storm_status(int i)
{
    return i % 7 == 0 ? EIO : 0;
}

static int on_storm_work(void *req)
{
    struct sjob *j = req;
    atomic_fetch_add(&j->work_runs, 1);
    if (j->i % 5 == 0)
        sched_yield();
    if (j->i % 13 == 0) { /* a longer one, for cancels to find running */
        int64_t until = wb_now_ns() + 50 * 1000;
        while (wb_now_ns() < until)
            continue;
    }
    return storm_status(j->i);
}

static void on_storm_done(offload *o, void *req, int status, void *ctx);

static void storm_submit(struct storm *s, int i)
{
    struct sjob *j = &s->jobs[i];
    errno = 0;
    j->id = offload_submit(s->o, on_storm_work, on_storm_done, j, s);
    if (j->id > 0) {
        s->submitted++;
    } else if (s->submit_failed++ == 0) {
        s->submit_errno = errno;
    }
}

static void storm_cancel(struct storm *s, int i)
{
    struct sjob *j = &s->jobs[i];
    if (j->id <= 0)
        return;
    errno = 0;
    int rc = offload_cancel(s->o, j->id);
    int err = errno;
    if (rc == 0) {
        j->cancel_ok++;
        return;
    }
    s->cancel_failed++;
    /* ENOENT only once on_done ran; EBUSY only before. */
    int ok = rc == -1 && ((err == ENOENT && j->done_runs > 0) ||
                          (err == EBUSY && j->done_runs == 0));
    if (!ok && j->cancel_bad++ == 0)
        j->cancel_bad_errno = rc == -1 ? err : 0;
}

static void on_storm_done(offload *o, void *req, int status, void *ctx)
{
    (void)o;
    struct storm *s = ctx;
    struct sjob *j = req;
    j->done_runs++;
    j->done_status = status;
    s->dones++;
    int half = s->n / 2;
    if (j->i < half) {
        storm_submit(s, j->i + half);
        if (j->i % 2 == 0 && j->i >= 2)
            storm_cancel(s, j->i + half - 2); /* queued, running or done */
        if (j->i % 4 == 1 && j->i + 5 < half && status != ECANCELED)
            storm_cancel(s, j->i + 5);
    }
}

START_TEST(test_exactly_once_under_cancel_storm)
{
    WB_PROMISE("exactly-once");
    loop *l = new_loop();
    struct storm s = {0};
    s.n = (int)wb_scaled(4000, 200);
    s.jobs = calloc((size_t)s.n, sizeof *s.jobs);
    ck_assert_msg(s.jobs != NULL, "out of memory");
    for (int i = 0; i < s.n; i++) {
        s.jobs[i].s = &s;
        s.jobs[i].i = i;
        atomic_init(&s.jobs[i].work_runs, 0);
    }
    s.o = new_offload(l, 4);
    for (int i = 0; i < s.n / 2; i++) {
        storm_submit(&s, i);
        if (i % 3 == 0 && i >= 1)
            storm_cancel(&s, i - 1);
    }
    run_ok(l);
    WB_EXPECT(s.submit_failed == 0,
              "%d submissions failed, the first with "
              "errno %s",
              s.submit_failed, wb_errname(s.submit_errno));
    int twice = 0, never = 0, cancels = 0, bad = 0, first = -1;
    const char *what = "";
    for (int i = 0; i < s.n; i++) {
        const struct sjob *j = &s.jobs[i];
        if (j->id <= 0)
            continue;
        int runs = atomic_load(&j->work_runs);
        const char *wrong = NULL;
        if (j->done_runs > 1)
            wrong = "its on_done ran more than once", twice++;
        else if (j->done_runs == 0)
            wrong = "its on_done never ran", never++;
        else if (j->cancel_ok > 1)
            wrong = "offload_cancel() returned 0 for it more than once";
        else if (j->cancel_ok == 1 &&
                 (runs != 0 || j->done_status != ECANCELED))
            wrong = "offload_cancel() returned 0 for it, yet its work ran "
                    "or its status was not ECANCELED";
        else if (j->cancel_ok == 0 &&
                 (runs != 1 || j->done_status != storm_status(i)))
            wrong = "it was not cancelled, yet its work did not run once "
                    "or its status was not the work's";
        else if (j->cancel_bad > 0)
            wrong = "an offload_cancel() of it failed with the wrong errno "
                    "(EBUSY before its on_done ran, ENOENT after)";
        cancels += j->cancel_ok;
        if (wrong != NULL && bad++ == 0) {
            first = i;
            what = wrong;
        }
    }
    WB_EXPECT(bad == 0,
              "%d requests submitted and %d cancelled while 4 workers ran "
              "them: every request should get exactly one on_done; %d went "
              "wrong (%d on_done twice, %d never). The first, request %d: "
              "%s",
              s.submitted, cancels, bad, twice, never, first, what);
    WB_EXPECT(s.dones == s.submitted, "%d submissions, %d on_done calls",
              s.submitted, s.dones);
    offload_free(s.o);
    free(s.jobs);
    loop_free(l);
}
END_TEST

/* --- Interrupted wake-ups ------------------------------------------------- */

struct rescue {
    offload *o;
    struct job *waited, *spare;
    int rounds;
    int rescued;
};

/* Every 10 ms until the waited request completed; after 1 s without it,
 * submit a spare request, whose completion wakes the loop. */
static void on_rescue(loop *l, void *ctx)
{
    struct rescue *r = ctx;
    if (r->waited->done_runs > 0)
        return;
    if (++r->rounds >= 100) {
        r->rescued = 1;
        submit_ok(r->o, r->spare);
        return;
    }
    ck_assert_msg(loop_add_timer(l, 10, on_rescue, r) > 0,
                  "loop_add_timer() failed");
}

/* Work that leaves errno at EINTR, as a call it made may. */
static int on_work_eintr(void *req)
{
    int status = on_work(req);
    errno = EINTR;
    return status;
}

/* write() fails through the wrap of tests/support/wrap.c (offload.links). */
START_TEST(test_interrupted_write)
{
    WB_PROMISE("eintr");
    loop *l = new_loop();
    struct board b;
    board_init(&b);
    offload *o = new_offload(l, 1);
    b.o = o;
    struct job j, spare;
    job_init(&j, &b, 1);
    job_init(&spare, &b, 2);
    /* The first write() from now on is the wake-up of j's completion. */
    wb_wrap_fail(WB_WRITE, 1, EINTR, 0);
    submit_ok(o, &j);
    struct rescue r = {o, &j, &spare, 0, 0};
    ck_assert_msg(loop_add_timer(l, 10, on_rescue, &r) > 0,
                  "loop_add_timer() failed");
    run_ok(l);
    int writes = wb_wrap_calls(WB_WRITE);
    wb_wrap_reset(WB_WRITE, 0);
    WB_EXPECT(!r.rescued,
              "the wake-up write() of a completion was interrupted by a "
              "signal (EINTR): it should be made again; the loop was not "
              "woken for 1 s, until another request completed (%d write() "
              "calls)",
              writes);
    expect_done(&j, 0, 1);

    /* Work that leaves errno at EINTR: the wake-ups are counted. */
    enum { N = 20 };
    struct job jobs[N];
    wb_wrap_reset(WB_WRITE, 0);
    for (int i = 0; i < N; i++) {
        job_init(&jobs[i], &b, i + 3);
        long id = offload_submit(o, on_work_eintr, on_done, &jobs[i], &b);
        WB_EXPECT(id > 0, "offload_submit() should return an id > 0; got %ld",
                  id);
    }
    run_ok(l);
    writes = wb_wrap_calls(WB_WRITE);
    wb_wrap_reset(WB_WRITE, 0);
    for (int i = 0; i < N; i++)
        expect_done(&jobs[i], 0, 1);
    WB_PROMISE("eintr");
    WB_EXPECT(writes <= 4 * N,
              "%d requests whose work left errno at EINTR made %d write() "
              "calls: only a write() that returned -1 was interrupted; "
              "errno from before it means nothing",
              N, writes);
    offload_free(o);
    board_free(&b);
    loop_free(l);
}
END_TEST

/* --- No spinning, and free ----------------------------------------------- */

START_TEST(test_loop_sleeps_while_work_runs)
{
    WB_PROMISE("no-spin");
    enum { WORK_MS = 200 };
    loop *l = new_loop();
    struct board b;
    board_init(&b);
    offload *o = new_offload(l, 2);
    struct job quick, slow;
    job_init(&quick, &b, 1);
    job_init(&slow, &b, 2);
    slow.sleep = WORK_MS;
    submit_ok(o, &quick);
    submit_ok(o, &slow);
    int64_t cpu = threadwatch_cpu_ns();
    int64_t t0 = wb_now_ns();
    long selects = wb_select_calls();
    run_ok(l);
    selects = wb_select_calls() - selects;
    long used_ms = (long)((threadwatch_cpu_ns() - cpu) / 1000000);
    long took_ms = (long)((wb_now_ns() - t0) / 1000000);
    expect_done(&quick, 0, 1);
    expect_done(&slow, 0, 1);
    /* On a loaded machine a spinning loop gets little CPU time, but
     * still calls select() thousands of times (tests/support/selects.c,
     * in offload.links, counts them). */
    WB_EXPECT(used_ms < WORK_MS / 8 && selects < 100,
              "while a request ran for %d ms, with nothing else to do, the "
              "loop's thread used %ld ms of CPU time in %ld ms and called "
              "select() %ld times: it spins. Read the wake-up bytes out of "
              "the pipe when the loop takes the completions",
              WORK_MS, used_ms, took_ms, selects);
    offload_free(o);
    board_free(&b);
    loop_free(l);
}
END_TEST

static void *gate_opener_main(void *arg)
{
    struct board *b = arg;
    wb_sleep_ms(50);
    open_gate(b);
    return NULL;
}

/* on_done during offload_free(): note it, and try to submit again. */
static void on_done_in_free(offload *o, void *req, int status, void *ctx)
{
    struct job *j = req;
    note_done(o, j, status, ctx);
    errno = 0;
    long id = offload_submit(o, on_work, on_done, j, ctx);
    j->submit_rc = (int)id;
    j->submit_errno = errno;
}

START_TEST(test_free_releases_everything)
{
    WB_PROMISE("free");
    loop *l = new_loop();
    int before = threadwatch_count();
    int fds = wb_count_fds();
    struct board b;
    board_init(&b);
    offload *o = new_offload(l, 2);
    b.o = o;
    WB_EXPECT(threadwatch_count() == before + 2,
              "offload_new(l, 2) should start 2 worker threads; %d started",
              threadwatch_count() - before);
    /* Two running (at the gate), two queued behind them. */
    struct job jobs[4];
    for (int i = 0; i < 4; i++) {
        job_init(&jobs[i], &b, i);
        jobs[i].gated = i < 2;
        jobs[i].status = i == 0 ? EIO : 0;
        b.in_call = 1;
        long id = offload_submit(o, on_work, on_done_in_free, &jobs[i], &b);
        b.in_call = 0;
        WB_EXPECT(id > 0, "offload_submit() should return an id > 0; got %ld",
                  id);
        if (i == 1)
            WB_EXPECT(wait_board(&b, &b.started, 2, 2000) >= 2,
                      "2 requests on 2 idle workers should both start");
    }
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, gate_opener_main, &b), 0);
    offload_free(o); /* no loop_run(): free finishes everything */
    pthread_join(t, NULL);
    WB_PROMISE("exactly-once");
    for (int i = 0; i < 4; i++) {
        if (i < 2)
            expect_done(&jobs[i], jobs[i].status, 1);
        else
            expect_done(&jobs[i], ECANCELED, 0);
        WB_EXPECT(jobs[i].done_off_loop == 0,
                  "request %d: the on_done calls that offload_free() makes "
                  "run on the thread that called it",
                  i);
        WB_EXPECT(jobs[i].submit_rc == -1 && jobs[i].submit_errno == EPIPE,
                  "request %d: a submit from an on_done run by "
                  "offload_free() should give -1 with errno EPIPE; got %d "
                  "with errno %s",
                  i, jobs[i].submit_rc, wb_errname(jobs[i].submit_errno));
    }
    WB_PROMISE("free");
    int after = threadwatch_after_joins(before);
    WB_EXPECT(after == before,
              "offload_free() should end and join every worker; %d thread%s "
              "still running",
              after - before, after - before == 1 ? " is" : "s are");
    WB_EXPECT(wb_count_fds() == fds,
              "offload_free() should close the offload's descriptors: %d "
              "were open before offload_new(), %d after offload_free()",
              fds, wb_count_fds());
    int64_t t0 = wb_now_ns();
    run_ok(l);
    WB_EXPECT(wb_now_ns() - t0 < 500 * 1000000LL,
              "after offload_free() the loop should watch nothing and "
              "loop_run() should return at once");
    board_free(&b);
    loop_free(l);
}
END_TEST

Suite *wb_suite(void)
{
    threadwatch_start_machinery(); /* ThreadSanitizer's helper */
    Suite *s = wb_begin("offload", "chapters/05-callbacks/chapter.md");
    WB_ADD(s, test_bad_arguments, "Work on a pool, completion on the loop");
    WB_ADD(s, test_new_fails_cleanly, "Work on a pool, completion on the loop");
    WB_ADD(s, test_out_of_memory, "Work on a pool, completion on the loop");
    WB_ADD(s, test_flags_fail_cleanly,
           "Work on a pool, completion on the loop");
    WB_ADD(s, test_submit_watch_fails,
           "Work on a pool, completion on the loop");
    WB_ADD(s, test_descriptor_flags, "Work on a pool, completion on the loop");
    WB_ADD(s, test_work_on_workers_done_on_loop, "The completion queue");
    WB_ADD(s, test_n_run_at_once, "Work that blocks the loop");
    WB_ADD(s, test_queue_is_fifo, "Work on a pool, completion on the loop");
    WB_ADD(s, test_status_passed_through, "Failure is a result too");
    WB_ADD_TIMEOUT(s, test_loop_waits_for_pending_work, "The completion queue",
                   4.0);
    WB_ADD(s, test_submit_from_on_done, "Who owns the request");
    WB_ADD_TIMEOUT(s, test_cancel_before_start, "Cancellation and timeouts",
                   3.0);
    WB_ADD_TIMEOUT(s, test_cancel_finds_every_request,
                   "Cancellation and timeouts", 3.0);
    WB_ADD_TIMEOUT(s, test_exactly_once_under_cancel_storm, "Exactly once",
                   5.0);
    WB_ADD_TIMEOUT(s, test_interrupted_write, "The completion queue", 4.0);
    WB_ADD(s, test_loop_sleeps_while_work_runs,
           "Waking the loop from another thread");
    WB_ADD(s, test_free_releases_everything, "Exactly once");
    return s;
}
