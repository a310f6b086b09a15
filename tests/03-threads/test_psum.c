/*
 * Tests of psum (exercises/03-threads/psum.h): an array summed by T
 * threads.
 *
 * The callback psum_sum() calls on every value is how the tests look
 * inside: it records which thread added which value, and it can hold the
 * first value of every thread at a gate until all T threads have arrived,
 * which only happens if the T threads really run at the same time.
 */
#include "wb.h"
#include "psum.h"
#include "meeting.h"
#include "threadwatch.h"
#include "heap.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { MAX_SEEN = 64 };

/* This suite sees every pthread_create() the code makes: psum.links links it
 * with tests/support/wrap.c. */

static void expect_creates(int want, const char *how)
{
    int got = wb_wrap_calls(WB_PTHREAD_CREATE);
    WB_EXPECT(got == want,
              "%s: expected exactly %d call%s to pthread_create(), one per "
              "slice, min(nthreads, n) in all; psum_sum() made %d",
              how, want, want == 1 ? "" : "s", got);
}

/* What the callback saw: the threads that called it, and which of them
 * added each value (the tests use values[i] == i). */
struct watch {
    pthread_mutex_t lock;
    pthread_cond_t arrived_cv;
    pthread_t threads[MAX_SEEN];
    size_t nthreads;   /* distinct threads seen */
    size_t too_many;   /* calls from threads beyond MAX_SEEN */
    size_t calls;      /* every call */
    int *owner;        /* owner[value] = index in threads[], or -1 */
    size_t nvalues;    /* size of owner[] */
    size_t bad_values; /* values outside 0..nvalues-1 */
    size_t dup_values; /* values seen twice */
    size_t gate;       /* hold each new thread until this many arrived */
    int gate_broken;   /* the gate timed out: stop holding threads */
    struct timespec gate_deadline;
};

static void watch_init(struct watch *w, size_t nvalues, size_t gate)
{
    memset(w, 0, sizeof *w);
    ck_assert_int_eq(pthread_mutex_init(&w->lock, NULL), 0);
    ck_assert_int_eq(pthread_cond_init(&w->arrived_cv, NULL), 0);
    w->nvalues = nvalues;
    w->owner = malloc((nvalues > 0 ? nvalues : 1) * sizeof *w->owner);
    ck_assert_msg(w->owner != NULL, "out of memory");
    for (size_t i = 0; i < nvalues; i++)
        w->owner[i] = -1;
    w->gate = gate;
    /* pthread_cond_timedwait() measures against CLOCK_REALTIME. */
    clock_gettime(CLOCK_REALTIME, &w->gate_deadline);
    w->gate_deadline.tv_sec += 1;
}

static void watch_free(struct watch *w)
{
    free(w->owner);
    pthread_cond_destroy(&w->arrived_cv);
    pthread_mutex_destroy(&w->lock);
}

/* The callback: record (thread, value); hold a new thread at the gate. */
static long watch_value(long value, void *ctx)
{
    struct watch *w = ctx;
    pthread_t self = pthread_self();
    pthread_mutex_lock(&w->lock);
    w->calls++;
    size_t slot = 0;
    while (slot < w->nthreads && !pthread_equal(w->threads[slot], self))
        slot++;
    int is_new = slot == w->nthreads;
    if (is_new) {
        if (w->nthreads < MAX_SEEN)
            w->threads[w->nthreads++] = self;
        else
            w->too_many++;
        pthread_cond_broadcast(&w->arrived_cv);
    }
    if (value < 0 || (size_t)value >= w->nvalues)
        w->bad_values++;
    else if (w->owner[value] != -1)
        w->dup_values++;
    else
        w->owner[value] = (int)slot;
    if (is_new && w->gate > 0) {
        while (w->nthreads < w->gate && !w->gate_broken) {
            if (pthread_cond_timedwait(&w->arrived_cv, &w->lock,
                                       &w->gate_deadline) == ETIMEDOUT) {
                w->gate_broken = 1;
                pthread_cond_broadcast(&w->arrived_cv);
            }
        }
    }
    pthread_mutex_unlock(&w->lock);
    return value;
}

static long *iota(size_t n)
{
    long *v = malloc((n > 0 ? n : 1) * sizeof *v);
    ck_assert_msg(v != NULL, "out of memory");
    for (size_t i = 0; i < n; i++)
        v[i] = (long)i;
    return v;
}

