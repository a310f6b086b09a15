/*
 * Tests of future (exercises/05-callbacks/future.h): futures on the
 * event loop of chapter 4.
 *
 * Every continuation here is on_seen(), which writes down what it saw
 * in a struct seen: how often it ran, the future's state at that moment,
 * the thread it ran on, whether loop_run() was running, and whether the
 * call that registered it or settled the future had returned yet (the
 * test sets `returned` right after each such call). A continuation
 * called synchronously shows up as one that ran before `returned` was
 * set, however fast the machine.
 *
 * Memory is counted with heap_in_use(): the sanitizer's own count when
 * one is linked in, glibc's otherwise, so a future that is never
 * released shows as bytes left behind in every build, ThreadSanitizer's
 * included.
 *
 * Linux and glibc: mallinfo2().
 */
#define _GNU_SOURCE
#include "wb.h"
#include "future.h"

#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

/* Junk written into out-parameters before a call, to see what it sets. */
#define JUNK_PTR ((void *)(uintptr_t)0x5a5a5a5a)
#define JUNK_ERR (-4242)

/* --- Memory ------------------------------------------------------------- */

/* Bytes allocated and not yet freed by the whole process. */
static long heap_in_use(void)
{
    return (long)wb_heap_in_use();
}

/* --- What a continuation saw -------------------------------------------- */

struct seen {
    int id;       /* for the order log */
    int calls;    /* how many times it ran */
    int returned; /* `returned` when it ran: 0 means inside the call */
    int in_run;   /* `in_run` when it ran */
    int state;    /* future_state() when it ran */
    void *value;  /* ... and what it wrote */
    int err;      /* ... */
    pthread_t thread;
    future *then_on; /* if set: register `then_seen` on it when running */
    struct seen *then_seen;
    int then_returned; /* then_seen had not run when that then returned */
    int free_it;       /* future_free() its own future when running */
};

static int returned; /* set by the test right after a call returns */
static int in_run;   /* set around loop_run() */
static int order[64], norder;

static void on_seen(future *f, void *ctx)
{
    struct seen *s = ctx;
    s->calls++;
    s->returned = returned;
    s->in_run = in_run;
    s->value = JUNK_PTR;
    s->err = JUNK_ERR;
    s->state = future_state(f, &s->value, &s->err);
    s->thread = pthread_self();
    if (norder < (int)(sizeof order / sizeof order[0]))
        order[norder++] = s->id;
    if (s->then_on != NULL) {
        struct seen *t = s->then_seen;
        int rc = future_then(s->then_on, on_seen, t);
        t->then_returned = rc == 0 && t->calls == 0;
        s->then_on = NULL;
    }
    if (s->free_it)
        future_free(f);
}

static loop *new_loop(void)
{
    loop *l = loop_new();
    ck_assert_msg(l != NULL, "loop_new() failed: out of memory?");
    return l;
}

static future *new_future(loop *l)
{
    errno = 0;
    future *f = future_new(l);
    WB_EXPECT(f != NULL, "future_new(loop) should return a future; got NULL%s",
              wb_errno_note(-1));
    return f;
}

static void then_ok(future *f, struct seen *s)
{
    returned = 0;
    int rc = future_then(f, on_seen, s);
    returned = 1;
    WB_EXPECT(rc == 0, "future_then() should return 0; got %s", wb_errname(rc));
}

static void resolve_ok(future *f, void *value)
{
    returned = 0;
    int rc = future_resolve(f, value);
    returned = 1;
    WB_EXPECT(rc == 0,
              "future_resolve() of a pending future should return "
              "0; got %s",
              wb_errname(rc));
}

static void reject_ok(future *f, int err)
{
    returned = 0;
    int rc = future_reject(f, err);
    returned = 1;
    WB_EXPECT(rc == 0,
              "future_reject() of a pending future should return "
              "0; got %s",
              wb_errname(rc));
}

static void run(loop *l)
{
    in_run = 1;
    int rc = loop_run(l);
    in_run = 0;
    WB_EXPECT(rc == 0, "loop_run() should return 0; got %d%s", rc,
              wb_errno_note(rc));
}

static const char *state_name(int state)
{
    return state == 0 ? "pending" : state == 1 ? "resolved" : "rejected";
}

/* The continuation @p s ran exactly once, after the calls had returned,
 * from loop_run(). The promise the test named stays named afterwards. */
static void expect_ran_once(const struct seen *s, const char *what)
{
    WB_EXPECT(s->calls == 1,
              "the continuation %s should run exactly once; it ran %d "
              "times",
              what, s->calls);
    char tag[64] = "";
    (void)sscanf(wb_promise_prefix(), "[%63[a-z0-9-]]", tag);
    WB_PROMISE("never-sync");
    WB_EXPECT(s->calls == 0 || s->returned,
              "the continuation %s ran inside the call that registered it "
              "or settled the future: it must run later, from loop_run(), "
              "after that call returned",
              what);
    WB_PROMISE("loop-thread");
    WB_EXPECT(s->calls == 0 || s->in_run,
              "the continuation %s ran outside loop_run(): the loop calls "
              "continuations, from loop_run()",
              what);
    wb_promise(tag);
}

/* No continuation has run yet: checked right after a call returned. */
static void expect_not_yet(const struct seen *s, const char *call)
{
    WB_EXPECT(s->calls == 0,
              "a continuation ran inside %s: it must run later, from "
              "loop_run(), never inside the call that registers it or "
              "settles the future (the code after the call relies on "
              "running first)",
              call);
}

/* A loop timer that runs a function of the test. */
struct at {
    void (*fn)(void *arg);
    void *arg;
};

static void on_at(loop *l, void *ctx)
{
    (void)l;
    struct at *a = ctx;
    a->fn(a->arg);
}

static void at_ms(loop *l, long ms, struct at *a)
{
    long id = loop_add_timer(l, ms, on_at, a);
    ck_assert_msg(id > 0, "loop_add_timer() failed");
}

/* --- Tests -------------------------------------------------------------- */

