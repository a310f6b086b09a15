/*
 * Tests of counter (exercises/03-threads/counter.h): a counter with
 * statistics shared by many threads.
 *
 * The threads of a test wait at a barrier and then all add at once, for
 * long enough that on two cores their updates overlap thousands of times:
 * an update made without the lock is lost within the first rounds. The
 * snapshot test adds one constant value from several threads while the
 * main thread takes snapshots: a snapshot copied piece by piece shows a
 * sum that does not match its count.
 */
#include "wb.h"
#include "counter.h"
#include "threadwatch.h"
#include "heap.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

static counter *new_counter(void)
{
    counter *c = NULL;
    int rc = counter_create(&c);
    WB_EXPECT(rc == 0 && c != NULL,
              "counter_create() should return 0 and a counter; got %s",
              wb_errname(rc));
    return c;
}

static counter_stats snapshot(counter *c)
{
    counter_stats s;
    memset(&s, 0x5a, sizeof s);
    int rc = counter_snapshot(c, &s);
    WB_EXPECT(rc == 0, "counter_snapshot() should return 0; got %s",
              wb_errname(rc));
    return s;
}

START_TEST(test_new_counter_is_empty)
{
    WB_PROMISE("empty");
    counter *c = new_counter();
    counter_stats s = snapshot(c);
    WB_EXPECT(s.count == 0 && s.min == 0 && s.max == 0 && s.sum == 0,
              "a new counter should have count, min, max and sum all 0; "
              "got count %llu, min %ld, max %ld, sum %lld",
              s.count, s.min, s.max, s.sum);
    counter_destroy(c);
    counter_destroy(NULL); /* does nothing */
}
END_TEST

START_TEST(test_stats_one_thread)
{
    WB_PROMISE("stats");
    counter *c = new_counter();
    long values[] = {5, -3, 10, 0, 7};
    for (size_t i = 0; i < 5; i++) {
        int rc = counter_add(c, values[i]);
        WB_EXPECT(rc == 0, "counter_add(%ld) should return 0; got %s",
                  values[i], wb_errname(rc));
    }
    counter_stats s = snapshot(c);
    WB_EXPECT(s.count == 5 && s.min == -3 && s.max == 10 && s.sum == 19,
              "after adding 5, -3, 10, 0, 7: expected count 5, min -3, max "
              "10, sum 19; got count %llu, min %ld, max %ld, sum %lld",
              s.count, s.min, s.max, s.sum);
    counter_destroy(c);

    /* A first value that is negative must become both min and max. */
    c = new_counter();
    WB_EXPECT(counter_add(c, -42) == 0, "counter_add(-42) should return 0");
    s = snapshot(c);
    WB_EXPECT(s.count == 1 && s.min == -42 && s.max == -42 && s.sum == -42,
              "after adding only -42: expected count 1, min -42, max -42, "
              "sum -42; got count %llu, min %ld, max %ld, sum %lld",
              s.count, s.min, s.max, s.sum);
    counter_destroy(c);
}
END_TEST

START_TEST(test_bad_arguments)
{
    WB_PROMISE("einval");
    int rc = counter_create(NULL);
    WB_EXPECT(rc == EINVAL, "counter_create(NULL) should give EINVAL; got %s",
              wb_errname(rc));
    rc = counter_add(NULL, 1);
    WB_EXPECT(rc == EINVAL, "counter_add(NULL, 1) should give EINVAL; got %s",
              wb_errname(rc));
    counter_stats s;
    rc = counter_snapshot(NULL, &s);
    WB_EXPECT(rc == EINVAL,
              "counter_snapshot(NULL, &s) should give EINVAL; "
              "got %s",
              wb_errname(rc));
    counter *c = new_counter();
    rc = counter_snapshot(c, NULL);
    WB_EXPECT(rc == EINVAL,
              "counter_snapshot(c, NULL) should give EINVAL; "
              "got %s",
              wb_errname(rc));
    s = snapshot(c);
    WB_EXPECT(s.count == 0,
              "calls refused with EINVAL must record nothing; the counter "
              "has count %llu",
              s.count);
    counter_destroy(c);
}
END_TEST

