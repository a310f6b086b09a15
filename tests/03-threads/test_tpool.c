/*
 * Tests of tpool (exercises/03-threads/tpool.h): a fixed pool of worker
 * threads fed by a bounded queue.
 *
 * Most tasks here are "gated": they record that they started, then wait
 * until the test opens a gate. While the gate is closed the test can
 * count exactly how many tasks are running at once, and prove that a
 * call (tpool_wait, tpool_destroy, a submit to a full queue) is blocked
 * rather than merely slow: the thread making the call is seen asleep in
 * /proc/self/task/TID/stat. Another kind of task waits at a meeting point
 * until N tasks have arrived, which only happens if N run at once.
 *
 * Linux-only: it reads /proc and calls gettid through syscall()
 * (tests/support/threadwatch.c).
 */
#define _GNU_SOURCE
#include "wb.h"
#include "tpool.h"
#include "meeting.h"
#include "timedwait.h"
#include "heap.h"
#include "threadwatch.h"
#include "trace.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static tpool *new_pool(size_t nworkers, size_t capacity)
{
    tpool *p = NULL;
    int rc = tpool_create(&p, nworkers, capacity);
    WB_EXPECT(rc == 0 && p != NULL,
              "tpool_create(&p, %zu, %zu) should return 0 and a pool; got %s",
              nworkers, capacity, wb_errname(rc));
    return p;
}

static void submit_ok(tpool *p, tpool_task_fn fn, void *ctx)
{
    int rc = tpool_submit(p, fn, ctx);
    WB_EXPECT(rc == 0, "tpool_submit() should return 0; got %s",
              wb_errname(rc));
}

static void destroy_ok(tpool *p)
{
    int rc = tpool_destroy(p);
    WB_EXPECT(rc == 0, "tpool_destroy() should return 0; got %s",
              wb_errname(rc));
}

/* --- The board: what the tasks of one test report ------------------------- */

enum { MAX_TASKS = 64 };

struct board {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    int started, running, max_running, finished;
    int gate_open;
    int meet;        /* meeting tasks wait until this many arrived */
    int met_timeout; /* a meeting task gave up waiting */
    int runs[MAX_TASKS];
    pid_t tid[MAX_TASKS]; /* the thread that ran each task */
    tpool *pool;          /* for tasks that call the pool */
    tpool *other;         /* for tasks that call another pool */
    int rc_wait, rc_destroy, rc_submit;
    int waited;                 /* tasks back from tpool_wait() */
    int rcs_wait[MAX_TASKS];    /* what each task's tpool_wait() gave */
    int rcs_destroy[MAX_TASKS]; /* what each task's tpool_destroy() gave */
};

struct job {
    struct board *b;
    int id;
};

static void board_init(struct board *b)
{
    memset(b, 0, sizeof *b);
    ck_assert_int_eq(pthread_mutex_init(&b->lock, NULL), 0);
    ck_assert_int_eq(pthread_cond_init(&b->changed, NULL), 0);
}

static void board_free(struct board *b)
{
    pthread_cond_destroy(&b->changed);
    pthread_mutex_destroy(&b->lock);
}

static void task_begin(struct board *b)
{
    b->started++;
    b->running++;
    if (b->running > b->max_running)
        b->max_running = b->running;
    pthread_cond_broadcast(&b->changed);
}

static void task_end(struct board *b, int id)
{
    b->running--;
    b->finished++;
    if (id >= 0 && id < MAX_TASKS)
        b->runs[id]++;
    pthread_cond_broadcast(&b->changed);
}

/* With b->lock held: wait for the gate to open, 3 s at most, so that a
 * broken pool cannot hang a task forever. */
static void wait_for_gate(struct board *b)
{
    struct timespec end = timedwait_deadline(3000);
    while (!b->gate_open &&
           pthread_cond_timedwait(&b->changed, &b->lock, &end) != ETIMEDOUT)
        continue;
}

/* Start, wait for the gate, finish. */
static void on_gated(void *ctx)
{
    struct job *j = ctx;
    struct board *b = j->b;
    pthread_mutex_lock(&b->lock);
    task_begin(b);
    wait_for_gate(b);
    task_end(b, j->id);
    pthread_mutex_unlock(&b->lock);
}

/* Start, wait until b->meet tasks have started (1.5 s at most), finish. */
static void on_meet(void *ctx)
{
    struct job *j = ctx;
    struct board *b = j->b;
    pthread_mutex_lock(&b->lock);
    task_begin(b);
    struct timespec end = timedwait_deadline(1500);
    while (b->started < b->meet && !b->met_timeout)
        if (pthread_cond_timedwait(&b->changed, &b->lock, &end) == ETIMEDOUT)
            b->met_timeout = 1;
    pthread_cond_broadcast(&b->changed);
    task_end(b, j->id);
    pthread_mutex_unlock(&b->lock);
}

static void open_gate(struct board *b)
{
    timedwait_set(&b->lock, &b->changed, &b->gate_open, 1);
}

/* Wait until *field (a counter of @p b) reaches @p want, at most @p ms. */
static int wait_board(struct board *b, const int *field, int want, long ms)
{
    return timedwait_counter(&b->lock, &b->changed, field, want, ms);
}

static int read_board(struct board *b, const int *field)
{
    pthread_mutex_lock(&b->lock);
    int v = *field;
    pthread_mutex_unlock(&b->lock);
    return v;
}

/* --- A thread that makes one blocking call ------------------------------- */

struct caller {
    tpool *pool;
    struct board *b;
    struct job *job; /* for a submit */
    int rc;
    int finished_seen; /* board->finished right after the call */
    atomic_int tid;
    atomic_int done;
};

static void announce(struct caller *c)
{
    atomic_store(&c->tid, (int)threadwatch_self());
}

static void called(struct caller *c, int rc)
{
    c->rc = rc;
    c->finished_seen = read_board(c->b, &c->b->finished);
    atomic_store(&c->done, 1);
}

static void *call_wait(void *arg)
{
    struct caller *c = arg;
    announce(c);
    called(c, tpool_wait(c->pool));
    return NULL;
}

static void *call_destroy(void *arg)
{
    struct caller *c = arg;
    announce(c);
    called(c, tpool_destroy(c->pool));
    return NULL;
}

static void *call_submit(void *arg)
{
    struct caller *c = arg;
    announce(c);
    called(c, tpool_submit(c->pool, on_gated, c->job));
    return NULL;
}

/* 1 once the caller is asleep in its call, 0 if the call returned; fails
 * the test if neither happens within 2 s. */
static int blocked_in_call(struct caller *c)
{
    int blocked = threadwatch_blocked(&c->tid, &c->done);
    WB_EXPECT(blocked >= 0,
              "a thread calling the pool neither returned nor went to "
              "sleep within 2 s: is it spinning in a loop instead of "
              "waiting on a condition variable?");
    return blocked == 1;
}

/* --- Tests ------------------------------------------------------------------
 */

