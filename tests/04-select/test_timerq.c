/*
 * Tests of timerq (exercises/04-select/timerq.h): a timer queue, earliest
 * deadline first.
 *
 * Time is made up: the tests pass deadlines and "now" as plain numbers,
 * so nothing depends on the clock or on how fast the machine runs. Every
 * callback appends its timer's tag (the ctx pointer, a number) to a log,
 * and the tests compare the log with what should have run.
 *
 * The random test runs thousands of adds, cancels and runs against a
 * simple model (an array, sorted when asked what is due), with many equal
 * deadlines and heaps of every size up to a few hundred: a sift-down that
 * is wrong for some sizes, or ties broken in the wrong order, shows there.
 */
#define _GNU_SOURCE
#include "wb.h"
#include "timerq.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#define SECTION "Timers in the loop"

#define TAG(n) ((void *)(uintptr_t)(n))
#define NUM(p) ((long)(uintptr_t)(p))

/* --- The log of callbacks ---------------------------------------------- */

static long *ran; /* tags, in the order their callbacks ran */
static size_t nran, ran_cap;

static void on_record(void *ctx)
{
    if (nran == ran_cap) {
        ran_cap = ran_cap == 0 ? 1024 : 2 * ran_cap;
        ran = realloc(ran, ran_cap * sizeof *ran);
        WB_EXPECT(ran != NULL, "test setup: out of memory for the log");
    }
    ran[nran++] = NUM(ctx);
}

static void log_reset(void)
{
    nran = 0;
}

static void log_free(void)
{
    free(ran);
    ran = NULL;
    nran = ran_cap = 0;
}

/* "3 1 2", for messages: the first 30 entries of the log. */
static const char *log_text(const long *log, size_t n)
{
    static char buf[2][400];
    static int which;
    char *out = buf[which++ % 2];
    size_t o = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n && i < 30; i++)
        o += (size_t)snprintf(out + o, sizeof buf[0] - o, "%s%ld", i ? " " : "",
                              log[i]);
    if (n == 0)
        snprintf(out, sizeof buf[0], "nothing");
    else if (n > 30)
        snprintf(out + o, sizeof buf[0] - o, " ... (%zu in all)", n);
    return out;
}

/* Whether the first @p n tags of @p a and @p b are the same (either may
 * be NULL when @p n is 0). */
static int same_tags(const long *a, const long *b, size_t n)
{
    return n == 0 || memcmp(a, b, n * sizeof *a) == 0;
}

static void log_expect(const long *want, size_t n, const char *what)
{
    WB_EXPECT(nran == n && same_tags(ran, want, n),
              "%s: expected the callbacks %s to run, in that order; ran %s",
              what, log_text(want, n), log_text(ran, nran));
}

static timerq *new_q(void)
{
    errno = 0;
    timerq *q = timerq_new();
    WB_EXPECT(q != NULL, "timerq_new() should return a queue; got NULL%s",
              wb_errno_note(-1));
    return q;
}

static long add_ok(timerq *q, int64_t deadline, long tag)
{
    errno = 0;
    long id = timerq_add(q, deadline, on_record, TAG(tag));
    WB_EXPECT(id > 0,
              "timerq_add(q, %lld, on_record, ...) should return an id > 0; "
              "got %ld%s",
              (long long)deadline, id, wb_errno_note(id));
    return id;
}

static void run_expect(timerq *q, int64_t now, int count)
{
    errno = 0;
    int r = timerq_run_due(q, now);
    WB_EXPECT(r == count,
              "timerq_run_due(q, %lld) should run %d timers and return %d; "
              "got %d%s",
              (long long)now, count, count, r, wb_errno_note(r));
}

static void pending_expect(timerq *q, size_t n, const char *when)
{
    size_t got = timerq_pending(q);
    WB_EXPECT(got == n, "timerq_pending() %s should be %zu; got %zu", when, n,
              got);
}

/* --- Order --------------------------------------------------------------- */

START_TEST(test_deadline_order)
{
    WB_PROMISE("order");
    timerq *q = new_q();
    const int64_t deadlines[] = {50, 10, 40, 20, 30, 60, 5};
    for (size_t i = 0; i < 7; i++)
        add_ok(q, deadlines[i], (long)deadlines[i]);
    pending_expect(q, 7, "after 7 adds");
    run_expect(q, 100, 7);
    const long want[] = {5, 10, 20, 30, 40, 50, 60};
    log_expect(want, 7, "deadlines 50 10 40 20 30 60 5, run at 100");
    pending_expect(q, 0, "after all ran");
    timerq_free(q);
    log_free();
}
END_TEST

