/*
 * Tests of bqueue (exercises/03-threads/bqueue.h): a bounded blocking
 * queue with close.
 *
 * "Blocked" is observed, not guessed: a thread announces that it is about
 * to call the queue, and the test then reads the thread's state in
 * /proc/self/task/TID/stat until the kernel reports it asleep ('S'). Only
 * then does the test make the move that should wake it. So the checks do
 * not depend on how fast a loaded machine runs a thread.
 *
 * The stolen wake-up (the reason for `while` around pthread_cond_wait) is
 * forced the same way: a consumer sleeps in pop on an empty queue; the
 * test pushes one item and at once pops it itself, which almost always
 * gets the mutex before the woken consumer does. The consumer then wakes
 * to an empty queue and must go back to sleep.
 *
 * Linux-only: it reads /proc and calls gettid through syscall()
 * (tests/support/threadwatch.c).
 */
#define _GNU_SOURCE
#include "wb.h"
#include "bqueue.h"
#include "heap.h"
#include "threadwatch.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ITEM(n) ((void *)(uintptr_t)(n))
#define NUM(p) ((unsigned long)(uintptr_t)(p))
/* What the tests put in *item before a pop that should fail: a failed pop
 * leaves it as it was. */
#define UNTOUCHED ITEM(0xdead)

/* "item 7", or "no item" when a pop left *item untouched. */
static const char *item_text(void *item)
{
    static _Thread_local char buf[48];
    if (item == UNTOUCHED)
        return "no item";
    snprintf(buf, sizeof buf, "item %lu", NUM(item));
    return buf;
}

static bqueue *new_queue(size_t capacity)
{
    bqueue *q = NULL;
    int rc = bqueue_create(&q, capacity);
    WB_EXPECT(rc == 0 && q != NULL,
              "bqueue_create(&q, %zu) should return 0 and a queue; got %s",
              capacity, wb_errname(rc));
    return q;
}

static void push_ok(bqueue *q, void *item)
{
    int rc = bqueue_push(q, item);
    WB_EXPECT(rc == 0, "bqueue_push(%lu) should return 0%s; got %s", NUM(item),
              item == NULL ? " (NULL is a valid item)" : "", wb_errname(rc));
}

static void *pop_ok(bqueue *q)
{
    void *item = UNTOUCHED;
    int rc = bqueue_pop(q, &item);
    WB_EXPECT(rc == 0, "bqueue_pop() should return 0 and an item; got %s",
              wb_errname(rc));
    return item;
}

/* --- Watching a thread block -------------------------------------------- */

/* One thread that calls the queue: it announces itself (its kernel thread
 * id) just before the call, and says when the call has returned. */
struct caller {
    bqueue *q;
    void *item;            /* what to push, or what pop returned */
    int rc;                /* what the call returned */
    atomic_int tid;        /* 0 until the thread is about to call */
    atomic_int done;       /* 1 once the call has returned */
    atomic_int *nreturned; /* incremented when the call returns, if set */
};

static void announce(struct caller *c)
{
    atomic_store(&c->tid, threadwatch_self());
}

static void finished(struct caller *c)
{
    atomic_store(&c->done, 1);
    if (c->nreturned != NULL)
        atomic_fetch_add(c->nreturned, 1);
}

static void *do_push(void *arg)
{
    struct caller *c = arg;
    announce(c);
    c->rc = bqueue_push(c->q, c->item);
    finished(c);
    return NULL;
}

static void *do_pop(void *arg)
{
    struct caller *c = arg;
    announce(c);
    c->item = UNTOUCHED;
    c->rc = bqueue_pop(c->q, &c->item);
    finished(c);
    return NULL;
}

static void start(pthread_t *t, struct caller *c, void *(*fn)(void *))
{
    int rc = pthread_create(t, NULL, fn, c);
    WB_EXPECT(rc == 0, "pthread_create() failed: %s", strerror(rc));
}

/* Wait until @p c is asleep inside its call (1) or its call has returned
 * (0), for at most 2 s; fail the test if neither happens. The thread's
 * state is read in /proc (tests/support/threadwatch.c, in bqueue.links). */
static int blocked_in_call(struct caller *c)
{
    int blocked = threadwatch_blocked(&c->tid, &c->done);
    WB_EXPECT(blocked >= 0,
              "a thread calling the queue neither returned nor went to "
              "sleep within 2 s: is it spinning in a loop instead of "
              "waiting on a condition variable?");
    return blocked == 1;
}

/* Starts a thread for each of the @p n callers of @p c, running @p fn,
 * and expects each to fall asleep in its call; @p doing names the call
 * for the message ("a pop on an empty, open queue"). */
static void start_all_blocked(struct caller *c, pthread_t *t, int n,
                              void *(*fn)(void *), const char *doing)
{
    for (int i = 0; i < n; i++)
        start(&t[i], &c[i], fn);
    for (int i = 0; i < n; i++)
        WB_EXPECT(blocked_in_call(&c[i]), "%s returned %s instead of blocking",
                  doing, wb_errname(c[i].rc));
}

/* Wait up to @p ms for *n to reach @p want; return its last value. */
static int wait_count(atomic_int *n, int want, long ms)
{
    int64_t end = wb_now_ns() + ms * 1000000LL;
    while (atomic_load(n) < want && wb_now_ns() < end)
        wb_sleep_ms(1);
    return atomic_load(n);
}

/* --- One thread ----------------------------------------------------------- */

START_TEST(test_fifo_one_thread)
{
    WB_PROMISE("fifo");
    bqueue *q = new_queue(3);
    /* Several rounds, so that head and tail wrap around the slots. */
    unsigned long next_in = 1, next_out = 1;
    for (int round = 0; round < 5; round++) {
        for (int i = 0; i < 3; i++)
            push_ok(q, ITEM(next_in++));
        for (int i = 0; i < 2; i++) {
            void *got = pop_ok(q);
            WB_EXPECT(NUM(got) == next_out,
                      "first in, first out: expected item %lu; got %lu",
                      next_out, NUM(got));
            next_out++;
        }
        void *got = pop_ok(q);
        WB_EXPECT(NUM(got) == next_out,
                  "first in, first out: expected item %lu; got %lu", next_out,
                  NUM(got));
        next_out++;
    }
    push_ok(q, NULL);
    void *got = pop_ok(q);
    WB_EXPECT(got == NULL,
              "NULL is a valid item: pushing NULL should pop "
              "NULL; got %lu",
              NUM(got));
    bqueue_destroy(q);
    bqueue_destroy(NULL); /* does nothing */
}
END_TEST

