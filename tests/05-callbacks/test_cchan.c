/*
 * Tests of cchan (exercises/05-callbacks/cchan.h): a completion channel
 * from any thread into the event loop of chapter 4.
 *
 * The loop is the reference loop (solutions/04-select/loop.c, through
 * cchan.links), run by the test's own thread; items are small integers
 * cast to pointers, or pointers to the test's records. write() is
 * wrapped (tests/support/wrap.c), so a test can count the wake-up
 * writes and make one fail.
 *
 * Linux-only: it reads the CPU time of one thread.
 */
#define _GNU_SOURCE
#include "wb.h"
#include "cchan.h"
#include "newfds.h"
#include "timedwait.h"
#include "threadwatch.h"
#include "fdlimit.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static void *as_item(intptr_t v)
{
    return (void *)v;
}

static intptr_t of_item(void *p)
{
    return (intptr_t)p;
}

static loop *new_loop(void)
{
    loop *l = loop_new();
    ck_assert_msg(l != NULL, "loop_new() failed: out of memory?");
    return l;
}

static cchan *new_chan(loop *l, cchan_cb on_item, void *ctx)
{
    errno = 0;
    cchan *c = cchan_new(l, on_item, ctx);
    WB_EXPECT(c != NULL,
              "cchan_new(loop, on_item, ctx) should return a channel; got "
              "NULL with errno %s",
              wb_errname(errno));
    return c;
}

static void post_ok(cchan *c, intptr_t v)
{
    int rc = cchan_post(c, as_item(v));
    WB_EXPECT(rc == 0, "cchan_post(c, %ld) should return 0; got %s", (long)v,
              wb_errname(rc));
}

static void run_ok(loop *l)
{
    int rc = loop_run(l);
    WB_EXPECT(rc == 0, "loop_run() should return 0; got -1%s",
              wb_errno_note(rc));
}

/* --- What on_item saw ------------------------------------------------------
 */

enum { LOG_MAX = 4096 };

struct log {
    pthread_t loop_thread; /* the thread that runs loop_run() */
    int count;             /* items delivered */
    int off_thread;        /* items delivered on another thread */
    int in_post;           /* items delivered inside cchan_post() */
    int posting;           /* the loop's thread is inside cchan_post() */
    int wrong_ctx;
    void *ctx;
    intptr_t items[LOG_MAX];
    intptr_t close_after; /* close the channel after this item; 0: never */
};

static void log_init(struct log *g)
{
    memset(g, 0, sizeof *g);
    g->loop_thread = pthread_self();
    g->ctx = g;
}

static void on_log(cchan *c, void *item, void *ctx)
{
    struct log *g = ctx;
    g->wrong_ctx += ctx != g->ctx;
    g->off_thread += !pthread_equal(pthread_self(), g->loop_thread);
    g->in_post += g->posting;
    if (g->count < LOG_MAX)
        g->items[g->count] = of_item(item);
    g->count++;
    if (g->close_after != 0 && of_item(item) == g->close_after)
        cchan_close(c);
}

/* Post from the loop's own thread, noting that it is inside the call. */
static void post_noted(struct log *g, cchan *c, intptr_t v)
{
    g->posting = 1;
    int rc = cchan_post(c, as_item(v));
    g->posting = 0;
    WB_EXPECT(rc == 0, "cchan_post(c, %ld) should return 0; got %s", (long)v,
              wb_errname(rc));
}

/* --- Arguments and errors --------------------------------------------------
 */

static void on_ignore(cchan *c, void *item, void *ctx)
{
    (void)c;
    (void)item;
    (void)ctx;
}

START_TEST(test_bad_arguments)
{
    WB_PROMISE("bad-args");
    loop *l = new_loop();
    int fds = wb_count_fds();
    errno = 0;
    cchan *c = cchan_new(NULL, on_ignore, NULL);
    WB_EXPECT(c == NULL && errno == EINVAL,
              "cchan_new(NULL, on_item, ctx) should give NULL with errno "
              "EINVAL; got %s with errno %s",
              c == NULL ? "NULL" : "a channel", wb_errname(errno));
    errno = 0;
    c = cchan_new(l, NULL, NULL);
    WB_EXPECT(c == NULL && errno == EINVAL,
              "cchan_new(l, NULL, ctx) should give NULL with errno EINVAL; "
              "got %s with errno %s",
              c == NULL ? "NULL" : "a channel", wb_errname(errno));
    WB_EXPECT(wb_count_fds() == fds,
              "a cchan_new() that fails with EINVAL should open nothing; "
              "%d descriptors were open before, %d after",
              fds, wb_count_fds());
    int rc = cchan_post(NULL, as_item(1));
    WB_EXPECT(rc == EINVAL,
              "cchan_post(NULL, item) should return EINVAL; "
              "got %s",
              wb_errname(rc));
    rc = cchan_close(NULL);
    WB_EXPECT(rc == EINVAL, "cchan_close(NULL) should return EINVAL; got %s",
              wb_errname(rc));
    cchan_free(NULL); /* does nothing */
    /* Nothing was watched by the failed calls: the loop has nothing to
     * wait for and returns at once. */
    int64_t t0 = wb_now_ns();
    run_ok(l);
    WB_EXPECT(wb_now_ns() - t0 < 500 * 1000000LL,
              "after failed cchan_new() calls nothing should be watched, "
              "and loop_run() should return at once");
    loop_free(l);
}
END_TEST