START_TEST(test_ties_in_add_order)
{
    WB_PROMISE("ties");
    timerq *q = new_q();
    /* Tags 0..19 at deadline 7, with earlier and later timers between. */
    long want[40];
    size_t nwant = 0;
    for (long i = 0; i < 20; i++) {
        add_ok(q, 7, i);
        if (i % 3 == 0)
            add_ok(q, 3, 100 + i);
        if (i % 4 == 0)
            add_ok(q, 9, 200 + i);
    }
    for (long i = 0; i < 20; i += 3)
        want[nwant++] = 100 + i;
    for (long i = 0; i < 20; i++)
        want[nwant++] = i;
    run_expect(q, 8, (int)nwant);
    log_expect(want, nwant,
               "tags 0..19 at deadline 7 (added in that order), 100+ at 3, "
               "200+ at 9, run at 8");
    /* Ties among timers added before and after a run. */
    log_reset();
    add_ok(q, 9, 300);
    add_ok(q, 9, 301);
    run_expect(q, 9, 7);
    const long want2[] = {200, 204, 208, 212, 216, 300, 301};
    log_expect(want2, 7, "ties at deadline 9, some added after a run");
    timerq_free(q);
    log_free();
}
END_TEST

START_TEST(test_run_due_only_due)
{
    WB_PROMISE("due-only");
    timerq *q = new_q();
    add_ok(q, 10, 10);
    add_ok(q, 20, 20);
    add_ok(q, 30, 30);
    run_expect(q, 5, 0);
    log_expect(NULL, 0, "deadlines 10 20 30, run at 5");
    run_expect(q, 20, 2);
    const long want[] = {10, 20};
    log_expect(want, 2, "deadlines 10 20 30, run at 20 (20 included)");
    pending_expect(q, 1, "with 30 not yet due");
    log_reset();
    run_expect(q, 29, 0);
    run_expect(q, 30, 1);
    const long want30[] = {30};
    log_expect(want30, 1, "deadline 30, run at 29 then at 30");
    run_expect(q, 1000, 0);
    /* Past and negative deadlines are due at once. */
    log_reset();
    add_ok(q, -5, -5);
    add_ok(q, INT64_MIN, 0);
    run_expect(q, -5, 2);
    const long wantneg[] = {0, -5};
    log_expect(wantneg, 2, "deadlines -5 and INT64_MIN, run at -5");
    timerq_free(q);
    log_free();
}
END_TEST