START_TEST(test_bad_arguments)
{
    WB_PROMISE("einval");
    bqueue *q = NULL;
    int rc = bqueue_create(NULL, 4);
    WB_EXPECT(rc == EINVAL,
              "bqueue_create(NULL, 4) should give EINVAL; got "
              "%s",
              wb_errname(rc));
    rc = bqueue_create(&q, 0);
    WB_EXPECT(rc == EINVAL && q == NULL,
              "bqueue_create(&q, 0) should give EINVAL and leave q alone: a "
              "queue of capacity 0 could never take an item; got %s",
              wb_errname(rc));
    void *item;
    rc = bqueue_push(NULL, ITEM(1));
    WB_EXPECT(rc == EINVAL,
              "bqueue_push(NULL, item) should give EINVAL; got "
              "%s",
              wb_errname(rc));
    rc = bqueue_pop(NULL, &item);
    WB_EXPECT(rc == EINVAL,
              "bqueue_pop(NULL, &item) should give EINVAL; got "
              "%s",
              wb_errname(rc));
    rc = bqueue_close(NULL);
    WB_EXPECT(rc == EINVAL, "bqueue_close(NULL) should give EINVAL; got %s",
              wb_errname(rc));
    q = new_queue(1);
    push_ok(q, ITEM(7));
    rc = bqueue_pop(q, NULL);
    WB_EXPECT(rc == EINVAL, "bqueue_pop(q, NULL) should give EINVAL; got %s",
              wb_errname(rc));
    void *got = pop_ok(q);
    WB_EXPECT(NUM(got) == 7,
              "a pop refused with EINVAL must not take the "
              "item: expected 7 still queued; got %lu",
              NUM(got));
    bqueue_destroy(q);
}
END_TEST

START_TEST(test_close_drains_then_reports_closed)
{
    WB_PROMISE("close-drains");
    bqueue *q = new_queue(4);
    push_ok(q, ITEM(1));
    push_ok(q, ITEM(2));
    push_ok(q, ITEM(3));
    int rc = bqueue_close(q);
    WB_EXPECT(rc == 0, "bqueue_close() should return 0; got %s",
              wb_errname(rc));
    for (unsigned long want = 1; want <= 3; want++) {
        void *item = UNTOUCHED;
        rc = bqueue_pop(q, &item);
        WB_EXPECT(rc == 0 && NUM(item) == want,
                  "after close, pop still hands out what is left, in order: "
                  "expected 0 and item %lu; got %s and item %lu",
                  want, wb_errname(rc), NUM(item));
    }
    for (int i = 0; i < 2; i++) {
        void *item = UNTOUCHED;
        rc = bqueue_pop(q, &item);
        WB_EXPECT(rc == EPIPE && item == UNTOUCHED,
                  "a closed, empty queue should make pop return EPIPE at "
                  "once (every time) without writing *item; got %s, and "
                  "*item was %s",
                  wb_errname(rc),
                  item == UNTOUCHED ? "left alone" : "overwritten");
    }
    rc = bqueue_close(q);
    WB_EXPECT(rc == 0,
              "closing a closed queue should do nothing and return "
              "0; got %s",
              wb_errname(rc));
    bqueue_destroy(q);
}
END_TEST

START_TEST(test_push_after_close_fails)
{
    WB_PROMISE("push-closed");
    bqueue *q = new_queue(4);
    push_ok(q, ITEM(1));
    WB_EXPECT(bqueue_close(q) == 0, "bqueue_close() should return 0");
    int rc = bqueue_push(q, ITEM(2));
    WB_EXPECT(rc == EPIPE,
              "a push on a closed queue should fail with EPIPE; "
              "got %s",
              wb_errname(rc));
    void *item = pop_ok(q);
    WB_EXPECT(NUM(item) == 1,
              "expected the item pushed before close (1); "
              "got %lu",
              NUM(item));
    rc = bqueue_pop(q, &item);
    WB_EXPECT(rc == EPIPE,
              "the push refused after close must not have added its item: "
              "the next pop should give EPIPE; got %s (%s)",
              wb_errname(rc), item_text(item));
    bqueue_destroy(q);
}
END_TEST

/* --- Blocking ------------------------------------------------------------- */

START_TEST(test_push_blocks_while_full)
{
    WB_PROMISE("push-blocks");
    bqueue *q = new_queue(1);
    push_ok(q, ITEM(1));
    struct caller c = {.q = q, .item = ITEM(2)};
    pthread_t t;
    start(&t, &c, do_push);
    int blocked = blocked_in_call(&c);
    if (!blocked) {
        pthread_join(t, NULL);
        WB_EXPECT(0,
                  "a push on a full queue (capacity 1, one item) should "
                  "block until a pop makes room; it returned %s at once",
                  wb_errname(c.rc));
    }
    void *first = pop_ok(q);
    /* Room now: the blocked push must finish (the test's limit catches a
     * push that never wakes up). */
    pthread_join(t, NULL);
    WB_EXPECT(c.rc == 0,
              "the blocked push should succeed once a pop made "
              "room; it returned %s",
              wb_errname(c.rc));
    void *second = pop_ok(q);
    WB_EXPECT(NUM(first) == 1 && NUM(second) == 2,
              "expected the items in order 1, 2; got %lu, %lu", NUM(first),
              NUM(second));
    bqueue_destroy(q);
}
END_TEST

START_TEST(test_pop_blocks_while_empty)
{
    WB_PROMISE("pop-blocks");
    bqueue *q = new_queue(2);
    struct caller c = {.q = q};
    pthread_t t;
    start(&t, &c, do_pop);
    int blocked = blocked_in_call(&c);
    if (!blocked) {
        pthread_join(t, NULL);
        WB_EXPECT(0,
                  "a pop on an empty, open queue should block until a "
                  "push; it returned %s at once",
                  wb_errname(c.rc));
    }
    push_ok(q, ITEM(42));
    pthread_join(t, NULL);
    WB_EXPECT(c.rc == 0 && NUM(c.item) == 42,
              "the blocked pop should return 0 and the item pushed (42); "
              "got %s and %lu",
              wb_errname(c.rc), NUM(c.item));
    bqueue_destroy(q);
}
END_TEST