START_TEST(test_bad_arguments)
{
    WB_PROMISE("bad-args");
    loop *l = new_loop(), *other = new_loop();
    errno = 0;
    future *f = future_new(NULL);
    WB_EXPECT(f == NULL && errno == EINVAL,
              "future_new(NULL) should fail with EINVAL; got %p, errno %s",
              (void *)f, wb_errname(errno));
    f = new_future(l);
    int rc = future_resolve(NULL, JUNK_PTR);
    WB_EXPECT(rc == EINVAL,
              "future_resolve(NULL, ...) should give EINVAL; "
              "got %s",
              wb_errname(rc));
    rc = future_reject(NULL, EIO);
    WB_EXPECT(rc == EINVAL,
              "future_reject(NULL, EIO) should give EINVAL; "
              "got %s",
              wb_errname(rc));
    rc = future_reject(f, 0);
    WB_EXPECT(rc == EINVAL,
              "future_reject(f, 0) should give EINVAL (0 is not an error); "
              "got %s",
              wb_errname(rc));
    int state = future_state(f, NULL, NULL);
    WB_EXPECT(state == 0,
              "after a refused future_reject(f, 0) the future should still "
              "be pending; it is %s",
              state_name(state));
    rc = future_then(NULL, on_seen, NULL);
    WB_EXPECT(rc == EINVAL,
              "future_then(NULL, ...) should give EINVAL; "
              "got %s",
              wb_errname(rc));
    rc = future_then(f, NULL, NULL);
    WB_EXPECT(rc == EINVAL,
              "future_then(f, NULL, ctx) should give EINVAL; "
              "got %s",
              wb_errname(rc));

    future *g = new_future(other);
    future *fs[2] = {f, NULL};
    errno = 0;
    future *all = future_all(NULL, fs, 1);
    WB_EXPECT(all == NULL && errno == EINVAL,
              "future_all(NULL, fs, 1) should fail with EINVAL; got %p, "
              "errno %s",
              (void *)all, wb_errname(errno));
    for (size_t n = 1; n <= 2; n++) {
        errno = 0;
        all = future_all(l, NULL, n);
        WB_EXPECT(all == NULL && errno == EINVAL,
                  "future_all(l, NULL, %zu) should fail with EINVAL; got %p, "
                  "errno %s",
                  n, (void *)all, wb_errname(errno));
    }
    errno = 0;
    all = future_all(l, fs, 2);
    WB_EXPECT(all == NULL && errno == EINVAL,
              "future_all() with a NULL input should fail with EINVAL; got "
              "%p, errno %s",
              (void *)all, wb_errname(errno));
    fs[1] = g;
    errno = 0;
    all = future_all(l, fs, 2);
    WB_EXPECT(all == NULL && errno == EINVAL,
              "future_all() with an input made on another loop should fail "
              "with EINVAL; got %p, errno %s",
              (void *)all, wb_errname(errno));
    future_free(NULL);

    /* Nothing was registered or settled by the refused calls. */
    struct seen s = {0};
    then_ok(f, &s);
    resolve_ok(f, &s);
    run(l);
    expect_ran_once(&s, "registered after the refused calls");
    WB_EXPECT(s.state == 1 && s.value == &s,
              "the future should be resolved with the value given; it is %s",
              state_name(s.state));
    future_free(f);
    future_free(g);
    run(other);
    loop_free(l);
    loop_free(other);
}
END_TEST

/* tests/05-callbacks/future.links links tests/support/wrap.c: a failed
 * clock_gettime() makes the loop's loop_add_timer() fail. */
START_TEST(test_settle_fails_cleanly)
{
    WB_PROMISE("fails-cleanly");
    loop *l = new_loop();
    future *f = new_future(l);
    struct seen a = {0}, b = {0};
    then_ok(f, &a);
    wb_wrap_fail(WB_CLOCK_GETTIME, 1, EINVAL, 1);
    int rc = future_resolve(f, &a);
    wb_wrap_reset(WB_CLOCK_GETTIME, 0);
    int state = future_state(f, NULL, NULL);
    WB_EXPECT(rc != 0 && rc != EALREADY && state == 0,
              "when the loop cannot schedule the continuations "
              "(loop_add_timer() fails), future_resolve() should fail and "
              "leave the future pending; it returned %s and the future is "
              "%s",
              wb_errname(rc), state_name(state));
    expect_not_yet(&a, "a failed future_resolve()");
    resolve_ok(f, &a);

    /* Now settled: a continuation that cannot be scheduled is refused. */
    wb_wrap_fail(WB_CLOCK_GETTIME, 1, EINVAL, 1);
    rc = future_then(f, on_seen, &b);
    wb_wrap_reset(WB_CLOCK_GETTIME, 0);
    int b_registered = rc == 0;
    run(l);
    expect_ran_once(&a, "registered before the failed resolve");
    WB_EXPECT(a.state == 1 && a.value == &a,
              "the second future_resolve() should have resolved the future "
              "with its value; the continuation saw it %s",
              state_name(a.state));
    /* A continuation registered on a settled future goes with the
     * dispatch already scheduled, or needs one of its own. */
    WB_EXPECT(b.calls == b_registered,
              "future_then() returned %s, so its continuation should run "
              "%d times; it ran %d times",
              wb_errname(rc), b_registered, b.calls);

    /* A future with nothing scheduled, settled: then must schedule. */
    future *g = new_future(l);
    resolve_ok(g, NULL);
    run(l);
    wb_wrap_fail(WB_CLOCK_GETTIME, 1, EINVAL, 1);
    rc = future_then(g, on_seen, &b);
    wb_wrap_reset(WB_CLOCK_GETTIME, 0);
    int calls_before = b.calls;
    run(l);
    WB_EXPECT(rc != 0 && b.calls == calls_before,
              "future_then() on a settled future, when the loop cannot "
              "schedule the continuation, should fail and register "
              "nothing; it returned %s and the continuation ran %d times",
              wb_errname(rc), b.calls - calls_before);
    /* A later future_then() that succeeds schedules a dispatch: only its
     * own continuation may run in it, not the refused one. */
    struct seen c = {0};
    then_ok(g, &c);
    run(l);
    WB_EXPECT(b.calls == calls_before && c.calls == 1,
              "a future_then() that failed registers nothing, so a later "
              "future_then() on the same future runs only its own "
              "continuation; the failed one ran %d times, the later one "
              "%d times",
              b.calls - calls_before, c.calls);
    future_free(f);
    future_free(g);
    run(l);
    loop_free(l);
}
END_TEST

