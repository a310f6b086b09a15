/*
 * Tests of eloop (exercises/06-beyond/eloop.h): the event loop of
 * chapter 4 on epoll.
 *
 * One test source, two back ends: every test of chapter 4's loop suite
 * (tests/04-select/test_loop.c, included below) runs here unchanged on
 * the epoll back end, but the two about what only select() does
 * (FD_SETSIZE, EBADF). Then the tests of what epoll changes: descriptors
 * above 2,000, 5,000 idle descriptors that must cost nothing, a
 * level-triggered loop, and descriptors closed while registered.
 *
 * The test defines epoll_wait(), epoll_pwait() and epoll_ctl() itself,
 * counting the calls before it passes them on to the C library's, the
 * way test_loop.c counts select(): "one epoll_wait() and no epoll_ctl()
 * per iteration" is counted, not timed, and the cost of idle
 * descriptors is judged by CPU time (getrusage()), not wall time.
 *
 * Linux only (epoll, eventfd, RLIMIT_NOFILE above FD_SETSIZE): defines
 * _GNU_SOURCE.
 */
#define _GNU_SOURCE
#include "wb.h"
#include "fdlimit.h"
#include "eloop.h"

/* Set up test_loop.c for this back end (see its opening comment). */
#define LOOP_BACKEND_EPOLL
#define LOOP_WAIT "epoll_wait()"
#define LOOP_WAIT_CALLS() eloop_wait_calls()
#define LOOP_WRITE_SET "the epoll set for EPOLLOUT"
static long eloop_wait_calls(void);

#include "../04-select/test_loop.c"

#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>

/* --- epoll, counted ------------------------------------------------------- */

static atomic_long epoll_waits, epoll_ctls;

/* The C library's definition of @p name: the next one after this file's. */
static void *next_definition(const char *name)
{
    void *sym = dlsym(RTLD_NEXT, name);
    if (sym == NULL)
        errno = ENOSYS;
    return sym;
}

/* The next epoll_wait() fails with this errno; 0: none. */
static atomic_int wait_fails_with;

/* While waits_recorded is set, what the last epoll_wait() reported: the
 * data.fd of each event (the loop may keep anything else there). */
enum { RECORDED_MAX = 1024 };
static atomic_int waits_recorded;
static int recorded_fds[RECORDED_MAX], recorded_n;

int epoll_wait(int epfd, struct epoll_event *events, int maxevents, int timeout)
{
    static int (*real)(int, struct epoll_event *, int, int);
    atomic_fetch_add(&epoll_waits, 1);
    int fail = atomic_exchange(&wait_fails_with, 0);
    if (fail != 0) {
        errno = fail;
        return -1;
    }
    if (real == NULL) {
        void *sym = next_definition("epoll_wait");
        if (sym == NULL)
            return -1;
        memcpy(&real, &sym, sizeof real);
    }
    int n = real(epfd, events, maxevents, timeout);
    if (atomic_load(&waits_recorded) && n > 0) {
        /* The descriptors this wait reported, for the test to check. */
        int k = n < RECORDED_MAX ? n : RECORDED_MAX;
        for (int i = 0; i < k; i++)
            recorded_fds[i] = events[i].data.fd;
        recorded_n = k;
    }
    return n;
}

int epoll_pwait(int epfd, struct epoll_event *events, int maxevents,
                int timeout, const sigset_t *mask)
{
    static int (*real)(int, struct epoll_event *, int, int, const sigset_t *);
    atomic_fetch_add(&epoll_waits, 1);
    if (real == NULL) {
        void *sym = next_definition("epoll_pwait");
        if (sym == NULL)
            return -1;
        memcpy(&real, &sym, sizeof real);
    }
    return real(epfd, events, maxevents, timeout, mask);
}

int epoll_ctl(int epfd, int op, int fd, struct epoll_event *event)
{
    static int (*real)(int, int, int, struct epoll_event *);
    atomic_fetch_add(&epoll_ctls, 1);
    if (real == NULL) {
        void *sym = next_definition("epoll_ctl");
        if (sym == NULL)
            return -1;
        memcpy(&real, &sym, sizeof real);
    }
    return real(epfd, op, fd, event);
}

static long eloop_wait_calls(void)
{
    return atomic_load(&epoll_waits);
}

/* Raise the soft limit on descriptors to at least @p want; the test
 * fails with a clear message when the hard limit does not allow it. */
static void raise_nofile(rlim_t want, struct rlimit *old)
{
    ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, old), 0);
    struct rlimit raised = *old;
    if (raised.rlim_cur >= want)
        return;
    raised.rlim_cur = want;
    int ok = (old->rlim_max == RLIM_INFINITY || old->rlim_max >= want) &&
             setrlimit(RLIMIT_NOFILE, &raised) == 0;
    WB_EXPECT(ok,
              "this test needs %lu descriptors (RLIMIT_NOFILE); the hard "
              "limit is %lu: raise it (ulimit -Hn) to run it",
              (unsigned long)want, (unsigned long)old->rlim_max);
}

/* --- Level-triggered ------------------------------------------------------ */

struct sipper {
    int calls;
    int guard_ran;
    int fd;
    long guard;
};

/* Reads one byte per call: what is left waits for the next iteration. */
static void on_sip(loop *l, int fd, int events, void *ctx)
{
    (void)events;
    struct sipper *s = ctx;
    char c;
    (void)read(fd, &c, 1);
    if (++s->calls == 3) {
        (void)loop_unwatch(l, fd);
        (void)loop_cancel_timer(l, s->guard);
    }
}

static void on_sip_guard(loop *l, void *ctx)
{
    struct sipper *s = ctx;
    s->guard_ran = 1;
    (void)loop_unwatch(l, s->fd);
}