/* pthread_mutex_init() and write() fail through the wraps of
 * tests/support/wrap.c (see cchan.links). */
START_TEST(test_errors_are_reported)
{
    WB_PROMISE("fails-cleanly");
    loop *l = new_loop();
    int fds = wb_count_fds();
    wb_wrap_reset(WB_PTHREAD_MUTEX_INIT, 1);
    errno = 0;
    cchan *c = cchan_new(l, on_ignore, NULL);
    int err = errno;
    wb_wrap_reset(WB_PTHREAD_MUTEX_INIT, 0);
    WB_EXPECT(c == NULL && err == ENOMEM,
              "pthread_mutex_init() failed with ENOMEM: cchan_new() should "
              "give NULL with errno ENOMEM; got %s with errno %s",
              c == NULL ? "NULL" : "a channel", wb_errname(err));
    WB_EXPECT(wb_count_fds() == fds,
              "a failed cchan_new() should leave no descriptor open; %d "
              "were open before, %d after",
              fds, wb_count_fds());
    if (c != NULL)
        cchan_free(c);

    /* Out of descriptors: the pipe cannot be made. */
    fdlimit_none_left();
    errno = 0;
    c = cchan_new(l, on_ignore, NULL);
    err = errno;
    fdlimit_restore();
    WB_EXPECT(c == NULL && err == EMFILE,
              "with no descriptor left, cchan_new() should give NULL with "
              "errno EMFILE (from pipe()); got %s with errno %s",
              c == NULL ? "NULL" : "a channel", wb_errname(err));
    if (c != NULL)
        cchan_free(c);

    /* loop_watch() refuses the pipe: every descriptor below FD_SETSIZE
     * is taken, so pipe() gets two that select() cannot wait for. */
    fdlimit_only_high(); /* tests/support/fdlimit.c, in cchan.links */
    fds = wb_count_fds();
    errno = 0;
    c = cchan_new(l, on_ignore, NULL);
    err = errno;
    int left = wb_count_fds() - fds;
    if (c != NULL)
        cchan_free(c);
    fdlimit_restore();
    WB_EXPECT(c == NULL && err == EINVAL,
              "with the pipe at or above FD_SETSIZE, loop_watch() fails "
              "with EINVAL: cchan_new() should give NULL with errno "
              "EINVAL; got %s with errno %s",
              c == NULL ? "NULL" : "a channel", wb_errname(err));
    WB_EXPECT(c != NULL || left == 0,
              "cchan_new() failed in loop_watch(): it should close the "
              "pipe it made; %d descriptors were left open",
              left);
    fds = wb_count_fds();

    /* A failed wake-up write: the post fails, the item is not queued. */
    struct log g;
    log_init(&g);
    g.close_after = 2;
    c = new_chan(l, on_log, &g);
    wb_wrap_fail(WB_WRITE, 1, EIO, 1);
    int rc = cchan_post(c, as_item(1));
    int writes = wb_wrap_calls(WB_WRITE);
    wb_wrap_reset(WB_WRITE, 0);
    WB_EXPECT(rc == EIO,
              "the wake-up write() failed with EIO: cchan_post() should "
              "return EIO; got %s (after %d write() calls)",
              wb_errname(rc), writes);
    post_ok(c, 2);
    run_ok(l);
    WB_EXPECT(g.count == 1 && g.items[0] == 2,
              "a post that failed queues nothing: only item 2 should be "
              "delivered; got %d items, the first %ld",
              g.count, g.count > 0 ? (long)g.items[0] : 0L);
    cchan_free(c);
    loop_free(l);
}
END_TEST

/* fcntl() fails through the wrap of tests/support/wrap.c (see
 * cchan.links): the n-th call cchan_new() makes, for n = 1, 2, ... until
 * it makes fewer than n. A channel made with pipe2() or eventfd() flags
 * makes none. */
START_TEST(test_flags_fail_cleanly)
{
    WB_PROMISE("fails-cleanly");
    loop *l = new_loop();
    int fds = wb_count_fds();
    for (int n = 1; n <= 16; n++) {
        wb_wrap_fail(WB_FCNTL, n, EBADF, 0);
        errno = 0;
        cchan *c = cchan_new(l, on_ignore, NULL);
        int err = errno;
        int calls = wb_wrap_calls(WB_FCNTL);
        wb_wrap_reset(WB_FCNTL, 0);
        int left = wb_count_fds() - fds;
        size_t blocks = wb_alloc_live(NULL);
        if (calls < n) { /* no fcntl() failed */
            WB_EXPECT(c != NULL,
                      "cchan_new() should return a channel; got NULL with "
                      "errno %s",
                      wb_errname(err));
            cchan_free(c);
            break;
        }
        WB_EXPECT(c == NULL && err != 0,
                  "fcntl() call %d of cchan_new() failed (EBADF): the "
                  "descriptors' flags cannot be set as promised, so "
                  "cchan_new() should give NULL with errno set; got %s "
                  "with errno %s",
                  n, c == NULL ? "NULL" : "a channel", wb_errname(err));
        WB_EXPECT(c != NULL || (left == 0 && blocks == 0),
                  "cchan_new() failed at its fcntl() call %d: it should "
                  "leave nothing open or allocated; %d descriptors and %zu "
                  "blocks were left",
                  n, left, blocks);
        cchan_free(c);
    }
    /* Nothing is watched: the loop returns at once. */
    int64_t t0 = wb_now_ns();
    run_ok(l);
    WB_EXPECT(wb_now_ns() - t0 < 500 * 1000000LL,
              "after failed cchan_new() calls nothing should be watched, "
              "and loop_run() should return at once");
    loop_free(l);
}
END_TEST