/* The n-th allocation of the future code fails (tests/support/alloc.c),
 * for n = 1, 2, ... until a call makes fewer than n. */
START_TEST(test_out_of_memory)
{
    WB_PROMISE("no-memory");
    loop *l = new_loop();
    wb_alloc_fail(1);
    errno = 0;
    future *f = future_new(l);
    int err = errno;
    wb_alloc_fail(0);
    WB_EXPECT(f == NULL && err == ENOMEM,
              "future_new() with its allocation failing should return NULL "
              "with ENOMEM; got %s, errno %s",
              f == NULL ? "NULL" : "a future", wb_errname(err));
    future_free(f);

    /* future_then(), on a pending and on a settled future. */
    future *g = new_future(l), *h = new_future(l);
    resolve_ok(h, NULL);
    struct seen a = {0}, b = {0}, c = {0}, d = {0};
    then_ok(g, &a);
    future *both[2] = {g, h};
    for (int i = 0; i < 2; i++) {
        size_t live = wb_alloc_live(NULL);
        wb_alloc_fail(1);
        int rc = future_then(both[i], on_seen, i == 0 ? &b : &c);
        wb_alloc_fail(0);
        WB_EXPECT(rc == ENOMEM && wb_alloc_live(NULL) == live,
                  "future_then() on a %s future with its allocation "
                  "failing should return ENOMEM and keep nothing; got %s, "
                  "%zu blocks more",
                  i == 0 ? "pending" : "settled", wb_errname(rc),
                  wb_alloc_live(NULL) - live);
    }
    then_ok(g, &d);
    resolve_ok(g, NULL);
    run(l);
    expect_ran_once(&a, "registered before a future_then() that failed");
    expect_ran_once(&d, "registered after a future_then() that failed");
    WB_PROMISE("no-memory");
    WB_EXPECT(b.calls == 0 && c.calls == 0,
              "a future_then() that failed for want of memory registers "
              "nothing; its continuation ran anyway (%d times on the "
              "pending future, %d on the settled one)",
              b.calls, c.calls);

    /* future_all() of inputs still pending, each with a continuation. */
    int failed = 0;
    for (int n = 1; n <= 20; n++) {
        future *in[3];
        struct seen s[3], sa = {0};
        memset(s, 0, sizeof s);
        for (int i = 0; i < 3; i++) {
            in[i] = new_future(l);
            then_ok(in[i], &s[i]);
        }
        size_t live = wb_alloc_live(NULL);
        wb_alloc_fail(n);
        errno = 0;
        future *all = future_all(l, in, 3);
        err = errno;
        int calls = wb_alloc_calls();
        wb_alloc_fail(0);
        if (all == NULL) {
            failed++;
            WB_EXPECT(err == ENOMEM && wb_alloc_live(NULL) == live,
                      "future_all() with its allocation %d failing returned "
                      "NULL: errno should be ENOMEM and nothing kept; errno "
                      "%s, %zu blocks more",
                      n, wb_errname(err), wb_alloc_live(NULL) - live);
        } else {
            then_ok(all, &sa);
        }
        for (int i = 0; i < 3; i++)
            resolve_ok(in[i], NULL);
        run(l);
        for (int i = 0; i < 3; i++)
            expect_ran_once(&s[i], all == NULL
                                       ? "of an input of a failed future_all()"
                                       : "of an input of a future_all()");
        if (all != NULL)
            expect_ran_once(&sa, "of a future_all() made with an allocation "
                                 "failing");
        WB_PROMISE("no-memory");
        future_free(all);
        for (int i = 0; i < 3; i++)
            future_free(in[i]);
        run(l);
        if (calls < n)
            break; /* no allocation failed */
    }
    WB_EXPECT(failed > 0,
              "future_all() with its first allocation failing should return "
              "NULL with ENOMEM; it never failed");
    future_free(g);
    future_free(h);
    run(l);
    loop_free(l);
}
END_TEST

START_TEST(test_settle_once)
{
    loop *l = new_loop();
    int x = 1, y = 2;
    future *f = new_future(l), *g = new_future(l);
    struct seen a = {0}, b = {0};
    then_ok(f, &a);
    then_ok(g, &b);

    WB_PROMISE("state");
    void *value = JUNK_PTR;
    int err = JUNK_ERR;
    int state = future_state(f, &value, &err);
    WB_EXPECT(state == 0 && value == JUNK_PTR && err == JUNK_ERR,
              "a new future is pending: future_state() should return 0 and "
              "write neither *value nor *err; got %d, value %s, err %s",
              state, value == JUNK_PTR ? "untouched" : "written",
              err == JUNK_ERR ? "untouched" : "written");
    resolve_ok(f, &x);
    state = future_state(f, &value, &err);
    WB_EXPECT(state == 1 && value == &x && err == JUNK_ERR,
              "after future_resolve(f, &x), future_state() should return 1, "
              "set *value to &x and leave *err alone; got %d, value %s, "
              "err %s",
              state, value == &x ? "&x" : "wrong",
              err == JUNK_ERR ? "untouched" : "written");
    reject_ok(g, EIO);
    value = JUNK_PTR;
    err = JUNK_ERR;
    state = future_state(g, &value, &err);
    WB_EXPECT(state == -1 && err == EIO && value == JUNK_PTR,
              "after future_reject(g, EIO), future_state() should return "
              "-1, set *err to EIO and leave *value alone; got %d, err %s, "
              "value %s",
              state, wb_errname(err),
              value == JUNK_PTR ? "untouched" : "written");

    WB_PROMISE("settle-once");
    int rc = future_resolve(f, &y);
    WB_EXPECT(rc == EALREADY,
              "a second future_resolve() should give EALREADY; got %s",
              wb_errname(rc));
    rc = future_reject(f, EPIPE);
    WB_EXPECT(rc == EALREADY,
              "future_reject() of a resolved future should give EALREADY; "
              "got %s",
              wb_errname(rc));
    rc = future_resolve(g, &y);
    WB_EXPECT(rc == EALREADY,
              "future_resolve() of a rejected future should give EALREADY; "
              "got %s",
              wb_errname(rc));
    rc = future_reject(g, EPIPE);
    WB_EXPECT(rc == EALREADY,
              "a second future_reject() should give EALREADY; got %s",
              wb_errname(rc));
    value = JUNK_PTR;
    err = JUNK_ERR;
    state = future_state(f, &value, &err);
    WB_EXPECT(state == 1 && value == &x,
              "the first settle decides: f was resolved with &x, and after "
              "a second resolve and a reject it should still be; it is %s%s",
              state_name(state),
              state == 1 && value != &x ? " with another value" : "");
    state = future_state(g, &value, &err);
    WB_EXPECT(state == -1 && err == EIO,
              "the first settle decides: g was rejected with EIO, and after "
              "a resolve and a second reject it should still be; it is %s "
              "(err %s)",
              state_name(state), wb_errname(err));

    run(l);
    expect_ran_once(&a, "of a future settled three times");
    expect_ran_once(&b, "of a future settled three times");
    WB_PROMISE("settle-once");
    WB_EXPECT(a.state == 1 && a.value == &x && b.state == -1 && b.err == EIO,
              "the continuations should see the first outcomes (resolved "
              "with &x; rejected with EIO); they saw %s and %s (err %s)",
              state_name(a.state), state_name(b.state), wb_errname(b.err));

    /* Settling again after the continuations ran runs nothing again. */
    rc = future_resolve(f, &y);
    int rc2 = future_reject(g, EPIPE);
    run(l);
    WB_EXPECT(rc == EALREADY && rc2 == EALREADY && a.calls == 1 && b.calls == 1,
              "settling again after the continuations ran should give "
              "EALREADY and run nothing; got %s and %s, and the "
              "continuations ran %d and %d times in all",
              wb_errname(rc), wb_errname(rc2), a.calls, b.calls);
    future_free(f);
    future_free(g);
    loop_free(l);
}
END_TEST