/* Check the slices: each thread's values form one contiguous run, and
 * the runs' lengths differ by at most one. */
static void expect_slices(const struct watch *w, size_t n, size_t threads)
{
    size_t lo[MAX_SEEN], hi[MAX_SEEN], len[MAX_SEEN];
    for (size_t t = 0; t < w->nthreads; t++) {
        lo[t] = SIZE_MAX;
        hi[t] = 0;
        len[t] = 0;
    }
    for (size_t i = 0; i < n; i++) {
        int t = w->owner[i];
        WB_EXPECT(t >= 0,
                  "value %zu of %zu was never passed to on_value: "
                  "every element must be added exactly once",
                  i, n);
        if (i < lo[t])
            lo[t] = i;
        if (i > hi[t])
            hi[t] = i;
        len[t]++;
    }
    size_t shortest = SIZE_MAX, longest = 0;
    for (size_t t = 0; t < w->nthreads; t++) {
        WB_EXPECT(hi[t] - lo[t] + 1 == len[t],
                  "thread %zu added %zu values spread over indices "
                  "%zu..%zu: each thread must get one contiguous slice",
                  t, len[t], lo[t], hi[t]);
        if (len[t] < shortest)
            shortest = len[t];
        if (len[t] > longest)
            longest = len[t];
    }
    WB_EXPECT(longest - shortest <= 1,
              "%zu values over %zu threads: slice lengths should differ by "
              "at most one (%zu and %zu); got slices from %zu to %zu values",
              n, threads, n / threads, (n + threads - 1) / threads, shortest,
              longest);
}

START_TEST(test_sum_with_remainder)
{
    long values[10];
    for (int i = 0; i < 10; i++)
        values[i] = i + 1; /* 1 + 2 + ... + 10 = 55 */
    for (size_t t = 1; t <= 12; t++) {
        long sum = -1;
        wb_wrap_reset(WB_PTHREAD_CREATE, 0);
        int rc = psum_sum(values, 10, t, NULL, NULL, &sum);
        WB_PROMISE("slices");
        WB_EXPECT(rc == 0,
                  "psum_sum(1..10, %zu threads) should return 0; "
                  "got %s",
                  t, wb_errname(rc));
        WB_EXPECT(sum == 55,
                  "1 + 2 + ... + 10 with %zu threads should be 55; got %ld "
                  "(10 %% %zu = %zu values are left over after equal "
                  "slices: are they summed?)",
                  t, sum, t, 10 % t);
        char how[64];
        snprintf(how, sizeof how, "10 values with %zu thread%s", t,
                 t == 1 ? "" : "s");
        WB_PROMISE("m-threads");
        expect_creates(t < 10 ? (int)t : 10, how);
    }
}
END_TEST

START_TEST(test_large_array)
{
    /* A prime: never divides evenly (fewer values under Valgrind). */
    size_t n = wb_stress() < 1 ? 50021 : 1000003;
    long *values = malloc(n * sizeof *values);
    ck_assert_msg(values != NULL, "out of memory");
    long want = 0;
    unsigned seed = 12345;
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        values[i] = (long)(seed >> 16) % 2001 - 1000;
        want += values[i];
    }
    size_t threads[] = {1, 2, 3, 4, 7, 16};
    WB_PROMISE("slices");
    for (size_t k = 0; k < sizeof threads / sizeof threads[0]; k++) {
        long sum = 0;
        int rc = psum_sum(values, n, threads[k], NULL, NULL, &sum);
        WB_EXPECT(rc == 0 && sum == want,
                  "%zu values with %zu threads: expected 0 and sum %ld; got "
                  "%s and sum %ld",
                  n, threads[k], want, wb_errname(rc), sum);
    }
    free(values);
}
END_TEST