START_TEST(test_bad_arguments)
{
    WB_PROMISE("einval");
    tpool *p = NULL;
    int rc = tpool_create(NULL, 2, 4);
    WB_EXPECT(rc == EINVAL,
              "tpool_create(NULL, 2, 4) should give EINVAL; "
              "got %s",
              wb_errname(rc));
    rc = tpool_create(&p, 0, 4);
    WB_EXPECT(rc == EINVAL && p == NULL,
              "a pool of 0 workers could run nothing: tpool_create(&p, 0, "
              "4) should give EINVAL and leave p alone; got %s",
              wb_errname(rc));
    rc = tpool_create(&p, 2, 0);
    WB_EXPECT(rc == EINVAL && p == NULL,
              "a queue of capacity 0 could hold no task: tpool_create(&p, "
              "2, 0) should give EINVAL and leave p alone; got %s",
              wb_errname(rc));
    struct board b;
    board_init(&b);
    struct job j = {&b, 0};
    rc = tpool_submit(NULL, on_gated, &j);
    WB_EXPECT(rc == EINVAL,
              "tpool_submit(NULL, ...) should give EINVAL; got "
              "%s",
              wb_errname(rc));
    rc = tpool_wait(NULL);
    WB_EXPECT(rc == EINVAL, "tpool_wait(NULL) should give EINVAL; got %s",
              wb_errname(rc));
    rc = tpool_destroy(NULL);
    WB_EXPECT(rc == 0,
              "tpool_destroy(NULL) should do nothing and return 0; "
              "got %s",
              wb_errname(rc));
    p = new_pool(2, 4);
    rc = tpool_submit(p, NULL, &j);
    WB_EXPECT(rc == EINVAL,
              "tpool_submit(p, NULL, ctx) should give EINVAL; "
              "got %s",
              wb_errname(rc));
    rc = tpool_wait(p);
    WB_EXPECT(rc == 0,
              "tpool_wait() with nothing submitted should return 0 "
              "at once; got %s",
              wb_errname(rc));
    destroy_ok(p);
    board_free(&b);
}
END_TEST

static void on_count(void *ctx)
{
    atomic_fetch_add((atomic_int *)ctx, 1);
}

enum { SUBMITTERS = 4 };

/* Tasks in the big tests: 3000, fewer under Valgrind (wb_stress()). */
static int many_tasks(void)
{
    int n = (int)wb_scaled(3000, 40 * SUBMITTERS);
    return n - n % SUBMITTERS; /* the submitters share them evenly */
}

struct submitter {
    tpool *pool;
    atomic_int *runs; /* one counter per task */
    int first, count;
    int rc;
};

static void *submitter_main(void *arg)
{
    struct submitter *s = arg;
    for (int i = s->first; i < s->first + s->count; i++) {
        int rc = tpool_submit(s->pool, on_count, &s->runs[i]);
        if (rc != 0 && s->rc == 0)
            s->rc = rc;
    }
    return NULL;
}

static void expect_each_once(atomic_int *runs, int n, const char *how)
{
    /* Read each count once: a broken pool may still be running tasks. */
    int lost = 0, twice = 0, first_bad = -1, first_bad_runs = 0;
    for (int i = 0; i < n; i++) {
        int r = atomic_load(&runs[i]);
        lost += r == 0;
        twice += r > 1;
        if (r != 1 && first_bad < 0) {
            first_bad = i;
            first_bad_runs = r;
        }
    }
    WB_EXPECT(lost == 0 && twice == 0,
              "%d tasks submitted %s: each should run exactly once; %d "
              "never ran and %d ran more than once (task %d ran %d times)",
              n, how, lost, twice, first_bad, first_bad_runs);
}

START_TEST(test_every_task_runs_once)
{
    WB_PROMISE("once");
    const int many = many_tasks();
    atomic_int *runs = calloc(many, sizeof *runs);
    ck_assert_msg(runs != NULL, "out of memory");
    tpool *p = new_pool(4, 8);
    for (int i = 0; i < many; i++)
        submit_ok(p, on_count, &runs[i]);
    int rc = tpool_wait(p);
    WB_EXPECT(rc == 0, "tpool_wait() should return 0; got %s", wb_errname(rc));
    expect_each_once(runs, many, "from one thread to 4 workers");
    /* The pool is still usable after a wait. */
    memset(runs, 0, many * sizeof *runs);
    for (int i = 0; i < 100; i++)
        submit_ok(p, on_count, &runs[i]);
    rc = tpool_wait(p);
    WB_EXPECT(rc == 0, "a second tpool_wait() should return 0; got %s",
              wb_errname(rc));
    expect_each_once(runs, 100, "after a first tpool_wait()");
    destroy_ok(p);
    free(runs);
}
END_TEST

START_TEST(test_many_submitters)
{
    WB_PROMISE("once");
    const int many = many_tasks();
    atomic_int *runs = calloc(many, sizeof *runs);
    ck_assert_msg(runs != NULL, "out of memory");
    tpool *p = new_pool(3, 4);
    struct submitter s[SUBMITTERS];
    pthread_t t[SUBMITTERS];
    for (int i = 0; i < SUBMITTERS; i++) {
        s[i] = (struct submitter){p, runs, i * (many / SUBMITTERS),
                                  many / SUBMITTERS, 0};
        ck_assert_int_eq(pthread_create(&t[i], NULL, submitter_main, &s[i]), 0);
    }
    for (int i = 0; i < SUBMITTERS; i++) {
        pthread_join(t[i], NULL);
        WB_EXPECT(s[i].rc == 0,
                  "tpool_submit() from submitter %d returned "
                  "%s",
                  i, wb_errname(s[i].rc));
    }
    /* No tpool_wait(): destroy alone must finish every queued task. */
    destroy_ok(p);
    expect_each_once(runs, many, "by 4 threads at once, then destroy");
    free(runs);
}
END_TEST

START_TEST(test_at_most_n_at_once)
{
    WB_PROMISE("at-most-n");
    enum { N = 3, TASKS = 10 };
    struct board b;
    board_init(&b);
    struct job jobs[TASKS];
    tpool *p = new_pool(N, 16);
    for (int i = 0; i < TASKS; i++) {
        jobs[i] = (struct job){&b, i};
        submit_ok(p, on_gated, &jobs[i]);
    }
    int started = wait_board(&b, &b.started, N, 2000);
    WB_EXPECT(started >= N,
              "%d gated tasks were submitted to a pool of %d workers: %d "
              "should start at once; after 2 s only %d had started",
              TASKS, N, N, started);
    /* Give an extra thread every chance to start a task. */
    wb_sleep_ms(50);
    int running = read_board(&b, &b.running);
    open_gate(&b);
    int rc = tpool_wait(p);
    WB_EXPECT(rc == 0, "tpool_wait() should return 0; got %s", wb_errname(rc));
    destroy_ok(p);
    WB_EXPECT(running == N && b.max_running <= N,
              "a pool of %d workers must never run more than %d tasks at "
              "once; with every task blocked, %d were running (at most %d "
              "at one time)",
              N, N, running, b.max_running);
    WB_EXPECT(b.finished == TASKS,
              "all %d tasks should have run once the "
              "gate opened; %d did",
              TASKS, b.finished);
    board_free(&b);
}
END_TEST

START_TEST(test_n_at_once_when_n_wait)
{
    WB_PROMISE("n-at-once");
    enum { N = 4 };
    struct board b;
    board_init(&b);
    b.meet = N;
    struct job jobs[N];
    tpool *p = new_pool(N, N);
    for (int i = 0; i < N; i++) {
        jobs[i] = (struct job){&b, i};
        submit_ok(p, on_meet, &jobs[i]);
    }
    int rc = tpool_wait(p);
    WB_EXPECT(rc == 0, "tpool_wait() should return 0; got %s", wb_errname(rc));
    destroy_ok(p);
    WB_EXPECT(!b.met_timeout,
              "%d tasks were submitted to a pool of %d workers, each task "
              "waiting until all %d had started: they never all ran at "
              "once (at most %d did). Each worker must take a task as soon "
              "as it is free, and run it without holding a lock the other "
              "workers need",
              N, N, N, b.max_running);
    board_free(&b);
}
END_TEST