/* --- Order, and which thread -------------------------------------------- */

START_TEST(test_items_in_post_order)
{
    WB_PROMISE("order");
    enum { N = 1000 };
    loop *l = new_loop();
    struct log g;
    log_init(&g);
    g.close_after = N;
    cchan *c = new_chan(l, on_log, &g);
    for (int i = 1; i <= N; i++)
        post_noted(&g, c, i);
    WB_PROMISE("loop-thread");
    WB_EXPECT(g.count == 0,
              "on_item runs from loop_run(), never inside cchan_post(): %d "
              "items were delivered before loop_run() was called",
              g.count);
    run_ok(l);
    WB_PROMISE("order");
    WB_EXPECT(g.count == N, "%d items posted: %d should be delivered; got %d",
              N, N, g.count);
    for (int i = 0; i < g.count && i < N; i++) {
        if (g.items[i] != i + 1) {
            WB_EXPECT(0,
                      "items 1 to %d posted in order should arrive in that "
                      "order; item %d delivered was %ld",
                      N, i + 1, (long)g.items[i]);
        }
    }
    WB_EXPECT(g.wrong_ctx == 0,
              "on_item should get the ctx given to cchan_new() every time");
    cchan_free(c);
    loop_free(l);
}
END_TEST

enum { POSTERS = 4 };

struct order_check {
    pthread_t loop_thread;
    long per_thread;
    long next[POSTERS]; /* the sequence number expected next */
    long total, out_of_order, off_thread, bad;
    long first_bad_thread, first_bad_got, first_bad_want;
};

struct poster {
    cchan *c;
    int id;
    long count;
    int rc;
};

/* Item: the poster's id in the low bits, its sequence number above. */
static void *poster_main(void *arg)
{
    struct poster *p = arg;
    for (long i = 0; i < p->count; i++) {
        int rc = cchan_post(p->c, as_item((intptr_t)(i * POSTERS + p->id)));
        if (rc != 0 && p->rc == 0)
            p->rc = rc;
    }
    return NULL;
}

static void on_ordered(cchan *c, void *item, void *ctx)
{
    struct order_check *o = ctx;
    intptr_t v = of_item(item);
    int id = (int)(v % POSTERS);
    long seq = (long)(v / POSTERS);
    o->off_thread += !pthread_equal(pthread_self(), o->loop_thread);
    if (v < 0 || seq >= o->per_thread) {
        o->bad++;
    } else if (seq != o->next[id]) {
        if (o->out_of_order++ == 0) {
            o->first_bad_thread = id;
            o->first_bad_got = seq;
            o->first_bad_want = o->next[id];
        }
        o->next[id] = seq + 1;
    } else {
        o->next[id]++;
    }
    if (++o->total == o->per_thread * POSTERS)
        cchan_close(c);
}

START_TEST(test_items_in_order_from_many_threads)
{
    WB_PROMISE("order");
    loop *l = new_loop();
    struct order_check o;
    memset(&o, 0, sizeof o);
    o.loop_thread = pthread_self();
    o.per_thread = wb_scaled(25000, 500);
    cchan *c = new_chan(l, on_ordered, &o);
    struct poster p[POSTERS];
    pthread_t t[POSTERS];
    for (int i = 0; i < POSTERS; i++) {
        p[i] = (struct poster){c, i, o.per_thread, 0};
        ck_assert_int_eq(pthread_create(&t[i], NULL, poster_main, &p[i]), 0);
    }
    run_ok(l);
    for (int i = 0; i < POSTERS; i++) {
        pthread_join(t[i], NULL);
        WB_EXPECT(p[i].rc == 0, "cchan_post() from thread %d returned %s", i,
                  wb_errname(p[i].rc));
    }
    long want = o.per_thread * POSTERS;
    WB_EXPECT(o.total == want && o.bad == 0,
              "%d threads posted %ld items each: %ld should be delivered, "
              "each once; got %ld (%ld not posted by anyone)",
              POSTERS, o.per_thread, want, o.total, o.bad);
    WB_EXPECT(o.out_of_order == 0,
              "the items of one thread should arrive in the order it posted "
              "them; %ld arrived out of order (thread %ld: expected its "
              "item %ld, got its item %ld)",
              o.out_of_order, o.first_bad_thread, o.first_bad_want,
              o.first_bad_got);
    WB_PROMISE("loop-thread");
    WB_EXPECT(o.off_thread == 0,
              "on_item must run on the thread that runs loop_run(); %ld of "
              "%ld items were delivered on another thread",
              o.off_thread, o.total);
    cchan_free(c);
    loop_free(l);
}
END_TEST