/* A snapshot taken on another thread, given 1 s: a counter_add() that
 * returned ERANGE with the mutex still locked makes it wait for ever. */
struct late_snapshot {
    counter *c;
    counter_stats s;
    int rc;
    atomic_int done;
};

static void *take_snapshot(void *arg)
{
    struct late_snapshot *l = arg;
    l->rc = counter_snapshot(l->c, &l->s);
    atomic_store(&l->done, 1);
    return NULL;
}

static counter_stats snapshot_after_erange(counter *c)
{
    struct late_snapshot l = {.c = c};
    atomic_init(&l.done, 0);
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, take_snapshot, &l), 0);
    int64_t end = wb_now_ns() + 1000 * 1000000LL;
    while (!atomic_load(&l.done) && wb_now_ns() < end)
        wb_sleep_ms(1);
    WB_EXPECT(atomic_load(&l.done),
              "after counter_add() returned ERANGE, counter_snapshot() "
              "waited 1 s for the mutex: the ERANGE path must unlock it, "
              "like every other return");
    pthread_join(t, NULL);
    WB_EXPECT(l.rc == 0, "counter_snapshot() should return 0; got %s",
              wb_errname(l.rc));
    return l.s;
}

START_TEST(test_sum_out_of_range)
{
    WB_PROMISE("erange");
    counter *c = new_counter();
    int rc = counter_add(c, LONG_MAX);
    WB_EXPECT(rc == 0,
              "counter_add(LONG_MAX) on an empty counter should return 0 (a "
              "sum of LLONG_MAX or less fits); got %s",
              wb_errname(rc));
    int wide = LONG_MAX < LLONG_MAX; /* 0 where long is as wide as long long */
    rc = counter_add(c, LONG_MAX);
    WB_EXPECT(rc == (wide ? 0 : ERANGE),
              "adding LONG_MAX to a sum of LONG_MAX: expected %s; got %s",
              wide ? "0" : "ERANGE (the sum would pass LLONG_MAX)",
              wb_errname(rc));
    if (!wide) {
        counter_stats s = snapshot_after_erange(c);
        WB_EXPECT(s.count == 1 && s.sum == LONG_MAX,
                  "a value refused with ERANGE must leave the counter as it "
                  "was (count 1, sum LONG_MAX); got count %llu, sum %lld",
                  s.count, s.sum);
        /* A refused value below the minimum must not become the min. */
        rc = counter_add(c, 1);
        WB_EXPECT(rc == ERANGE,
                  "adding 1 to a sum of LLONG_MAX: expected ERANGE; got %s",
                  wb_errname(rc));
        s = snapshot(c);
        WB_EXPECT(s.count == 1 && s.min == LONG_MAX && s.max == LONG_MAX &&
                      s.sum == LONG_MAX,
                  "after LONG_MAX, then 1 refused with ERANGE: expected "
                  "count 1, min and max LONG_MAX, sum LONG_MAX; got count "
                  "%llu, min %ld, max %ld, sum %lld. Test the range before "
                  "you change any field, min and max included",
                  s.count, s.min, s.max, s.sum);
        rc = counter_add(c, LONG_MIN);
        WB_EXPECT(rc == 0,
                  "LONG_MAX + LONG_MIN = -1 fits: expected 0; got "
                  "%s (after an ERANGE the counter must still be usable, "
                  "its mutex unlocked)",
                  wb_errname(rc));
        rc = counter_add(c, LONG_MIN);
        WB_EXPECT(rc == ERANGE,
                  "adding LONG_MIN to a sum of -1 would go below LLONG_MIN: "
                  "expected ERANGE; got %s",
                  wb_errname(rc));
        s = snapshot(c);
        WB_EXPECT(s.count == 2 && s.min == LONG_MIN && s.max == LONG_MAX &&
                      s.sum == -1,
                  "after LONG_MAX, LONG_MIN (and three values refused with "
                  "ERANGE): expected count 2, min LONG_MIN, max LONG_MAX, "
                  "sum -1; got count %llu, min %ld, max %ld, sum %lld",
                  s.count, s.min, s.max, s.sum);
        counter_destroy(c);

        /* Both edges fit exactly; a refused value above the maximum must
         * not become the max. */
        c = new_counter();
        rc = counter_add(c, LONG_MIN);
        WB_EXPECT(rc == 0,
                  "a sum of exactly LLONG_MIN fits: adding LONG_MIN to an "
                  "empty counter should return 0; got %s",
                  wb_errname(rc));
        rc = counter_add(c, -1);
        WB_EXPECT(rc == ERANGE,
                  "adding -1 to a sum of LLONG_MIN: expected ERANGE; got %s",
                  wb_errname(rc));
        rc = counter_add(c, LONG_MAX);
        WB_EXPECT(rc == 0, "LONG_MIN + LONG_MAX = -1 fits: expected 0; got %s",
                  wb_errname(rc));
        s = snapshot(c);
        WB_EXPECT(s.count == 2 && s.min == LONG_MIN && s.max == LONG_MAX &&
                      s.sum == -1,
                  "after LONG_MIN, -1 (refused with ERANGE), LONG_MAX: "
                  "expected count 2, min LONG_MIN, max LONG_MAX, sum -1; got "
                  "count %llu, min %ld, max %ld, sum %lld",
                  s.count, s.min, s.max, s.sum);
    }
    counter_destroy(c);
}
END_TEST