START_TEST(test_wait_waits_for_all)
{
    WB_PROMISE("wait-idle");
    /* As many tasks as workers: once they have all started, the queue is
     * empty, but the tasks are still running. */
    enum { N = 3 };
    struct board b;
    board_init(&b);
    struct job jobs[N];
    tpool *p = new_pool(N, 8);
    for (int i = 0; i < N; i++) {
        jobs[i] = (struct job){&b, i};
        submit_ok(p, on_gated, &jobs[i]);
    }
    WB_EXPECT(wait_board(&b, &b.started, N, 2000) >= N,
              "%d tasks should have started on a pool of %d workers", N, N);
    struct caller c = {.pool = p, .b = &b};
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, call_wait, &c), 0);
    int blocked = blocked_in_call(&c);
    open_gate(&b);
    pthread_join(t, NULL);
    WB_EXPECT(blocked,
              "tpool_wait() returned %s while %d tasks were still running "
              "(the queue was empty): a task is pending until it has "
              "finished, not until a worker has taken it",
              wb_errname(c.rc), N);
    WB_EXPECT(c.rc == 0 && c.finished_seen == N,
              "when tpool_wait() returns, all %d tasks must have finished; "
              "it returned %s with %d finished",
              N, wb_errname(c.rc), c.finished_seen);

    /* Again with tasks still queued behind the running ones. */
    enum { MORE = 8 };
    struct board b2;
    board_init(&b2);
    struct job more[MORE];
    for (int i = 0; i < MORE; i++) {
        more[i] = (struct job){&b2, i};
        submit_ok(p, on_gated, &more[i]);
    }
    struct caller c2 = {.pool = p, .b = &b2};
    ck_assert_int_eq(pthread_create(&t, NULL, call_wait, &c2), 0);
    blocked = blocked_in_call(&c2);
    open_gate(&b2);
    pthread_join(t, NULL);
    WB_EXPECT(blocked && c2.rc == 0 && c2.finished_seen == MORE,
              "%d tasks on %d workers (%d queued): tpool_wait() should block "
              "until all have finished; it %s and returned %s with %d "
              "finished",
              MORE, N, MORE - N, blocked ? "blocked" : "did not block",
              wb_errname(c2.rc), c2.finished_seen);
    destroy_ok(p);
    board_free(&b);
    board_free(&b2);
}
END_TEST

/* A task that submits a second task, which finishes later. */
static void on_child(void *ctx)
{
    struct job *j = ctx;
    wb_sleep_ms(30);
    pthread_mutex_lock(&j->b->lock);
    task_begin(j->b);
    task_end(j->b, j->id);
    pthread_mutex_unlock(&j->b->lock);
}

static void on_parent(void *ctx)
{
    struct job *j = ctx;
    j->b->rc_submit = tpool_submit(j->b->pool, on_child, j + 1);
}

START_TEST(test_wait_includes_tasks_from_tasks)
{
    WB_PROMISE("wait-idle");
    struct board b;
    board_init(&b);
    struct job jobs[2] = {{&b, 0}, {&b, 1}};
    tpool *p = new_pool(2, 4);
    b.pool = p;
    submit_ok(p, on_parent, &jobs[0]);
    int rc = tpool_wait(p);
    int finished = read_board(&b, &b.finished);
    WB_EXPECT(rc == 0 && b.rc_submit == 0,
              "tpool_wait() and the task's own tpool_submit() should both "
              "return 0; got %s and %s",
              wb_errname(rc), wb_errname(b.rc_submit));
    WB_EXPECT(finished == 1,
              "a task submitted another task; tpool_wait() must wait for "
              "that one too (it was submitted before the first finished), "
              "but it returned before it finished");
    destroy_ok(p);
    board_free(&b);
}
END_TEST

START_TEST(test_destroy_waits_for_running_task)
{
    WB_PROMISE("destroy-finishes");
    int before = threadwatch_count();
    struct board b;
    board_init(&b);
    struct job jobs[3] = {{&b, 0}, {&b, 1}, {&b, 2}};
    tpool *p = new_pool(2, 4);
    for (int i = 0; i < 3; i++)
        submit_ok(p, on_gated, &jobs[i]);
    WB_EXPECT(wait_board(&b, &b.started, 2, 2000) >= 2,
              "2 tasks should have started on a pool of 2 workers");
    struct caller c = {.pool = p, .b = &b};
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, call_destroy, &c), 0);
    int blocked = blocked_in_call(&c);
    WB_EXPECT(blocked,
              "tpool_destroy() returned %s while 2 tasks were still running "
              "(and 1 queued): it must let them finish and join every "
              "worker before it returns",
              wb_errname(c.rc));
    open_gate(&b);
    pthread_join(t, NULL);
    WB_EXPECT(c.rc == 0 && c.finished_seen == 3,
              "when tpool_destroy() returns, all 3 submitted tasks must have "
              "finished (the queued one included); it returned %s with %d "
              "finished",
              wb_errname(c.rc), c.finished_seen);
    int after = threadwatch_after_joins(before);
    WB_EXPECT(after == before,
              "the process had %d threads before tpool_create() and %d after "
              "tpool_destroy(): destroy must join every worker",
              before, after);
    board_free(&b);
}
END_TEST

START_TEST(test_destroy_finishes_queued_tasks)
{
    WB_PROMISE("destroy-finishes");
    enum { TASKS = 40 };
    for (int round = 0; round < 5; round++) {
        int before = threadwatch_count();
        atomic_int runs[TASKS];
        for (int i = 0; i < TASKS; i++)
            atomic_init(&runs[i], 0);
        tpool *p = new_pool(4, TASKS);
        for (int i = 0; i < TASKS; i++)
            submit_ok(p, on_count, &runs[i]);
        destroy_ok(p); /* at once: most tasks are still queued */
        expect_each_once(runs, TASKS, "then destroy at once");
        int after = threadwatch_after_joins(before);
        WB_EXPECT(after == before,
                  "the process had %d threads before tpool_create() and %d "
                  "after tpool_destroy(): destroy must join every worker",
                  before, after);
    }
}
END_TEST

/* Wait until b->meet tasks have started (1.5 s at most); lock held. */
static void meet_locked(struct board *b)
{
    struct timespec end = timedwait_deadline(1500);
    while (b->started < b->meet && !b->met_timeout)
        if (pthread_cond_timedwait(&b->changed, &b->lock, &end) == ETIMEDOUT)
            b->met_timeout = 1;
    pthread_cond_broadcast(&b->changed);
}

/* Meet the other tasks (one per worker), then call tpool_wait() and
 * tpool_destroy() on the task's own pool. */
static void on_call_own_pool(void *ctx)
{
    struct job *j = ctx;
    struct board *b = j->b;
    pthread_mutex_lock(&b->lock);
    task_begin(b);
    meet_locked(b);
    pthread_mutex_unlock(&b->lock);
    int rc = tpool_wait(b->pool);
    pthread_mutex_lock(&b->lock);
    b->rcs_wait[j->id] = rc;
    b->waited++;
    pthread_cond_broadcast(&b->changed);
    pthread_mutex_unlock(&b->lock);
    rc = tpool_destroy(b->pool);
    pthread_mutex_lock(&b->lock);
    b->rcs_destroy[j->id] = rc;
    task_end(b, j->id);
    pthread_mutex_unlock(&b->lock);
}

/* Pools of 1 and 3 workers; every worker runs one task that calls its
 * own pool (the tasks meet first, so each is on a worker of its own):
 * the first worker, the last and the ones between must all be known. */