START_TEST(test_more_threads_than_values)
{
    long *values = iota(5);
    struct watch w;
    watch_init(&w, 5, 0);
    long sum = -1;
    wb_wrap_reset(WB_PTHREAD_CREATE, 0);
    int rc = psum_sum(values, 5, 64, watch_value, &w, &sum);
    WB_PROMISE("m-threads");
    WB_EXPECT(rc == 0 && sum == 10,
              "5 values (0..4) with 64 threads: expected 0 and sum 10; got "
              "%s and sum %ld",
              wb_errname(rc), sum);
    WB_EXPECT(w.nthreads == 5 && w.too_many == 0,
              "with 64 threads asked for and 5 values, exactly 5 threads "
              "(one value each) should run; on_value was called from %zu "
              "different threads (a joined thread's id can be reused: were "
              "they started one after the other?)",
              w.nthreads + w.too_many);
    expect_slices(&w, 5, 5);
    expect_creates(5, "5 values with 64 threads asked for");

    /* No allocation or thread per requested thread: SIZE_MAX is fine. */
    WB_PROMISE("any-nthreads");
    sum = -1;
    wb_wrap_reset(WB_PTHREAD_CREATE, 0);
    rc = psum_sum(values, 3, SIZE_MAX, NULL, NULL, &sum);
    WB_EXPECT(rc == 0 && sum == 3,
              "3 values (0, 1, 2) with nthreads = SIZE_MAX should start 3 "
              "threads and give 3; got %s and sum %ld: size anything "
              "by min(nthreads, n), not by nthreads",
              wb_errname(rc), sum);
    expect_creates(3, "3 values with nthreads = SIZE_MAX");
    watch_free(&w);
    free(values);
}
END_TEST

START_TEST(test_one_thread)
{
    long *values = iota(100);
    struct watch w;
    watch_init(&w, 100, 0);
    long sum = -1;
    int rc = psum_sum(values, 100, 1, watch_value, &w, &sum);
    WB_PROMISE("m-threads");
    WB_EXPECT(
        rc == 0 && sum == 4950,
        "0 + 1 + ... + 99 with 1 thread: expected 0 and 4950; got %s and %ld",
        wb_errname(rc), sum);
    WB_EXPECT(w.nthreads == 1 && w.calls == 100,
              "with nthreads = 1, one thread should call on_value 100 "
              "times; got %zu calls from %zu threads",
              w.calls, w.nthreads);
    WB_EXPECT(w.nthreads == 0 || !pthread_equal(w.threads[0], pthread_self()),
              "with nthreads = 1 the work should still run in a new thread "
              "(pthread_create), while the caller only waits; on_value ran "
              "on the calling thread");
    watch_free(&w);
    free(values);
}
END_TEST

START_TEST(test_empty_array)
{
    struct watch w;
    watch_init(&w, 0, 0);
    long sum = -1;
    wb_wrap_reset(WB_PTHREAD_CREATE, 0);
    int rc = psum_sum(NULL, 0, 4, watch_value, &w, &sum);
    WB_PROMISE("empty");
    WB_EXPECT(rc == 0 && sum == 0,
              "an empty array (values NULL, n 0) should sum to 0 and return "
              "0; got %s and sum %ld",
              wb_errname(rc), sum);
    WB_EXPECT(w.calls == 0 && w.nthreads == 0,
              "an empty array has no value to pass to on_value; it was "
              "called %zu times",
              w.calls);
    expect_creates(0, "an empty array");
    long one = 7;
    sum = -1;
    rc = psum_sum(&one, 0, 1, NULL, NULL, &sum);
    WB_EXPECT(rc == 0 && sum == 0,
              "n = 0 with a non-NULL array should sum to 0; got %s and "
              "sum %ld",
              wb_errname(rc), sum);
    watch_free(&w);
}
END_TEST