struct settle_later {
    future *f;
    struct seen *s;
    int calls_at_settle;
    int reject;
};

static void settle_now(void *arg)
{
    struct settle_later *p = arg;
    p->calls_at_settle = p->s->calls;
    if (p->reject)
        reject_ok(p->f, ENOENT);
    else
        resolve_ok(p->f, p->s);
}

START_TEST(test_then_before_settling)
{
    WB_PROMISE("then-any-time");
    loop *l = new_loop();
    future *f = new_future(l), *g = new_future(l);
    struct seen a = {0}, b = {0};
    then_ok(f, &a);
    then_ok(g, &b);
    struct settle_later pf = {f, &a, -1, 0}, pg = {g, &b, -1, 1};
    struct at af = {settle_now, &pf}, ag = {settle_now, &pg};
    at_ms(l, 20, &af);
    at_ms(l, 30, &ag);
    run(l);
    WB_EXPECT(pf.calls_at_settle == 0 && pg.calls_at_settle == 0,
              "a continuation registered on a pending future must wait "
              "until it settles; it ran %d times before",
              pf.calls_at_settle + pg.calls_at_settle);
    expect_ran_once(&a, "registered before a resolve");
    expect_ran_once(&b, "registered before a reject");
    WB_PROMISE("then-any-time");
    WB_EXPECT(a.state == 1 && a.value == &a,
              "the continuation should see the future resolved with its "
              "value; it saw it %s",
              state_name(a.state));
    WB_EXPECT(b.state == -1 && b.err == ENOENT,
              "the continuation should see the future rejected with ENOENT; "
              "it saw it %s (err %s)",
              state_name(b.state), wb_errname(b.err));
    future_free(f);
    future_free(g);
    loop_free(l);
}
END_TEST

START_TEST(test_then_after_settling)
{
    WB_PROMISE("then-any-time");
    loop *l = new_loop();
    int x = 7;
    future *f = new_future(l), *g = new_future(l);
    resolve_ok(f, &x);
    reject_ok(g, ETIMEDOUT);
    struct seen a = {0}, b = {0};
    then_ok(f, &a);
    then_ok(g, &b);
    /* Nothing else to wait for: loop_run() must still run them. */
    run(l);
    expect_ran_once(&a, "registered after a resolve");
    expect_ran_once(&b, "registered after a reject");
    WB_PROMISE("then-any-time");
    WB_EXPECT(a.state == 1 && a.value == &x && b.state == -1 &&
                  b.err == ETIMEDOUT,
              "the continuations should see the outcomes (resolved with &x; "
              "rejected with ETIMEDOUT); they saw %s and %s (err %s)",
              state_name(a.state), state_name(b.state), wb_errname(b.err));

    /* Registered again, long after: runs again, once. */
    struct seen c = {0};
    then_ok(f, &c);
    run(l);
    expect_ran_once(&c, "registered after the first ones had run");
    WB_EXPECT(a.calls == 1,
              "a continuation that ran should not run again when another "
              "is registered; it ran %d times",
              a.calls);
    future_free(f);
    future_free(g);
    loop_free(l);
}
END_TEST

/* What the timer callback of test_never_synchronous does, on the loop's
 * thread, inside loop_run(). */
struct inside {
    loop *l;
    struct seen a, b, c, d;
    future *settled, *pending, *pending2;
};

static void sync_inside_loop(void *arg)
{
    struct inside *in = arg;
    then_ok(in->settled, &in->a);
    expect_not_yet(&in->a, "future_then() of a settled future, called in a "
                           "loop callback");
    then_ok(in->pending, &in->b);
    resolve_ok(in->pending, NULL);
    expect_not_yet(&in->b, "future_resolve(), called in a loop callback");
    then_ok(in->pending2, &in->c);
    reject_ok(in->pending2, EIO);
    expect_not_yet(&in->c, "future_reject(), called in a loop callback");
}