START_TEST(test_wait_from_a_task_is_edeadlk)
{
    WB_PROMISE("edeadlk");
    static const int sizes[] = {3, 1};
    for (int k = 0; k < 2; k++) {
        const int n = sizes[k];
        struct board b;
        board_init(&b);
        b.meet = n;
        struct job jobs[3];
        tpool *p = new_pool((size_t)n, (size_t)n);
        b.pool = p;
        for (int i = 0; i < n; i++) {
            jobs[i] = (struct job){&b, i};
            b.rcs_wait[i] = b.rcs_destroy[i] = -1;
            submit_ok(p, on_call_own_pool, &jobs[i]);
        }
        /* A call that waits for itself never returns: say which one. */
        if (wait_board(&b, &b.finished, n, 2000) < n) {
            int waited = read_board(&b, &b.waited);
            int stuck =
                waited < n ? n - waited : n - read_board(&b, &b.finished);
            WB_EXPECT(0,
                      "a pool of %d worker%s, each running a task that "
                      "calls %s on its own pool: 2 s later %d of those "
                      "calls had not returned, each waiting for %s. Return "
                      "EDEADLK when the caller is one of this pool's "
                      "workers (compare pthread_self() with each worker's "
                      "id, pthread_equal())%s",
                      n, n == 1 ? "" : "s",
                      waited < n ? "tpool_wait()" : "tpool_destroy()", stuck,
                      waited < n ? "the very task that made it to finish"
                                 : "its own worker to be joined",
                      stuck < n ? ": the calls from the other workers did "
                                  "return, so one worker, the first or the "
                                  "last, is left out of the comparison"
                                : "");
        }
        for (int i = 0; i < n; i++) {
            WB_EXPECT(b.rcs_wait[i] == EDEADLK,
                      "tpool_wait() called from a task of its own pool (on "
                      "worker %d of %d) would wait for itself: expected "
                      "EDEADLK; got %s",
                      i + 1, n, wb_errname(b.rcs_wait[i]));
            WB_EXPECT(b.rcs_destroy[i] == EDEADLK,
                      "tpool_destroy() called from a task of its own pool "
                      "(on worker %d of %d) would join itself: expected "
                      "EDEADLK (and the pool left alone); got %s",
                      i + 1, n, wb_errname(b.rcs_destroy[i]));
        }
        int rc = tpool_wait(p);
        WB_EXPECT(rc == 0, "tpool_wait() should return 0; got %s",
                  wb_errname(rc));
        /* The pool is still usable. */
        atomic_int runs;
        atomic_init(&runs, 0);
        rc = tpool_submit(p, on_count, &runs);
        int wrc = tpool_wait(p);
        int64_t end = wb_now_ns() + 1000 * 1000000LL;
        while (rc == 0 && atomic_load(&runs) == 0 && wb_now_ns() < end)
            wb_sleep_ms(1);
        WB_EXPECT(rc == 0 && wrc == 0 && atomic_load(&runs) == 1,
                  "after tpool_wait() and tpool_destroy() from its tasks "
                  "returned EDEADLK, the pool must still work: submit gave "
                  "%s, wait %s, and the task ran %d times",
                  wb_errname(rc), wb_errname(wrc), atomic_load(&runs));
        destroy_ok(p);
        board_free(&b);
    }
}
END_TEST

/* A task of pool A waits on pool B, then destroys it: B's owner may be a
 * task of another pool, and only B's own tasks get EDEADLK from B. */
static void on_call_other_pool(void *ctx)
{
    struct board *b = ctx;
    int rc = tpool_wait(b->other);
    pthread_mutex_lock(&b->lock);
    b->rc_wait = rc;
    pthread_mutex_unlock(&b->lock);
    rc = tpool_destroy(b->other);
    pthread_mutex_lock(&b->lock);
    b->rc_destroy = rc;
    task_begin(b);
    task_end(b, 0);
    pthread_mutex_unlock(&b->lock);
}

START_TEST(test_wait_on_another_pool)
{
    WB_PROMISE("edeadlk");
    struct board b;
    board_init(&b);
    tpool *a = new_pool(1, 2);
    tpool *other = new_pool(2, 2);
    atomic_int runs;
    atomic_init(&runs, 0);
    submit_ok(other, on_count, &runs);
    b.other = other;
    b.rc_wait = b.rc_destroy = -1;
    submit_ok(a, on_call_other_pool, &b);
    WB_EXPECT(wait_board(&b, &b.finished, 1, 2000) >= 1,
              "a task of pool A called tpool_wait() and tpool_destroy() on "
              "pool B, which had one short task; 2 s later they had not "
              "returned");
    WB_EXPECT(b.rc_wait == 0 && b.rc_destroy == 0,
              "a task of pool A called tpool_wait() and tpool_destroy() on "
              "another pool, B: expected 0 and 0 (EDEADLK is only for B's "
              "own tasks, which would wait for themselves); got %s and %s. "
              "Is the test for \"called from a worker\" one flag shared by "
              "every pool? Compare the caller with this pool's workers",
              wb_errname(b.rc_wait), wb_errname(b.rc_destroy));
    WB_EXPECT(atomic_load(&runs) == 1,
              "pool B's task should have run once before its pool was "
              "destroyed; it ran %d times",
              atomic_load(&runs));
    destroy_ok(a);
    board_free(&b);
}
END_TEST

/* --- Destroy refuses new tasks ------------------------------------------- */

/* A gated task that, once the gate opens, submits a counting task. */
struct late_submit {
    struct board *b;
    atomic_int runs; /* of the task it submits */
    int rc;
};

static void on_submit_after_gate(void *ctx)
{
    struct late_submit *l = ctx;
    struct board *b = l->b;
    pthread_mutex_lock(&b->lock);
    task_begin(b);
    wait_for_gate(b);
    pthread_mutex_unlock(&b->lock);
    l->rc = tpool_submit(b->pool, on_count, &l->runs);
    pthread_mutex_lock(&b->lock);
    task_end(b, 0);
    pthread_mutex_unlock(&b->lock);
}

/* A task that fills the queue (capacity 1) and then submits once more,
 * which blocks: its only worker is busy running it. */
struct blocked_submit {
    tpool *pool;
    atomic_int runs[2]; /* of the two tasks it submits */
    int rc_first, rc_second;
    atomic_int tid;  /* the worker's, once it is about to block */
    atomic_int done; /* the second submit returned */
};

static void on_fill_then_submit(void *ctx)
{
    struct blocked_submit *s = ctx;
    s->rc_first = tpool_submit(s->pool, on_count, &s->runs[0]);
    atomic_store(&s->tid, (int)threadwatch_self());
    s->rc_second = tpool_submit(s->pool, on_count, &s->runs[1]);
    atomic_store(&s->done, 1);
}