static int by_value(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

START_TEST(test_ids_unique)
{
    WB_PROMISE("ids");
    timerq *q = new_q();
    enum { N = 3000 };
    static long ids[N];
    for (long i = 0; i < N; i++) {
        ids[i] = add_ok(q, i % 50, i);
        if (i % 3 == 1)
            timerq_cancel(q, ids[i - 1]);
        if (i % 100 == 99)
            timerq_run_due(q, 25);
    }
    timerq_run_due(q, 1000);
    qsort(ids, N, sizeof ids[0], by_value);
    for (long i = 1; i < N; i++)
        if (ids[i] == ids[i - 1])
            WB_EXPECT(0,
                      "timerq_add() returned the id %ld twice in %d adds: ids "
                      "are never reused, even after a timer ran or was "
                      "cancelled",
                      ids[i], N);
    timerq_free(q);
    log_free();
}
END_TEST

/* --- Cancel -------------------------------------------------------------- */

START_TEST(test_cancel_pending)
{
    WB_PROMISE("cancel");
    timerq *q = new_q();
    long ids[8];
    for (long i = 0; i < 8; i++)
        ids[i] = add_ok(q, 10 * (i + 1), i);
    /* The earliest (top of the heap), one in the middle, the last. */
    const int victims[] = {0, 4, 7};
    for (size_t k = 0; k < 3; k++) {
        errno = 0;
        int r = timerq_cancel(q, ids[victims[k]]);
        WB_EXPECT(r == 0,
                  "timerq_cancel() of the pending timer %d should return 0; "
                  "got %d%s",
                  victims[k], r, wb_errno_note(r));
    }
    pending_expect(q, 5, "after 8 adds and 3 cancels");
    run_expect(q, 1000, 5);
    const long want[] = {1, 2, 3, 5, 6};
    log_expect(want, 5, "timers 0..7 with 0, 4 and 7 cancelled");
    timerq_free(q);
    log_free();
}
END_TEST

static void cancel_enoent(timerq *q, long id, const char *why)
{
    errno = 0;
    int r = timerq_cancel(q, id);
    int err = errno;
    WB_EXPECT(r == -1 && err == ENOENT,
              "timerq_cancel(q, %ld) of %s should return -1 with errno "
              "ENOENT; got %d%s",
              id, why, r, wb_errno_note(r));
}

START_TEST(test_cancel_not_pending)
{
    WB_PROMISE("cancel-enoent");
    timerq *q = new_q();
    long a = add_ok(q, 10, 1);
    long b = add_ok(q, 20, 2);
    long c = add_ok(q, 30, 3);
    run_expect(q, 10, 1);
    cancel_enoent(q, a, "a timer that already ran");
    WB_EXPECT(timerq_cancel(q, b) == 0, "timerq_cancel() of a pending timer "
                                        "should return 0");
    cancel_enoent(q, b, "a timer already cancelled");
    cancel_enoent(q, 0, "id 0 (never given)");
    cancel_enoent(q, -1, "id -1 (never given)");
    cancel_enoent(q, c + 1000, "an id never given");
    pending_expect(q, 1, "after the failed cancels");
    run_expect(q, 100, 1);
    const long want[] = {1, 3};
    log_expect(want, 2, "three timers, the second cancelled");
    timerq_free(q);
    log_free();
}
END_TEST

/* --- until_next ---------------------------------------------------------- */

static void until_expect(timerq *q, int64_t now, int64_t want, const char *what)
{
    int64_t got = timerq_until_next(q, now);
    WB_EXPECT(got == want,
              "timerq_until_next(q, %lld) %s should be %lld; got "
              "%lld",
              (long long)now, what, (long long)want, (long long)got);
}

START_TEST(test_until_next)
{
    WB_PROMISE("until-next");
    timerq *q = new_q();
    until_expect(q, 0, -1, "with no timer");
    long a = add_ok(q, 1000, 1);
    until_expect(q, 400, 600, "with a deadline at 1000");
    until_expect(q, 999, 1, "with a deadline at 1000");
    until_expect(q, 1000, 0, "at the deadline");
    until_expect(q, 5000, 0,
                 "long after the deadline (overdue is 0, not "
                 "negative)");
    add_ok(q, 700, 2);
    until_expect(q, 400, 300, "with deadlines at 1000 and 700");
    timerq_cancel(q, a);
    until_expect(q, 0, 700, "after cancelling the one at 1000");
    run_expect(q, 700, 1);
    until_expect(q, 0, -1, "after the last timer ran");
    add_ok(q, -100, 3);
    until_expect(q, -300, 200, "with a deadline at -100");
    run_expect(q, -100, 1);
    add_ok(q, INT64_MAX, 4);
    until_expect(q, -10, INT64_MAX,
                 "with a deadline at INT64_MAX (the "
                 "difference does not fit)");
    timerq_free(q);
    log_free();
}
END_TEST

/* --- Callbacks ----------------------------------------------------------- */

/* What the callbacks of test_callback_adds_and_cancels do. */
static struct {
    timerq *q;
    long self, later, due_too;
    int cancel_self, cancel_later, cancel_due;
    long added;
} cb;

static void on_meddle(void *ctx)
{
    on_record(ctx);
    errno = 0;
    cb.cancel_self = timerq_cancel(cb.q, cb.self) == -1 && errno == ENOENT;
    cb.cancel_later = timerq_cancel(cb.q, cb.later);
    cb.cancel_due = timerq_cancel(cb.q, cb.due_too);
    cb.added = timerq_add(cb.q, 15, on_record, TAG(15)); /* already due */
}

START_TEST(test_callback_adds_and_cancels)
{
    WB_PROMISE("callbacks");
    timerq *q = new_q();
    cb.q = q;
    errno = 0;
    cb.self = timerq_add(q, 10, on_meddle, TAG(10));
    WB_EXPECT(cb.self > 0, "timerq_add() should return an id > 0; got %ld%s",
              cb.self, wb_errno_note(cb.self));
    cb.due_too = add_ok(q, 20, 20); /* due in the same run, cancelled */
    cb.later = add_ok(q, 300, 300); /* not due, cancelled */
    add_ok(q, 400, 400);
    run_expect(q, 25, 1);
    const long want[] = {10};
    log_expect(want, 1,
               "a callback at 10 that cancels the timers at 20 and 300 and "
               "adds one at 15, run at 25");
    WB_EXPECT(cb.cancel_due == 0,
              "a callback cancelling a timer due in the same run should get "
              "0; got %d",
              cb.cancel_due);
    WB_EXPECT(cb.cancel_later == 0,
              "a callback cancelling a pending timer should get 0; got %d",
              cb.cancel_later);
    WB_EXPECT(cb.cancel_self,
              "a callback cancelling its own timer should get -1 with ENOENT "
              "(the timer stopped being pending when its callback started)");
    WB_EXPECT(cb.added > 0 && cb.added != cb.self,
              "timerq_add() from a callback should return a new id > 0; got "
              "%ld",
              cb.added);
    pending_expect(q, 2,
                   "with the one added by the callback and the one at "
                   "400");
    until_expect(q, 25, 0, "with the timer at 15 (added by the callback)");
    log_reset();
    run_expect(q, 1000, 2);
    const long want2[] = {15, 400};
    log_expect(want2, 2, "the timer added by the callback, then 400");
    timerq_free(q);
    log_free();
}
END_TEST

/* A callback that re-adds itself, due at once, up to 1000 times. */
static struct {
    timerq *q;
    int64_t deadline;
    int runs;
} again;

static void on_again(void *ctx)
{
    (void)ctx;
    if (++again.runs < 1000)
        timerq_add(again.q, again.deadline, on_again, NULL);
}

START_TEST(test_added_during_run_waits)
{
    WB_PROMISE("no-rerun");
    timerq *q = new_q();
    again.q = q;
    again.deadline = 5;
    timerq_add(q, 5, on_again, NULL);
    run_expect(q, 10, 1);
    WB_EXPECT(again.runs == 1,
              "a callback that re-adds itself (due at once) should run once "
              "per timerq_run_due(); it ran %d times in one call",
              again.runs);
    pending_expect(q, 1, "after a run whose callback re-added itself");
    run_expect(q, 10, 1);
    WB_EXPECT(again.runs == 2,
              "the re-added timer should run in the next "
              "call; runs: %d",
              again.runs);
    timerq_free(q);
    log_free();
}
END_TEST

/* A callback adds timers, then asks how many are pending and how long
 * until the next: the timers it added count, though they wait for the
 * next timerq_run_due(). */
static struct {
    timerq *q;
    size_t pending[3];
    int64_t until[3];
} asks;

static void on_ask(void *ctx)
{
    on_record(ctx);
    /* One timer left in the queue, at 1000; the callback runs at 10. */
    static const int64_t deadlines[3] = {300, 200, 600};
    for (int i = 0; i < 3; i++) {
        timerq_add(asks.q, deadlines[i], on_record, TAG(2 + i));
        asks.pending[i] = timerq_pending(asks.q);
        asks.until[i] = timerq_until_next(asks.q, 10);
    }
}

START_TEST(test_callback_asks_pending_and_until)
{
    WB_PROMISE("callbacks");
    timerq *q = new_q();
    asks.q = q;
    timerq_add(q, 10, on_ask, TAG(1));
    add_ok(q, 1000, 5);
    run_expect(q, 10, 1);
    static const char *const added[3] = {
        "one at 300", "one at 300 and one at 200", "ones at 300, 200 and 600"};
    static const int64_t want_until[3] = {290, 190, 190};
    for (int i = 0; i < 3; i++) {
        WB_EXPECT(asks.pending[i] == (size_t)(2 + i),
                  "a callback at 10 with one timer left (at 1000) added %s: "
                  "timerq_pending() in the callback should be %d (the timers "
                  "it added are pending); got %zu",
                  added[i], 2 + i, asks.pending[i]);
        WB_PROMISE("until-next");
        WB_EXPECT(asks.until[i] == want_until[i],
                  "a callback at 10 with one timer left (at 1000) added %s: "
                  "timerq_until_next(q, 10) in the callback should be %lld "
                  "(the earliest pending deadline minus 10); got %lld",
                  added[i], (long long)want_until[i], (long long)asks.until[i]);
        WB_PROMISE("callbacks");
    }
    pending_expect(q, 4, "after the run (the three added by the callback)");
    until_expect(q, 10, 190, "after the run, with deadlines 200 to 1000");
    run_expect(q, 1000, 4);
    static const long want[] = {1, 3, 2, 4, 5};
    log_expect(want, 5, "the callback's timers then the one at 1000");
    timerq_free(q);
    log_free();
}
END_TEST

/* The same with no other timer: the callback's own timer was the only
 * one, so the heap is empty while it runs. It adds one timer at 50 and
 * one at 300, then cancels the one at 50: what is left is due at 300. */
static int64_t alone_until = -2;
static size_t alone_pending = 99;

static void on_alone(void *ctx)
{
    on_record(ctx);
    long early = timerq_add(asks.q, 50, on_record, TAG(2));
    timerq_add(asks.q, 300, on_record, TAG(3));
    timerq_cancel(asks.q, early);
    alone_pending = timerq_pending(asks.q);
    alone_until = timerq_until_next(asks.q, 10);
}

START_TEST(test_callback_alone_asks_until)
{
    WB_PROMISE("until-next");
    timerq *q = new_q();
    asks.q = q;
    timerq_add(q, 10, on_alone, TAG(1));
    run_expect(q, 10, 1);
    WB_EXPECT(alone_until == 290,
              "the only timer's callback, at 10, added timers at 50 and 300 "
              "and cancelled the one at 50: timerq_until_next(q, 10) in the "
              "callback should be 290; got %lld",
              (long long)alone_until);
    WB_PROMISE("callbacks");
    WB_EXPECT(alone_pending == 1,
              "the only timer's callback added two timers and cancelled one: "
              "timerq_pending() in the callback should be 1; got %zu",
              alone_pending);
    run_expect(q, 1000, 1);
    static const long want[] = {1, 3};
    log_expect(want, 2, "the callback, then the timer at 300");
    timerq_free(q);
    log_free();
}
END_TEST

/* One callback adds 60 timers in one run (and cancels one of them): they
 * all wait for the next call, then run in deadline order. A queue that
 * grows its heap by one slot per add during the run, and moves the
 * timers kept aside into it at the end, writes past the heap here (the
 * sanitizers catch it). */
static timerq *burst_q;
static int burst_cancel_rc = 99;

static void on_burst(void *ctx)
{
    on_record(ctx);
    long cancel_id = 0;
    for (long i = 0; i < 60; i++) {
        /* Deadlines 0, 59, 58, ..., 1, the first 0: all due already. */
        long id =
            timerq_add(burst_q, i == 0 ? 0 : 60 - i, on_record, TAG(100 + i));
        if (i == 30)
            cancel_id = id;
    }
    burst_cancel_rc = timerq_cancel(burst_q, cancel_id);
}

START_TEST(test_callback_adds_many)
{
    WB_PROMISE("callbacks");
    timerq *q = new_q();
    burst_q = q;
    for (long i = 1; i <= 3; i++)
        add_ok(q, i, i); /* a small heap before the burst */
    timerq_add(q, 0, on_burst, TAG(99));
    run_expect(q, 1, 2); /* the burst, then timer 1 */
    WB_EXPECT(burst_cancel_rc == 0,
              "a callback that added 60 timers should be able to cancel "
              "one of them; timerq_cancel() returned %d",
              burst_cancel_rc);
    pending_expect(q, 2 + 59, "after a callback added 60 and cancelled 1");
    log_reset();
    run_expect(q, 100, 2 + 59);
    long want[61];
    size_t n = 0;
    want[n++] = 100; /* deadline 0 */
    for (long d = 1; d <= 59; d++) {
        if (d == 2 || d == 3)
            want[n++] = d; /* timers 2 and 3 were added before the burst */
        if (d != 30)       /* 60 - i == 30: i == 30 was cancelled */
            want[n++] = 100 + 60 - d;
    }
    log_expect(want, n,
               "60 timers added by one callback (one of them cancelled), "
               "run by the next call");
    timerq_free(q);
    log_free();
}
END_TEST

/* timerq_run_due() from a callback of the same queue: EBUSY, nothing
 * runs there. */
static int busy_rc = 99, busy_err;

static void on_run_again(void *ctx)
{
    on_record(ctx);
    errno = 0;
    busy_rc = timerq_run_due(burst_q, 1000);
    busy_err = errno;
}

START_TEST(test_run_due_from_callback_is_ebusy)
{
    WB_PROMISE("ebusy");
    timerq *q = new_q();
    burst_q = q;
    timerq_add(q, 1, on_run_again, TAG(1));
    add_ok(q, 2, 2);
    add_ok(q, 500, 3);
    run_expect(q, 10, 2);
    WB_EXPECT(busy_rc == -1 && busy_err == EBUSY,
              "timerq_run_due() called from a callback of the same queue "
              "should return -1 with errno EBUSY; got %d (%s)",
              busy_rc, wb_errname(busy_err));
    long want[] = {1, 2};
    log_expect(want, 2,
               "timer 1's callback called timerq_run_due(q, 1000): the "
               "timer due at 500 must not run");
    pending_expect(q, 1, "after the call");
    timerq_free(q);
    log_free();
}
END_TEST

/* --- Many timers --------------------------------------------------------- */

/* How much slower the sanitizer this test was built with makes it.
 * ThreadSanitizer checks every lock of the counting allocator
 * (tests/support/alloc.c): the whole of test_many_timers_fast took 4.8 s
 * of CPU under it against 0.37 s in the plain build (2026-12-07, the
 * reference, an idle machine), and its timed part 2.02 s in a make test
 * run with a limit of 2.00. */
#if defined(__SANITIZE_THREAD__)
#define SLOWDOWN 12.0
#elif defined(__SANITIZE_ADDRESS__)
#define SLOWDOWN 4.0
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define SLOWDOWN 12.0
#elif __has_feature(address_sanitizer)
#define SLOWDOWN 4.0
#endif
#endif
#ifndef SLOWDOWN
#define SLOWDOWN 1.0
#endif

static double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
           ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) / 1e6;
}