START_TEST(test_level_triggered)
{
    WB_PROMISE("level");
    loop *l = new_loop();
    int p[2];
    wb_pipe(p);
    ck_assert_int_eq(write(p[1], "abc", 3), 3);
    struct sipper s = {0, 0, p[0], -1};
    watch_ok(l, p[0], LOOP_READ, on_sip, &s);
    s.guard = timer_ok(l, 300, on_sip_guard, &s);
    run_ok(l);
    WB_EXPECT(s.calls == 3 && !s.guard_ran,
              "a pipe holding 3 bytes, whose callback reads 1 byte per "
              "call, should get 3 callbacks in 3 iterations (it stays "
              "readable: the loop is level-triggered); after 300 ms it had "
              "%d. Registered with EPOLLET, epoll reports a descriptor "
              "only when new data arrives, and the bytes left wait forever",
              s.calls);
    loop_free(l);
    close_pair(p);
}
END_TEST

/* --- Any descriptor number ------------------------------------------------ */

enum { HIGH_A = 2000, HIGH_B = 2001, HIGH_C = 3000 };

struct high {
    struct seen a, b, c;
    int watch_c_rc;
};

/* Fd HIGH_A's callback: watches HIGH_C, which makes the loop's table
 * grow while a callback runs. */
static void on_high_a(loop *l, int fd, int events, void *ctx)
{
    struct high *h = ctx;
    on_seen(l, fd, events, &h->a);
    h->watch_c_rc = loop_watch(l, HIGH_C, LOOP_READ, on_seen, &h->c);
}

START_TEST(test_descriptors_above_2000)
{
    WB_PROMISE("any-fd");
    struct rlimit old;
    raise_nofile(HIGH_C + 1, &old);
    int p[2], q[2], sv[2];
    ready_pipe(p);
    ready_pipe(q);
    make_socketpair(sv);
    WB_EXPECT(dup2(p[0], HIGH_A) == HIGH_A && dup2(sv[0], HIGH_B) == HIGH_B &&
                  dup2(q[0], HIGH_C) == HIGH_C,
              "dup2() onto descriptors %d, %d and %d failed%s", HIGH_A, HIGH_B,
              HIGH_C, wb_errno_note(-1));
    loop *l = new_loop();
    struct high h = {.a = {.unwatch_after = 1},
                     .b = {.unwatch_after = 1},
                     .c = {.unwatch_after = 1},
                     .watch_c_rc = -2};
    watch_ok(l, HIGH_A, LOOP_READ, on_high_a, &h);
    watch_ok(l, HIGH_B, LOOP_WRITE, on_seen, &h.b);
    run_ok(l);
    WB_EXPECT(h.a.calls == 1 && h.a.fd == HIGH_A && h.a.events == LOOP_READ,
              "a readable pipe on descriptor %d (above FD_SETSIZE, %d) "
              "should get one callback with LOOP_READ; got %d, the first "
              "for fd %d with %s",
              HIGH_A, FD_SETSIZE, h.a.calls, h.a.fd, events_text(h.a.events));
    WB_EXPECT(h.b.calls == 1 && h.b.fd == HIGH_B && h.b.events == LOOP_WRITE,
              "a writable socket on descriptor %d should get one callback "
              "with LOOP_WRITE; got %d, the first for fd %d with %s",
              HIGH_B, h.b.calls, h.b.fd, events_text(h.b.events));
    WB_EXPECT(h.watch_c_rc == 0 && h.c.calls == 1 && h.c.fd == HIGH_C,
              "a callback watched descriptor %d (a readable pipe): "
              "loop_watch() should return 0 and its callback run once in "
              "the next iteration; loop_watch() returned %d and the "
              "callback ran %d times",
              HIGH_C, h.watch_c_rc, h.c.calls);
    loop_free(l);
    close(HIGH_A);
    close(HIGH_B);
    close(HIGH_C);
    close_pair(p);
    close_pair(q);
    close_pair(sv);
    setrlimit(RLIMIT_NOFILE, &old);
}
END_TEST

/* --- Idle descriptors cost nothing ---------------------------------------- */

enum { IDLE = 5000, ROUNDS = 300 };

struct spinner {
    int calls;
    int64_t start;
};

/* The pipe is never drained: ready in every iteration, ROUNDS times;
 * then loop_run() returns. */
static void on_round(loop *l, int fd, int events, void *ctx)
{
    (void)events;
    struct spinner *s = ctx;
    if (++s->calls == ROUNDS || wb_now_ns() - s->start > 1000 * MS) {
        (void)loop_unwatch(l, fd);
        loop_stop(l); /* the idle descriptors stay watched */
    }
}

/* ROUNDS iterations of loop_run() with one ready pipe: what they cost,
 * how many callbacks ran, how many epoll_ctl() calls they made. */
static struct effort rounds(loop *l, int *calls, long *ctls)
{
    int p[2];
    ready_pipe(p);
    struct spinner s = {0, wb_now_ns()};
    watch_ok(l, p[0], LOOP_READ, on_round, &s);
    long ctl0 = atomic_load(&epoll_ctls);
    struct effort e = effort_start();
    run_ok(l);
    e = effort_since(e);
    *ctls = atomic_load(&epoll_ctls) - ctl0;
    *calls = s.calls;
    close_pair(p);
    return e;
}