START_TEST(test_destroy_refuses_new_tasks)
{
    WB_PROMISE("destroy-refuses");
    /* A task that submits after destroy has begun. */
    struct board b;
    board_init(&b);
    tpool *p = new_pool(1, 2);
    b.pool = p;
    struct late_submit late = {.b = &b, .rc = -1};
    atomic_init(&late.runs, 0);
    submit_ok(p, on_submit_after_gate, &late);
    WB_EXPECT(wait_board(&b, &b.started, 1, 2000) >= 1,
              "the task should have started on an idle pool");
    struct caller d = {.pool = p, .b = &b};
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, call_destroy, &d), 0);
    int blocked = blocked_in_call(&d);
    open_gate(&b);
    pthread_join(t, NULL);
    WB_EXPECT(blocked,
              "tpool_destroy() returned %s while a task was still running",
              wb_errname(d.rc));
    WB_EXPECT(d.rc == 0, "tpool_destroy() should return 0; got %s",
              wb_errname(d.rc));
    WB_EXPECT(late.rc == EPIPE && atomic_load(&late.runs) == 0,
              "a task submitted another task while tpool_destroy() waited "
              "for it: the submit should fail with EPIPE and its task never "
              "run; the submit returned %s, and the task ran %d time%s. A "
              "submit must report the error of the queue (closed: EPIPE)",
              wb_errname(late.rc), atomic_load(&late.runs),
              atomic_load(&late.runs) == 1 ? "" : "s");
    board_free(&b);

    /* A submit already blocked on a full queue when destroy begins. */
    struct blocked_submit s = {.rc_first = -1, .rc_second = -1};
    atomic_init(&s.runs[0], 0);
    atomic_init(&s.runs[1], 0);
    atomic_init(&s.tid, 0);
    atomic_init(&s.done, 0);
    p = new_pool(1, 1);
    s.pool = p;
    submit_ok(p, on_fill_then_submit, &s);
    int asleep = threadwatch_blocked(&s.tid, &s.done) == 1;
    WB_EXPECT(asleep,
              "a task on the only worker filled the queue (capacity 1) and "
              "submitted once more: that submit should block, since no "
              "worker is free to take a task; it returned %s",
              wb_errname(s.rc_second));
    struct board b2;
    board_init(&b2);
    struct caller d2 = {.pool = p, .b = &b2};
    ck_assert_int_eq(pthread_create(&t, NULL, call_destroy, &d2), 0);
    int64_t end = wb_now_ns() + 1000 * 1000000LL;
    while (!atomic_load(&s.done) && wb_now_ns() < end)
        wb_sleep_ms(1);
    WB_EXPECT(atomic_load(&s.done),
              "a task was blocked in tpool_submit() on a full queue when "
              "tpool_destroy() began; 1 s later the submit had not "
              "returned: destroy must wake it (closing the queue does), "
              "and it must fail with EPIPE");
    pthread_join(t, NULL);
    WB_EXPECT(d2.rc == 0, "tpool_destroy() should return 0; got %s",
              wb_errname(d2.rc));
    WB_EXPECT(s.rc_first == 0 && s.rc_second == EPIPE,
              "the task's first submit (before destroy) should return 0 and "
              "its second, blocked when destroy began, EPIPE; got %s and %s",
              wb_errname(s.rc_first), wb_errname(s.rc_second));
    WB_EXPECT(atomic_load(&s.runs[0]) == 1 && atomic_load(&s.runs[1]) == 0,
              "the task queued before destroy should run once, and the one "
              "refused with EPIPE never; they ran %d and %d times",
              atomic_load(&s.runs[0]), atomic_load(&s.runs[1]));
    board_free(&b2);
}
END_TEST

/* --- Wait: until a moment when nothing is pending ----------------------- */

START_TEST(test_wait_sees_later_submissions)
{
    WB_PROMISE("wait-idle");
    struct board first, second;
    board_init(&first);
    board_init(&second);
    struct job j1 = {&first, 0}, j2 = {&second, 0};
    tpool *p = new_pool(2, 4);
    submit_ok(p, on_gated, &j1);
    WB_EXPECT(wait_board(&first, &first.started, 1, 2000) >= 1,
              "the task should have started on an idle pool");
    struct caller w = {.pool = p, .b = &second};
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, call_wait, &w), 0);
    WB_EXPECT(blocked_in_call(&w),
              "tpool_wait() returned %s while a task was still running",
              wb_errname(w.rc));
    /* A second task, submitted while the waiter waits, then the first
     * task ends: the pool is not idle yet. */
    submit_ok(p, on_gated, &j2);
    WB_EXPECT(wait_board(&second, &second.started, 1, 2000) >= 1,
              "the second task should have started on the free worker");
    open_gate(&first);
    WB_EXPECT(wait_board(&first, &first.finished, 1, 2000) >= 1,
              "the first task should have finished once its gate opened");
    int early = blocked_in_call(&w) == 0;
    open_gate(&second);
    pthread_join(t, NULL);
    WB_EXPECT(!early,
              "tpool_wait() returned %s when the task running at its call "
              "finished, while a task submitted during the wait was still "
              "running: it must wait until no task at all is queued or "
              "running",
              wb_errname(w.rc));
    WB_EXPECT(w.rc == 0 && w.finished_seen == 1,
              "tpool_wait() should return 0 once the second task has "
              "finished too; it returned %s with %d finished",
              wb_errname(w.rc), w.finished_seen);
    destroy_ok(p);
    board_free(&first);
    board_free(&second);
}
END_TEST

/* --- A slow submitter: pending counts a task before it is queued -------- */

/* The test makes the submitting thread the slowest thing on its CPU: the
 * test, the pool's workers and the submitter share one CPU, and the
 * submitter runs under SCHED_IDLE, which any other thread preempts the
 * moment it wakes up. So when tpool_submit() queues the task and wakes a
 * worker, the worker runs the task to the end before the submitter takes
 * another step. A submit that queues the task before counting it as
 * pending then sees the task finish, and be subtracted, first: a
 * tpool_wait() in progress sees the count reach 0 too early. */

/* Keep this thread (and the threads it starts from now on) on the CPU it
 * runs on. Returns 0 if the system would not allow it. */
static int stay_on_one_cpu(void)
{
    int cpu = sched_getcpu();
    if (cpu < 0)
        return 0;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return sched_setaffinity(0, sizeof set, &set) == 0;
}

struct slow_submit {
    tpool *pool;
    atomic_int *runs;
    int rc;
};

static void *submit_slowly(void *arg)
{
    struct slow_submit *s = arg;
    struct sched_param none = {0};
    /* If SCHED_IDLE is refused, the test checks less, but still passes a
     * right pool. */
    (void)pthread_setschedparam(pthread_self(), SCHED_IDLE, &none);
    s->rc = tpool_submit(s->pool, on_count, s->runs);
    return NULL;
}

/* The interleaving depends on the scheduler, which a loaded machine may
 * not follow to the letter: the test tries a few times. */
enum { SLOW_ROUNDS = 6 };

START_TEST(test_wait_counts_task_before_queueing)
{
    WB_PROMISE("pending-from-submit");
    int pinned = stay_on_one_cpu();
    tpool *p = new_pool(2, 4);
    int64_t end = wb_now_ns() + 1500 * 1000000LL;
    for (int round = 0; round < SLOW_ROUNDS && wb_now_ns() < end; round++) {
        struct board b;
        board_init(&b);
        struct job gated = {&b, 0};
        submit_ok(p, on_gated, &gated);
        WB_EXPECT(wait_board(&b, &b.started, 1, 2000) >= 1,
                  "the task should have started on an idle pool");
        struct caller w = {.pool = p, .b = &b};
        pthread_t t;
        ck_assert_int_eq(pthread_create(&t, NULL, call_wait, &w), 0);
        WB_EXPECT(blocked_in_call(&w),
                  "tpool_wait() returned %s while a task was still running",
                  wb_errname(w.rc));
        /* One quick task, submitted by a slow thread, while the gated
         * task runs and tpool_wait() waits for it. */
        atomic_int quick_runs;
        atomic_init(&quick_runs, 0);
        struct slow_submit sub = {p, &quick_runs, -1};
        pthread_t st;
        ck_assert_int_eq(pthread_create(&st, NULL, submit_slowly, &sub), 0);
        ck_assert_int_eq(pthread_join(st, NULL), 0);
        WB_EXPECT(sub.rc == 0, "tpool_submit() should return 0; got %s",
                  wb_errname(sub.rc));
        int early = blocked_in_call(&w) == 0;
        open_gate(&b);
        pthread_join(t, NULL);
        WB_EXPECT(!early,
                  "tpool_wait() returned %s while a task was still running "
                  "(round %d). Another task had just been submitted by a "
                  "slow thread (the test gave it the lowest priority%s, as "
                  "if the scheduler had preempted it): that task ran and "
                  "finished before tpool_submit() counted it, so the count "
                  "of pending tasks reached 0 too early. Count a task as "
                  "pending before it is queued",
                  wb_errname(w.rc), round + 1,
                  pinned ? ", on the workers' CPU" : "");
        WB_EXPECT(tpool_wait(p) == 0 && atomic_load(&quick_runs) == 1,
                  "the quick task should have run once; it ran %d times",
                  atomic_load(&quick_runs));
        board_free(&b);
    }
    destroy_ok(p);
}
END_TEST