/* --- An item that on_item posts ------------------------------------------ */

struct repost {
    loop *l;
    long limit;     /* stop reposting after this many */
    long delivered; /* items delivered */
    long at_timer;  /* items delivered when the timer ran; -1 before */
    int depth, max_depth;
    long check_id; /* the timer that checks the reposting went on */
    int closed;
};

static void on_repost(cchan *c, void *item, void *ctx)
{
    struct repost *r = ctx;
    (void)item;
    r->depth++;
    if (r->depth > r->max_depth)
        r->max_depth = r->depth;
    r->delivered++;
    if (r->at_timer >= 0 || r->delivered >= r->limit) {
        cchan_close(c);
        r->closed = 1;
        if (r->check_id > 0)
            (void)loop_cancel_timer(r->l, r->check_id);
        r->check_id = 0;
    } else
        WB_EXPECT(cchan_post(c, as_item(r->delivered)) == 0,
                  "cchan_post() from on_item should return 0");
    r->depth--;
}

/* 500 ms after the timer, the item on_item posted last should long have
 * been delivered (and the channel closed, which cancels this check). */
static void on_repost_check(loop *l, void *ctx)
{
    (void)l;
    (void)ctx;
    WB_EXPECT(0, "on_item posted an item to its own channel; 500 ms later it "
                 "still had not been delivered: the post's wake-up was lost "
                 "(a wake-up flag cleared after the batch was delivered, "
                 "not when it was taken?)");
}

static void on_repost_timer(loop *l, void *ctx)
{
    struct repost *r = ctx;
    r->at_timer = r->delivered;
    if (!r->closed)
        r->check_id = loop_add_timer(l, 500, on_repost_check, r);
}

START_TEST(test_post_from_callback)
{
    WB_PROMISE("from-callback");
    loop *l = new_loop();
    struct repost r = {l, 100000, 0, -1, 0, 0, 0, 0};
    cchan *c = new_chan(l, on_repost, &r);
    post_ok(c, 0);
    ck_assert_msg(loop_add_timer(l, 5, on_repost_timer, &r) > 0,
                  "loop_add_timer() failed");
    run_ok(l);
    WB_EXPECT(r.max_depth == 1,
              "an item that on_item posts should be delivered later, not "
              "inside the cchan_post() call: on_item was nested %d deep",
              r.max_depth);
    WB_EXPECT(r.at_timer >= 0 && r.at_timer < r.limit,
              "on_item posted a new item each time it ran; a timer 5 ms "
              "away should still have run, between two calls of the "
              "channel's callback; it ran only after %ld deliveries, when "
              "on_item stopped posting: deliver only the items queued "
              "when the loop's callback started, and leave the ones "
              "posted meanwhile for the next iteration",
              r.delivered);
    cchan_free(c);
    loop_free(l);
}
END_TEST

/* --- Coalescing -------------------------------------------------------- */

struct counter {
    long want, got;
};

static void on_count(cchan *c, void *item, void *ctx)
{
    (void)item;
    struct counter *k = ctx;
    if (++k->got == k->want)
        cchan_close(c);
}

/* write() is counted through the wrap (see cchan.links). */
START_TEST(test_wakeups_coalesced)
{
    WB_PROMISE("coalesce");
    const long many = 100000;
    loop *l = new_loop();
    struct counter k = {many, 0};
    cchan *c = new_chan(l, on_count, &k);
    /* Before loop_run(): the loop cannot look, so one byte is enough. */
    wb_wrap_reset(WB_WRITE, 0);
    for (long i = 0; i < many; i++) {
        int rc = cchan_post(c, as_item(i));
        if (rc != 0) {
            wb_wrap_reset(WB_WRITE, 0);
            WB_EXPECT(0, "cchan_post() number %ld returned %s", i + 1,
                      wb_errname(rc));
        }
    }
    int writes = wb_wrap_calls(WB_WRITE);
    run_ok(l);
    WB_EXPECT(k.got == many, "%ld items posted, %ld delivered", many, k.got);
    WB_EXPECT(writes <= 10,
              "%ld posts before loop_run() made %d write() calls: one byte "
              "in the pipe already wakes the loop, so a post writes only "
              "when no wake-up is pending (a flag under the channel's "
              "mutex, cleared by the loop when it takes the queue)",
              many, writes);
    cchan_free(c);

    /* While the loop runs: 2 threads post 50,000 each. */
    k = (struct counter){many, 0};
    c = new_chan(l, on_count, &k);
    struct poster p[2];
    pthread_t t[2];
    wb_wrap_reset(WB_WRITE, 0);
    for (int i = 0; i < 2; i++) {
        p[i] = (struct poster){c, i, many / 2, 0};
        ck_assert_int_eq(pthread_create(&t[i], NULL, poster_main, &p[i]), 0);
    }
    run_ok(l);
    writes = wb_wrap_calls(WB_WRITE);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    WB_EXPECT(k.got == many, "%ld items posted, %ld delivered", many, k.got);
    WB_EXPECT(writes <= many / 4,
              "2 threads posted %ld items while the loop ran: that took %d "
              "write() calls, expected far fewer (at most %ld): coalesce "
              "the wake-ups",
              many, writes, many / 4);
    cchan_free(c);
    loop_free(l);
}
END_TEST