START_TEST(test_idle_descriptors_cost_nothing)
{
    WB_PROMISE("flat-wait");
    struct rlimit old;
    raise_nofile(IDLE + 100, &old);
    loop *l = new_loop();
    int calls;
    long ctls;
    (void)rounds(l, &calls, &ctls); /* warm up: page in the loop's code */
    struct effort base = rounds(l, &calls, &ctls);

    static int idle[IDLE];
    for (int i = 0; i < IDLE; i++) {
        idle[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        WB_EXPECT(idle[i] >= 0, "eventfd() number %d failed%s", i + 1,
                  wb_errno_note(-1));
        watch_ok(l, idle[i], LOOP_READ, on_never, NULL);
    }
    struct effort busy = rounds(l, &calls, &ctls);
    for (int i = 0; i < IDLE; i++) {
        ck_assert_int_eq(loop_unwatch(l, idle[i]), 0);
        close(idle[i]);
    }
    loop_free(l);
    setrlimit(RLIMIT_NOFILE, &old);

    int64_t extra = busy.cpu - base.cpu;
    WB_EXPECT(calls == ROUNDS && extra < 2 * base.cpu + 15 * MS,
              "%d iterations (one ready pipe) cost %.1f ms of CPU time "
              "with %d idle descriptors watched, %.1f ms with none%s: the "
              "idle ones should cost next to nothing (epoll_wait() returns "
              "the ready descriptors only). A loop that hands every watched "
              "descriptor to the kernel in each iteration (poll(), "
              "select(), epoll_ctl()) pays for each of them every time",
              ROUNDS, (double)busy.cpu / MS, IDLE, (double)base.cpu / MS,
              calls == ROUNDS
                  ? ""
                  : fmt(" (and only %d iterations ran in 1 s)", calls));
    WB_EXPECT(ctls <= 2,
              "%d iterations in which nothing was watched or unwatched but "
              "the ready pipe's own loop_unwatch() made %ld epoll_ctl() "
              "calls; expected 1. Register a descriptor once, in "
              "loop_watch(), not again before every wait",
              ROUNDS, ctls);
    WB_EXPECT(busy.selects <= ROUNDS + 2,
              "%d iterations with %d idle descriptors watched should make "
              "about %d epoll_wait() calls, one each; they made %ld",
              ROUNDS, IDLE, ROUNDS, busy.selects);
}
END_TEST

/* --- Closed descriptors --------------------------------------------------- */

struct stale {
    int calls, got_bytes;
    int fd;
};

/* Called for the new pipe, which has nothing to read: a call is a report
 * meant for the old descriptor. */
static void on_stale(loop *l, int fd, int events, void *ctx)
{
    (void)l;
    (void)events;
    struct stale *s = ctx;
    s->calls++;
    char c;
    if (read(fd, &c, 1) == 1)
        s->got_bytes++;
}

static void on_stale_done(loop *l, void *ctx)
{
    struct stale *s = ctx;
    (void)loop_unwatch(l, s->fd);
}

START_TEST(test_unwatched_copy_stays_quiet)
{
    WB_PROMISE("unwatch");
    loop *l = new_loop();
    int p[2], q[2];
    wb_pipe(p);
    wb_pipe(q);
    int copy = fcntl(p[0], F_DUPFD_CLOEXEC, 0); /* as dup() or fork() */
    ck_assert_int_ge(copy, 0);
    int calls = 0;
    watch_ok(l, p[0], LOOP_READ, on_never, &calls);
    int num = p[0];
    ck_assert_int_eq(loop_unwatch(l, num), 0);
    close(num);
    /* The old pipe is readable through its copy; the new descriptor on
     * the old number is an empty pipe, made non-blocking. */
    ck_assert_int_eq(write(p[1], "x", 1), 1);
    ck_assert_int_eq(dup2(q[0], num), num);
    ck_assert_int_eq(fcntl(num, F_SETFL, O_NONBLOCK), 0);
    struct stale s = {0, 0, num};
    watch_ok(l, num, LOOP_READ, on_stale, &s);
    timer_ok(l, 100, on_stale_done, &s);
    struct effort e = effort_start();
    run_ok(l);
    e = effort_since(e);
    WB_EXPECT(calls == 0 && s.calls == 0,
              "descriptor %d was watched, unwatched and closed while a "
              "copy of it stayed open (dup()); a new, empty pipe then got "
              "number %d and was watched. Its callback should not run in "
              "100 ms; it ran %d times (and the old watch's %d times). "
              "epoll keeps a registration while a copy of the file is "
              "open: loop_unwatch() must take it out (EPOLL_CTL_DEL) "
              "before the caller closes the descriptor",
              num, num, s.calls, calls);
    WB_EXPECT(e.selects < 20,
              "waiting 100 ms on an empty pipe took %ld epoll_wait() "
              "calls: something in the epoll set is ready all the time "
              "(a registration left there by a descriptor closed without "
              "EPOLL_CTL_DEL?)",
              e.selects);
    loop_free(l);
    close(copy);
    close_pair(p); /* p[0] is q[0]'s copy on the old number now */
    close_pair(q);
}
END_TEST

struct closed {
    int unwatch_rc, unwatch_err;
    int fd;
    int64_t at;
};

static void on_closed_unwatch(loop *l, void *ctx)
{
    struct closed *c = ctx;
    c->at = wb_now_ns();
    errno = 0;
    c->unwatch_rc = loop_unwatch(l, c->fd);
    c->unwatch_err = errno;
    if (c->unwatch_rc != 0)
        loop_stop(l); /* still watched: loop_run() would not return */
}

START_TEST(test_closed_while_watched)
{
    WB_PROMISE("closed");
    /* The pipe first: the epoll instance is not descriptor 3, the value
     * of EPOLL_CTL_MOD, so the two cannot be taken for each other. */
    int p[2];
    wb_pipe(p);
    loop *l = new_loop();
    int calls = 0;
    watch_ok(l, p[0], LOOP_READ, on_never, &calls);
    close(p[0]); /* the caller's mistake: closed while watched */
    close(p[1]);
    struct closed c = {-2, 0, p[0], 0};
    int64_t start = wb_now_ns();
    timer_ok(l, 50, on_closed_unwatch, &c);
    int rc = loop_run(l);
    int err = errno;
    WB_EXPECT(rc == 0 && c.at != 0,
              "a watched pipe closed without loop_unwatch(): loop_run() "
              "should wait (its watch stays) until a 50 ms timer unwatches "
              "it, then return 0; it returned %d%s after %lld ms, %s",
              rc, rc == -1 ? fmt(" (%s)", wb_errname(err)) : "",
              (long long)((wb_now_ns() - start) / MS),
              c.at != 0 ? "after the timer" : "before the timer ran");
    WB_EXPECT(c.unwatch_rc == 0,
              "loop_unwatch() of a watched descriptor that was closed "
              "should return 0 (EPOLL_CTL_DEL fails then: the kernel "
              "already dropped it); it returned %d (%s)",
              c.unwatch_rc, wb_errname(c.unwatch_err));
    WB_EXPECT(calls == 0, "the closed descriptor got %d callbacks", calls);

    /* Closed without loop_unwatch(), and its number given to a new,
     * readable pipe: watching the number again serves the new pipe. */
    int q[2], r[2];
    ready_pipe(q);
    wb_pipe(r);
    struct seen s = {.unwatch_after = 1, .stop = 1};
    watch_ok(l, r[0], LOOP_READ, on_never, &calls);
    int num = r[0];
    close(num);
    ck_assert_int_eq(dup2(q[0], num), num);
    rc = loop_watch(l, num, LOOP_READ, on_seen, &s);
    WB_EXPECT(rc == 0,
              "descriptor %d was closed while watched and its number went "
              "to a new pipe: loop_watch() of it should return 0; got "
              "%d%s. The kernel forgot the old one: EPOLL_CTL_MOD fails "
              "with ENOENT, EPOLL_CTL_ADD works",
              num, rc, wb_errno_note(rc));
    struct closed guard = {-2, 0, num, 0};
    long gid = timer_ok(l, 300, on_closed_unwatch, &guard);
    run_ok(l);
    WB_EXPECT(s.calls == 1 && calls == 0,
              "the readable pipe watched on the reused number %d should "
              "get its callback at once; after %s it had %d (the old "
              "watch's callback %d)",
              num, guard.at != 0 ? "300 ms" : "the run", s.calls, calls);
    if (guard.at == 0)
        ck_assert_int_eq(loop_cancel_timer(l, gid), 0);
    loop_free(l);
    close(num);
    close_pair(q);
    close(r[1]);
}
END_TEST

/* --- End of file and a broken pipe --------------------------------------- */

/* A pipe whose write end is closed: epoll says EPOLLHUP, not EPOLLIN,
 * yet read() returns 0 at once, so the loop calls back with LOOP_READ.
 * A full pipe whose read end is closed: EPOLLERR, not EPOLLOUT (an empty
 * one would say both), and write() fails at once (EPIPE): LOOP_WRITE. */
struct ended {
    struct seen rd, wr;
    int guard_ran;
    int fds[2];
};

static void on_ended_guard(loop *l, void *ctx)
{
    struct ended *e = ctx;
    e->guard_ran = 1;
    (void)loop_unwatch(l, e->fds[0]);
    (void)loop_unwatch(l, e->fds[1]);
}

START_TEST(test_hang_up_is_ready)
{
    WB_PROMISE("watch");
    loop *l = new_loop();
    int p[2], q[2];
    wb_pipe(p);
    wb_pipe(q);
    close(p[1]); /* p[0]: end of file */
    int fl = fcntl(q[1], F_GETFL);
    ck_assert_msg(fl != -1 && fcntl(q[1], F_SETFL, fl | O_NONBLOCK) != -1,
                  "fcntl: %s", strerror(errno));
    static char fill[4096];
    while (write(q[1], fill, sizeof fill) > 0) /* full: no room, no EPOLLOUT */
        continue;
    close(q[0]); /* q[1]: a broken pipe */
    struct ended e = {.rd = {.unwatch_after = 1, .stop = 1},
                      .wr = {.unwatch_after = 1, .stop = 1},
                      .fds = {p[0], q[1]}};
    watch_ok(l, p[0], LOOP_READ, on_seen, &e.rd);
    watch_ok(l, q[1], LOOP_WRITE, on_seen, &e.wr);
    long guard = timer_ok(l, 300, on_ended_guard, &e);
    struct effort eff = effort_start();
    do /* each callback stops the loop: no wait for the guard */
        run_ok(l);
    while (!e.guard_ran && (e.rd.calls == 0 || e.wr.calls == 0));
    eff = effort_since(eff);
    if (!e.guard_ran)
        (void)loop_cancel_timer(l, guard);
    WB_EXPECT(e.rd.calls == 1 && e.rd.events == LOOP_READ,
              "a pipe whose writer closed (read() returns 0 at once) should "
              "get a LOOP_READ callback; it got %d, the first with %s. "
              "epoll reports it as EPOLLHUP, without EPOLLIN",
              e.rd.calls, events_text(e.rd.events));
    WB_EXPECT(e.wr.calls == 1 && e.wr.events == LOOP_WRITE,
              "a pipe whose reader closed (write() fails at once) should "
              "get a LOOP_WRITE callback; it got %d, the first with %s. "
              "epoll reports it as EPOLLERR, without EPOLLOUT when it is full",
              e.wr.calls, events_text(e.wr.events));
    WB_EXPECT(eff.selects < 20,
              "the loop called epoll_wait() %ld times in %lld ms: a hang-up "
              "it does not pass on is reported again by every wait",
              eff.selects, (long long)(eff.wall / MS));
    loop_free(l);
    close(p[0]);
    close(q[1]);
}
END_TEST

/* --- The table moves while a callback runs ------------------------------- */

struct grower {
    int first;        /* the descriptor whose callback ran first */
    int old_calls;    /* calls of on_grow_first, either descriptor */
    int new_calls;    /* calls of on_grow_new */
    int new_fd;       /* the descriptor on_grow_new was called for */
    int other[2];     /* the two ready pipes' read ends */
    struct seen high; /* descriptor HIGH_C, watched from a callback */
};

static void on_grow_new(loop *l, int fd, int events, void *ctx)
{
    (void)events;
    struct grower *g = ctx;
    if (g->new_calls++ == 0)
        g->new_fd = fd;
    (void)loop_unwatch(l, fd);
}

/* The first of the two ready pipes to run: grows the loop's table (a
 * watch on HIGH_C), then rewatches the other pipe with a new callback,
 * in the same iteration, before the loop dispatches it. */
static void on_grow_first(loop *l, int fd, int events, void *ctx)
{
    (void)events;
    struct grower *g = ctx;
    if (g->old_calls++ == 0) {
        g->first = fd;
        int rc = loop_watch(l, HIGH_C, LOOP_READ, on_seen, &g->high);
        WB_EXPECT(rc == 0,
                  "loop_watch() of descriptor %d from a callback should "
                  "return 0; got %d%s",
                  HIGH_C, rc, wb_errno_note(rc));
        int other = fd == g->other[0] ? g->other[1] : g->other[0];
        rc = loop_watch(l, other, LOOP_READ, on_grow_new, g);
        WB_EXPECT(rc == 0,
                  "loop_watch() again of descriptor %d should return 0; got "
                  "%d%s",
                  other, rc, wb_errno_note(rc));
    }
    (void)loop_unwatch(l, fd);
}

START_TEST(test_table_grows_during_an_iteration)
{
    struct rlimit old;
    raise_nofile(HIGH_C + 1, &old);
    int p[2], q[2], r[2];
    ready_pipe(p);
    ready_pipe(q);
    ready_pipe(r);
    WB_EXPECT(dup2(r[0], HIGH_C) == HIGH_C,
              "dup2() onto descriptor %d failed%s", HIGH_C, wb_errno_note(-1));
    loop *l = new_loop();
    struct grower g = {.first = -1,
                       .new_fd = -1,
                       .other = {p[0], q[0]},
                       .high = {.unwatch_after = 1}};
    watch_ok(l, p[0], LOOP_READ, on_grow_first, &g);
    watch_ok(l, q[0], LOOP_READ, on_grow_first, &g);
    run_ok(l);
    int other = g.first == p[0] ? q[0] : p[0];
    WB_PROMISE("rewatch");
    WB_EXPECT(g.old_calls == 1 && g.new_calls == 1 && g.new_fd == other,
              "two pipes were ready in one iteration; the first callback "
              "watched descriptor %d (the loop's table grows, and may move) "
              "and then watched the other pipe, %d, again with a new "
              "callback. Expected the old callback once and the new one "
              "once, for %d, in the same iteration; got the old one %d "
              "times and the new one %d times. Look the watch up in the "
              "table again for each ready entry, after the callbacks "
              "before it ran: a pointer into the table taken before them "
              "points at freed memory once it grew",
              HIGH_C, other, other, g.old_calls, g.new_calls);
    WB_PROMISE("any-fd");
    WB_EXPECT(g.high.calls == 1 && g.high.fd == HIGH_C,
              "descriptor %d, watched from a callback, should get one "
              "callback; it got %d",
              HIGH_C, g.high.calls);
    loop_free(l);
    close(HIGH_C);
    close_pair(p);
    close_pair(q);
    close_pair(r);
    setrlimit(RLIMIT_NOFILE, &old);
}
END_TEST

/* --- EINTR again and again ------------------------------------------------ */

/* Sends SIGALRM to the loop's thread every 20 ms, 30 times (600 ms). */
static void *signal_train(void *arg)
{
    pthread_t *target = arg;
    for (int k = 0; k < 30; k++) {
        wb_sleep_ms(20);
        pthread_kill(*target, SIGALRM);
    }
    return NULL;
}

START_TEST(test_eintr_keeps_the_deadline)
{
    WB_PROMISE("eintr");
    loop *l = new_loop();
    struct timed t = {0, 0, -1};
    /* A handler without SA_RESTART: each signal interrupts epoll_wait()
     * before the timer is due. */
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigemptyset(&sa.sa_mask);
    ck_assert_int_eq(sigaction(SIGALRM, &sa, &old), 0);
    alarms = 0;
    int64_t start = wb_now_ns();
    timer_ok(l, 100, on_timed, &t);
    pthread_t self = pthread_self(), train;
    ck_assert_int_eq(pthread_create(&train, NULL, signal_train, &self), 0);
    int rc = loop_run(l);
    int err = errno;
    int got = (int)alarms;
    pthread_join(train, NULL);
    sigaction(SIGALRM, &old, NULL);
    WB_EXPECT(rc == 0, "loop_run() should return 0; got %d (%s)", rc,
              rc == -1 ? wb_errname(err) : "no error");
    long ms = (long)((t.at - start) / MS);
    WB_EXPECT(t.calls == 1 && ms >= 100 && ms < 400,
              "a 100 ms timer, while a signal interrupted epoll_wait() every "
              "20 ms for 600 ms: expected it to run once, 100 ms after it "
              "was added (under 400 ms on a loaded machine); it ran %d "
              "times, after %ld ms (%d signals by then). After EINTR the "
              "loop should wait again for the time left until the timer, "
              "computed anew: retrying with the same timeout starts the "
              "whole wait over at each signal",
              t.calls, ms, got);
    loop_free(l);
}
END_TEST

/* --- Timeouts round up ---------------------------------------------------- */

enum { CHAIN = 30 };

/* Each run adds the next 5 ms timer, CHAIN in all. */
static void on_chain(loop *l, void *ctx)
{
    int *left = ctx;
    if (--*left > 0)
        (void)loop_add_timer(l, 5, on_chain, ctx);
}

START_TEST(test_timeouts_round_up)
{
    WB_PROMISE("no-spin");
    loop *l = new_loop();
    int left = CHAIN;
    timer_ok(l, 5, on_chain, &left);
    long waits = eloop_wait_calls();
    run_ok(l);
    waits = eloop_wait_calls() - waits;
    WB_EXPECT(left == 0 && waits <= 3 * CHAIN,
              "%d timers of 5 ms, one after the other: expected about one "
              "epoll_wait() per timer (at most %d in all); counted %ld. "
              "epoll_wait() takes whole milliseconds: a timeout rounded "
              "down wakes the loop before the deadline, and it then spins "
              "with a timeout of 0 until the deadline passes. Round up",
              CHAIN, 3 * CHAIN, waits);
    loop_free(l);
}
END_TEST

/* --- What epoll refuses --------------------------------------------------- */

START_TEST(test_epoll_refusals)
{
    WB_PROMISE("bad-args");
    loop *l = new_loop();
    int calls = 0;
    FILE *f = tmpfile();
    ck_assert_ptr_nonnull(f);
    expect_fail(loop_watch(l, fileno(f), LOOP_READ, on_never, &calls), EPERM,
                "loop_watch() of a regular file (epoll cannot wait for "
                "one: it is always ready)");
    int p[2];
    wb_pipe(p);
    int gone = p[0];
    close_pair(p);
    expect_fail(loop_watch(l, gone, LOOP_READ, on_never, &calls), EBADF,
                "loop_watch() of a descriptor that is not open");
    expect_fail(loop_unwatch(l, gone), ENOENT,
                "loop_unwatch() of the descriptor loop_watch() refused");
    int64_t t0 = wb_now_ns();
    run_ok(l);
    WB_EXPECT(calls == 0 && wb_now_ns() - t0 < 500 * MS,
              "after the refused watches the loop should be empty: "
              "loop_run() should return at once; it took %lld ms and %d "
              "callbacks ran",
              (long long)((wb_now_ns() - t0) / MS), calls);
    loop_free(l);
    fclose(f);
}
END_TEST

/* make check CHAPTER=6 EXERCISE=eloop TRACE=1 draws the same test as
 * chapter 4's loop: short spans, one 60 ms bar, the timers it held up. */
const char *const wb_trace_test = "test_blocking_callback_delays_everything";

/* --- Failures, and what each iteration hands the callbacks ---------------- */

START_TEST(test_new_without_a_descriptor)
{
    WB_PROMISE("no-memory");
    fdlimit_none_left();
    errno = 0;
    loop *l = loop_new();
    int err = errno;
    fdlimit_restore();
    WB_EXPECT(l == NULL && err == EMFILE,
              "with no descriptor left (RLIMIT_NOFILE), loop_new() should "
              "return NULL with EMFILE (epoll_create1()'s error) and keep no "
              "memory; got %s with errno %s",
              l == NULL ? "NULL" : "a loop", wb_errname(err));
    loop_free(l);
}
END_TEST

START_TEST(test_watch_without_memory)
{
    WB_PROMISE("no-memory");
    loop *l = new_loop();
    int p[2];
    ready_pipe(p);
    int calls = 0;
    wb_alloc_fail(1);
    errno = 0;
    int rc = loop_watch(l, p[0], LOOP_READ, on_never, &calls);
    int err = errno;
    wb_alloc_fail(0);
    WB_EXPECT(rc == -1 && err == ENOMEM,
              "loop_watch() whose table cannot grow (no memory) should "
              "return -1 with ENOMEM; got %d with errno %s",
              rc, wb_errname(err));
    if (rc == 0)
        (void)loop_unwatch(l, p[0]);
    else
        run_ok(l); /* nothing watched: returns at once */
    WB_EXPECT(calls == 0,
              "a loop_watch() that failed watches nothing; its "
              "callback ran %d times",
              calls);
    loop_free(l);
    close_pair(p);
}
END_TEST

START_TEST(test_events_are_only_those_ready)
{
    WB_PROMISE("watch");
    loop *l = new_loop();
    int p[2];
    ready_pipe(p);
    /* A pipe's read end is never writable: watched for both, it is
     * reported readable only. */
    struct seen s = {.unwatch_after = 1};
    watch_ok(l, p[0], LOOP_READ | LOOP_WRITE, on_seen, &s);
    run_ok(l);
    WB_EXPECT(s.calls == 1 && s.events == LOOP_READ,
              "a readable pipe's read end (never writable) watched for "
              "LOOP_READ|LOOP_WRITE should get LOOP_READ alone; it got %s",
              events_text(s.events));
    /* Watched for writing only, it is never ready: the loop sleeps. */
    WB_PROMISE("no-spin");
    int calls = 0;
    watch_ok(l, p[0], LOOP_WRITE, on_never, &calls);
    timer_ok(l, 100, on_unwatch_timer, &p[0]);
    struct effort e = effort_start();
    run_ok(l);
    e = effort_since(e);
    WB_EXPECT(calls == 0 && e.selects < 20,
              "a readable pipe's read end watched for LOOP_WRITE only is "
              "never ready: for 100 ms the loop should sleep in "
              "epoll_wait() with no callback; it called epoll_wait() %ld "
              "times and the callback %d times. Ask epoll for what the "
              "descriptor is watched for, nothing more",
              e.selects, calls);
    loop_free(l);
    close_pair(p);
}
END_TEST

START_TEST(test_rewatch_ignores_a_stale_errno)
{
    WB_PROMISE("rewatch");
    loop *l = new_loop();
    int p[2];
    ready_pipe(p);
    int calls = 0;
    watch_ok(l, p[0], LOOP_READ, on_never, &calls);
    errno = ENOENT; /* left over from some earlier call of the caller */
    int rc = loop_watch(l, p[0], LOOP_READ | LOOP_WRITE, on_never, &calls);
    WB_EXPECT(rc == 0,
              "loop_watch() of a descriptor already watched should return "
              "0, whatever errno held before the call (ENOENT here); got "
              "%d%s",
              rc, wb_errno_note(rc));
    ck_assert_int_eq(loop_unwatch(l, p[0]), 0);
    loop_free(l);
    close_pair(p);
}
END_TEST

START_TEST(test_same_file_back_on_its_number)
{
    WB_PROMISE("closed");
    /* The pipe first: the epoll instance is not descriptor 3, the value
     * of EPOLL_CTL_MOD, so the two cannot be taken for each other. */
    int p[2];
    wb_pipe(p);
    loop *l = new_loop();
    int num = p[0];
    int copy = fcntl(num, F_DUPFD_CLOEXEC, 0);
    ck_assert_int_ge(copy, 0);
    int calls = 0;
    watch_ok(l, num, LOOP_READ, on_never, &calls);
    /* Closed before loop_unwatch() (the caller's mistake) while a copy
     * stays open: epoll keeps the registration, which loop_unwatch() can
     * no longer name. Then the same pipe comes back on the number. */
    close(num);
    ck_assert_int_eq(loop_unwatch(l, num), 0);
    ck_assert_int_eq(dup2(copy, num), num);
    struct seen s = {.unwatch_after = 1};
    errno = 0;
    int rc = loop_watch(l, num, LOOP_READ, on_seen, &s);
    WB_EXPECT(rc == 0,
              "the same pipe, back on descriptor %d (dup2()) after it was "
              "closed and unwatched while a copy stayed open, should be "
              "watched: loop_watch() should return 0 (epoll already holds "
              "it: EEXIST, so change the registration); got %d%s",
              num, rc, wb_errno_note(rc));
    ck_assert_int_eq(write(p[1], "x", 1), 1);
    if (rc == 0)
        run_ok(l);
    WB_EXPECT(s.calls == 1 && s.fd == num && calls == 0,
              "once watched again, the pipe's callback should run once when "
              "it is readable; it ran %d times (the old watch's %d)",
              s.calls, calls);
    loop_free(l);
    close(copy);
    close_pair(p);
}
END_TEST

struct other {
    int calls;
    int victim;
};

/* The first callback of the iteration unwatches another descriptor (not
 * ready) and stops the loop. */
static void on_unwatch_other(loop *l, int fd, int events, void *ctx)
{
    (void)fd;
    (void)events;
    struct other *o = ctx;
    if (o->calls++ == 0 && o->victim >= 0) {
        (void)loop_unwatch(l, o->victim);
        o->victim = -1;
    }
    loop_stop(l);
}

START_TEST(test_unwatching_another_keeps_the_ready_ones)
{
    WB_PROMISE("same-iteration");
    loop *l = new_loop();
    int a[2], b[2], idle[2];
    ready_pipe(a);
    ready_pipe(b);
    wb_pipe(idle);
    int never = 0;
    struct other oa = {0, idle[0]}, ob = {0, idle[0]};
    watch_ok(l, idle[0], LOOP_READ, on_never, &never);
    watch_ok(l, a[0], LOOP_READ, on_unwatch_other, &oa);
    watch_ok(l, b[0], LOOP_READ, on_unwatch_other, &ob);
    /* Both share one victim: whichever runs first unwatches it. */
    oa.victim = ob.victim = idle[0];
    run_ok(l);
    WB_EXPECT(oa.calls == 1 && ob.calls == 1,
              "two pipes were ready in one iteration; the first callback "
              "unwatched a third, idle descriptor: both ready ones should "
              "still get their callback in that iteration (loop_unwatch() "
              "voids what epoll said about that descriptor only); they got "
              "%d and %d",
              oa.calls, ob.calls);
    loop_unwatch(l, a[0]);
    loop_unwatch(l, b[0]);
    loop_free(l);
    close_pair(a);
    close_pair(b);
    close_pair(idle);
}
END_TEST

static void *write_later(void *arg)
{
    int fd = *(int *)arg;
    wb_sleep_ms(100);
    ssize_t w = write(fd, "x", 1);
    (void)w;
    return NULL;
}

START_TEST(test_waiting_with_no_timer_does_not_spin)
{
    WB_PROMISE("no-spin");
    loop *l = new_loop();
    int p[2];
    wb_pipe(p);
    struct seen s = {.unwatch_after = 1};
    watch_ok(l, p[0], LOOP_READ, on_seen, &s);
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, write_later, &p[1]), 0);
    struct effort e = effort_start();
    run_ok(l);
    e = effort_since(e);
    pthread_join(t, NULL);
    WB_EXPECT(s.calls == 1 && e.selects < 20,
              "with no timer pending, the loop waited about 100 ms for a "
              "pipe: it should sleep in epoll_wait() with no timeout (-1); "
              "it called epoll_wait() %ld times",
              e.selects);
    loop_free(l);
    close_pair(p);
}
END_TEST