START_TEST(test_never_synchronous)
{
    WB_PROMISE("never-sync");
    loop *l = new_loop();
    future *f = new_future(l), *g = new_future(l), *h = new_future(l);

    /* Before loop_run(). */
    struct seen a = {0}, b = {0}, c = {0}, d = {0};
    resolve_ok(f, NULL);
    then_ok(f, &a);
    expect_not_yet(&a, "future_then() of a resolved future");
    then_ok(g, &b);
    resolve_ok(g, NULL);
    expect_not_yet(&b, "future_resolve()");
    then_ok(h, &c);
    reject_ok(h, EIO);
    expect_not_yet(&c, "future_reject()");
    /* A continuation that registers another on its own settled future. */
    a.then_on = f;
    a.then_seen = &d;

    /* Inside a loop callback, on the loop's thread. */
    struct inside in = {.l = l};
    in.settled = new_future(l);
    in.pending = new_future(l);
    in.pending2 = new_future(l);
    resolve_ok(in.settled, NULL);
    struct at at = {sync_inside_loop, &in};
    at_ms(l, 5, &at);

    run(l);
    expect_ran_once(&a, "registered on a resolved future");
    expect_ran_once(&b, "registered before future_resolve()");
    expect_ran_once(&c, "registered before future_reject()");
    expect_ran_once(&d, "registered by a continuation on its own future");
    WB_PROMISE("never-sync");
    WB_EXPECT(d.then_returned,
              "a continuation called future_then() on its own, settled, "
              "future: the new continuation ran inside that call; it must "
              "run later");
    expect_ran_once(&in.a, "registered in a loop callback");
    expect_ran_once(&in.b, "resolved in a loop callback");
    expect_ran_once(&in.c, "rejected in a loop callback");

    /* future_all() and future_free() call no continuation either. */
    future *ins[2] = {f, g};
    future *all = future_all(l, ins, 2);
    ck_assert_msg(all != NULL, "future_all() of 2 resolved futures failed");
    struct seen e = {0}, p = {0};
    then_ok(all, &e);
    future *pend = new_future(l);
    then_ok(pend, &p);
    returned = 0;
    future_free(pend);
    returned = 1;
    expect_not_yet(&p, "future_free() of a pending future");
    expect_not_yet(&e, "future_all()");
    run(l);
    expect_ran_once(&e, "of a future_all() of resolved futures");
    expect_ran_once(&p, "of a pending future that was freed");

    future_free(all);
    future_free(f);
    future_free(g);
    future_free(h);
    future_free(in.settled);
    future_free(in.pending);
    future_free(in.pending2);
    loop_free(l);
}
END_TEST

START_TEST(test_registration_order)
{
    WB_PROMISE("order");
    loop *l = new_loop();
    future *f = new_future(l);
    struct seen s[9];
    memset(s, 0, sizeof s);
    for (int i = 0; i < 9; i++)
        s[i].id = i;
    for (int i = 0; i < 5; i++)
        then_ok(f, &s[i]);
    resolve_ok(f, NULL);
    for (int i = 5; i < 8; i++)
        then_ok(f, &s[i]);
    /* The third one registers a ninth while they run. */
    s[2].then_on = f;
    s[2].then_seen = &s[8];
    norder = 0;
    run(l);
    char got[128] = "";
    for (int i = 0; i < norder; i++)
        snprintf(got + strlen(got), sizeof got - strlen(got), "%s%d",
                 i ? " " : "", order[i]);
    int in_order = norder == 9;
    for (int i = 0; in_order && i < 9; i++)
        in_order = order[i] == i;
    WB_EXPECT(in_order,
              "continuations 0-4 registered before the resolve, 5-7 after, "
              "8 by continuation 2 while it ran: they should run in that "
              "order, 0 1 2 3 4 5 6 7 8; they ran as: %s",
              got);
    future_free(f);
    loop_free(l);
}
END_TEST

/* A continuation that registers itself again, until a descriptor it made
 * ready on its first run gets its turn (or it has run CAP times). */
struct again {
    future *f;
    int wfd; /* written on the first run */
    int runs;
    int stop;         /* set by the descriptor's callback */
    int runs_at_stop; /* runs when it was set */
    int then_failed;
};

enum { AGAIN_CAP = 20000 };

static void on_again(future *f, void *ctx)
{
    struct again *a = ctx;
    if (a->runs++ == 0)
        ck_assert_int_eq(write(a->wfd, "x", 1), 1);
    if (!a->stop && a->runs < AGAIN_CAP)
        a->then_failed += future_then(f, on_again, a) != 0;
}

static void on_again_ready(loop *l, int fd, int events, void *ctx)
{
    (void)events;
    struct again *a = ctx;
    a->stop = 1;
    a->runs_at_stop = a->runs;
    (void)loop_unwatch(l, fd);
}

START_TEST(test_then_from_continuation)
{
    WB_PROMISE("from-continuation");
    loop *l = new_loop();
    int p[2];
    wb_pipe(p);
    struct again a = {0};
    a.wfd = p[1];
    a.f = new_future(l);
    resolve_ok(a.f, NULL);
    ck_assert_int_eq(future_then(a.f, on_again, &a), 0);
    ck_assert_int_eq(loop_watch(l, p[0], LOOP_READ, on_again_ready, &a), 0);
    run(l);
    WB_EXPECT(a.then_failed == 0, "future_then() from a continuation "
                                  "should return 0");
    WB_EXPECT(a.stop && a.runs_at_stop <= 10,
              "a continuation that registers itself again runs again in a "
              "later iteration of the loop, so a descriptor it made ready "
              "on its first run gets its turn within a few runs; %s",
              a.stop ? wb_format("it got it after %d runs", a.runs_at_stop)
                     : wb_format("it never did, in %d runs", a.runs));
    future_free(a.f);
    run(l);
    close(p[0]);
    close(p[1]);
    loop_free(l);
}
END_TEST

START_TEST(test_all_of_nothing)
{
    WB_PROMISE("all-resolves");
    loop *l = new_loop();
    future *all = future_all(l, NULL, 0);
    WB_EXPECT(all != NULL,
              "future_all(l, NULL, 0) should return a future; "
              "got NULL%s",
              wb_errno_note(-1));
    struct seen s = {0};
    then_ok(all, &s);
    run(l);
    expect_ran_once(&s, "of future_all() of no input");
    WB_PROMISE("all-resolves");
    WB_EXPECT(s.state == 1 && s.value == NULL,
              "future_all() of no input should resolve, with the value "
              "NULL; it is %s%s",
              state_name(s.state),
              s.state == 1 && s.value != NULL ? " with a value" : "");
    future_free(all);
    loop_free(l);
}
END_TEST

struct resolve_one {
    future *f;
};

static void resolve_later(void *arg)
{
    resolve_ok(((struct resolve_one *)arg)->f, arg);
}