static uint64_t rng_state;

static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

START_TEST(test_many_timers_fast)
{
    long n = wb_scaled(100000, 5000);
    int64_t *deadline = malloc((size_t)n * sizeof *deadline);
    long *ids = malloc((size_t)n * sizeof *ids);
    WB_EXPECT(deadline != NULL && ids != NULL, "test setup: out of memory");
    rng_state = 88172645463325252ULL;
    timerq *q = new_q();
    ran_cap = (size_t)n;
    ran = malloc(ran_cap * sizeof *ran); /* no realloc in the timing */
    WB_EXPECT(ran != NULL, "test setup: out of memory");
    double t0 = cpu_seconds();
    for (long i = 0; i < n; i++) {
        deadline[i] = (int64_t)(rng() % 1000000);
        ids[i] = timerq_add(q, deadline[i], on_record, TAG(i));
        if (ids[i] <= 0)
            WB_EXPECT(0, "timerq_add() #%ld failed: %ld%s", i + 1, ids[i],
                      wb_errno_note(ids[i]));
    }
    long cancelled = 0;
    for (long i = 0; i < n; i += 4) {
        int r = timerq_cancel(q, ids[i]);
        if (r != 0)
            WB_EXPECT(0, "timerq_cancel() of pending timer #%ld failed%s",
                      i + 1, wb_errno_note(r));
        deadline[i] = -1;
        cancelled++;
    }
    int r1 = timerq_run_due(q, 500000);
    int r2 = timerq_run_due(q, 1000000);
    double cpu = cpu_seconds() - t0;
    WB_PROMISE("order");
    WB_EXPECT(r1 >= 0 && r2 >= 0 && r1 + r2 == n - cancelled,
              "%ld timers added, %ld cancelled: the two runs should run %ld; "
              "got %d and %d",
              n, cancelled, n - cancelled, r1, r2);
    WB_EXPECT(nran == (size_t)(n - cancelled),
              "expected %ld callbacks; %zu ran", n - cancelled, nran);
    for (size_t k = 0; k < nran; k++) {
        long i = ran[k];
        WB_EXPECT(i >= 0 && i < n && deadline[i] >= 0,
                  "callback %zu was of timer %ld, which was cancelled", k + 1,
                  i);
        if (k > 0) {
            long prev = ran[k - 1];
            WB_EXPECT(deadline[prev] < deadline[i] ||
                          (deadline[prev] == deadline[i] && prev < i),
                      "timer %ld (deadline %lld) ran after timer %ld (deadline "
                      "%lld): wrong order",
                      i, (long long)deadline[i], prev,
                      (long long)deadline[prev]);
        }
    }
    WB_PROMISE("fast");
    /* O(n log n) takes about 0.03 s here; a linear insert or cancel takes
     * seconds. Sanitizers slow it down a few times. */
    double limit = SLOWDOWN * 0.5 / wb_stress() * ((double)n / 100000.0);
    WB_EXPECT(cpu < limit,
              "adding %ld timers, cancelling %ld and running the rest should "
              "take O(n log n) time, well under %.2f s of CPU; took %.2f s",
              n, cancelled, limit, cpu);
    timerq_free(q);
    free(deadline);
    free(ids);
    log_free();
}
END_TEST