/* --- Close wakes every waiter -------------------------------------------- */

enum { WAITERS = 4 };

START_TEST(test_close_wakes_every_consumer)
{
    WB_PROMISE("close-wakes-all");
    bqueue *q = new_queue(2);
    struct caller c[WAITERS];
    pthread_t t[WAITERS];
    atomic_int returned = 0;
    for (int i = 0; i < WAITERS; i++)
        c[i] = (struct caller){.q = q, .nreturned = &returned};
    start_all_blocked(c, t, WAITERS, do_pop, "a pop on an empty, open queue");
    WB_EXPECT(bqueue_close(q) == 0, "bqueue_close() should return 0");
    int n = wait_count(&returned, WAITERS, 1000);
    WB_EXPECT(n == WAITERS,
              "%d consumers were asleep in pop when the queue was closed; "
              "after 1 s only %d had returned. Close must wake every "
              "waiter: pthread_cond_broadcast, not pthread_cond_signal",
              WAITERS, n);
    for (int i = 0; i < WAITERS; i++) {
        pthread_join(t[i], NULL);
        WB_EXPECT(c[i].rc == EPIPE,
                  "a pop woken by close on an empty queue should return "
                  "EPIPE; got %s",
                  wb_errname(c[i].rc));
    }
    bqueue_destroy(q);
}
END_TEST

START_TEST(test_close_wakes_every_producer)
{
    WB_PROMISE("close-wakes-all");
    bqueue *q = new_queue(2);
    push_ok(q, ITEM(1));
    push_ok(q, ITEM(2));
    struct caller c[WAITERS];
    pthread_t t[WAITERS];
    atomic_int returned = 0;
    for (int i = 0; i < WAITERS; i++)
        c[i] = (struct caller){
            .q = q, .item = ITEM(100 + i), .nreturned = &returned};
    start_all_blocked(c, t, WAITERS, do_push, "a push on a full queue");
    WB_EXPECT(bqueue_close(q) == 0, "bqueue_close() should return 0");
    int n = wait_count(&returned, WAITERS, 1000);
    WB_EXPECT(n == WAITERS,
              "%d producers were asleep in push on a full queue when it was "
              "closed; after 1 s only %d had returned. Close must wake "
              "every waiter, on both condition variables",
              WAITERS, n);
    for (int i = 0; i < WAITERS; i++) {
        pthread_join(t[i], NULL);
        WB_EXPECT(c[i].rc == EPIPE,
                  "a push woken by close should fail with EPIPE; got %s",
                  wb_errname(c[i].rc));
    }
    for (unsigned long want = 1; want <= 2; want++) {
        void *item = pop_ok(q);
        WB_EXPECT(NUM(item) == want,
                  "after close the two items pushed before should still "
                  "come out (expected %lu); got %lu",
                  want, NUM(item));
    }
    void *item;
    int rc = bqueue_pop(q, &item);
    WB_EXPECT(rc == EPIPE,
              "the pushes refused by close must not have added "
              "anything: expected EPIPE; got %s (%s)",
              wb_errname(rc), item_text(item));
    bqueue_destroy(q);
}
END_TEST

/* --- Stolen wake-ups: `while`, not `if` ----------------------------------- */

/* To steal a wake-up for certain, the sleeping thread is frozen inside its
 * wait: SIGUSR1 runs a handler on it that blocks reading a pipe. The
 * thread is still inside pthread_cond_wait() and does not hold the mutex,
 * so the test can signal it (push or pop), take back what it was woken
 * for, and only then let it go on.
 *
 * The pipe is made before the thread starts (park_prepare()), so that
 * pthread_create() orders the write of park_fds before the handler's
 * read: a signal is no synchronisation, and helgrind would rightly call
 * a pipe made later a data race. */
static int park_fds[2] = {-1, -1};
static atomic_int parked, unparked;

static void on_park(int sig)
{
    (void)sig;
    int saved = errno;
    atomic_fetch_add(&parked, 1);
    char byte;
    while (read(park_fds[0], &byte, 1) == -1 && errno == EINTR)
        continue;
    atomic_fetch_add(&unparked, 1);
    errno = saved;
}

/* Make the pipe and install the handler; call it before starting the
 * thread that park() will freeze. */