START_TEST(test_all_in_any_order)
{
    WB_PROMISE("all-resolves");
    /* Every order of 4 inputs: the first resolved before future_all(),
     * two more by timers while the loop runs, the last after loop_run()
     * returned, so the join is seen pending with 3 of 4 resolved. */
    enum { N = 4, ORDERS = 24 };
    loop *l = new_loop();
    future *in[ORDERS][N], *all[ORDERS];
    struct resolve_one r[ORDERS][N];
    struct at at[ORDERS][N];
    struct seen s[ORDERS];
    int perm[ORDERS][N];
    memset(s, 0, sizeof s);
    for (int k = 0; k < ORDERS; k++) {
        int pool[N] = {0, 1, 2, 3}, left = N, code = k;
        for (int i = 0; i < N; i++) { /* the k-th permutation */
            int pick = code % left;
            code /= left;
            perm[k][i] = pool[pick];
            pool[pick] = pool[--left];
        }
        for (int i = 0; i < N; i++) {
            in[k][i] = new_future(l);
            r[k][i].f = in[k][i];
            at[k][i] = (struct at){resolve_later, &r[k][i]};
        }
        resolve_ok(in[k][perm[k][0]], NULL);
        all[k] = future_all(l, in[k], N);
        ck_assert_msg(all[k] != NULL, "future_all() of 4 futures failed");
        then_ok(all[k], &s[k]);
        at_ms(l, 2, &at[k][perm[k][1]]);
        at_ms(l, 6, &at[k][perm[k][2]]);
    }
    run(l);
    for (int k = 0; k < ORDERS; k++) {
        int state = future_state(all[k], NULL, NULL);
        WB_EXPECT(state == 0 && s[k].calls == 0,
                  "inputs %d, %d and %d of 4 have resolved, input %d is "
                  "still pending: the future of future_all() must stay "
                  "pending; it is %s, and its continuation ran %d times",
                  perm[k][0], perm[k][1], perm[k][2], perm[k][3],
                  state_name(state), s[k].calls);
    }
    for (int k = 0; k < ORDERS; k++)
        resolve_ok(in[k][perm[k][3]], NULL);
    run(l);
    for (int k = 0; k < ORDERS; k++) {
        expect_ran_once(&s[k], "of future_all() of 4 resolved inputs");
        WB_PROMISE("all-resolves");
        WB_EXPECT(s[k].state == 1 && s[k].value == NULL,
                  "every input resolved (in the order %d %d %d %d): the "
                  "future of future_all() should be resolved with the "
                  "value NULL; it is %s",
                  perm[k][0], perm[k][1], perm[k][2], perm[k][3],
                  state_name(s[k].state));
    }
    for (int k = 0; k < ORDERS; k++) {
        future_free(all[k]);
        for (int i = 0; i < N; i++)
            future_free(in[k][i]);
    }
    loop_free(l);
}
END_TEST

struct reject_one {
    future *f;
    int err;
};

static void reject_later(void *arg)
{
    struct reject_one *p = arg;
    if (p->err != 0)
        reject_ok(p->f, p->err);
    else
        resolve_ok(p->f, NULL);
}

START_TEST(test_all_first_rejection)
{
    WB_PROMISE("all-rejects");
    loop *l = new_loop();
    future *in[4];
    for (int i = 0; i < 4; i++)
        in[i] = new_future(l);
    future *all = future_all(l, in, 4);
    ck_assert_msg(all != NULL, "future_all() of 4 futures failed");
    struct seen s = {0};
    then_ok(all, &s);
    /* Input 2 fails first, input 0 later, input 1 resolves in between;
     * input 3 never settles while the loop runs. */
    struct reject_one r2 = {in[2], EIO}, r1 = {in[1], 0}, r0 = {in[0], EPIPE};
    struct at a2 = {reject_later, &r2}, a1 = {reject_later, &r1},
              a0 = {reject_later, &r0};
    at_ms(l, 5, &a2);
    at_ms(l, 15, &a1);
    at_ms(l, 30, &a0);
    run(l);
    WB_EXPECT(s.calls > 0,
              "inputs 2 and 0 were rejected while input 3 stayed pending: "
              "the future of future_all() should reject at the first "
              "rejection, without waiting for the other inputs; when "
              "loop_run() returned it was still %s",
              state_name(future_state(all, NULL, NULL)));
    expect_ran_once(&s, "of future_all() with rejected inputs");
    WB_EXPECT(s.state == -1 && s.err == EIO,
              "input 2 was rejected with EIO first, then input 0 with "
              "EPIPE, while input 3 stayed pending: the future of "
              "future_all() should be rejected with EIO, the first error; "
              "it is %s%s%s",
              state_name(s.state), s.state == -1 ? " with " : "",
              s.state == -1 ? wb_errname(s.err) : "");

    /* Later outcomes change nothing. */
    future_free(in[3]); /* pending: rejected with ECANCELED */
    run(l);
    int err = JUNK_ERR;
    int state = future_state(all, NULL, &err);
    WB_EXPECT(state == -1 && err == EIO && s.calls == 1,
              "after more inputs failed, the future of future_all() should "
              "stay rejected with EIO and its continuation not run again; "
              "it is %s (err %s) and the continuation ran %d times",
              state_name(state), wb_errname(err), s.calls);
    future_free(all);

    /* Inputs rejected before future_all(): the first in the array. */
    future *pre[4];
    for (int i = 0; i < 4; i++)
        pre[i] = new_future(l);
    resolve_ok(pre[0], NULL);
    reject_ok(pre[2], ENOENT);
    reject_ok(pre[1], EPERM);
    struct seen t = {0};
    all = future_all(l, pre, 4);
    ck_assert_msg(all != NULL, "future_all() of 4 futures failed");
    then_ok(all, &t);
    run(l);
    expect_ran_once(&t, "of future_all() of inputs rejected already");
    WB_PROMISE("all-rejects");
    WB_EXPECT(t.state == -1 && t.err == EPERM,
              "inputs 1 (EPERM) and 2 (ENOENT) of 4 were rejected before "
              "future_all(), input 3 is pending: the joined future should "
              "be rejected with EPERM (the first in the array) without "
              "waiting for input 3; it is %s%s%s",
              state_name(t.state), t.state == -1 ? " with " : "",
              t.state == -1 ? wb_errname(t.err) : "");
    future_free(all);
    for (int i = 0; i < 4; i++) {
        if (i < 3)
            future_free(in[i]); /* in[3] was freed above */
        future_free(pre[i]);
    }
    run(l);
    loop_free(l);
}
END_TEST