/* --- Tasks that finish together: the count needs the mutex -------------- */

/* Two tasks on two workers wait for each other, then both until one
 * instant that the second to arrive names, a little in the future: the
 * workers return from them within a few nanoseconds of each other, and
 * count them as finished at the same moment, round after round. A count
 * changed without the mutex loses one of the two subtractions sooner or
 * later, and then never gets back to 0. */
enum { MEET_ROUNDS = 1000 };

struct meeting {
    atomic_int arrived, left;
    atomic_llong release_ns; /* 0 until both tasks have arrived */
    int64_t give_up_ns;      /* a task that waits longer stops waiting */
};

static void on_meet_and_leave(void *ctx)
{
    struct meeting *m = ctx;
    meeting_attend(&m->arrived, 2, &m->release_ns, m->give_up_ns);
    atomic_fetch_add(&m->left, 1);
}

/* With no task queued or running, tpool_wait() must return at once: 1 if
 * it did within 2 s. */
static int wait_returns(tpool *p)
{
    struct board b;
    board_init(&b);
    struct caller c = {.pool = p, .b = &b};
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, call_wait, &c), 0);
    int64_t limit = wb_now_ns() + 2000 * 1000000LL;
    while (!atomic_load(&c.done) && wb_now_ns() < limit)
        sched_yield();
    int done = atomic_load(&c.done);
    if (done) {
        pthread_join(t, NULL);
        board_free(&b);
    }
    return done; /* if not, the test fails and its process ends */
}

START_TEST(test_tasks_finishing_together)
{
    WB_PROMISE("locked-count");
    tpool *p = new_pool(2, 4);
    long rounds = wb_scaled(MEET_ROUNDS, 20), r;
    /* A meeting point per round: the test reuses none while a worker may
     * still be on its way out of the last round's task. */
    struct meeting *meetings = calloc((size_t)rounds, sizeof *meetings);
    ck_assert_msg(meetings != NULL, "out of memory");
    int64_t end = wb_now_ns() + 1000 * 1000000LL;
    int idle = 1;
    for (r = 0; r < rounds && idle && wb_now_ns() < end; r++) {
        struct meeting *m = &meetings[r];
        atomic_init(&m->arrived, 0);
        atomic_init(&m->left, 0);
        atomic_init(&m->release_ns, 0);
        m->give_up_ns = wb_now_ns() + 20 * 1000000LL;
        submit_ok(p, on_meet_and_leave, m);
        submit_ok(p, on_meet_and_leave, m);
        int64_t limit = wb_now_ns() + 2000 * 1000000LL;
        while (atomic_load(&m->left) < 2 && wb_now_ns() < limit)
            sched_yield();
        WB_EXPECT(atomic_load(&m->left) == 2,
                  "2 tasks submitted to a pool of 2 workers did not both "
                  "finish within 2 s");
        /* Now and then (and at the end), every task has finished: a wait
         * must return at once. */
        if (r % 64 == 63)
            idle = wait_returns(p);
    }
    if (idle)
        idle = wait_returns(p);
    WB_EXPECT(idle,
              "%ld times, two tasks on two workers finished at the same "
              "moment; then, with every task finished, tpool_wait() still "
              "waited 2 s later: the count of pending tasks never came back "
              "to 0. Two workers subtracted at once without the mutex, and "
              "one subtraction overwrote the other: change the count only "
              "with the pool's mutex held",
              r);
    destroy_ok(p);
    free(meetings);
}
END_TEST

enum { WAITERS = 3 };

START_TEST(test_wait_wakes_every_waiter)
{
    WB_PROMISE("wait-wakes-all");
    struct board b;
    board_init(&b);
    struct job job = {&b, 0};
    tpool *p = new_pool(2, 4);
    submit_ok(p, on_gated, &job);
    WB_EXPECT(wait_board(&b, &b.started, 1, 2000) >= 1,
              "the task should have started on an idle pool");
    struct caller c[WAITERS];
    pthread_t t[WAITERS];
    for (int i = 0; i < WAITERS; i++) {
        c[i] = (struct caller){.pool = p, .b = &b};
        ck_assert_int_eq(pthread_create(&t[i], NULL, call_wait, &c[i]), 0);
    }
    for (int i = 0; i < WAITERS; i++)
        WB_EXPECT(blocked_in_call(&c[i]),
                  "tpool_wait() returned %s while a task was still running",
                  wb_errname(c[i].rc));
    open_gate(&b);
    int64_t end = wb_now_ns() + 1000 * 1000000LL;
    int returned = 0;
    while (wb_now_ns() < end) {
        returned = 0;
        for (int i = 0; i < WAITERS; i++)
            returned += atomic_load(&c[i].done);
        if (returned == WAITERS)
            break;
        wb_sleep_ms(1);
    }
    WB_EXPECT(returned == WAITERS,
              "%d threads were asleep in tpool_wait() when the last task "
              "finished; 1 s later only %d had returned. Every waiter "
              "waits for the same thing: wake them all "
              "(pthread_cond_broadcast, not pthread_cond_signal)",
              WAITERS, returned);
    for (int i = 0; i < WAITERS; i++) {
        pthread_join(t[i], NULL);
        WB_EXPECT(c[i].rc == 0 && c[i].finished_seen == 1,
                  "tpool_wait() should return 0 once the task has "
                  "finished; it returned %s with %d finished",
                  wb_errname(c[i].rc), c[i].finished_seen);
    }
    destroy_ok(p);
    board_free(&b);
}
END_TEST

/* CPU time used by the threads of this process other than the calling
 * one, in nanoseconds. */
static int64_t others_cpu_ns(void)
{
    struct timespec all, mine;
    ck_assert_int_eq(clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &all), 0);
    ck_assert_int_eq(clock_gettime(CLOCK_THREAD_CPUTIME_ID, &mine), 0);
    return ((int64_t)all.tv_sec - mine.tv_sec) * 1000000000 +
           (all.tv_nsec - mine.tv_nsec);
}

/* The threads of this process, by kernel id, into @p tids (at most
 * @p max); returns how many. */
static int list_threads(int *tids, int max)
{
    int n = 0;
    DIR *d = opendir("/proc/self/task");
    ck_assert_msg(d != NULL, "cannot read /proc/self/task");
    const struct dirent *e;
    while ((e = readdir(d)) != NULL && n < max) {
        int tid = atoi(e->d_name);
        if (tid > 0)
            tids[n++] = tid;
    }
    closedir(d);
    return n;
}

/* How many threads of this process are running or ready to run (state
 * R), leaving out the @p nold threads in @p old: the test's own, and a
 * sanitizer's helper thread, which wakes now and then. */
static int new_threads_running(const int *old, int nold)
{
    int tids[128], n = list_threads(tids, 128), running = 0;
    for (int i = 0; i < n; i++) {
        int known = 0;
        for (int k = 0; k < nold && !known; k++)
            known = tids[i] == old[k];
        if (!known && threadwatch_state(tids[i]) == 'R')
            running++;
    }
    return running;
}

enum { IDLE_WORKERS = 4, IDLE_MS = 200, IDLE_LOOKS = 40 };