struct give_up {
    cchan *c;
    const struct log *g;
    int rounds;
    int fired;
};

/* Every 10 ms until the first item came (the channel then closes
 * itself); after 1 s without it, free the channel, so that loop_run()
 * returns. */
static void on_give_up(loop *l, void *ctx)
{
    struct give_up *u = ctx;
    if (u->g->count > 0)
        return;
    if (++u->rounds >= 100) {
        u->fired = 1;
        cchan_free(u->c);
        return;
    }
    ck_assert_msg(loop_add_timer(l, 10, on_give_up, u) > 0,
                  "loop_add_timer() failed");
}

START_TEST(test_interrupted_write)
{
    WB_PROMISE("eintr");
    loop *l = new_loop();
    struct log g;
    log_init(&g);
    g.close_after = 1;
    cchan *c = new_chan(l, on_log, &g);
    wb_wrap_fail(WB_WRITE, 1, EINTR, 0);
    int rc = cchan_post(c, as_item(1));
    int writes = wb_wrap_calls(WB_WRITE);
    wb_wrap_reset(WB_WRITE, 0);
    WB_EXPECT(rc == 0,
              "the wake-up write() was interrupted by a signal (EINTR): "
              "cchan_post() should make it again and return 0; got %s "
              "after %d write() calls",
              wb_errname(rc), writes);
    struct give_up u = {c, &g, 0, 0};
    ck_assert_msg(loop_add_timer(l, 10, on_give_up, &u) > 0,
                  "loop_add_timer() failed");
    run_ok(l);
    WB_EXPECT(rc != 0 || (!u.fired && g.count == 1),
              "the post whose write() was interrupted returned 0: its item "
              "should be delivered with no other post; 1 s later it had "
              "not been (the wake-up byte was never written)");
    if (!u.fired)
        cchan_free(c);

    /* errno is EINTR before every post, left there by the caller. */
    struct counter k = {100, 0};
    c = new_chan(l, on_count, &k);
    wb_wrap_reset(WB_WRITE, 0);
    for (int i = 0; i < 100; i++) {
        errno = EINTR;
        rc = cchan_post(c, as_item(i));
        if (rc != 0)
            break;
    }
    writes = wb_wrap_calls(WB_WRITE);
    wb_wrap_reset(WB_WRITE, 0);
    WB_EXPECT(rc == 0, "cchan_post() with errno EINTR beforehand returned %s",
              wb_errname(rc));
    WB_EXPECT(writes <= 10,
              "100 posts before loop_run(), each called with errno already "
              "EINTR (left by the caller), made %d write() calls: only a "
              "write() that returned -1 was interrupted; errno from before "
              "the call means nothing",
              writes);
    run_ok(l);
    WB_EXPECT(k.got == 100, "100 items posted, %ld delivered", k.got);
    cchan_free(c);
    loop_free(l);
}
END_TEST

/* --- No lost wake-up ------------------------------------------------------ */

enum { RESCUE = -1 };

struct pingpong {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    cchan *c;
    long rounds;
    long delivered; /* the last item delivered */
    long posted;    /* the last item whose cchan_post() returned */
    long lost;      /* the item that was not delivered; 0: none */
    int gave_up;
    int rc;
};

/* Item k is posted while the loop is still delivering item k - 1 (odd k:
 * on_item waits for it), or right after item k - 1 was delivered (even
 * k): both moments at which the loop has taken the queue and is on its
 * way back to select(). */
static void *pinger_main(void *arg)
{
    struct pingpong *pp = arg;
    for (long k = 1; k <= pp->rounds; k++) {
        int rc = cchan_post(pp->c, as_item(k));
        pthread_mutex_lock(&pp->lock);
        if (rc != 0)
            pp->rc = rc;
        pp->posted = k;
        pthread_cond_broadcast(&pp->changed);
        struct timespec end = timedwait_deadline(300);
        while (pp->delivered < k &&
               pthread_cond_timedwait(&pp->changed, &pp->lock, &end) !=
                   ETIMEDOUT)
            continue;
        int lost = pp->delivered < k;
        if (lost) {
            pp->lost = k;
            pp->gave_up = 1;
            pthread_cond_broadcast(&pp->changed);
        }
        pthread_mutex_unlock(&pp->lock);
        if (lost || rc != 0) {
            /* Wake the loop with one more post, so that it can end. */
            (void)cchan_post(pp->c, as_item(RESCUE));
            return NULL;
        }
    }
    return NULL;
}

static void on_pong(cchan *c, void *item, void *ctx)
{
    struct pingpong *pp = ctx;
    long k = (long)of_item(item);
    if (k == RESCUE) {
        cchan_close(c);
        return;
    }
    pthread_mutex_lock(&pp->lock);
    pp->delivered = k;
    pthread_cond_broadcast(&pp->changed);
    if (k % 2 == 0 && k < pp->rounds) {
        struct timespec end = timedwait_deadline(500);
        while (pp->posted <= k && !pp->gave_up &&
               pthread_cond_timedwait(&pp->changed, &pp->lock, &end) !=
                   ETIMEDOUT)
            continue;
    }
    pthread_mutex_unlock(&pp->lock);
    if (k == pp->rounds)
        cchan_close(c);
}