/* Resident memory of this process, in bytes. */
static long resident_bytes(void)
{
    long size = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    WB_EXPECT(f != NULL, "test setup: cannot open /proc/self/statm");
    int got = fscanf(f, "%ld %ld", &size, &resident);
    fclose(f);
    WB_EXPECT(got == 2, "test setup: cannot parse /proc/self/statm");
    return resident * sysconf(_SC_PAGESIZE);
}

/* The sanitizers' allocators keep freed blocks aside for a while (a
 * million freed timers grow AddressSanitizer's process by tens of MiB),
 * so with one of them the count is of the bytes allocated and not yet
 * freed, which every one of them keeps; without, the resident set. */
size_t __sanitizer_get_current_allocated_bytes(void) __attribute__((weak));

static long memory_used(void)
{
    if (__sanitizer_get_current_allocated_bytes != NULL)
        return (long)__sanitizer_get_current_allocated_bytes();
    return resident_bytes();
}

/* A timer added and cancelled, a million times over, with two pending
 * all along: the queue keeps what it needs for two timers, not a trace
 * of every timer it ever had. */
START_TEST(test_memory_follows_pending)
{
    WB_PROMISE("bounded");
    long n = wb_scaled(1000000, 100000);
    timerq *q = new_q();
    add_ok(q, 5, 1);
    add_ok(q, 7, 2);
    long base = memory_used();
    for (long i = 0; i < n; i++) {
        long id = timerq_add(q, 6, on_record, TAG(3));
        int r = timerq_cancel(q, id);
        if (id <= 0 || r != 0)
            WB_EXPECT(0,
                      "add then cancel #%ld: timerq_add() returned %ld, "
                      "timerq_cancel() %d%s",
                      i + 1, id, r, wb_errno_note(-1));
    }
    long grown = memory_used() - base;
    WB_EXPECT(grown < 4 * n,
              "%ld timers added and cancelled one after the other, with two "
              "others pending all along: the queue should hold memory for "
              "the timers pending, not for every timer it ever had; the "
              "memory in use grew by %ld KiB",
              n, grown / 1024);
    run_expect(q, 10, 2);
    static const long want[] = {1, 2};
    log_expect(want, 2, "the two timers left");
    timerq_free(q);
    log_free();
}
END_TEST