/* --- Memory: nothing leaked, on success or failure ----------------------- */

enum { CYCLES = 256 };

START_TEST(test_create_fails_cleanly)
{
    WB_PROMISE("create-fails");
    counter *untouched = (counter *)&untouched, *c = untouched;
    size_t before = 0;
    for (int i = 0; i < HEAP_WARMUP + CYCLES; i++) {
        if (i == HEAP_WARMUP)
            before = heap_in_use();
        wb_wrap_reset(WB_PTHREAD_MUTEX_INIT, 1);
        int rc = counter_create(&c);
        int inits = wb_wrap_calls(WB_PTHREAD_MUTEX_INIT);
        wb_wrap_reset(WB_PTHREAD_MUTEX_INIT, 0);
        if (inits == 0) {
            /* A mutex set up without pthread_mutex_init(): this failure
             * cannot happen, and there is nothing more to check. */
            WB_EXPECT(rc == 0 && c != untouched,
                      "counter_create() should return 0 and a counter; got "
                      "%s",
                      wb_errname(rc));
            counter_destroy(c);
            return;
        }
        WB_EXPECT(rc == ENOMEM,
                  "pthread_mutex_init() failed with ENOMEM: counter_create() "
                  "should return that error; got %s",
                  wb_errname(rc));
        WB_EXPECT(c == untouched,
                  "counter_create() failed, and must leave *out as it was; "
                  "it changed it to %p. Store the counter in *out only once "
                  "nothing can fail any more",
                  (void *)c);
    }
    size_t after = heap_in_use();
    long left = after > before ? (long)(after - before) : 0;
    WB_EXPECT(left < CYCLES * 16,
              "%d calls of counter_create() failed (pthread_mutex_init() "
              "returned ENOMEM) and left %ld bytes allocated: free the "
              "counter before you return the error",
              CYCLES, left);
}
END_TEST

START_TEST(test_destroy_frees_everything)
{
    WB_PROMISE("destroy-frees");
    size_t before = 0;
    for (int i = 0; i < HEAP_WARMUP + CYCLES; i++) {
        if (i == HEAP_WARMUP)
            before = heap_in_use();
        counter *c = new_counter();
        WB_EXPECT(counter_add(c, i) == 0, "counter_add() should return 0");
        counter_destroy(c);
    }
    size_t after = heap_in_use();
    long left = after > before ? (long)(after - before) : 0;
    WB_EXPECT(left < CYCLES * 16,
              "%d counters were created and destroyed, and %ld bytes are "
              "still allocated: counter_destroy() must free what "
              "counter_create() allocated (and destroy the mutex)",
              CYCLES, left);
    counter_destroy(NULL); /* does nothing */
}
END_TEST