/* A worker thread's result, handed to the loop through a pipe. */
struct job {
    int pipe[2];
    long result;
    future *f;
    struct seen s;
};

static void *worker_main(void *arg)
{
    struct job *j = arg;
    wb_sleep_ms(20);
    long sum = 0;
    for (long i = 1; i <= 1000; i++)
        sum += i;
    j->result = sum; /* the pipe orders this before the loop reads it */
    char byte = 1;
    ssize_t n = write(j->pipe[1], &byte, 1);
    (void)n;
    return NULL;
}

static void on_pipe(loop *l, int fd, int events, void *ctx)
{
    (void)events;
    struct job *j = ctx;
    char byte;
    ssize_t n = read(fd, &byte, 1);
    (void)n;
    loop_unwatch(l, fd);
    resolve_ok(j->f, &j->result);
}

START_TEST(test_settled_from_another_thread)
{
    WB_PROMISE("loop-thread");
    loop *l = new_loop();
    struct job j = {.f = new_future(l)};
    wb_pipe(j.pipe);
    then_ok(j.f, &j.s);
    ck_assert_int_eq(loop_watch(l, j.pipe[0], LOOP_READ, on_pipe, &j), 0);
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, worker_main, &j), 0);
    run(l);
    pthread_join(t, NULL);
    close(j.pipe[0]);
    close(j.pipe[1]);
    expect_ran_once(&j.s, "of a future settled with a worker's result");
    WB_PROMISE("loop-thread");
    WB_EXPECT(j.s.calls == 0 || pthread_equal(j.s.thread, pthread_self()),
              "a worker thread's result reached the loop through a pipe and "
              "a loop callback resolved the future: its continuation should "
              "run on the loop's thread, the one in loop_run(); it ran on "
              "another");
    WB_EXPECT(j.s.state == 1 && j.s.value == &j.result && j.result == 500500,
              "the continuation should see the future resolved with the "
              "worker's result (500500); it saw it %s",
              state_name(j.s.state));
    future_free(j.f);
    loop_free(l);
}
END_TEST

START_TEST(test_free_defers)
{
    WB_PROMISE("free-defers");
    loop *l = new_loop();
    int x = 3;

    /* Freed right after settling, before the loop ran anything. */
    future *f = new_future(l);
    struct seen a = {0}, b = {0};
    then_ok(f, &a);
    then_ok(f, &b);
    resolve_ok(f, &x);
    future_free(f);

    /* Freed by its own first continuation; the second still runs. */
    future *g = new_future(l);
    struct seen c = {.free_it = 1}, d = {0};
    then_ok(g, &c);
    then_ok(g, &d);
    reject_ok(g, EIO);

    /* Registered on a settled future, then freed at once. */
    future *h = new_future(l);
    resolve_ok(h, &x);
    struct seen e = {0};
    then_ok(h, &e);
    future_free(h);

    run(l);
    const struct seen *all[] = {&a, &b, &c, &d, &e};
    const char *what[] = {
        "of a future freed right after it was resolved (first)",
        "of a future freed right after it was resolved (second)",
        "that frees its own future",
        "registered after the one that frees the future",
        "of a settled future freed right after future_then()"};
    for (int i = 0; i < 5; i++)
        expect_ran_once(all[i], what[i]);
    WB_EXPECT(a.state == 1 && a.value == &x && b.state == 1 && e.state == 1,
              "continuations of a freed future should still see its "
              "outcome (resolved with &x); they saw %s, %s, %s",
              state_name(a.state), state_name(b.state), state_name(e.state));
    WB_EXPECT(c.state == -1 && c.err == EIO && d.state == -1 && d.err == EIO,
              "a continuation that runs after another freed the future "
              "should still see its outcome (rejected with EIO); the two saw "
              "%s and %s",
              state_name(c.state), state_name(d.state));
    loop_free(l);
}
END_TEST

START_TEST(test_free_pending)
{
    WB_PROMISE("free-pending");
    loop *l = new_loop();
    future *f = new_future(l);
    struct seen a = {0}, b = {0};
    then_ok(f, &a);
    then_ok(f, &b);
    returned = 0;
    future_free(f);
    returned = 1;
    expect_not_yet(&a, "future_free() of a pending future");
    run(l);
    expect_ran_once(&a, "of a pending future that was freed");
    expect_ran_once(&b, "of a pending future that was freed");
    WB_PROMISE("free-pending");
    WB_EXPECT(a.state == -1 && a.err == ECANCELED && b.state == -1 &&
                  b.err == ECANCELED,
              "a pending future that is freed can never resolve: its "
              "continuations should see it rejected with ECANCELED; they "
              "saw %s (err %s) and %s (err %s)",
              state_name(a.state), wb_errname(a.err), state_name(b.state),
              wb_errname(b.err));
    loop_free(l);
}
END_TEST

/* future_free() of a pending future when the loop cannot schedule its
 * continuations (a failed clock_gettime() makes loop_add_timer() fail,
 * tests/support/wrap.c): they are dropped, and never run, not even when
 * the future is a join that settles later. */
START_TEST(test_free_pending_unscheduled)
{
    WB_PROMISE("free-pending");
    loop *l = new_loop();
    future *in = new_future(l);
    future *all = future_all(l, &in, 1);
    ck_assert_msg(all != NULL, "future_all() of 1 future failed");
    struct seen a = {0}, b = {0};
    then_ok(all, &a);
    then_ok(all, &b);
    wb_wrap_fail(WB_CLOCK_GETTIME, 1, EINVAL, 1);
    future_free(all);
    wb_wrap_reset(WB_CLOCK_GETTIME, 0);
    /* The join still waits for its input; it resolves the freed future
     * now, which has no continuation left to schedule. */
    resolve_ok(in, NULL);
    run(l);
    WB_EXPECT(a.calls == 0 && b.calls == 0,
              "a pending joined future was freed while the loop could not "
              "schedule its 2 continuations: they are dropped without "
              "running (future_free()), even when its input resolves "
              "later; they ran %d and %d times",
              a.calls, b.calls);
    future_free(in);
    run(l);
    loop_free(l);
}
END_TEST