/* --- Against a model ----------------------------------------------------- */

struct model_timer {
    int64_t deadline;
    long id, tag;
};

static int by_deadline_then_id(const void *a, const void *b)
{
    const struct model_timer *x = a, *y = b;
    if (x->deadline != y->deadline)
        return x->deadline < y->deadline ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

START_TEST(test_random_against_model)
{
    enum { MAXLIVE = 600 };
    static struct model_timer live[MAXLIVE];
    static long gone[20000]; /* ids that ran or were cancelled */
    long ops = wb_scaled(24000, 4000);
    for (int seed = 1; seed <= 4; seed++) {
        rng_state = 0x9e3779b97f4a7c15ULL * (uint64_t)seed;
        timerq *q = new_q();
        size_t nlive = 0, ngone = 0;
        int64_t now = 0;
        long tag = 0;
        /* Phases that grow the heap, then shrink it, so that every size
         * up to MAXLIVE is met with many shapes. */
        for (long op = 0; op < ops / 4; op++) {
            int grow = (op / 700) % 2 == 0;
            uint64_t r = rng() % 100;
            if (r < (grow ? 70u : 20u) && nlive < MAXLIVE) {
                /* Many equal deadlines: 600 timers over 400 values. */
                int64_t d = now + (int64_t)(rng() % 400);
                long id = add_ok(q, d, tag);
                live[nlive++] = (struct model_timer){d, id, tag++};
            } else if (r < (grow ? 80u : 60u) && nlive > 0) {
                size_t k = rng() % nlive;
                WB_PROMISE("cancel");
                errno = 0;
                int c = timerq_cancel(q, live[k].id);
                WB_EXPECT(c == 0,
                          "seed %d, op %ld: timerq_cancel() of the pending "
                          "timer %ld should return 0; got %d%s",
                          seed, op, live[k].tag, c, wb_errno_note(c));
                if (ngone < 20000)
                    gone[ngone++] = live[k].id;
                live[k] = live[--nlive];
            } else if (r < (grow ? 85u : 65u) && ngone > 0) {
                long id = gone[rng() % ngone];
                WB_PROMISE("cancel-enoent");
                errno = 0;
                int c = timerq_cancel(q, id);
                WB_EXPECT(c == -1 && errno == ENOENT,
                          "seed %d, op %ld: timerq_cancel() of an id that "
                          "ran or was cancelled should fail with ENOENT; got "
                          "%d%s",
                          seed, op, c, wb_errno_note(c));
            } else {
                now += (int64_t)(rng() % (grow ? 2 : 24));
                qsort(live, nlive, sizeof live[0], by_deadline_then_id);
                size_t due = 0;
                while (due < nlive && live[due].deadline <= now)
                    due++;
                static long want[MAXLIVE];
                for (size_t k = 0; k < due; k++) {
                    want[k] = live[k].tag;
                    if (ngone < 20000)
                        gone[ngone++] = live[k].id;
                }
                log_reset();
                if (due > 1 && live[due - 1].deadline == live[due - 2].deadline)
                    WB_PROMISE("ties");
                else
                    WB_PROMISE("order");
                int ranc = timerq_run_due(q, now);
                WB_EXPECT(ranc == (int)due && nran == due &&
                              same_tags(ran, want, due),
                          "seed %d, op %ld: timerq_run_due(q, %lld) with %zu "
                          "pending should run %s (earliest first, ties in "
                          "add order); returned %d and ran %s",
                          seed, op, (long long)now, nlive, log_text(want, due),
                          ranc, log_text(ran, nran));
                memmove(live, live + due, (nlive - due) * sizeof live[0]);
                nlive -= due;
            }
            WB_PROMISE("cancel");
            size_t p = timerq_pending(q);
            WB_EXPECT(p == nlive,
                      "seed %d, op %ld: timerq_pending() should be %zu; got "
                      "%zu",
                      seed, op, nlive, p);
            int64_t want_until = -1;
            for (size_t k = 0; k < nlive; k++) {
                int64_t u =
                    live[k].deadline <= now ? 0 : live[k].deadline - now;
                if (want_until == -1 || u < want_until)
                    want_until = u;
            }
            WB_PROMISE("until-next");
            int64_t u = timerq_until_next(q, now);
            WB_EXPECT(u == want_until,
                      "seed %d, op %ld: timerq_until_next(q, %lld) should be "
                      "%lld; got %lld",
                      seed, op, (long long)now, (long long)want_until,
                      (long long)u);
        }
        timerq_free(q);
    }
    log_free();
}
END_TEST

/* --- Free and arguments -------------------------------------------------- */

START_TEST(test_free_drops_pending)
{
    WB_PROMISE("free");
    timerq *q = new_q();
    for (long i = 0; i < 1000; i++)
        add_ok(q, i % 7, i);
    run_expect(q, 2, 429);
    log_reset();
    timerq_free(q); /* the sanitizers and Valgrind report a leak here */
    WB_EXPECT(nran == 0,
              "timerq_free() should drop the pending timers without running "
              "them; it ran %s",
              log_text(ran, nran));
    timerq_free(NULL); /* does nothing */
    log_free();
}
END_TEST

START_TEST(test_bad_arguments)
{
    WB_PROMISE("bad-args");
    timerq *q = new_q();
    errno = 0;
    long id = timerq_add(NULL, 1, on_record, NULL);
    WB_EXPECT(id == -1 && errno == EINVAL,
              "timerq_add(NULL, ...) should return -1 with errno EINVAL; got "
              "%ld%s",
              id, wb_errno_note(id));
    errno = 0;
    id = timerq_add(q, 1, NULL, NULL);
    WB_EXPECT(id == -1 && errno == EINVAL,
              "timerq_add(q, 1, NULL, NULL) should return -1 with errno "
              "EINVAL; got %ld%s",
              id, wb_errno_note(id));
    pending_expect(q, 0, "after failed adds");
    errno = 0;
    int r = timerq_cancel(NULL, 1);
    WB_EXPECT(r == -1 && errno == EINVAL,
              "timerq_cancel(NULL, 1) should return -1 with errno EINVAL; got "
              "%d%s",
              r, wb_errno_note(r));
    errno = 0;
    r = timerq_run_due(NULL, 1);
    WB_EXPECT(r == -1 && errno == EINVAL,
              "timerq_run_due(NULL, 1) should return -1 with errno EINVAL; "
              "got %d%s",
              r, wb_errno_note(r));
    WB_EXPECT(timerq_pending(NULL) == 0, "timerq_pending(NULL) should be 0");
    timerq_free(q);
}
END_TEST

Suite *wb_suite(void)
{
    Suite *s = wb_begin("timerq", "chapters/04-select/chapter.md");
    WB_ADD(s, test_deadline_order, SECTION);
    WB_ADD(s, test_ties_in_add_order, SECTION);
    WB_ADD(s, test_run_due_only_due, SECTION);
    WB_ADD(s, test_ids_unique, SECTION);
    WB_ADD(s, test_cancel_pending, SECTION);
    WB_ADD(s, test_cancel_not_pending, SECTION);
    WB_ADD(s, test_until_next, SECTION);
    WB_ADD(s, test_callback_adds_and_cancels, SECTION);
    WB_ADD(s, test_added_during_run_waits, SECTION);
    WB_ADD(s, test_callback_adds_many, SECTION);
    WB_ADD(s, test_callback_asks_pending_and_until, SECTION);
    WB_ADD(s, test_callback_alone_asks_until, SECTION);
    WB_ADD(s, test_run_due_from_callback_is_ebusy, SECTION);
    WB_ADD_TIMEOUT(s, test_many_timers_fast, SECTION, 5.0);
    WB_ADD_TIMEOUT(s, test_random_against_model, SECTION, 5.0);
    WB_ADD_TIMEOUT(s, test_memory_follows_pending, SECTION, 5.0);
    WB_ADD(s, test_free_drops_pending, SECTION);
    WB_ADD(s, test_bad_arguments, SECTION);
    return s;
}