START_TEST(test_counters_are_separate)
{
    WB_PROMISE("stats");
    counter *a = new_counter();
    counter *b = new_counter();
    WB_EXPECT(counter_add(a, 1) == 0 && counter_add(a, 2) == 0 &&
                  counter_add(b, 100) == 0,
              "counter_add() should return 0");
    counter_stats sa = snapshot(a), sb = snapshot(b);
    WB_EXPECT(sa.count == 2 && sa.sum == 3 && sb.count == 1 && sb.sum == 100,
              "two counters must not share state: expected a = {count 2, "
              "sum 3} and b = {count 1, sum 100}; got a = {%llu, %lld} and "
              "b = {%llu, %lld}",
              sa.count, sa.sum, sb.count, sb.sum);
    counter_destroy(a);
    counter_destroy(b);
}
END_TEST

/* --- Many threads adding at once ---------------------------------------- */

/* The adders run for a fixed time rather than a fixed number of adds, so
 * that even on one busy core the scheduler preempts them a few hundred
 * times in the middle of an add: without the lock, those preemptions
 * lose updates. Each thread counts what it added itself. */
enum { ADDERS = 8, ADD_MS = 150 };

struct adder {
    counter *c;
    pthread_barrier_t *start;
    atomic_int *stop;
    long base; /* this thread adds base + (i % 7) - 3 */
    unsigned long long count;
    long long sum;
    long min, max;
    int rc; /* the first error counter_add() returned, or 0 */
};

static void *adder_main(void *arg)
{
    struct adder *a = arg;
    pthread_barrier_wait(a->start);
    for (long i = 0; !atomic_load_explicit(a->stop, memory_order_relaxed);
         i++) {
        long v = a->base + (i % 7) - 3;
        int rc = counter_add(a->c, v);
        if (rc != 0) {
            if (a->rc == 0)
                a->rc = rc;
            continue;
        }
        if (a->count == 0 || v < a->min)
            a->min = v;
        if (a->count == 0 || v > a->max)
            a->max = v;
        a->count++;
        a->sum += v;
    }
    return NULL;
}

START_TEST(test_many_threads_exact)
{
    WB_PROMISE("no-lost-update");
    counter *c = new_counter();
    pthread_barrier_t start;
    ck_assert_int_eq(pthread_barrier_init(&start, NULL, ADDERS + 1), 0);
    atomic_int stop = 0;
    struct adder adders[ADDERS];
    pthread_t tids[ADDERS];
    for (int t = 0; t < ADDERS; t++) {
        adders[t] =
            (struct adder){c, &start, &stop, 2000L * t - 7000, 0, 0, 0, 0, 0};
        ck_assert_int_eq(pthread_create(&tids[t], NULL, adder_main, &adders[t]),
                         0);
    }
    long add_ms = wb_scaled(ADD_MS, 20); /* shorter under Valgrind */
    pthread_barrier_wait(&start);
    wb_sleep_ms(add_ms);
    atomic_store(&stop, 1);
    unsigned long long want_count = 0;
    long long want_sum = 0;
    long want_min = 0, want_max = 0;
    for (int t = 0; t < ADDERS; t++) {
        ck_assert_int_eq(pthread_join(tids[t], NULL), 0);
        WB_EXPECT(adders[t].rc == 0,
                  "counter_add() from thread %d returned %s; expected 0", t,
                  wb_errname(adders[t].rc));
        if (adders[t].count == 0)
            continue;
        if (want_count == 0 || adders[t].min < want_min)
            want_min = adders[t].min;
        if (want_count == 0 || adders[t].max > want_max)
            want_max = adders[t].max;
        want_count += adders[t].count;
        want_sum += adders[t].sum;
    }
    pthread_barrier_destroy(&start);
    counter_stats s = snapshot(c);
    counter_destroy(c);
    WB_EXPECT(s.count == want_count && s.sum == want_sum,
              "%d threads added values at the same time for %ld ms, %llu "
              "values in all: expected count %llu and sum %lld; got count "
              "%llu (%lld lost) and sum %lld. An update made without the "
              "mutex can overwrite another thread's update",
              ADDERS, add_ms, want_count, want_count, want_sum, s.count,
              (long long)(want_count - s.count), s.sum);
    WB_EXPECT(s.min == want_min && s.max == want_max,
              "the values added ranged from %ld to %ld; got min %ld and max "
              "%ld",
              want_min, want_max, s.min, s.max);
}
END_TEST