START_TEST(test_all_free)
{
    WB_PROMISE("all-free");
    loop *l = new_loop();

    /* The joined future freed while it waits; then its inputs settle. */
    future *in[2] = {new_future(l), new_future(l)};
    future *all = future_all(l, in, 2);
    ck_assert_msg(all != NULL, "future_all() of 2 futures failed");
    struct seen a = {0};
    then_ok(all, &a);
    future_free(all);
    run(l);
    resolve_ok(in[0], NULL);
    reject_ok(in[1], EIO);
    run(l);
    expect_ran_once(&a, "of a joined future freed while it waited");
    WB_PROMISE("all-free");
    WB_EXPECT(a.state == -1 && a.err == ECANCELED,
              "a joined future freed while pending is rejected with "
              "ECANCELED, whatever its inputs do later; its continuation "
              "saw it %s (err %s)",
              state_name(a.state), wb_errname(a.err));
    future_free(in[0]);
    future_free(in[1]);

    /* An input freed while the join waits on it. */
    future *in2[3] = {new_future(l), new_future(l), new_future(l)};
    all = future_all(l, in2, 3);
    ck_assert_msg(all != NULL, "future_all() of 3 futures failed");
    struct seen b = {0};
    then_ok(all, &b);
    resolve_ok(in2[0], NULL);
    future_free(in2[1]);
    future_free(in2[0]);
    run(l);
    expect_ran_once(&b, "of a join whose input was freed while pending");
    WB_PROMISE("all-free");
    WB_EXPECT(b.state == -1 && b.err == ECANCELED,
              "an input freed while pending will never resolve: the joined "
              "future should be rejected with ECANCELED; it is %s (err %s)",
              state_name(b.state), wb_errname(b.err));
    resolve_ok(in2[2], NULL);
    future_free(in2[2]);
    future_free(all);
    run(l);
    loop_free(l);
}
END_TEST

/* One round of everything: settled and pending, joined, freed early,
 * late and from continuations. */
struct round {
    future *f[4], *all;
    struct seen s[5];
};

static void one_round(loop *l, struct round *r, int k)
{
    memset(r, 0, sizeof *r);
    for (int i = 0; i < 4; i++)
        r->f[i] = future_new(l);
    r->all = future_all(l, r->f, 4);
    for (int i = 0; i < 4; i++)
        (void)future_then(r->f[i], on_seen, &r->s[i]);
    (void)future_then(r->all, on_seen, &r->s[4]);
    r->s[4].free_it = 1; /* the join's continuation frees the join */
    (void)future_resolve(r->f[0], NULL);
    (void)future_resolve(r->f[1], NULL);
    if (k % 3 == 0)
        (void)future_reject(r->f[2], EIO);
    else
        (void)future_resolve(r->f[2], NULL);
    future_free(r->f[0]); /* settled, continuations pending */
    if (k % 2 == 0)
        (void)future_resolve(r->f[3], NULL);
    future_free(r->f[3]); /* pending half the time */
    r->s[1].free_it = 1;  /* f[1] frees itself */
}

START_TEST(test_no_leak)
{
    WB_PROMISE("no-leak");
    enum { ROUNDS = 300 };
    static struct round r[ROUNDS];
    loop *l = new_loop();
    int ok = 1;
    /* A first pass lets the loop's tables grow to their size. */
    for (int pass = 0; pass < 2; pass++) {
        long before = heap_in_use();
        for (int k = 0; k < ROUNDS; k++)
            one_round(l, &r[k], k);
        for (int k = 0; k < ROUNDS; k++)
            ok &= r[k].f[0] != NULL && r[k].all != NULL;
        ck_assert_msg(ok, "future_new() or future_all() failed");
        in_run = 1;
        int rc = loop_run(l);
        in_run = 0;
        for (int k = 0; k < ROUNDS; k++)
            future_free(r[k].f[2]); /* after its continuations ran */
        (void)loop_run(l);
        long left = heap_in_use() - before;
        if (pass == 0)
            continue;
        WB_EXPECT(rc == 0, "loop_run() should return 0");
        int calls = 0;
        for (int k = 0; k < ROUNDS; k++)
            for (int i = 0; i < 5; i++)
                calls += r[k].s[i].calls;
        WB_EXPECT(calls == ROUNDS * 5,
                  "%d rounds of 4 futures and their join, with a "
                  "continuation each, should run %d continuations; %d ran",
                  ROUNDS, ROUNDS * 5, calls);
        WB_EXPECT(left < 4096,
                  "%d rounds of 4 futures and a future_all(), every one "
                  "freed and every continuation run, left %ld bytes "
                  "allocated: a future (or a continuation's record, or a "
                  "join) is never freed. Release a future once its owner "
                  "freed it and no continuation or join still needs it",
                  ROUNDS, left);
    }
    loop_free(l);
}
END_TEST

Suite *wb_suite(void)
{
    Suite *s = wb_begin("future", "chapters/05-callbacks/chapter.md");
    WB_ADD(s, test_bad_arguments, "Futures and promises");
    WB_ADD(s, test_settle_fails_cleanly, "Failure is a result too");
    WB_ADD(s, test_out_of_memory, "Failure is a result too");
    WB_ADD(s, test_settle_once, "Exactly once");
    WB_ADD(s, test_then_before_settling, "Futures and promises");
    WB_ADD(s, test_then_after_settling, "Futures and promises");
    WB_ADD(s, test_never_synchronous,
           "Never call a continuation synchronously");
    WB_ADD(s, test_registration_order, "Futures and promises");
    WB_ADD(s, test_then_from_continuation,
           "Never call a continuation synchronously");
    WB_ADD(s, test_all_of_nothing, "Futures and promises");
    WB_ADD(s, test_all_in_any_order, "Futures and promises");
    WB_ADD(s, test_all_first_rejection, "Failure is a result too");
    WB_ADD(s, test_settled_from_another_thread,
           "Waking the loop from another thread");
    WB_ADD(s, test_free_defers, "Who owns the request");
    WB_ADD(s, test_free_pending, "Failure is a result too");
    WB_ADD(s, test_free_pending_unscheduled, "Failure is a result too");
    WB_ADD(s, test_all_free, "Who owns the request");
    WB_ADD(s, test_no_leak, "Who owns the request");
    return s;
}