START_TEST(test_bad_arguments)
{
    WB_PROMISE("args-first");
    long values[3] = {1, 2, 3};
    struct {
        const long *values;
        size_t n, nthreads;
        int null_sum;
        const char *what;
    } bad[] = {
        {values, 3, 2, 1, "psum_sum(values, 3, 2, ..., sum = NULL)"},
        {values, 3, 0, 0, "psum_sum(values, 3, nthreads = 0, ...)"},
        {NULL, 3, 2, 0, "psum_sum(values = NULL, n = 3, 2, ...)"},
        {NULL, 1, 2, 0, "psum_sum(values = NULL, n = 1, 2, ...)"},
        /* The arguments come first, even for an empty array. */
        {NULL, 0, 0, 0,
         "psum_sum(NULL, 0, nthreads = 0, ...), an empty "
         "array with a bad nthreads,"},
        {NULL, 0, 4, 1,
         "psum_sum(NULL, 0, 4, ..., sum = NULL), an empty "
         "array with nowhere to store its sum,"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        long sum = 99;
        wb_wrap_reset(WB_PTHREAD_CREATE, 0);
        int rc = psum_sum(bad[i].values, bad[i].n, bad[i].nthreads, NULL, NULL,
                          bad[i].null_sum ? NULL : &sum);
        int creates = wb_wrap_calls(WB_PTHREAD_CREATE);
        WB_EXPECT(rc == EINVAL,
                  "%s should give EINVAL: the arguments are checked before "
                  "anything else, the empty array included; got %s",
                  bad[i].what, wb_errname(rc));
        WB_EXPECT(sum == 99 && creates == 0,
                  "%s must start nothing and leave *sum unchanged; it "
                  "started %d thread%s and *sum went from 99 to %ld",
                  bad[i].what, creates, creates == 1 ? "" : "s", sum);
    }
}
END_TEST

/* Array lengths whose remainder over the thread count is more than one:
 * a split that gives the whole remainder to one slice is no longer
 * within one of the others, although the sum is right. */
START_TEST(test_uneven_slices)
{
    WB_PROMISE("slices");
    static const struct {
        size_t n, threads;
    } cases[] = {{10, 4}, {11, 4}, {7, 5}, {23, 8}, {4003, 4}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        size_t n = cases[k].n, t = cases[k].threads;
        long *values = iota(n);
        struct watch w;
        watch_init(&w, n, 0);
        long sum = -1;
        int rc = psum_sum(values, n, t, watch_value, &w, &sum);
        WB_EXPECT(rc == 0 && sum == (long)(n * (n - 1) / 2),
                  "0 + 1 + ... + %zu over %zu threads: expected 0 and %ld; "
                  "got %s and %ld",
                  n - 1, t, (long)(n * (n - 1) / 2), wb_errname(rc), sum);
        WB_EXPECT(w.nthreads + w.too_many == t,
                  "%zu values over %zu threads: on_value should be called "
                  "from exactly %zu different threads; it was called from "
                  "%zu",
                  n, t, t, w.nthreads + w.too_many);
        expect_slices(&w, n, t);
        watch_free(&w);
        free(values);
    }
}
END_TEST

/* --- No memory: nothing left allocated ---------------------------------- */

/* 4 Mi values, one thread each: a per-thread array of pointers takes
 * 32 MiB, one of five-word structs (the reference's slices) 160 MiB.
 * With the address space allowed to grow by 4 MiB, no per-thread array
 * fits; with 48 MiB, an array of pointers does and the next array does
 * not, so a psum_sum() that returns ENOMEM at its second allocation
 * without freeing its first leaves 32 MiB behind. A last round sums a
 * quarter of the values, 1 Mi, with room for 44 MiB: an array of 1 Mi
 * five-word structs (40 MiB) fits and an array of 1 Mi pointers beside
 * it does not, the same leak, of 40 MiB, when the larger array comes
 * first. There every pthread_create() fails (EAGAIN), so that a
 * psum_sum() whose arrays are smaller and both fit stops at its first
 * thread instead of starting threads under the lowered limit. */
enum { BIG_N = 4 << 20 };

START_TEST(test_no_memory_leaves_nothing)
{
    WB_PROMISE("enomem");
    long *values = calloc(BIG_N, sizeof *values);
    ck_assert_msg(values != NULL, "out of memory");
    static const struct {
        size_t n, room;
        int no_threads;
        const char *what;
    } rounds[] = {
        {BIG_N, 4 << 20, 0, "no array of one entry per thread"},
        {BIG_N, 48 << 20, 0,
         "an array of 4194304 pointers but not of 4194304 "
         "larger structs"},
        {BIG_N / 4, 44 << 20, 1,
         "an array of 1048576 five-word structs but not an array of "
         "1048576 pointers beside it"},
    };
    for (size_t r = 0; r < sizeof rounds / sizeof rounds[0]; r++) {
        long sum = -1;
        size_t before = heap_in_use();
        wb_wrap_fail(WB_PTHREAD_CREATE, rounds[r].no_threads, EAGAIN,
                     rounds[r].no_threads);
        if (!heap_limit_begin(rounds[r].room))
            break; /* under Valgrind: nothing to check */
        int rc = psum_sum(values, rounds[r].n, rounds[r].n, NULL, NULL, &sum);
        heap_limit_end();
        int creates = wb_wrap_calls(WB_PTHREAD_CREATE);
        wb_wrap_reset(WB_PTHREAD_CREATE, 0);
        size_t after = heap_in_use();
        long left = after > before ? (long)(after - before) : 0;
        WB_EXPECT(rc == ENOMEM || (rc == EAGAIN && creates > 0),
                  "psum_sum() of %zu values over as many threads, with room "
                  "for %s, should fail with ENOMEM; got %s",
                  rounds[r].n, rounds[r].what, wb_errname(rc));
        WB_EXPECT(sum == -1,
                  "psum_sum() failed with %s: *sum must be left as it was "
                  "(-1); it became %ld",
                  wb_errname(rc), sum);
        WB_EXPECT(left < (1 << 20),
                  "with room for %s, psum_sum() returned %s and left %ld "
                  "bytes allocated: when an allocation fails, free the "
                  "ones that succeeded before you return",
                  rounds[r].what, wb_errname(rc), left);
    }
    free(values);
}
END_TEST

static long square_term(long value, void *ctx)
{
    return value * value * *(const long *)ctx;
}

/* Slow enough that a psum_sum() which returns without joining its
 * threads returns long before they have added their slices. */
static long slow_value(long value, void *ctx)
{
    atomic_size_t *calls = ctx;
    wb_sleep_ms(5);
    atomic_fetch_add(calls, 1);
    return value;
}

START_TEST(test_create_fails_halfway)
{
    long *values = iota(12);
    atomic_size_t calls;
    atomic_init(&calls, 0);
    long sum = -1;
    wb_wrap_reset(WB_PTHREAD_CREATE,
                  3); /* the third thread cannot be started */
    int rc = psum_sum(values, 12, 4, slow_value, &calls, &sum);
    size_t done = atomic_load(&calls);
    int creates = wb_wrap_calls(WB_PTHREAD_CREATE);
    wb_wrap_reset(WB_PTHREAD_CREATE, 0);
    WB_PROMISE("create-fails");
    WB_EXPECT(rc == EAGAIN,
              "the third pthread_create() of four failed with EAGAIN: "
              "psum_sum() should return that error; got %s",
              wb_errname(rc));
    WB_EXPECT(sum == -1,
              "on an error *sum must be left as it was (-1); it became %ld",
              sum);
    WB_EXPECT(creates == 3,
              "after the third pthread_create() failed, psum_sum() should "
              "stop starting threads; it called pthread_create() %d times",
              creates);
    WB_EXPECT(done == 6,
              "12 values over 4 threads, and the third could not be "
              "started: the two threads already running had 6 values to "
              "add, and psum_sum() must join them before it returns the "
              "error; when it returned, on_value had been called %zu "
              "times",
              done);
    free(values);
}
END_TEST

START_TEST(test_callback_terms)
{
    long values[] = {1, -2, 3, -4, 5, -6, 7};
    long want = 1 + 4 + 9 + 16 + 25 + 36 + 49;
    long scale = 1;
    WB_PROMISE("callback");
    for (size_t t = 1; t <= 8; t++) {
        long sum = 0;
        int rc = psum_sum(values, 7, t, square_term, &scale, &sum);
        /* A sum short by the last few terms means lost values, not a
         * misused callback. */
        int dropped = 0;
        long tail = 0;
        for (int k = 6; k >= 0 && rc == 0 && sum < want; k--) {
            tail += values[k] * values[k];
            if (want - sum == tail) {
                dropped = 7 - k;
                break;
            }
        }
        WB_EXPECT(rc == 0 && sum == want,
                  "with on_value returning value * value * (*ctx = 1), the "
                  "sum of 1, -2, 3, -4, 5, -6, 7 over %zu threads should be "
                  "%ld; got %s and %ld: %s",
                  t, want, wb_errname(rc), sum,
                  dropped > 0 ? "the terms of the last values are missing, "
                                "so some values were never handed to a "
                                "thread: the slices must cover all n"
                              : "add what on_value returns, and pass ctx "
                                "through unchanged");
    }
}
END_TEST

START_TEST(test_threads_run_at_once)
{
    enum { N = 4000, T = 4 };
    long *values = iota(N);
    struct watch w;
    /* Each thread's first value waits until all T threads have arrived:
     * that happens only if the T threads really run at the same time. */
    watch_init(&w, N, T);
    long sum = -1;
    int rc = psum_sum(values, N, T, watch_value, &w, &sum);
    WB_PROMISE("at-once");
    WB_EXPECT(
        rc == 0 && sum == (long)N * (N - 1) / 2,
        "0 + ... + %d over %d threads: expected 0 and %ld; got %s and %ld",
        N - 1, T, (long)N * (N - 1) / 2, wb_errname(rc), sum);
    WB_EXPECT(!w.gate_broken,
              "the %d threads did not all run at the same time: the first "
              "one waited 1 s for the others to call on_value. Start every "
              "thread before joining the first one",
              T);
    WB_EXPECT(w.nthreads + w.too_many == T,
              "%d values over %d threads: on_value should be called from "
              "exactly %d different threads; it was called from %zu",
              N, T, T, w.nthreads + w.too_many);
    WB_PROMISE("m-threads");
    for (size_t t = 0; t < w.nthreads; t++)
        WB_EXPECT(!pthread_equal(w.threads[t], pthread_self()),
                  "on_value ran on the calling thread: the caller should "
                  "only start, join and combine");
    WB_PROMISE("slices");
    expect_slices(&w, N, T);
    watch_free(&w);
    free(values);
}
END_TEST

/* --- Partial sums that meet: a shared total needs a lock ----------------- */

/* Each thread of the race test gets one value. Its callback waits until
 * every thread has arrived, and then until one instant that the last to
 * arrive names, a little in the future; so the threads leave their
 * callbacks within a few nanoseconds of each other and store their
 * results at the same moment, round after round. Partial sums kept apart
 * and added up after the joins are right whatever the timing; a total
 * the threads add to without a lock loses one of the additions, usually
 * within a few hundred rounds (on two idle cores). */
enum { MEET_THREADS = 2, MEET_ROUNDS = 2000 };

struct meeting {
    atomic_int arrived;
    atomic_llong release_ns; /* 0 until the last thread has arrived */
    int64_t give_up_ns;      /* a thread that waits longer stops waiting */
};

static long meet_value(long value, void *ctx)
{
    struct meeting *m = ctx;
    meeting_attend(&m->arrived, MEET_THREADS, &m->release_ns, m->give_up_ns);
    return value;
}

START_TEST(test_results_combined_without_race)
{
    long values[MEET_THREADS];
    long want = 0;
    for (int i = 0; i < MEET_THREADS; i++) {
        values[i] = 1L << (8 * i); /* a lost term shows in the total */
        want += values[i];
    }
    WB_PROMISE("own-partial");
    long rounds = wb_scaled(MEET_ROUNDS, 20), lost_in = -1, got = 0;
    int64_t end = wb_now_ns() + 1500 * 1000000LL;
    long r;
    for (r = 0; r < rounds && lost_in < 0 && wb_now_ns() < end; r++) {
        struct meeting m;
        atomic_init(&m.arrived, 0);
        atomic_init(&m.release_ns, 0);
        m.give_up_ns = wb_now_ns() + 20 * 1000000LL;
        long sum = -1;
        int rc =
            psum_sum(values, MEET_THREADS, MEET_THREADS, meet_value, &m, &sum);
        WB_EXPECT(rc == 0, "psum_sum() should return 0; got %s",
                  wb_errname(rc));
        if (sum != want) {
            lost_in = r;
            got = sum;
        }
    }
    WB_EXPECT(lost_in < 0,
              "%d threads, one value each, finished at the same moment, "
              "over and over: the sum should be %ld every time; in round "
              "%ld it came out %ld. The threads added their results to one "
              "shared total without a lock, and one addition overwrote the "
              "other: give each thread a result of its own, and add them "
              "up after pthread_join()",
              MEET_THREADS, want, lost_in + 1, got);
}
END_TEST

Suite *wb_suite(void)
{
    threadwatch_start_machinery(); /* ThreadSanitizer's helper */
    Suite *s = wb_begin("psum", "chapters/03-threads/chapter.md");
    WB_ADD(s, test_sum_with_remainder, "Parallel sum");
    WB_ADD(s, test_large_array, "Creating and joining threads");
    WB_ADD(s, test_more_threads_than_values, "Parallel sum");
    WB_ADD(s, test_one_thread, "Creating and joining threads");
    WB_ADD(s, test_empty_array, "Parallel sum");
    WB_ADD(s, test_create_fails_halfway, "Parallel sum");
    WB_ADD(s, test_bad_arguments, "Parallel sum");
    WB_ADD(s, test_uneven_slices, "Parallel sum");
    WB_ADD(s, test_no_memory_leaves_nothing, "Parallel sum");
    WB_ADD(s, test_callback_terms, "Arguments, results and lifetimes");
    WB_ADD_TIMEOUT(s, test_threads_run_at_once, "Creating and joining threads",
                   4.0);
    WB_ADD_TIMEOUT(s, test_results_combined_without_race, "Data races", 4.0);
    return s;
}