/* --- Snapshots taken while threads add ---------------------------------- */

enum { WRITERS = 4, VALUE = 3, SNAP_MS = 150 };

struct writer {
    counter *c;
    atomic_int *stop;
    int rc;
};

static void *writer_main(void *arg)
{
    struct writer *w = arg;
    while (!atomic_load_explicit(w->stop, memory_order_relaxed)) {
        int rc = counter_add(w->c, VALUE);
        if (rc != 0 && w->rc == 0)
            w->rc = rc;
    }
    return NULL;
}

START_TEST(test_snapshot_is_one_moment)
{
    WB_PROMISE("one-moment");
    counter *c = new_counter();
    atomic_int stop = 0;
    struct writer writers[WRITERS];
    pthread_t tids[WRITERS];
    for (int t = 0; t < WRITERS; t++) {
        writers[t] = (struct writer){c, &stop, 0};
        ck_assert_int_eq(
            pthread_create(&tids[t], NULL, writer_main, &writers[t]), 0);
    }
    /* Every value added is VALUE, so in a snapshot of one moment
     * sum == VALUE * count and min == max == VALUE (once count > 0). */
    counter_stats bad = {0, 0, 0, 0};
    int torn = 0, wrong_minmax = 0, rc = 0;
    unsigned long long last = 0, backwards = 0, snapshots = 0;
    int64_t end = wb_now_ns() + wb_scaled(SNAP_MS, 20) * 1000000LL;
    while (!torn && !wrong_minmax && wb_now_ns() < end) {
        counter_stats s;
        rc = counter_snapshot(c, &s);
        if (rc != 0)
            break;
        snapshots++;
        if (s.sum != (long long)VALUE * (long long)s.count) {
            torn = 1;
            bad = s;
        } else if (s.count > 0 && (s.min != VALUE || s.max != VALUE)) {
            wrong_minmax = 1;
            bad = s;
        }
        if (s.count < last)
            backwards = last;
        last = s.count;
    }
    atomic_store(&stop, 1);
    for (int t = 0; t < WRITERS; t++)
        ck_assert_int_eq(pthread_join(tids[t], NULL), 0);
    counter_destroy(c);
    WB_EXPECT(rc == 0, "counter_snapshot() should return 0; got %s",
              wb_errname(rc));
    for (int t = 0; t < WRITERS; t++)
        WB_EXPECT(writers[t].rc == 0, "counter_add() returned %s",
                  wb_errname(writers[t].rc));
    WB_EXPECT(!torn,
              "every value added was %d, so a snapshot must have sum == %d "
              "* count; snapshot %llu had count %llu and sum %lld (%d * "
              "count = %lld). The four fields must change together and be "
              "read together: update all of them in one critical section "
              "in counter_add(), and copy all of them in one in "
              "counter_snapshot()",
              VALUE, VALUE, snapshots, bad.count, bad.sum, VALUE,
              (long long)VALUE * (long long)bad.count);
    WB_PROMISE("stats");
    WB_EXPECT(!wrong_minmax,
              "every value added was %d, so min and max must both be %d "
              "once anything was added; a snapshot had count %llu, min %ld "
              "and max %ld",
              VALUE, VALUE, bad.count, bad.min, bad.max);
    WB_EXPECT(backwards == 0,
              "snapshots went backwards: count %llu, then %llu later",
              backwards, last);
}
END_TEST