START_TEST(test_wait_failure_is_returned)
{
    WB_PROMISE("wait-fails");
    loop *l = new_loop();
    int p[2];
    ready_pipe(p);
    struct seen s = {.unwatch_after = 1};
    watch_ok(l, p[0], LOOP_READ, on_seen, &s);
    atomic_store(&wait_fails_with, EINVAL);
    errno = 0;
    int rc = loop_run(l);
    int err = errno;
    atomic_store(&wait_fails_with, 0);
    WB_EXPECT(rc == -1 && err == EINVAL && s.calls == 0,
              "when epoll_wait() fails with EINVAL (not EINTR), loop_run() "
              "should return -1 with that errno and call nothing; it "
              "returned %d (%s) and the callback ran %d times",
              rc, wb_errname(err), s.calls);
    run_ok(l);
    WB_EXPECT(s.calls == 1,
              "after a failed loop_run() what is watched stays: the next "
              "loop_run() should call the readable pipe's callback; it ran "
              "%d times",
              s.calls);
    loop_free(l);
    close_pair(p);
}
END_TEST

/* 256 ready pipes; the k-th callback of the iteration unwatches
 * descriptor k when it is one of the pipes not served yet. Every other
 * pipe the iteration's epoll_wait() reported must still be served in
 * that iteration, however many one wait hands back. */