static void park_prepare(void)
{
    wb_pipe(park_fds);
    atomic_store(&parked, 0);
    atomic_store(&unparked, 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_park;
    sigemptyset(&sa.sa_mask);
    ck_assert_int_eq(sigaction(SIGUSR1, &sa, NULL), 0);
}

/* Freeze thread @p t (which is asleep in a wait) in the handler. */
static void park(pthread_t t)
{
    int before = atomic_load(&parked);
    ck_assert_int_eq(pthread_kill(t, SIGUSR1), 0);
    int64_t end = wb_now_ns() + 2000 * 1000000LL;
    while (atomic_load(&parked) == before && wb_now_ns() < end)
        wb_sleep_ms(1);
    ck_assert_msg(atomic_load(&parked) > before,
                  "the test could not pause a thread with SIGUSR1 within 2 s");
}

/* Let every frozen thread go on; return once all have left the handler. */
static void unpark_all(void)
{
    int n = atomic_load(&parked) - atomic_load(&unparked);
    for (int i = 0; i < n; i++)
        ck_assert_int_eq(write(park_fds[1], "x", 1), 1);
    int64_t end = wb_now_ns() + 2000 * 1000000LL;
    while (atomic_load(&unparked) < atomic_load(&parked) && wb_now_ns() < end)
        wb_sleep_ms(1);
    ck_assert_msg(atomic_load(&unparked) == atomic_load(&parked),
                  "a paused thread did not resume within 2 s");
}

/* Let the frozen thread go on; return once it has left the handler and
 * either gone back to sleep (1) or finished its call (0). */
static int unpark(struct caller *c)
{
    unpark_all();
    return blocked_in_call(c);
}

static void park_done(void)
{
    close(park_fds[0]);
    close(park_fds[1]);
    park_fds[0] = park_fds[1] = -1;
}

enum { STEAL_ROUNDS = 3 };

/* Pop one item; if one came, push back ITEM(2). */
static void *pop_then_push_back(void *arg)
{
    struct caller *c = arg;
    announce(c);
    c->item = UNTOUCHED;
    c->rc = bqueue_pop(c->q, &c->item);
    if (c->rc == 0)
        (void)bqueue_push(c->q, ITEM(2));
    finished(c);
    return NULL;
}

START_TEST(test_pop_rechecks_after_wakeup)
{
    WB_PROMISE("while-loop");
    for (int round = 0; round < STEAL_ROUNDS; round++) {
        bqueue *q = new_queue(4);
        struct caller c = {.q = q};
        pthread_t t;
        park_prepare();
        start(&t, &c, pop_then_push_back);
        if (!blocked_in_call(&c)) {
            pthread_join(t, NULL);
            WB_EXPECT(0,
                      "a pop on an empty, open queue returned %s instead "
                      "of blocking",
                      wb_errname(c.rc));
        }
        /* Wake the sleeping consumer with item 1 while it is paused, and
         * take item 1 back before it can get the mutex. */
        park(t);
        push_ok(q, ITEM(1));
        void *mine = pop_ok(q);
        int asleep = unpark(&c);
        WB_EXPECT(bqueue_close(q) == 0, "bqueue_close() should return 0");
        pthread_join(t, NULL);
        park_done();
        WB_EXPECT(NUM(mine) == 1,
                  "the test pushed item 1 and popped it at "
                  "once; it got %lu",
                  NUM(mine));
        WB_EXPECT(asleep,
                  "a consumer asleep in pop was woken by a push, but the "
                  "test took that item before the consumer got the mutex "
                  "back. The consumer must test again, find the queue "
                  "empty and open, and sleep on (`while`, not `if`, around "
                  "pthread_cond_wait); instead its pop returned %s (%s) "
                  "while the queue was still open",
                  wb_errname(c.rc), item_text(c.item));
        WB_EXPECT(c.rc == EPIPE,
                  "a consumer asleep in pop was woken by a push, but the "
                  "test took that item before the consumer got the mutex "
                  "back. The consumer must test again, find the queue "
                  "empty and sleep on (`while`, not `if`, around "
                  "pthread_cond_wait), then get EPIPE at close; it returned "
                  "%s (%s), from an empty queue",
                  wb_errname(c.rc), item_text(c.item));
        bqueue_destroy(q);
    }
}
END_TEST

/* Push item 2 (blocking on the full queue), then pop one item. */
static void *push_then_pop(void *arg)
{
    struct caller *c = arg;
    announce(c);
    c->rc = bqueue_push(c->q, ITEM(2));
    void *item = UNTOUCHED;
    int rc = c->rc == 0 ? bqueue_pop(c->q, &item) : c->rc;
    c->item = rc == 0 ? item : UNTOUCHED;
    finished(c);
    return NULL;
}

START_TEST(test_push_rechecks_after_wakeup)
{
    WB_PROMISE("while-loop");
    for (int round = 0; round < STEAL_ROUNDS; round++) {
        bqueue *q = new_queue(1);
        push_ok(q, ITEM(1));
        struct caller c = {.q = q};
        pthread_t t;
        park_prepare();
        start(&t, &c, push_then_pop);
        if (!blocked_in_call(&c)) {
            pthread_join(t, NULL);
            WB_EXPECT(0,
                      "a push on a full queue returned %s instead of "
                      "blocking",
                      wb_errname(c.rc));
        }
        /* Make room while the producer is paused (waking it), and fill
         * the room again with item 3 before it can get the mutex. */
        park(t);
        void *a = pop_ok(q);
        push_ok(q, ITEM(3));
        int asleep = unpark(&c);
        void *b = pop_ok(q);
        pthread_join(t, NULL);
        park_done();
        /* Items 1, 2 and 3 went in once each; each must come out once. */
        unsigned long got[3] = {NUM(a), NUM(b), NUM(c.item)};
        int seen[4] = {0, 0, 0, 0}, bad = 0;
        for (int i = 0; i < 3; i++) {
            if (got[i] >= 1 && got[i] <= 3)
                seen[got[i]]++;
            else
                bad = 1;
        }
        WB_EXPECT(asleep,
                  "a producer asleep in push on a full queue (capacity 1) "
                  "was woken by a pop, but the test filled the room again "
                  "before the producer got the mutex back. The producer "
                  "must test again, find the queue full and sleep on "
                  "(`while`, not `if`, around pthread_cond_wait); instead "
                  "its push returned %s into the full queue",
                  wb_errname(c.rc));
        WB_EXPECT(c.rc == 0 && !bad && seen[1] == 1 && seen[2] == 1 &&
                      seen[3] == 1,
                  "items 1, 2 and 3 were each pushed once into a queue of "
                  "capacity 1; the pops returned %lu, %lu and %lu (the "
                  "producer's push: %s): each item must come out exactly "
                  "once",
                  got[0], got[1], got[2], wb_errname(c.rc));
        bqueue_destroy(q);
    }
}
END_TEST

/* --- Lost wake-up: the predicate changes under the lock ------------------ */

/* The hook: this file defines pthread_cond_wait() and
 * pthread_cond_timedwait(), so the queue's calls come here first and go
 * on to the C library's. A thread that armed the hook stops at its next
 * wait, BEFORE the real call, that is after it has tested its predicate
 * with the mutex held and before the mutex is released: exactly where a
 * change made without the mutex gets lost. The test closes the queue
 * there. A close that takes the mutex cannot run until the waiter is
 * really waiting (the hook gives up after 100 ms), so it wakes it; a
 * close that does not take the mutex runs at once, and its broadcast
 * finds nobody waiting.
 *
 * ThreadSanitizer watches these same functions, and a second definition
 * would hide them from it, so under SANITIZE=thread there is no hook; the
 * test then only checks that close wakes a waiting pop, and TSan itself
 * reports a close that writes the flag without the mutex. */
#if defined(__SANITIZE_THREAD__)
#define NO_WAIT_HOOK 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define NO_WAIT_HOOK 1
#endif
#endif

static _Thread_local int hook_armed; /* stop at this thread's next wait */
/* Waits of this thread still to return at once, without waiting: a
 * spurious wake-up, which POSIX allows at any time. */
static _Thread_local int spurious_left;
static atomic_int spurious_given; /* spurious wake-ups handed out */
static atomic_int hook_reached;   /* a thread stopped at the hook */
static atomic_int hook_release;   /* the test made its move */

#ifndef NO_WAIT_HOOK
#include <dlfcn.h>

static int (*real_cond_wait)(pthread_cond_t *, pthread_mutex_t *);
static int (*real_cond_timedwait)(pthread_cond_t *, pthread_mutex_t *,
                                  const struct timespec *);
static pthread_once_t hook_once = PTHREAD_ONCE_INIT;

static void hook_init(void)
{
    /* The POSIX way to store dlsym()'s result in a function pointer. */
    *(void **)&real_cond_wait = dlsym(RTLD_NEXT, "pthread_cond_wait");
    *(void **)&real_cond_timedwait = dlsym(RTLD_NEXT, "pthread_cond_timedwait");
    if (real_cond_wait == NULL || real_cond_timedwait == NULL)
        abort();
}

static void hook_stop(void)
{
    if (!hook_armed)
        return;
    hook_armed = 0;
    atomic_store(&hook_reached, 1);
    int64_t end = wb_now_ns() + 100 * 1000000LL;
    while (!atomic_load(&hook_release) && wb_now_ns() < end)
        wb_sleep_ms(1);
}

/* A spurious wake-up: return at once, the mutex still held, as if the
 * wait had begun and ended. */
static int spurious(void)
{
    if (spurious_left <= 0)
        return 0;
    spurious_left--;
    atomic_fetch_add(&spurious_given, 1);
    return 1;
}

int pthread_cond_wait(pthread_cond_t *cond, pthread_mutex_t *mutex)
{
    pthread_once(&hook_once, hook_init);
    if (spurious())
        return 0;
    hook_stop();
    return real_cond_wait(cond, mutex);
}

int pthread_cond_timedwait(pthread_cond_t *cond, pthread_mutex_t *mutex,
                           const struct timespec *abstime)
{
    pthread_once(&hook_once, hook_init);
    if (spurious())
        return 0;
    hook_stop();
    return real_cond_timedwait(cond, mutex, abstime);
}
#endif

static void *pop_with_hook(void *arg)
{
    struct caller *c = arg;
    hook_armed = 1;
    announce(c);
    c->item = UNTOUCHED;
    c->rc = bqueue_pop(c->q, &c->item);
    hook_armed = 0;
    finished(c);
    return NULL;
}

START_TEST(test_close_never_lost)
{
    WB_PROMISE("locked-changes");
    for (int round = 0; round < 2; round++) {
        bqueue *q = new_queue(1);
        struct caller c = {.q = q};
        atomic_store(&hook_reached, 0);
        atomic_store(&hook_release, 0);
        pthread_t t;
        start(&t, &c, pop_with_hook);
        /* Wait until the consumer stops at the hook (or, with no hook or
         * a wait the hook does not know, until it sleeps). */
        int64_t end = wb_now_ns() + 2000 * 1000000LL;
        while (!atomic_load(&hook_reached) && !atomic_load(&c.done) &&
               wb_now_ns() < end) {
            int tid = atomic_load(&c.tid);
            if (tid != 0 && threadwatch_state(tid) == 'S') {
                wb_sleep_ms(5);
                if (!atomic_load(&hook_reached) &&
                    threadwatch_state(tid) == 'S')
                    break;
            }
            sched_yield();
        }
        if (atomic_load(&c.done)) {
            pthread_join(t, NULL);
            WB_EXPECT(0,
                      "a pop on an empty, open queue returned %s instead "
                      "of blocking",
                      wb_errname(c.rc));
        }
        int hooked = atomic_load(&hook_reached);
        WB_EXPECT(bqueue_close(q) == 0, "bqueue_close() should return 0");
        atomic_store(&hook_release, 1);
        end = wb_now_ns() + 1000 * 1000000LL;
        while (!atomic_load(&c.done) && wb_now_ns() < end)
            wb_sleep_ms(1);
        WB_EXPECT(atomic_load(&c.done),
                  "a consumer had tested the queue (empty, open) and was "
                  "about to call pthread_cond_wait when the test closed "
                  "the queue%s; 1 s later it was still asleep: the close's "
                  "wake-up was lost. Set `closed` and broadcast with the "
                  "mutex held, so the change cannot fall between a "
                  "waiter's test and its wait",
                  hooked ? "" : " (no hook)");
        pthread_join(t, NULL);
        WB_EXPECT(c.rc == EPIPE,
                  "pop on a closed, empty queue should return "
                  "EPIPE; got %s",
                  wb_errname(c.rc));
        bqueue_destroy(q);
    }
}
END_TEST

/* --- Spurious wake-ups: `while`, not `if`, again ------------------------ */

enum { SPURIOUS = 3 };

/* Pop (or push) with the first SPURIOUS waits of this thread returning at
 * once, as a spurious wake-up does. */
static void *pop_spuriously(void *arg)
{
    spurious_left = SPURIOUS;
    return do_pop(arg);
}

static void *push_spuriously(void *arg)
{
    spurious_left = SPURIOUS;
    return do_push(arg);
}

/* Under SANITIZE=thread there is no hook (see above), so no spurious
 * wake-up: the test then checks only that the calls block and finish. */
START_TEST(test_spurious_wakeups)
{
    WB_PROMISE("while-loop");
    bqueue *q = new_queue(1);
    struct caller c = {.q = q};
    pthread_t t;
    atomic_store(&spurious_given, 0);
    start(&t, &c, pop_spuriously);
    int blocked = blocked_in_call(&c);
    if (!blocked) {
        pthread_join(t, NULL);
        WB_EXPECT(0,
                  "a consumer in pop on an empty, open queue had %d "
                  "wake-ups for no reason (spurious, which POSIX allows); it "
                  "must test the queue again after each one and sleep on "
                  "(`while`, not `if`, around pthread_cond_wait), but pop "
                  "returned %s (%s) from the empty queue",
                  atomic_load(&spurious_given), wb_errname(c.rc),
                  item_text(c.item));
    }
    push_ok(q, ITEM(5));
    pthread_join(t, NULL);
    WB_EXPECT(c.rc == 0 && NUM(c.item) == 5,
              "after %d spurious wake-ups, the consumer should pop item 5 "
              "once it was pushed; got %s (%s)",
              atomic_load(&spurious_given), wb_errname(c.rc),
              item_text(c.item));

    /* The same for a producer on a full queue. */
    push_ok(q, ITEM(6));
    struct caller p = {.q = q, .item = ITEM(7)};
    atomic_store(&spurious_given, 0);
    start(&t, &p, push_spuriously);
    blocked = blocked_in_call(&p);
    if (!blocked) {
        pthread_join(t, NULL);
        WB_EXPECT(0,
                  "a producer in push on a full queue (capacity 1) had %d "
                  "spurious wake-ups; it must test again and sleep on "
                  "(`while`, not `if`), but push returned %s into the full "
                  "queue",
                  atomic_load(&spurious_given), wb_errname(p.rc));
    }
    void *first = pop_ok(q);
    pthread_join(t, NULL);
    void *second = pop_ok(q);
    WB_EXPECT(p.rc == 0 && NUM(first) == 6 && NUM(second) == 7,
              "after spurious wake-ups, the producer's push should succeed "
              "once there is room, and the items come out 6, 7; got %s, "
              "then %lu, %lu",
              wb_errname(p.rc), NUM(first), NUM(second));
    bqueue_destroy(q);
}
END_TEST

/* --- Two waiters asleep at once: every change wakes one ------------------ */

/* Two consumers asleep in pop are frozen inside their waits (park()); the
 * test pushes two items, then lets both go on. Each push must have woken
 * one of them: a push that signals only when the queue was empty wakes
 * one consumer for the two items, and the other sleeps beside an item. */
START_TEST(test_two_consumers_asleep)
{
    WB_PROMISE("pop-blocks");
    bqueue *q = new_queue(4);
    struct caller c[2];
    pthread_t t[2];
    atomic_int returned = 0;
    park_prepare();
    for (int i = 0; i < 2; i++)
        c[i] = (struct caller){.q = q, .nreturned = &returned};
    start_all_blocked(c, t, 2, do_pop, "a pop on an empty, open queue");
    park(t[0]);
    park(t[1]);
    push_ok(q, ITEM(1));
    push_ok(q, ITEM(2));
    unpark_all();
    int n = wait_count(&returned, 2, 1000);
    WB_EXPECT(bqueue_close(q) == 0, "bqueue_close() should return 0");
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    park_done();
    WB_EXPECT(n == 2,
              "two consumers were asleep in pop on an empty queue, and two "
              "items were pushed; 1 s later only %d consumer had returned, "
              "the other still asleep beside an item. Every push must wake "
              "a waiting consumer (signal on every push, not only when the "
              "queue was empty)",
              n);
    WB_EXPECT(c[0].rc == 0 && c[1].rc == 0 &&
                  NUM(c[0].item) + NUM(c[1].item) == 3,
              "the two consumers should have popped items 1 and 2; they got "
              "%s (%s) and %s (%s)",
              wb_errname(c[0].rc), item_text(c[0].item), wb_errname(c[1].rc),
              item_text(c[1].item));
    bqueue_destroy(q);
}
END_TEST

/* The same for producers: two asleep on a full queue, two pops. */
START_TEST(test_two_producers_asleep)
{
    WB_PROMISE("push-blocks");
    bqueue *q = new_queue(2);
    push_ok(q, ITEM(1));
    push_ok(q, ITEM(2));
    struct caller c[2];
    pthread_t t[2];
    atomic_int returned = 0;
    park_prepare();
    for (int i = 0; i < 2; i++)
        c[i] = (struct caller){
            .q = q, .item = ITEM(3 + i), .nreturned = &returned};
    start_all_blocked(c, t, 2, do_push, "a push on a full queue");
    park(t[0]);
    park(t[1]);
    void *a = pop_ok(q);
    void *b = pop_ok(q);
    unpark_all();
    int n = wait_count(&returned, 2, 1000);
    WB_EXPECT(bqueue_close(q) == 0, "bqueue_close() should return 0");
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    park_done();
    void *rest[2] = {UNTOUCHED, UNTOUCHED};
    for (int i = 0; i < 2; i++)
        (void)bqueue_pop(q, &rest[i]);
    WB_EXPECT(NUM(a) == 1 && NUM(b) == 2,
              "the test should have popped items 1 and 2; got %lu and %lu",
              NUM(a), NUM(b));
    WB_EXPECT(n == 2,
              "two producers were asleep in push on a full queue "
              "(capacity 2), and two items were popped; 1 s later only %d "
              "producer had returned, the other still asleep beside a free "
              "slot. Every pop must wake a waiting producer (signal on "
              "every pop, not only when the queue was full)",
              n);
    WB_EXPECT(c[0].rc == 0 && c[1].rc == 0 && NUM(rest[0]) + NUM(rest[1]) == 7,
              "both producers should have pushed (items 3 and 4); they "
              "returned %s and %s, and the queue then held %s and %s",
              wb_errname(c[0].rc), wb_errname(c[1].rc), item_text(rest[0]),
              item_text(rest[1]));
    bqueue_destroy(q);
}
END_TEST

/* --- Creating and destroying: nothing leaked, nothing freed twice -------- */

enum { CYCLES = 64 };

START_TEST(test_create_fails_cleanly)
{
    WB_PROMISE("create-fails");
    bqueue *untouched = (bqueue *)&untouched, *q = untouched;
    /* Capacities whose slots do not fit in memory, the last one such that
     * capacity * sizeof(void *) wraps around to 8 bytes. */
    static const size_t huge[] = {SIZE_MAX, SIZE_MAX / 4,
                                  SIZE_MAX / sizeof(void *) + 2};
    size_t before = heap_in_use();
    for (size_t i = 0; i < sizeof huge / sizeof huge[0]; i++) {
        int rc = bqueue_create(&q, huge[i]);
        WB_EXPECT(rc == ENOMEM && q == untouched,
                  "bqueue_create(&q, %zu): no memory holds that many slots "
                  "(or their size overflows a size_t); expected ENOMEM and "
                  "q left as it was; got %s and q %s",
                  huge[i], wb_errname(rc),
                  q == untouched ? "unchanged" : "changed");
    }
    size_t after = heap_in_use();
    WB_EXPECT(after <= before + 1024,
              "bqueue_create() failed with ENOMEM and left %ld bytes "
              "allocated: free the queue when its slots cannot be "
              "allocated",
              (long)(after - before));

    /* Make the k-th pthread_mutex_init() or pthread_cond_init() of
     * bqueue_create() fail, for every k, many times over. */
    static const struct {
        enum wb_wrapped f;
        const char *name;
    } inits[] = {{WB_PTHREAD_MUTEX_INIT, "pthread_mutex_init"},
                 {WB_PTHREAD_COND_INIT, "pthread_cond_init"}};
    for (size_t f = 0; f < 2; f++) {
        int done = 0;
        for (int k = 1; !done && k <= 8; k++) {
            for (int round = 0; round < HEAP_WARMUP + CYCLES; round++) {
                if (round == HEAP_WARMUP)
                    before = heap_in_use();
                wb_wrap_reset(inits[f].f, k);
                int rc = bqueue_create(&q, 8);
                int calls = wb_wrap_calls(inits[f].f);
                wb_wrap_reset(inits[f].f, 0);
                if (calls < k) {
                    /* No k-th call: create succeeded, and every failure
                     * of this function has been tried. */
                    WB_EXPECT(rc == 0,
                              "bqueue_create(&q, 8) should return 0; got %s",
                              wb_errname(rc));
                    bqueue_destroy(q);
                    q = untouched;
                    done = 1;
                    break;
                }
                WB_EXPECT(rc == ENOMEM && q == untouched,
                          "call %d of %s() in bqueue_create() failed with "
                          "ENOMEM: expected that error and q left as it "
                          "was; got %s and q %s",
                          k, inits[f].name, wb_errname(rc),
                          q == untouched ? "unchanged" : "changed");
            }
            if (done)
                break;
            after = heap_in_use();
            long left = after > before ? (long)(after - before) : 0;
            WB_EXPECT(left < CYCLES * 16,
                      "%d times, call %d of %s() in bqueue_create() failed, "
                      "and %ld bytes were left allocated: on that error "
                      "path, destroy what was initialised and free what "
                      "was allocated",
                      CYCLES, k, inits[f].name, left);
        }
    }
}
END_TEST

START_TEST(test_destroy_leaves_items)
{
    WB_PROMISE("destroy");
    /* The items belong to the test: two big blocks, so that the queue
     * freeing them would show in the memory in use. */
    enum { BIG = 1 << 20 };
    char *items[2];
    for (int i = 0; i < 2; i++) {
        items[i] = malloc(BIG);
        ck_assert_msg(items[i] != NULL, "out of memory");
        memset(items[i], 'a' + i, BIG);
    }
    bqueue *q = new_queue(4);
    push_ok(q, items[0]);
    push_ok(q, items[1]);
    size_t before = heap_in_use();
    bqueue_destroy(q);
    size_t after = heap_in_use();
    WB_EXPECT(after + BIG > before,
              "bqueue_destroy() of a queue that still held 2 items of 1 MiB "
              "freed %ld bytes: it freed the items, which belong to whoever "
              "pushed them; free only the queue's own memory",
              (long)(before - after));
    WB_EXPECT(items[0][BIG - 1] == 'a' && items[1][BIG - 1] == 'b',
              "the items pushed must be left as they were");
    free(items[0]);
    free(items[1]);

    /* And everything the queue allocated is freed. */
    before = 0;
    for (int i = 0; i < HEAP_WARMUP + 4 * CYCLES; i++) {
        if (i == HEAP_WARMUP)
            before = heap_in_use();
        q = new_queue(3);
        push_ok(q, ITEM(i + 1));
        void *item = pop_ok(q);
        WB_EXPECT(NUM(item) == (unsigned long)i + 1,
                  "expected item %d back; got %lu", i + 1, NUM(item));
        bqueue_destroy(q);
    }
    after = heap_in_use();
    long left = after > before ? (long)(after - before) : 0;
    WB_EXPECT(left < 4 * CYCLES * 16,
              "%d queues were created and destroyed, and %ld bytes are "
              "still allocated: bqueue_destroy() must free the slots and "
              "the queue (and destroy the mutex and condition variables)",
              4 * CYCLES, left);
    bqueue_destroy(NULL); /* does nothing */
}
END_TEST

/* --- Many producers and consumers ----------------------------------------- */

enum { PRODUCERS = 4, CONSUMERS = 4, SMALL_CAP = 8 };

/* Items each producer pushes: 10000, fewer under Valgrind (wb_stress()). */
static int per_producer;

struct producer {
    bqueue *q;
    unsigned long id;
    atomic_int *finished; /* producers that are done */
    int rc;
};

struct consumer {
    bqueue *q;
    atomic_int *seen;     /* seen[item]: how many times it came out */
    atomic_long *popped;  /* pops by every consumer: shows progress */
    atomic_int *finished; /* consumers that are done */
    unsigned long last[PRODUCERS + 1]; /* last sequence from each producer */
    int out_of_order;
    int bad_item;
    int rc;
};

static void *producer_main(void *arg)
{
    struct producer *p = arg;
    for (unsigned long i = 1; i <= (unsigned long)per_producer; i++) {
        int rc = bqueue_push(p->q, ITEM(p->id * 100000 + i));
        if (rc != 0) {
            p->rc = rc;
            break;
        }
    }
    atomic_fetch_add(p->finished, 1);
    return NULL;
}

static void *consumer_main(void *arg)
{
    struct consumer *c = arg;
    void *item;
    int rc;
    while ((rc = bqueue_pop(c->q, &item)) == 0) {
        atomic_fetch_add(c->popped, 1);
        unsigned long n = NUM(item), id = n / 100000, seq = n % 100000;
        if (id < 1 || id > PRODUCERS || seq < 1 ||
            seq > (unsigned long)per_producer) {
            c->bad_item = 1;
            continue;
        }
        atomic_fetch_add(&c->seen[(id - 1) * per_producer + seq - 1], 1);
        if (seq <= c->last[id])
            c->out_of_order = 1;
        c->last[id] = seq;
    }
    c->rc = rc;
    atomic_fetch_add(c->finished, 1);
    return NULL;
}

/* Wait until *done reaches @p want, failing the test if *progress stops
 * moving for a whole second first: the threads are stuck, not slow. */
static void wait_with_progress(atomic_int *done, int want,
                               atomic_long *progress, const char *who,
                               const char *hint)
{
    long last = -1;
    int64_t still_since = wb_now_ns();
    while (atomic_load(done) < want) {
        long now = atomic_load(progress);
        if (now != last) {
            last = now;
            still_since = wb_now_ns();
        }
        WB_EXPECT(now <= (long)PRODUCERS * per_producer,
                  "%s: %ld items popped so far, but only %d were ever "
                  "pushed: items come out more than once",
                  who, now, PRODUCERS * per_producer);
        WB_EXPECT(wb_now_ns() - still_since < 1000 * 1000000LL,
                  "%s: %d of %d threads still blocked, and no item moved "
                  "for 1 s (%ld popped in all): a thread waits for a "
                  "wake-up that never comes%s",
                  who, want - atomic_load(done), want, now, hint);
        wb_sleep_ms(2);
    }
}

/* PRODUCERS push per_producer items each through a queue of @p capacity
 * to CONSUMERS; every item must come out exactly once, in each
 * producer's order. @p hint is added to the message of a stall. */
static void many_through(size_t capacity, const char *hint)
{
    per_producer = (int)wb_scaled(10000, 200);
    bqueue *q = new_queue(capacity);
    atomic_int *seen = calloc(PRODUCERS * per_producer, sizeof *seen);
    ck_assert_msg(seen != NULL, "out of memory");
    atomic_long popped = 0;
    atomic_int prod_done = 0, cons_done = 0;
    struct producer prod[PRODUCERS];
    struct consumer cons[CONSUMERS];
    pthread_t pt[PRODUCERS], ct[CONSUMERS];
    for (int i = 0; i < CONSUMERS; i++) {
        memset(&cons[i], 0, sizeof cons[i]);
        cons[i].q = q;
        cons[i].seen = seen;
        cons[i].popped = &popped;
        cons[i].finished = &cons_done;
        ck_assert_int_eq(pthread_create(&ct[i], NULL, consumer_main, &cons[i]),
                         0);
    }
    for (int i = 0; i < PRODUCERS; i++) {
        prod[i] = (struct producer){q, (unsigned long)i + 1, &prod_done, 0};
        ck_assert_int_eq(pthread_create(&pt[i], NULL, producer_main, &prod[i]),
                         0);
    }
    wait_with_progress(&prod_done, PRODUCERS, &popped,
                       "producers pushing to consumers", hint);
    for (int i = 0; i < PRODUCERS; i++)
        pthread_join(pt[i], NULL);
    WB_EXPECT(bqueue_close(q) == 0, "bqueue_close() should return 0");
    wait_with_progress(&cons_done, CONSUMERS, &popped,
                       "consumers after the queue was closed", hint);
    for (int i = 0; i < CONSUMERS; i++)
        pthread_join(ct[i], NULL);

    for (int i = 0; i < PRODUCERS; i++)
        WB_EXPECT(prod[i].rc == 0,
                  "producer %d: bqueue_push() returned %s "
                  "on an open queue",
                  i + 1, wb_errname(prod[i].rc));
    for (int i = 0; i < CONSUMERS; i++) {
        WB_EXPECT(cons[i].rc == EPIPE,
                  "consumer %d: pop should end with EPIPE once the queue is "
                  "closed and empty; got %s",
                  i + 1, wb_errname(cons[i].rc));
        WB_EXPECT(!cons[i].bad_item,
                  "consumer %d popped an item that no producer pushed", i + 1);
        WB_EXPECT(!cons[i].out_of_order,
                  "consumer %d got one producer's items out of order: the "
                  "queue must be first in, first out",
                  i + 1);
    }
    int lost = 0, dup = 0;
    for (int i = 0; i < PRODUCERS * per_producer; i++) {
        int n = atomic_load(&seen[i]);
        lost += n == 0;
        dup += n > 1;
    }
    WB_EXPECT(lost == 0 && dup == 0,
              "%d producers pushed %d items each through a queue of "
              "capacity %zu to %d consumers: every item should come out "
              "exactly once; %d never came out and %d came out more than "
              "once (%ld pops in all)",
              PRODUCERS, per_producer, capacity, CONSUMERS, lost, dup,
              atomic_load(&popped));
    free(seen);
    bqueue_destroy(q);
}

START_TEST(test_many_producers_and_consumers)
{
    WB_PROMISE("exactly-once");
    many_through(SMALL_CAP, "");
}
END_TEST

/* With one slot, producers and consumers take turns, and at almost every
 * moment threads of both kinds are asleep: a wake-up that reaches a
 * thread of the wrong kind is lost for the right one. */
START_TEST(test_many_through_one_slot)
{
    WB_PROMISE("exactly-once");
    many_through(1, ". With one slot both kinds wait all the time: a "
                    "wake-up that reaches a thread of the wrong kind (one "
                    "condition variable for both, and "
                    "pthread_cond_signal) leaves the right kind asleep. Use "
                    "one condition variable per condition");
}
END_TEST

Suite *wb_suite(void)
{
    threadwatch_start_machinery(); /* ThreadSanitizer's helper */
    Suite *s = wb_begin("bqueue", "chapters/03-threads/chapter.md");
    WB_ADD(s, test_fifo_one_thread, "A bounded queue");
    WB_ADD(s, test_bad_arguments, "A bounded queue");
    WB_ADD(s, test_close_drains_then_reports_closed, "A bounded queue");
    WB_ADD(s, test_push_after_close_fails, "A bounded queue");
    WB_ADD_TIMEOUT(s, test_push_blocks_while_full, "Condition variables", 4.0);
    WB_ADD_TIMEOUT(s, test_pop_blocks_while_empty, "Condition variables", 4.0);
    WB_ADD_TIMEOUT(s, test_close_wakes_every_consumer, "Condition variables",
                   4.0);
    WB_ADD_TIMEOUT(s, test_close_wakes_every_producer, "Condition variables",
                   4.0);
    WB_ADD_TIMEOUT(s, test_pop_rechecks_after_wakeup, "Condition variables",
                   6.0);
    WB_ADD_TIMEOUT(s, test_push_rechecks_after_wakeup, "Condition variables",
                   6.0);
    WB_ADD_TIMEOUT(s, test_close_never_lost, "The lost wake-up", 6.0);
    WB_ADD_TIMEOUT(s, test_spurious_wakeups, "Why `while` and not `if`", 4.0);
    WB_ADD_TIMEOUT(s, test_two_consumers_asleep, "`signal` or `broadcast`",
                   4.0);
    WB_ADD_TIMEOUT(s, test_two_producers_asleep, "`signal` or `broadcast`",
                   4.0);
    WB_ADD(s, test_create_fails_cleanly, "A bounded blocking queue with close");
    WB_ADD(s, test_destroy_leaves_items, "A bounded blocking queue with close");
    WB_ADD_TIMEOUT(s, test_many_producers_and_consumers, "A bounded queue",
                   8.0);
    WB_ADD_TIMEOUT(s, test_many_through_one_slot, "`signal` or `broadcast`",
                   8.0);
    return s;
}