/* One writer adds 1, -2, 3, -4, 5, ...: after k values the smallest, the
 * largest and the sum are known functions of k, and all three keep
 * moving. So every snapshot's min, max and sum must be exactly those of
 * its own count: fields copied at different moments (or kept under
 * different locks) disagree. */
static counter_stats after_values(unsigned long long k)
{
    counter_stats s = {0, 0, 0, 0};
    if (k == 0)
        return s;
    s.count = k;
    s.max = (long)(k % 2 ? k : k - 1);
    s.min = k == 1 ? 1 : -(long)(k % 2 ? k - 1 : k);
    s.sum = k % 2 ? (long long)(k + 1) / 2 : -(long long)(k / 2);
    return s;
}

static void *alternating_writer(void *arg)
{
    struct writer *w = arg;
    for (long i = 1; !atomic_load_explicit(w->stop, memory_order_relaxed);
         i++) {
        int rc = counter_add(w->c, i % 2 ? i : -i);
        if (rc != 0) {
            w->rc = rc;
            break;
        }
    }
    return NULL;
}

START_TEST(test_snapshot_min_max_of_that_moment)
{
    WB_PROMISE("one-moment");
    counter *c = new_counter();
    atomic_int stop = 0;
    struct writer w = {c, &stop, 0};
    pthread_t tid;
    ck_assert_int_eq(pthread_create(&tid, NULL, alternating_writer, &w), 0);
    counter_stats bad = {0, 0, 0, 0};
    int mixed = 0, rc = 0;
    unsigned long long snapshots = 0;
    int64_t end = wb_now_ns() + wb_scaled(SNAP_MS, 20) * 1000000LL;
    while (!mixed && wb_now_ns() < end) {
        counter_stats s;
        rc = counter_snapshot(c, &s);
        if (rc != 0)
            break;
        snapshots++;
        counter_stats want = after_values(s.count);
        if (s.min != want.min || s.max != want.max || s.sum != want.sum) {
            mixed = 1;
            bad = s;
        }
    }
    atomic_store(&stop, 1);
    ck_assert_int_eq(pthread_join(tid, NULL), 0);
    counter_destroy(c);
    WB_EXPECT(
        rc == 0 && w.rc == 0,
        "counter_snapshot() and counter_add() should return 0; got %s and %s",
        wb_errname(rc), wb_errname(w.rc));
    counter_stats want = after_values(bad.count);
    WB_EXPECT(!mixed,
              "one thread added 1, -2, 3, -4, ... while snapshots were "
              "taken. Snapshot %llu had count %llu, so min %ld, max %ld and "
              "sum %lld; it had min %ld, max %ld and sum %lld: its fields "
              "come from different moments. Update and copy all four "
              "fields under one mutex, in one critical section",
              snapshots, bad.count, want.min, want.max, want.sum, bad.min,
              bad.max, bad.sum);
}
END_TEST

Suite *wb_suite(void)
{
    threadwatch_start_machinery(); /* ThreadSanitizer's helper */
    Suite *s = wb_begin("counter", "chapters/03-threads/chapter.md");
    WB_ADD(s, test_new_counter_is_empty, "Mutexes");
    WB_ADD(s, test_stats_one_thread, "Mutexes");
    WB_ADD(s, test_bad_arguments, "Mutexes");
    WB_ADD(s, test_sum_out_of_range, "A thread-safe counter with statistics");
    WB_ADD(s, test_counters_are_separate, "Mutexes");
    WB_ADD(s, test_create_fails_cleanly,
           "A thread-safe counter with statistics");
    WB_ADD(s, test_destroy_frees_everything,
           "A thread-safe counter with statistics");
    WB_ADD_TIMEOUT(s, test_many_threads_exact, "Data races", 5.0);
    WB_ADD_TIMEOUT(s, test_snapshot_is_one_moment, "Mutexes", 5.0);
    WB_ADD_TIMEOUT(s, test_snapshot_min_max_of_that_moment, "Mutexes", 5.0);
    return s;
}