START_TEST(test_no_lost_wakeup)
{
    WB_PROMISE("no-lost-wakeup");
    loop *l = new_loop();
    struct pingpong pp;
    memset(&pp, 0, sizeof pp);
    ck_assert_int_eq(pthread_mutex_init(&pp.lock, NULL), 0);
    ck_assert_int_eq(pthread_cond_init(&pp.changed, NULL), 0);
    pp.rounds = wb_scaled(400, 40);
    pp.c = new_chan(l, on_pong, &pp);
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, pinger_main, &pp), 0);
    run_ok(l);
    pthread_join(t, NULL);
    WB_EXPECT(pp.rc == 0, "cchan_post() returned %s", wb_errname(pp.rc));
    WB_EXPECT(pp.lost == 0,
              "item %ld was posted %s, and 300 ms later it still had not "
              "been delivered: its wake-up was lost. The post saw a wake-up "
              "pending and did not write, then the loop cleared the flag "
              "and went back to select(). Empty the pipe, clear the flag "
              "and take the queue in one critical section, before "
              "delivering",
              pp.lost,
              pp.lost % 2 == 1 ? "while on_item was delivering the item "
                                 "before it"
                               : "right after the item before it was "
                                 "delivered");
    WB_EXPECT(pp.lost != 0 || pp.delivered == pp.rounds,
              "%ld items posted one after the other, %ld delivered", pp.rounds,
              pp.delivered);
    cchan_free(pp.c);
    loop_free(l);
    pthread_cond_destroy(&pp.changed);
    pthread_mutex_destroy(&pp.lock);
}
END_TEST

/* --- No lost wake-up under a flood ------------------------------------
 *
 * Four threads post, with pauses of a few microseconds, for FLOOD_MS
 * while the loop delivers: thousands of small batches. The first post after
 * each take of the queue finds the flag clear and writes a byte, often
 * while the loop is still in its callback: a loop that empties the pipe
 * after taking the queue (with the lock released) sooner or later reads
 * that byte away; the flag then stays set with the pipe empty, and no
 * post ever writes again. A watchdog timer on the loop notices items
 * posted and not delivered for STALL_MS, stops the posters and frees the
 * channel, so that loop_run() can return.
 */

enum { FLOODERS = 4, FLOOD_MS = 2000, WATCH_MS = 50, STALL_MS = 300 };

struct flood {
    loop *l;
    cchan *c;
    pthread_t t[FLOODERS];
    int64_t end_ns;      /* the posters stop at this time */
    atomic_long posted;  /* cchan_post() calls that returned 0 */
    atomic_int stop;     /* the posters stop posting */
    atomic_int finished; /* posters that have stopped */
    atomic_int rc;       /* the first error of a post; 0: none */
    long delivered;      /* loop thread from here on */
    long seen;           /* delivered at the last watchdog round */
    long still_ms;       /* how long delivered has not moved */
    long stuck;          /* items queued when the channel stalled */
};

static void *flooder_main(void *arg)
{
    struct flood *f = arg;
    for (long i = 0; i < 2000000 && !atomic_load(&f->stop); i++) {
        int rc = cchan_post(f->c, as_item(1));
        if (rc != 0) {
            int none = 0;
            atomic_compare_exchange_strong(&f->rc, &none, rc);
            break;
        }
        atomic_fetch_add(&f->posted, 1);
        /* 0 to 6 us: the loop takes small batches, many times over. */
        int64_t until = wb_now_ns() + (i * 7919 % 7) * 1000;
        while (wb_now_ns() < until)
            continue;
    }
    atomic_fetch_add(&f->finished, 1);
    return NULL;
}

static void on_flood(cchan *c, void *item, void *ctx)
{
    struct flood *f = ctx;
    (void)c;
    (void)item;
    f->delivered++;
}

static void join_flooders(struct flood *f)
{
    atomic_store(&f->stop, 1);
    for (int i = 0; i < FLOODERS; i++)
        pthread_join(f->t[i], NULL);
}

static void on_flood_watch(loop *l, void *ctx)
{
    struct flood *f = ctx;
    long posted = atomic_load(&f->posted);
    if (wb_now_ns() >= f->end_ns)
        atomic_store(&f->stop, 1);
    if (atomic_load(&f->finished) == FLOODERS && posted == f->delivered) {
        join_flooders(f);
        cchan_close(f->c); /* loop_run() returns */
        return;
    }
    if (f->delivered != f->seen || posted == f->delivered) {
        f->seen = f->delivered;
        f->still_ms = 0;
    } else if ((f->still_ms += WATCH_MS) >= STALL_MS) {
        join_flooders(f);
        f->stuck = atomic_load(&f->posted) - f->delivered;
        cchan_free(f->c); /* stops watching: loop_run() returns */
        f->c = NULL;
        return;
    }
    ck_assert_msg(loop_add_timer(l, WATCH_MS, on_flood_watch, f) > 0,
                  "loop_add_timer() failed");
}