enum { MANY_READY = 256, MANY_FDS = 1100 };

struct many_ready {
    int calls;
    int unwatched;               /* the descriptor unwatched, or -1 */
    unsigned char rd[MANY_FDS];  /* a watched read end */
    unsigned char got[MANY_FDS]; /* its callback ran */
};

static void on_many_ready(loop *l, int fd, int events, void *ctx)
{
    (void)events;
    struct many_ready *m = ctx;
    int k = ++m->calls;
    if (fd >= 0 && fd < MANY_FDS)
        m->got[fd] = 1;
    if (m->unwatched < 0 && k < MANY_FDS && m->rd[k] && !m->got[k]) {
        (void)loop_unwatch(l, k);
        m->unwatched = k;
    }
    loop_stop(l);
}

START_TEST(test_unwatch_among_many_ready)
{
    WB_PROMISE("same-iteration");
    struct rlimit old;
    raise_nofile(MANY_FDS, &old);
    loop *l = new_loop();
    static int pipes[MANY_READY][2];
    static struct many_ready m;
    memset(&m, 0, sizeof m);
    m.unwatched = -1;
    for (int i = 0; i < MANY_READY; i++) {
        ready_pipe(pipes[i]);
        ck_assert(pipes[i][0] < MANY_FDS);
        m.rd[pipes[i][0]] = 1;
    }
    /* The highest first: the low numbers are served last. */
    for (int i = MANY_READY - 1; i >= 0; i--)
        watch_ok(l, pipes[i][0], LOOP_READ, on_many_ready, &m);
    recorded_n = 0;
    atomic_store(&waits_recorded, 1);
    run_ok(l); /* one iteration: every callback stops the loop */
    atomic_store(&waits_recorded, 0);
    int missed = -1, reported = 0;
    for (int i = 0; i < recorded_n; i++) {
        int fd = recorded_fds[i];
        if (fd < 0 || fd >= MANY_FDS || !m.rd[fd] || fd == m.unwatched)
            continue;
        reported++;
        if (!m.got[fd] && missed < 0)
            missed = fd;
    }
    WB_EXPECT(missed < 0,
              "epoll_wait() reported %d ready pipes in one iteration; "
              "callback number %d unwatched descriptor %d, not served yet: "
              "every other pipe reported should still get its callback in "
              "that iteration; descriptor %d got none (%d callbacks ran)",
              reported, m.unwatched, m.unwatched, missed, m.calls);
    for (int i = 0; i < MANY_READY; i++) {
        (void)loop_unwatch(l, pipes[i][0]);
        close_pair(pipes[i]);
    }
    loop_free(l);
    setrlimit(RLIMIT_NOFILE, &old);
}
END_TEST