START_TEST(test_idle_workers_sleep)
{
    WB_PROMISE("idle-sleeps");
    int old[64], nold = list_threads(old, 64);
    tpool *p = new_pool(IDLE_WORKERS, 8);
    /* Once at the start, and once after some work: each time the pool
     * has nothing to do, and its workers must sleep, not spin. Two
     * measures: the CPU time the workers use (a spinning pool uses whole
     * cores, on an idle machine), and how often a worker is seen
     * running or ready to run (always, for a spinning pool, even on a busy
     * machine that gives it little CPU time). */
    for (int round = 0; round < 2; round++) {
        if (round == 1) {
            atomic_int runs[16];
            for (int i = 0; i < 16; i++)
                atomic_init(&runs[i], 0);
            for (int i = 0; i < 16; i++)
                submit_ok(p, on_count, &runs[i]);
            WB_EXPECT(tpool_wait(p) == 0, "tpool_wait() should return 0");
            expect_each_once(runs, 16, "to an idle pool");
        }
        wb_sleep_ms(20); /* let the workers settle */
        int64_t cpu = others_cpu_ns();
        int busy_looks = 0;
        for (int i = 0; i < IDLE_LOOKS; i++) {
            busy_looks += new_threads_running(old, nold) > 0;
            wb_sleep_ms(IDLE_MS / IDLE_LOOKS);
        }
        long used_ms = (long)((others_cpu_ns() - cpu) / 1000000);
        /* A thread seen "running" that used no CPU time at all was only
         * being woken (a loaded machine, a sanitizer's runtime): spinning
         * takes some CPU time, however busy the machine. */
        WB_EXPECT(used_ms < IDLE_MS / 10 &&
                      (busy_looks < IDLE_LOOKS / 4 || used_ms < 2),
                  "a pool of %d workers with nothing to do%s used %ld ms of "
                  "CPU time in %d ms, and a worker was running in %d of %d "
                  "looks at its threads: idle workers must sleep on a "
                  "condition variable until a task comes, not test the "
                  "queue in a loop",
                  IDLE_WORKERS,
                  round == 0 ? ", right after tpool_create(),"
                             : ", after running 16 tasks,",
                  used_ms, IDLE_MS, busy_looks, IDLE_LOOKS);
    }
    destroy_ok(p);
}
END_TEST

START_TEST(test_submit_blocks_when_queue_full)
{
    WB_PROMISE("submit-blocks");
    struct board b;
    board_init(&b);
    struct job jobs[3] = {{&b, 0}, {&b, 1}, {&b, 2}};
    tpool *p = new_pool(1, 1);
    submit_ok(p, on_gated, &jobs[0]);
    WB_EXPECT(wait_board(&b, &b.started, 1, 2000) >= 1,
              "the first task should have started on the only worker");
    submit_ok(p, on_gated, &jobs[1]); /* fills the queue of capacity 1 */
    struct caller c = {.pool = p, .b = &b, .job = &jobs[2]};
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, call_submit, &c), 0);
    int blocked = blocked_in_call(&c);
    open_gate(&b);
    pthread_join(t, NULL);
    WB_EXPECT(blocked,
              "with the only worker busy and the queue (capacity 1) full, "
              "tpool_submit() should block until there is room; it returned "
              "%s at once",
              wb_errname(c.rc));
    WB_EXPECT(c.rc == 0,
              "the blocked submit should succeed once there is "
              "room; got %s",
              wb_errname(c.rc));
    int rc = tpool_wait(p);
    WB_EXPECT(rc == 0 && b.finished == 3,
              "all 3 tasks should have run; tpool_wait() returned %s with %d "
              "finished",
              wb_errname(rc), b.finished);
    destroy_ok(p);
    board_free(&b);
}
END_TEST

/* --- A worker that cannot be started ------------------------------------ */

/* tpool.links links this suite with
 * tests/support/wrap.c, so a test can make the system
 * refuse a thread. */
START_TEST(test_create_fails_cleanly)
{
    WB_PROMISE("create-fails");
    int before = threadwatch_count();
    tpool *untouched = (tpool *)&before, *p = untouched;
    wb_wrap_reset(WB_PTHREAD_CREATE,
                  3); /* the third worker cannot be started */
    int rc = tpool_create(&p, 4, 8);
    int creates = wb_wrap_calls(WB_PTHREAD_CREATE);
    wb_wrap_reset(WB_PTHREAD_CREATE, 0);
    int after = threadwatch_after_joins(before);
    WB_EXPECT(rc == EAGAIN,
              "the third pthread_create() of four failed with EAGAIN: "
              "tpool_create() should return that error; got %s",
              wb_errname(rc));
    WB_EXPECT(p == untouched,
              "on failure tpool_create() must leave *out as it was");
    WB_EXPECT(creates == 3,
              "after the third pthread_create() failed, tpool_create() "
              "should start no more workers; it called pthread_create() "
              "%d times",
              creates);
    WB_EXPECT(after == before,
              "the third worker could not be started: the two already "
              "running must be stopped (close the queue, or set a flag "
              "and wake them) and joined before tpool_create() returns; "
              "%d thread%s still running",
              after - before, after - before == 1 ? " is" : "s are");
}
END_TEST

/* Every call tpool_create() makes that can fail, made to fail in turn:
 * each pthread_create() of the workers, each pthread_mutex_init() and
 * pthread_cond_init() (the queue's included). Each failure is repeated,
 * so that memory left allocated on its path adds up above the noise. */
enum { FAIL_ROUNDS = 16 };

START_TEST(test_create_fails_anywhere)
{
    WB_PROMISE("create-fails");
    static const struct {
        enum wb_wrapped f;
        const char *name;
        int err;
    } calls[] = {
        {WB_PTHREAD_CREATE, "pthread_create", EAGAIN},
        {WB_PTHREAD_MUTEX_INIT, "pthread_mutex_init", ENOMEM},
        {WB_PTHREAD_COND_INIT, "pthread_cond_init", ENOMEM},
    };
    int threads = threadwatch_count();
    tpool *untouched = (tpool *)&threads, *p = untouched;
    for (size_t f = 0; f < sizeof calls / sizeof calls[0]; f++) {
        int done = 0;
        for (int k = 1; !done && k <= 8; k++) {
            size_t before = 0;
            for (int round = 0; round < HEAP_WARMUP + FAIL_ROUNDS; round++) {
                if (round == HEAP_WARMUP)
                    before = heap_in_use();
                wb_wrap_reset(calls[f].f, k);
                int rc = tpool_create(&p, 3, 4);
                int made = wb_wrap_calls(calls[f].f);
                wb_wrap_reset(calls[f].f, 0);
                if (made < k) {
                    /* No k-th call: create succeeded, and every failure
                     * of this function has been tried. */
                    WB_EXPECT(rc == 0 && p != untouched,
                              "tpool_create(&p, 3, 4) should return 0; got "
                              "%s",
                              wb_errname(rc));
                    destroy_ok(p);
                    p = untouched;
                    done = 1;
                    break;
                }
                int left = threadwatch_after_joins(threads) - threads;
                WB_EXPECT(rc == calls[f].err && p == untouched,
                          "call %d of %s() in tpool_create() failed with "
                          "%s: expected that error and *out left as it "
                          "was; got %s and *out %s",
                          k, calls[f].name, wb_errname(calls[f].err),
                          wb_errname(rc),
                          p == untouched ? "unchanged" : "changed");
                WB_EXPECT(left == 0,
                          "call %d of %s() in tpool_create() failed, and "
                          "%d thread%s still running after it returned: "
                          "stop and join the workers already started",
                          k, calls[f].name, left, left == 1 ? " is" : "s are");
            }
            if (done)
                break;
            size_t after = heap_in_use();
            long grew = after > before ? (long)(after - before) : 0;
            WB_EXPECT(grew < FAIL_ROUNDS * 16,
                      "%d times, call %d of %s() in tpool_create() failed, "
                      "and %ld bytes were left allocated: on that error "
                      "path, undo everything done before it (destroy what "
                      "was initialised, free what was allocated)",
                      FAIL_ROUNDS, k, calls[f].name, grew);
        }
    }
}
END_TEST