START_TEST(test_no_lost_wakeup_flood)
{
    WB_PROMISE("no-lost-wakeup");
    struct flood *f = calloc(1, sizeof *f);
    ck_assert_msg(f != NULL, "out of memory");
    f->l = new_loop();
    f->c = new_chan(f->l, on_flood, f);
    f->end_ns = wb_now_ns() + (int64_t)FLOOD_MS * 1000000;
    ck_assert_msg(loop_add_timer(f->l, WATCH_MS, on_flood_watch, f) > 0,
                  "loop_add_timer() failed");
    for (int i = 0; i < FLOODERS; i++)
        ck_assert_int_eq(pthread_create(&f->t[i], NULL, flooder_main, f), 0);
    run_ok(f->l);
    WB_EXPECT(f->stuck == 0,
              "%d threads posted for %d ms; after %ld items were delivered, "
              "%ld more stayed queued for %d ms with no delivery: a "
              "wake-up was lost, and every later post saw one pending and "
              "wrote nothing. Was the byte of a post read away by a drain "
              "that came after the queue was taken? Empty the pipe before "
              "taking the queue, in the same critical section",
              FLOODERS, FLOOD_MS, f->delivered, f->stuck, STALL_MS);
    WB_EXPECT(atomic_load(&f->rc) == 0, "cchan_post() returned %s",
              wb_errname(atomic_load(&f->rc)));
    if (f->c != NULL)
        cchan_free(f->c);
    loop_free(f->l);
    free(f);
}
END_TEST

/* --- No spinning ----------------------------------------------------------
 */

enum { IDLE_MS = 200, STOP = -2 };

static void *late_poster_main(void *arg)
{
    cchan *c = arg;
    for (int i = 1; i <= 10; i++)
        (void)cchan_post(c, as_item(i));
    wb_sleep_ms(IDLE_MS);
    (void)cchan_post(c, as_item(STOP));
    return NULL;
}

START_TEST(test_idle_loop_sleeps)
{
    WB_PROMISE("no-spin");
    loop *l = new_loop();
    struct log g;
    log_init(&g);
    g.close_after = STOP;
    cchan *c = new_chan(l, on_log, &g);
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, late_poster_main, c), 0);
    int64_t cpu = threadwatch_cpu_ns();
    int64_t t0 = wb_now_ns();
    long selects = wb_select_calls();
    run_ok(l);
    selects = wb_select_calls() - selects;
    long used_ms = (long)((threadwatch_cpu_ns() - cpu) / 1000000);
    long took_ms = (long)((wb_now_ns() - t0) / 1000000);
    pthread_join(t, NULL);
    WB_EXPECT(g.count == 11, "11 items posted, %d delivered", g.count);
    /* On a loaded machine a spinning loop gets little CPU time, but
     * still calls select() thousands of times (tests/support/selects.c,
     * in cchan.links, counts them). */
    WB_EXPECT(used_ms < IDLE_MS / 8 && selects < 100,
              "the loop had 10 items to deliver, then nothing for %d ms, "
              "yet its thread used %ld ms of CPU time in those %ld ms and "
              "called select() %ld times: it spins. Read the wake-up byte "
              "(all of them) before going back to select(), or the pipe "
              "stays readable",
              IDLE_MS, used_ms, took_ms, selects);
    cchan_free(c);
    loop_free(l);
}
END_TEST

/* --- Close and free ------------------------------------------------------- */

struct closer {
    int fired;
    cchan *c;
    int rc_close;
};

static void on_close_timer(loop *l, void *ctx)
{
    (void)l;
    struct closer *k = ctx;
    k->fired = 1;
    k->rc_close = cchan_close(k->c);
}

START_TEST(test_close_delivers_then_lets_go)
{
    WB_PROMISE("close");
    loop *l = new_loop();
    struct log g;
    log_init(&g);
    cchan *c = new_chan(l, on_log, &g);
    for (int i = 1; i <= 3; i++)
        post_ok(c, i);
    int rc = cchan_close(c);
    WB_EXPECT(rc == 0, "cchan_close() should return 0; got %s", wb_errname(rc));
    rc = cchan_post(c, as_item(4));
    WB_EXPECT(rc == EPIPE,
              "cchan_post() after cchan_close() should return EPIPE; got "
              "%s",
              wb_errname(rc));
    rc = cchan_close(c);
    WB_EXPECT(rc == 0,
              "closing a closed channel again should return 0; "
              "got %s",
              wb_errname(rc));
    run_ok(l);
    WB_EXPECT(g.count == 3 && g.items[0] == 1 && g.items[1] == 2 &&
                  g.items[2] == 3,
              "items 1, 2, 3 were posted before cchan_close(): they should "
              "still be delivered, in order, and nothing else; got %d "
              "items (%ld, %ld, %ld)",
              g.count, (long)g.items[0], (long)g.items[1], (long)g.items[2]);
    cchan_free(c);

    /* Closed by on_item in the middle of a batch: the rest still comes. */
    log_init(&g);
    g.close_after = 2;
    c = new_chan(l, on_log, &g);
    for (int i = 1; i <= 5; i++)
        post_ok(c, i);
    run_ok(l);
    WB_EXPECT(g.count == 5 && g.items[4] == 5,
              "on_item closed the channel at item 2 of 5 already posted: "
              "items 3 to 5 should still be delivered; got %d items",
              g.count);
    cchan_free(c);

    /* Open and idle: loop_run() waits, until a timer closes it. */
    log_init(&g);
    c = new_chan(l, on_log, &g);
    struct closer k = {0, c, -1};
    ck_assert_msg(loop_add_timer(l, 50, on_close_timer, &k) > 0,
                  "loop_add_timer() failed");
    run_ok(l);
    WB_EXPECT(k.fired && k.rc_close == 0,
              "an open channel with nothing queued should keep loop_run() "
              "running; loop_run() returned before the timer that closes "
              "the channel ran");
    cchan_free(c);
    loop_free(l);
}
END_TEST