Suite *wb_suite(void)
{
    Suite *s = wb_begin("eloop", "chapters/06-beyond/chapter.md");
    /* Chapter 4's loop suite, on epoll. */
    WB_ADD(s, test_bad_arguments, "The loop on epoll");
    WB_ADD(s, test_run_from_callback_is_ebusy, "The loop on epoll");
    WB_ADD(s, test_read_callback, "The loop on epoll");
    WB_ADD(s, test_write_and_both_events, "The loop on epoll");
    WB_ADD(s, test_rewatch_replaces, "The loop on epoll");
    WB_ADD(s, test_unwatch_stops_callbacks, "The loop on epoll");
    WB_ADD(s, test_unwatched_in_same_iteration, "The loop on epoll");
    WB_ADD(s, test_closed_and_reused_in_same_iteration, "The loop on epoll");
    WB_ADD(s, test_rewatched_in_same_iteration, "The loop on epoll");
    WB_ADD(s, test_callback_closes_and_watches, "The loop on epoll");
    WB_ADD(s, test_descriptor_zero, "The loop on epoll");
    WB_ADD(s, test_eintr_is_not_an_error, "The loop on epoll");
    WB_ADD(s, test_timers_run_in_deadline_order, "The loop on epoll");
    WB_ADD(s, test_many_timers_cancelled, "The loop on epoll");
    WB_ADD(s, test_timer_years_away, "The loop on epoll");
    WB_ADD(s, test_timer_runs_while_fd_always_ready, "The loop on epoll");
    WB_ADD(s, test_timer_and_io_both_dispatched, "The loop on epoll");
    WB_ADD(s, test_timer_callbacks_change_the_loop, "The loop on epoll");
    WB_ADD(s, test_timers_ignore_date_changes, "The loop on epoll");
    WB_ADD(s, test_zero_timer_from_callback_waits, "The loop on epoll");
    WB_ADD(s, test_run_ends_when_nothing_is_left, "The loop on epoll");
    WB_ADD(s, test_stop_from_callback, "The loop on epoll");
    WB_ADD(s, test_stop_lets_the_iteration_finish, "The loop on epoll");
    WB_ADD(s, test_clock_failure_is_reported, "The loop on epoll");
    WB_ADD(s, test_out_of_memory, "The loop on epoll");
    WB_ADD(s, test_timer_queue_out_of_memory, "The loop on epoll");
    WB_ADD(s, test_memory_follows_pending_timers, "The loop on epoll");
    WB_ADD(s, test_idle_timer_does_not_spin, "The loop on epoll");
    WB_ADD(s, test_writable_socket_read_only_does_not_spin,
           "The loop on epoll");
    WB_ADD(s, test_free_drops_everything, "The loop on epoll");
    WB_ADD(s, test_blocking_callback_delays_everything, "The loop on epoll");
    /* What epoll changes. */
    WB_ADD(s, test_level_triggered, "Level-triggered and edge-triggered");
    WB_ADD(s, test_hang_up_is_ready, "The loop on epoll");
    WB_ADD(s, test_descriptors_above_2000, "The loop on epoll");
    WB_ADD(s, test_table_grows_during_an_iteration, "The loop on epoll");
    WB_ADD(s, test_eintr_keeps_the_deadline, "The loop on epoll");
    WB_ADD(s, test_timeouts_round_up, "The loop on epoll");
    WB_ADD_TIMEOUT(s, test_idle_descriptors_cost_nothing,
                   "Measured: select, poll and epoll", 4.0);
    WB_ADD(s, test_unwatched_copy_stays_quiet,
           "A closed descriptor can stay registered");
    WB_ADD(s, test_closed_while_watched,
           "A closed descriptor can stay registered");
    WB_ADD(s, test_epoll_refusals, "The loop on epoll");
    WB_ADD(s, test_new_without_a_descriptor, "The loop on epoll");
    WB_ADD(s, test_watch_without_memory, "The loop on epoll");
    WB_ADD(s, test_events_are_only_those_ready, "The loop on epoll");
    WB_ADD(s, test_rewatch_ignores_a_stale_errno, "The loop on epoll");
    WB_ADD(s, test_same_file_back_on_its_number, "The loop on epoll");
    WB_ADD(s, test_unwatching_another_keeps_the_ready_ones,
           "The loop on epoll");
    WB_ADD(s, test_waiting_with_no_timer_does_not_spin, "The loop on epoll");
    WB_ADD(s, test_wait_failure_is_returned, "The loop on epoll");
    WB_ADD(s, test_unwatch_among_many_ready, "The loop on epoll");
    return s;
}