/* More workers than memory can list: SIZE_MAX of them, or as many as
 * make an array of pthread_t just too big for the address space. The
 * pool itself is allocated before the list fails, and must be freed
 * with it. Every pthread_create() fails here (EAGAIN), so that a pool
 * that starts its workers one by one, without a list, stops at the
 * first. */
START_TEST(test_create_no_memory_for_workers)
{
    WB_PROMISE("create-fails");
    static const size_t huge[] = {SIZE_MAX, SIZE_MAX / 4,
                                  SIZE_MAX / sizeof(pthread_t) + 2};
    int threads = threadwatch_count();
    tpool *untouched = (tpool *)&threads, *p = untouched;
    for (size_t i = 0; i < sizeof huge / sizeof huge[0]; i++) {
        wb_wrap_fail(WB_PTHREAD_CREATE, 1, EAGAIN, 1);
        int rc = tpool_create(&p, huge[i], 4);
        wb_wrap_reset(WB_PTHREAD_CREATE, 0);
        size_t bytes = 0;
        size_t blocks = wb_alloc_live(&bytes);
        int left = threadwatch_after_joins(threads) - threads;
        WB_EXPECT((rc == ENOMEM || rc == EAGAIN) && p == untouched,
                  "tpool_create(&p, %zu, 4): there is no memory for that "
                  "many workers (and no pthread_create() succeeds); "
                  "expected ENOMEM and *out left as it was; got %s and "
                  "*out %s",
                  huge[i], wb_errname(rc),
                  p == untouched ? "unchanged" : "changed");
        WB_EXPECT(blocks == 0 && left == 0,
                  "tpool_create(&p, %zu, 4) failed with %s and left %zu "
                  "block%s (%zu bytes) allocated and %d thread%s running: "
                  "when an allocation fails, free the ones that succeeded "
                  "before you return",
                  huge[i], wb_errname(rc), blocks, blocks == 1 ? "" : "s",
                  bytes, left, left == 1 ? "" : "s");
    }
}
END_TEST

/* --- Which threads run the tasks ------------------------------------------ */

/* Run for 10 ms, note which thread ran it, and record a span for the
 * timeline that TRACE=1 draws. */
static void on_placed(void *ctx)
{
    struct job *j = ctx;
    struct board *b = j->b;
    int64_t start = trace_now();
    pthread_mutex_lock(&b->lock);
    task_begin(b);
    pthread_mutex_unlock(&b->lock);
    wb_sleep_ms(10);
    pthread_mutex_lock(&b->lock);
    b->tid[j->id] = threadwatch_self();
    task_end(b, j->id);
    pthread_mutex_unlock(&b->lock);
    char label[32];
    snprintf(label, sizeof label, "task %d", j->id);
    trace_span(label, start, trace_now());
}

START_TEST(test_tasks_run_on_the_workers)
{
    WB_PROMISE("at-most-n");
    enum { N = 3, TASKS = 12 };
    struct board b;
    board_init(&b);
    struct job jobs[TASKS];
    tpool *p = new_pool(N, 4);
    for (int i = 0; i < TASKS; i++) {
        jobs[i] = (struct job){&b, i};
        submit_ok(p, on_placed, &jobs[i]);
    }
    int rc = tpool_wait(p);
    WB_EXPECT(rc == 0, "tpool_wait() should return 0; got %s", wb_errname(rc));
    destroy_ok(p);
    pid_t me = threadwatch_self();
    pid_t seen[TASKS];
    int distinct = 0;
    for (int i = 0; i < TASKS; i++) {
        WB_EXPECT(b.runs[i] == 1, "task %d ran %d times; expected once", i,
                  b.runs[i]);
        WB_EXPECT(b.tid[i] != me,
                  "task %d ran on the thread that called tpool_submit(): "
                  "a task runs on one of the pool's workers, never on the "
                  "caller's thread",
                  i);
        int known = 0;
        for (int k = 0; k < distinct; k++)
            known |= seen[k] == b.tid[i];
        if (!known)
            seen[distinct++] = b.tid[i];
    }
    WB_EXPECT(distinct <= N,
              "%d tasks ran on %d different threads, but a pool of %d "
              "workers has %d threads: each worker is started once by "
              "tpool_create() and runs task after task in a loop; do not "
              "start a thread per task",
              TASKS, distinct, N, N);
    board_free(&b);
}
END_TEST

/* make check CHAPTER=3 EXERCISE=tpool TRACE=1 draws this test's tasks. */
const char *const wb_trace_test = "test_tasks_run_on_the_workers";

Suite *wb_suite(void)
{
    threadwatch_start_machinery(); /* ThreadSanitizer's helper */
    Suite *s = wb_begin("tpool", "chapters/03-threads/chapter.md");
    WB_ADD(s, test_bad_arguments, "A thread pool");
    WB_ADD_TIMEOUT(s, test_create_fails_cleanly, "A thread pool", 5.0);
    WB_ADD_TIMEOUT(s, test_create_fails_anywhere, "A thread pool", 5.0);
    WB_ADD_TIMEOUT(s, test_create_no_memory_for_workers, "A thread pool", 5.0);
    WB_ADD_TIMEOUT(s, test_every_task_runs_once, "A thread pool", 5.0);
    WB_ADD_TIMEOUT(s, test_many_submitters, "A thread pool", 5.0);
    WB_ADD_TIMEOUT(s, test_at_most_n_at_once, "A thread pool", 5.0);
    WB_ADD_TIMEOUT(s, test_tasks_run_on_the_workers, "A thread pool", 5.0);
    WB_ADD_TIMEOUT(s, test_n_at_once_when_n_wait, "A thread pool", 5.0);
    WB_ADD_TIMEOUT(s, test_wait_waits_for_all, "A thread pool", 5.0);
    WB_ADD_TIMEOUT(s, test_wait_includes_tasks_from_tasks, "A thread pool",
                   5.0);
    WB_ADD_TIMEOUT(s, test_destroy_waits_for_running_task, "A thread pool",
                   5.0);
    WB_ADD_TIMEOUT(s, test_destroy_finishes_queued_tasks, "A thread pool", 5.0);
    WB_ADD_TIMEOUT(s, test_wait_from_a_task_is_edeadlk, "A thread pool", 6.0);
    WB_ADD_TIMEOUT(s, test_wait_on_another_pool, "A thread pool", 5.0);
    WB_ADD_TIMEOUT(s, test_destroy_refuses_new_tasks, "A thread pool", 5.0);
    WB_ADD_TIMEOUT(s, test_wait_sees_later_submissions, "A thread pool", 5.0);
    WB_ADD_TIMEOUT(s, test_submit_blocks_when_queue_full, "A bounded queue",
                   5.0);
    WB_ADD_TIMEOUT(s, test_wait_wakes_every_waiter, "`signal` or `broadcast`",
                   5.0);
    WB_ADD_TIMEOUT(s, test_idle_workers_sleep, "Condition variables", 5.0);
    WB_ADD_TIMEOUT(s, test_wait_counts_task_before_queueing, "A thread pool",
                   5.0);
    WB_ADD_TIMEOUT(s, test_tasks_finishing_together, "Data races", 6.0);
    return s;
}