/* The wake-up descriptors are whatever cchan_new() opened: a pipe (two)
 * or an eventfd (one). */
START_TEST(test_descriptor_flags)
{
    WB_PROMISE("fd-flags");
    loop *l = new_loop();
    struct newfds seen; /* tests/support/newfds.c, in cchan.links */
    newfds_before(&seen);
    cchan *c = new_chan(l, on_ignore, NULL);
    newfds_after(&seen);
    int opened = seen.opened, no_cloexec = seen.no_cloexec,
        blocking = seen.blocking;
    WB_EXPECT(opened > 0, "cchan_new() should open a wake-up descriptor (a "
                          "pipe or an eventfd)");
    WB_EXPECT(no_cloexec == 0,
              "every descriptor cchan_new() opens should be close-on-exec "
              "(FD_CLOEXEC); %d of %d are not",
              no_cloexec, opened);
    WB_EXPECT(blocking == 0,
              "every descriptor cchan_new() opens should be non-blocking "
              "(O_NONBLOCK); %d of %d are not",
              blocking, opened);
    cchan_free(c);
    loop_free(l);
}
END_TEST

START_TEST(test_free_releases_everything)
{
    WB_PROMISE("free");
    loop *l = new_loop();
    int fds = wb_count_fds();
    struct log g;
    log_init(&g);
    cchan *c = new_chan(l, on_log, &g);
    WB_EXPECT(wb_count_fds() > fds,
              "cchan_new() should open a wake-up descriptor (a pipe or an "
              "eventfd)");
    /* Items the test owns, left queued: free drops them unread. */
    int *owned[3];
    for (int i = 0; i < 3; i++) {
        owned[i] = malloc(sizeof *owned[i]);
        ck_assert_msg(owned[i] != NULL, "out of memory");
        *owned[i] = i;
        ck_assert_int_eq(cchan_post(c, owned[i]), 0);
    }
    cchan_free(c);
    WB_EXPECT(g.count == 0,
              "cchan_free() drops the queued items without calling "
              "on_item; it called it %d times",
              g.count);
    WB_EXPECT(wb_count_fds() == fds,
              "cchan_free() should close the channel's descriptors: %d "
              "were open before cchan_new(), %d after cchan_free()",
              fds, wb_count_fds());
    /* Nothing watched any more: the loop returns at once. */
    int64_t t0 = wb_now_ns();
    run_ok(l);
    WB_EXPECT(wb_now_ns() - t0 < 500 * 1000000LL,
              "after cchan_free() the loop should watch nothing and "
              "loop_run() should return at once");
    for (int i = 0; i < 3; i++) {
        WB_EXPECT(*owned[i] == i, "an item's memory was changed");
        free(owned[i]); /* still ours: a double free would crash here */
    }
    loop_free(l);
}
END_TEST

Suite *wb_suite(void)
{
    threadwatch_start_machinery(); /* ThreadSanitizer's helper */
    Suite *s = wb_begin("cchan", "chapters/05-callbacks/chapter.md");
    WB_ADD(s, test_bad_arguments, "A completion channel");
    WB_ADD(s, test_errors_are_reported, "The self-pipe and eventfd");
    WB_ADD(s, test_flags_fail_cleanly, "The self-pipe and eventfd");
    WB_ADD(s, test_items_in_post_order, "The completion queue");
    WB_ADD_TIMEOUT(s, test_no_lost_wakeup_flood, "Coalescing wake-ups", 6.0);
    WB_ADD_TIMEOUT(s, test_items_in_order_from_many_threads,
                   "The completion queue", 5.0);
    WB_ADD_TIMEOUT(s, test_post_from_callback, "The completion queue", 3.0);
    WB_ADD_TIMEOUT(s, test_wakeups_coalesced, "Coalescing wake-ups", 5.0);
    WB_ADD_TIMEOUT(s, test_interrupted_write, "Coalescing wake-ups", 3.0);
    WB_ADD_TIMEOUT(s, test_no_lost_wakeup,
                   "Waking the loop from another thread", 5.0);
    WB_ADD(s, test_idle_loop_sleeps, "The self-pipe and eventfd");
    WB_ADD(s, test_close_delivers_then_lets_go, "A completion channel");
    WB_ADD(s, test_descriptor_flags, "The self-pipe and eventfd");
    WB_ADD(s, test_free_releases_everything, "Who owns the request");
    return s;
}
