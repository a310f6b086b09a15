/*
 * Tests of loop (exercises/04-select/loop.h): an event loop on select().
 *
 * The tests watch pipes and socket pairs that they make ready themselves
 * before loop_run() starts, so what select() reports is known in
 * advance; two descriptors made ready before the run are reported by
 * the same select() call, which is how the tests put two callbacks in
 * one iteration. Times are read on CLOCK_MONOTONIC. "The loop does not
 * spin" is counted, not timed: the test defines select() itself,
 * counting the calls before it calls the C library's, so a loop that
 * goes round again and again shows as thousands of select() calls
 * however loaded the machine is; its CPU time (getrusage) is checked
 * too. clock_gettime() is defined by the test as well, so that a test
 * can set the date (CLOCK_REALTIME) forward and back while the loop's
 * timers run on CLOCK_MONOTONIC. tests/support/wrap.c (in loop.links)
 * wraps that clock_gettime() in turn, so a test can make it fail.
 *
 * Every callback records a span for the timeline that
 * `make check CHAPTER=4 EXERCISE=loop TRACE=1` draws (chapters/trace.h):
 * "read fd 5", "timer 2".
 *
 * Linux-only: getrusage() of the whole process, dup2() above the
 * descriptor limit; select() calls counted by tests/support/selects.c.
 *
 * Chapter 6 runs these same tests on its epoll back end:
 * tests/06-beyond/test_eloop.c includes eloop.h, defines
 * LOOP_BACKEND_EPOLL and the three names below, then includes this
 * file. The two tests of what only select() does ([fd-setsize],
 * [ebadf]) and this file's wb_suite() are then left out, and the
 * messages name the back end's wait.
 */
#define _GNU_SOURCE
#include "wb.h"
#ifndef LOOP_BACKEND_EPOLL
#include "loop.h"
#define LOOP_WAIT "select()" /* the back end's wait, in messages */
#define LOOP_WAIT_CALLS() wb_select_calls()
#define LOOP_WRITE_SET "select()'s write set"
#endif
#include "trace.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define MS 1000000LL /* nanoseconds */

/* printf() into one of 8 rotating buffers of the calling thread, for
 * parts of messages (wb_format()'s single buffer would be overwritten by
 * WB_EXPECT() while it reads them). */
static const char *fmt(const char *f, ...)
    __attribute__((format(printf, 1, 2)));

static const char *fmt(const char *f, ...)
{
    static _Thread_local char buf[8][256];
    static _Thread_local int next;
    char *out = buf[next++ % 8];
    va_list ap;
    va_start(ap, f);
    vsnprintf(out, sizeof buf[0], f, ap);
    va_end(ap);
    return out;
}

static loop *new_loop(void)
{
    loop *l = loop_new();
    WB_EXPECT(l != NULL, "loop_new() should return a loop; got NULL%s",
              wb_errno_note(-1));
    return l;
}

static void run_ok(loop *l)
{
    int rc = loop_run(l);
    WB_EXPECT(rc == 0, "loop_run() should return 0; got %d%s", rc,
              wb_errno_note(rc));
}

static void watch_ok(loop *l, int fd, int events, loop_io_cb cb, void *ctx)
{
    int rc = loop_watch(l, fd, events, cb, ctx);
    WB_EXPECT(rc == 0, "loop_watch(l, %d, %d, ...) should return 0; got %d%s",
              fd, events, rc, wb_errno_note(rc));
}

static long timer_ok(loop *l, long delay_ms, loop_timer_cb cb, void *ctx)
{
    long id = loop_add_timer(l, delay_ms, cb, ctx);
    WB_EXPECT(id > 0,
              "loop_add_timer(l, %ld, ...) should return an id > 0; got "
              "%ld%s",
              delay_ms, id, wb_errno_note(id));
    return id;
}

/* A pipe whose read end is readable: one byte waits in it. */
static void ready_pipe(int fds[2])
{
    wb_pipe(fds);
    ck_assert_int_eq(write(fds[1], "x", 1), 1);
}

static void close_pair(int fds[2])
{
    close(fds[0]);
    close(fds[1]);
}

static void make_socketpair(int sv[2])
{
    int rc = socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv);
    WB_EXPECT(rc == 0, "socketpair() failed%s", wb_errno_note(rc));
}

/* CPU time (user + system) of the whole process, in nanoseconds. */
static int64_t cpu_ns(void)
{
    struct rusage ru;
    ck_assert_int_eq(getrusage(RUSAGE_SELF, &ru), 0);
    return ((int64_t)ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000 * MS +
           ((int64_t)ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000;
}

/* Every select() is counted (tests/support/selects.c, in loop.links);
 * on epoll, every epoll_wait() (tests/06-beyond/test_eloop.c). */

/* clock_gettime() goes through this definition too, for the same
 * reason: a test can make CLOCK_REALTIME jump (someone sets the date)
 * while CLOCK_MONOTONIC goes on, and see which one the loop reads. It
 * asks the kernel directly, so it needs nothing set up first. */
static atomic_llong realtime_shift_ns;

int clock_gettime(clockid_t clock, struct timespec *ts)
{
    int rc = (int)syscall(SYS_clock_gettime, clock, ts);
    long long shift = atomic_load(&realtime_shift_ns);
    if (rc == 0 && clock == CLOCK_REALTIME && shift != 0) {
        long long ns =
            (long long)ts->tv_sec * 1000000000LL + ts->tv_nsec + shift;
        ts->tv_sec = (time_t)(ns / 1000000000LL);
        ts->tv_nsec = (long)(ns % 1000000000LL);
    }
    return rc;
}

/* What a stretch of loop_run() cost. */
struct effort {
    int64_t wall, cpu;
    long selects;
};

static struct effort effort_start(void)
{
    return (struct effort){wb_now_ns(), cpu_ns(), LOOP_WAIT_CALLS()};
}

static struct effort effort_since(struct effort e)
{
    return (struct effort){wb_now_ns() - e.wall, cpu_ns() - e.cpu,
                           LOOP_WAIT_CALLS() - e.selects};
}

/* Spinning: select() called again and again, or 10 ms of CPU time. */
static int spun(struct effort e)
{
    return e.selects >= 20 || e.cpu >= 10 * MS;
}

static void span(const char *what, long n, int64_t t0)
{
    char label[64];
    snprintf(label, sizeof label, "%s %ld", what, n);
    trace_span(label, t0, trace_now());
}

static const char *events_text(int events)
{
    switch (events) {
    case 0:
        return "0";
    case LOOP_READ:
        return "LOOP_READ";
    case LOOP_WRITE:
        return "LOOP_WRITE";
    case LOOP_READ | LOOP_WRITE:
        return "LOOP_READ|LOOP_WRITE";
    default:
        return "unknown bits";
    }
}

/* --- What a callback saw -------------------------------------------------- */

struct seen {
    int calls;
    int fd, events; /* of the first call */
    void *ctx;
    loop *l;
    int64_t at;        /* time of the first call */
    int unwatch_after; /* unwatch itself on this call; 0: never */
    int drain;         /* read one byte per call */
    int stop;          /* loop_stop() on each call */
};

static void on_seen(loop *l, int fd, int events, void *ctx)
{
    int64_t t0 = trace_now();
    struct seen *s = ctx;
    if (s->calls++ == 0) {
        s->fd = fd;
        s->events = events;
        s->ctx = ctx;
        s->l = l;
        s->at = t0;
    }
    if (s->drain) {
        char c;
        (void)read(fd, &c, 1);
    }
    if (s->unwatch_after != 0 && s->calls == s->unwatch_after)
        (void)loop_unwatch(l, fd);
    if (s->stop)
        loop_stop(l);
    span("read fd", fd, t0);
}

static void on_never(loop *l, int fd, int events, void *ctx)
{
    (void)l;
    (void)events;
    (void)fd;
    int *calls = ctx;
    (*calls)++;
}

/* --- Arguments and limits ------------------------------------------------- */

static void expect_fail(long rc, int want, const char *call)
{
    int err = errno;
    WB_EXPECT(rc == -1 && err == want, "%s should fail with %s; got %ld%s",
              call, wb_errname(want), rc,
              rc == -1 ? fmt(" (%s)", wb_errname(err)) : "");
}

static void on_timer_nop(loop *l, void *ctx)
{
    (void)l;
    (void)ctx;
}

START_TEST(test_bad_arguments)
{
    WB_PROMISE("bad-args");
    loop *l = new_loop();
    int p[2];
    wb_pipe(p);
    int calls = 0;
    expect_fail(loop_watch(NULL, p[0], LOOP_READ, on_never, &calls), EINVAL,
                "loop_watch(NULL, ...)");
    expect_fail(loop_watch(l, -1, LOOP_READ, on_never, &calls), EINVAL,
                "loop_watch(l, -1, ...)");
    expect_fail(loop_watch(l, p[0], 0, on_never, &calls), EINVAL,
                "loop_watch(l, fd, 0, ...) (no event)");
    expect_fail(loop_watch(l, p[0], 4, on_never, &calls), EINVAL,
                "loop_watch(l, fd, 4, ...) (an unknown event bit)");
    expect_fail(loop_watch(l, p[0], LOOP_READ | 8, on_never, &calls), EINVAL,
                "loop_watch(l, fd, LOOP_READ | 8, ...) (an unknown bit)");
    expect_fail(loop_watch(l, p[0], LOOP_READ, NULL, &calls), EINVAL,
                "loop_watch(l, fd, LOOP_READ, NULL, ctx)");
    expect_fail(loop_unwatch(l, p[0]), ENOENT,
                "loop_unwatch() of a descriptor that is not watched");
    expect_fail(loop_unwatch(l, -1), ENOENT, "loop_unwatch(l, -1)");
    expect_fail(loop_unwatch(l, FD_SETSIZE + 5), ENOENT,
                "loop_unwatch(l, FD_SETSIZE + 5)");
    expect_fail(loop_unwatch(NULL, p[0]), EINVAL, "loop_unwatch(NULL, fd)");
    expect_fail(loop_add_timer(NULL, 10, on_timer_nop, NULL), EINVAL,
                "loop_add_timer(NULL, ...)");
    expect_fail(loop_add_timer(l, 10, NULL, NULL), EINVAL,
                "loop_add_timer(l, 10, NULL, ctx)");
    expect_fail(loop_add_timer(l, -1, on_timer_nop, NULL), EINVAL,
                "loop_add_timer(l, -1, ...) (a negative delay)");
    expect_fail(loop_cancel_timer(l, 12345), ENOENT,
                "loop_cancel_timer() of an id never given");
    expect_fail(loop_cancel_timer(NULL, 1), EINVAL,
                "loop_cancel_timer(NULL, 1)");
    expect_fail(loop_run(NULL), EINVAL, "loop_run(NULL)");
    loop_stop(NULL);
    loop_free(NULL);

    /* The failed calls changed nothing: the loop is empty. */
    int64_t t0 = wb_now_ns();
    run_ok(l);
    WB_EXPECT(calls == 0, "no callback should have run; %d did", calls);
    WB_EXPECT(wb_now_ns() - t0 < 500 * MS,
              "loop_run() of a loop the failed calls left empty should "
              "return at once; it took %lld ms",
              (long long)((wb_now_ns() - t0) / MS));
    loop_free(l);
    close_pair(p);
}
END_TEST

struct nested {
    int rc, err, calls;
};

static void on_nested_run(loop *l, void *ctx)
{
    struct nested *n = ctx;
    n->calls++;
    n->rc = loop_run(l);
    n->err = errno;
}

START_TEST(test_run_from_callback_is_ebusy)
{
    WB_PROMISE("bad-args");
    loop *l = new_loop();
    struct nested n = {0, 0, 0};
    timer_ok(l, 0, on_nested_run, &n);
    run_ok(l);
    WB_EXPECT(n.calls == 1, "the timer should have run once; it ran %d times",
              n.calls);
    WB_EXPECT(n.rc == -1 && n.err == EBUSY,
              "loop_run() from a callback of the same loop should fail with "
              "EBUSY (the loop is already running); got %d (%s)",
              n.rc, n.rc == -1 ? wb_errname(n.err) : "no error");
    loop_free(l);
}
END_TEST

#ifndef LOOP_BACKEND_EPOLL /* what only select() does */
START_TEST(test_fd_setsize_refused)
{
    WB_PROMISE("fd-setsize");
    loop *l = new_loop();
    int calls = 0;
    const int big[] = {FD_SETSIZE, FD_SETSIZE + 1, FD_SETSIZE * 4, INT_MAX};
    for (size_t i = 0; i < sizeof big / sizeof big[0]; i++)
        expect_fail(loop_watch(l, big[i], LOOP_READ, on_never, &calls), EINVAL,
                    fmt("loop_watch(l, %d, ...) (FD_SETSIZE is %d: "
                        "FD_SET() of it would write past the fd_set)",
                        big[i], FD_SETSIZE));

    /* A real open descriptor above the limit, when the hard limit on
     * descriptors lets the test make one. */
    int p[2];
    ready_pipe(p);
    struct rlimit old;
    ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &old), 0);
    int high = FD_SETSIZE + 3;
    struct rlimit raised = old;
    if (raised.rlim_cur < (rlim_t)high + 1)
        raised.rlim_cur = (rlim_t)high + 1;
    if ((raised.rlim_max == RLIM_INFINITY ||
         raised.rlim_max > raised.rlim_cur) &&
        setrlimit(RLIMIT_NOFILE, &raised) == 0 && dup2(p[0], high) == high) {
        int rc = loop_watch(l, high, LOOP_READ, on_never, &calls);
        int err = errno;
        close(high);
        setrlimit(RLIMIT_NOFILE, &old);
        WB_EXPECT(rc == -1 && err == EINVAL,
                  "loop_watch() of open descriptor %d (>= FD_SETSIZE %d) "
                  "should fail with EINVAL; got %d%s",
                  high, FD_SETSIZE, rc,
                  rc == -1 ? fmt(" (%s)", wb_errname(err)) : "");
    }

    /* The refused watches changed nothing. */
    struct seen s = {.unwatch_after = 1};
    watch_ok(l, p[0], LOOP_READ, on_seen, &s);
    run_ok(l);
    WB_EXPECT(s.calls == 1 && calls == 0,
              "after the refused watches, only the pipe's callback should "
              "run, once; it ran %d times and a refused one %d times",
              s.calls, calls);
    loop_free(l);
    close_pair(p);
}
END_TEST
#endif

/* --- Descriptors ---------------------------------------------------------- */

START_TEST(test_read_callback)
{
    WB_PROMISE("watch");
    loop *l = new_loop();
    int p[2];
    ready_pipe(p);
    struct seen s = {.unwatch_after = 1, .drain = 1};
    watch_ok(l, p[0], LOOP_READ, on_seen, &s);
    WB_PROMISE("run-ends");
    run_ok(l);
    WB_PROMISE("watch");
    WB_EXPECT(s.calls == 1,
              "a readable pipe's callback should run once (it unwatches "
              "itself); it ran %d times",
              s.calls);
    WB_EXPECT(s.fd == p[0] && s.events == LOOP_READ && s.ctx == &s && s.l == l,
              "the callback should get (l, %d, LOOP_READ, ctx); got "
              "(%s, %d, %s, %s)",
              p[0], s.l == l ? "l" : "another loop", s.fd,
              events_text(s.events), s.ctx == &s ? "ctx" : "another ctx");
    loop_free(l);
    close_pair(p);
}
END_TEST

START_TEST(test_write_and_both_events)
{
    WB_PROMISE("watch");
    loop *l = new_loop();
    int sv[2];
    make_socketpair(sv);
    /* sv[0] has a byte to read and room to write; sv[1] only room. */
    ck_assert_int_eq(write(sv[1], "x", 1), 1);
    struct seen both = {.unwatch_after = 1};
    struct seen wr = {.unwatch_after = 1};
    watch_ok(l, sv[0], LOOP_READ | LOOP_WRITE, on_seen, &both);
    watch_ok(l, sv[1], LOOP_WRITE, on_seen, &wr);
    run_ok(l);
    WB_EXPECT(both.calls == 1 && both.events == (LOOP_READ | LOOP_WRITE),
              "a socket both readable and writable, watched for both, "
              "should get one callback with LOOP_READ|LOOP_WRITE; got %d "
              "calls, the first with %s",
              both.calls, events_text(both.events));
    WB_EXPECT(wr.calls == 1 && wr.events == LOOP_WRITE,
              "a writable socket watched for LOOP_WRITE should get one "
              "callback with LOOP_WRITE; got %d calls, the first with %s",
              wr.calls, events_text(wr.events));
    loop_free(l);
    close_pair(sv);
}
END_TEST

/* Watched for reading and writing; on the first call, asks for reading
 * only. */
static void on_write_once(loop *l, int fd, int events, void *ctx)
{
    int64_t t0 = trace_now();
    struct seen *s = ctx;
    if (s->calls++ == 0)
        s->events = events;
    (void)loop_watch(l, fd, LOOP_READ, on_write_once, ctx);
    span("write fd", fd, t0);
}

static void on_unwatch_timer(loop *l, void *ctx)
{
    int64_t t0 = trace_now();
    int *fd = ctx;
    (void)loop_unwatch(l, *fd);
    span("timer", 0, t0);
}

START_TEST(test_rewatch_replaces)
{
    WB_PROMISE("rewatch");
    loop *l = new_loop();
    int p[2];
    ready_pipe(p);
    int old_calls = 0;
    struct seen s = {.unwatch_after = 1};
    watch_ok(l, p[0], LOOP_READ, on_never, &old_calls);
    watch_ok(l, p[0], LOOP_READ, on_seen, &s);
    run_ok(l);
    WB_EXPECT(old_calls == 0,
              "after a second loop_watch() of the same descriptor, the "
              "first callback should not run; it ran %d times",
              old_calls);
    WB_EXPECT(s.calls == 1 && s.ctx == &s,
              "the callback of the second loop_watch() should run once "
              "with its own context; it ran %d times%s",
              s.calls, s.calls > 0 && s.ctx != &s ? ", with another ctx" : "");

    /* A socket with room to write but nothing to read, watched for both;
     * its callback then asks for reading only: no second call. */
    int sv[2];
    make_socketpair(sv);
    struct seen w = {0};
    watch_ok(l, sv[0], LOOP_READ | LOOP_WRITE, on_write_once, &w);
    timer_ok(l, 50, on_unwatch_timer, &sv[0]);
    run_ok(l);
    WB_EXPECT(w.calls == 1 && w.events == LOOP_WRITE,
              "a writable socket should get one LOOP_WRITE callback, then "
              "none once its callback re-watched it for LOOP_READ only; got "
              "%d calls, the first with %s",
              w.calls, events_text(w.events));
    loop_free(l);
    close_pair(p);
    close_pair(sv);
}
END_TEST

START_TEST(test_unwatch_stops_callbacks)
{
    WB_PROMISE("unwatch");
    loop *l = new_loop();
    int p[2], q[2];
    ready_pipe(p);
    ready_pipe(q);
    /* Never drained: readable in every iteration until unwatched. */
    struct seen s = {.unwatch_after = 3};
    int q_calls = 0;
    watch_ok(l, p[0], LOOP_READ, on_seen, &s);
    watch_ok(l, q[0], LOOP_READ, on_never, &q_calls);
    int rc = loop_unwatch(l, q[0]);
    WB_EXPECT(rc == 0,
              "loop_unwatch() of a watched descriptor should "
              "return 0; got %d%s",
              rc, wb_errno_note(rc));
    run_ok(l);
    WB_EXPECT(s.calls == 3,
              "a pipe that stays readable should get a callback in each "
              "iteration until it unwatches itself on the third; it got %d",
              s.calls);
    WB_EXPECT(q_calls == 0,
              "a descriptor unwatched before loop_run() got %d callbacks; "
              "expected none",
              q_calls);
    loop_free(l);
    close_pair(p);
    close_pair(q);
}
END_TEST

/* Two descriptors made ready before the run share one iteration. The one
 * whose callback runs first unwatches the other; depending on the test
 * it then closes it, puts another open pipe on its number with dup2(),
 * and watches that one. The other must get no callback in this
 * iteration. */
struct pairtest {
    int fd[2];
    int calls[2];
    int close_other, reuse, rewatch;
    int spare;     /* read end of a third, readable pipe */
    int new_calls; /* callbacks for the re-watched number */
    int first;     /* which of the two ran first, -1 none */
};

static void on_reused(loop *l, int fd, int events, void *ctx)
{
    int64_t t0 = trace_now();
    (void)events;
    struct pairtest *t = ctx;
    t->new_calls++;
    (void)loop_unwatch(l, fd);
    span("read fd (watched anew)", fd, t0);
}

static void on_pair(loop *l, int fd, int events, void *ctx)
{
    int64_t t0 = trace_now();
    (void)events;
    struct pairtest *t = ctx;
    int me = fd == t->fd[0] ? 0 : 1;
    t->calls[me]++;
    if (t->first < 0) {
        t->first = me;
        int other = t->fd[1 - me];
        (void)loop_unwatch(l, other);
        if (t->close_other) {
            close(other);
            if (t->reuse && dup2(t->spare, other) != other)
                t->reuse = -1;
            if (t->rewatch)
                (void)loop_watch(l, other, LOOP_READ, on_reused, t);
        }
    }
    (void)loop_unwatch(l, fd);
    loop_stop(l);
    span("read fd", fd, t0);
}

static void pair_test(int close_other, int reuse, int rewatch)
{
    loop *l = new_loop();
    int a[2], b[2], c[2];
    ready_pipe(a);
    ready_pipe(b);
    ready_pipe(c);
    struct pairtest t = {{a[0], b[0]}, {0, 0}, close_other, reuse,
                         rewatch,      c[0],   0,           -1};
    watch_ok(l, a[0], LOOP_READ, on_pair, &t);
    watch_ok(l, b[0], LOOP_READ, on_pair, &t);
    run_ok(l);
    WB_EXPECT(t.reuse != -1, "dup2() failed in the test");
    const char *how =
        !close_other ? "unwatched it"
        : !reuse     ? "unwatched and closed it"
        : !rewatch   ? "unwatched and closed it, then dup2()ed another "
                       "readable pipe onto its number"
                     : "unwatched and closed it, dup2()ed another readable "
                       "pipe onto its number and watched that";
    WB_EXPECT(t.first >= 0, "neither of two readable pipes got a callback");
    WB_EXPECT(t.calls[1 - t.first] == 0 && t.new_calls == 0,
              "two pipes were readable in the same iteration; the first "
              "callback %s. Expected no callback for that descriptor later "
              "in the iteration; got %d for the old watch and %d for the "
              "new one",
              how, t.calls[1 - t.first], t.new_calls);
    if (rewatch) {
        /* The new watch is served from the next iteration on. */
        run_ok(l);
        WB_EXPECT(t.new_calls == 1,
                  "the descriptor watched again during the first run "
                  "should get its callback in the next run; got %d calls",
                  t.new_calls);
    }
    loop_free(l);
    /* The descriptor the callback closed is open again when it was
     * reused, closed otherwise (close() then fails harmlessly). */
    close_pair(a);
    close_pair(b);
    close_pair(c);
}

START_TEST(test_unwatched_in_same_iteration)
{
    WB_PROMISE("same-iteration");
    pair_test(0, 0, 0);
}
END_TEST

START_TEST(test_closed_and_reused_in_same_iteration)
{
    WB_PROMISE("same-iteration");
    pair_test(1, 1, 0);
}
END_TEST

START_TEST(test_rewatched_in_same_iteration)
{
    WB_PROMISE("same-iteration");
    pair_test(1, 1, 1);
}
END_TEST

/* Reads its byte, unwatches and closes its own descriptor; the first one
 * to run also watches a new pipe. */
struct closer {
    int calls[3];
    int fds[3];
    int extra[2]; /* the pipe watched from a callback */
    int extra_calls;
    int watch_rc;
};

static void on_extra(loop *l, int fd, int events, void *ctx)
{
    int64_t t0 = trace_now();
    (void)events;
    struct closer *c = ctx;
    c->extra_calls++;
    (void)loop_unwatch(l, fd);
    span("read fd (watched by a callback)", fd, t0);
}

static void on_close_own(loop *l, int fd, int events, void *ctx)
{
    int64_t t0 = trace_now();
    (void)events;
    struct closer *c = ctx;
    for (int i = 0; i < 3; i++)
        if (c->fds[i] == fd)
            c->calls[i]++;
    char ch;
    (void)read(fd, &ch, 1);
    (void)loop_unwatch(l, fd);
    close(fd);
    if (c->extra[0] < 0) {
        ready_pipe(c->extra);
        c->watch_rc = loop_watch(l, c->extra[0], LOOP_READ, on_extra, c);
    }
    span("read fd", fd, t0);
}

START_TEST(test_callback_closes_and_watches)
{
    WB_PROMISE("callback-closes");
    loop *l = new_loop();
    int p[3][2];
    struct closer c = {{0, 0, 0}, {0, 0, 0}, {-1, -1}, 0, 0};
    for (int i = 0; i < 3; i++) {
        ready_pipe(p[i]);
        c.fds[i] = p[i][0];
        watch_ok(l, p[i][0], LOOP_READ, on_close_own, &c);
    }
    run_ok(l);
    WB_EXPECT(c.calls[0] == 1 && c.calls[1] == 1 && c.calls[2] == 1,
              "three readable pipes whose callbacks unwatch and close their "
              "own descriptor should each get one callback; they got %d, "
              "%d and %d",
              c.calls[0], c.calls[1], c.calls[2]);
    WB_EXPECT(c.watch_rc == 0 && c.extra_calls == 1,
              "a pipe watched from a callback should get its own callback "
              "in a later iteration; loop_watch() returned %d and the "
              "callback ran %d times",
              c.watch_rc, c.extra_calls);
    loop_free(l);
    for (int i = 0; i < 3; i++)
        close(p[i][1]);
    if (c.extra[0] >= 0)
        close_pair(c.extra);
}
END_TEST

/* --- Descriptor 0 ----------------------------------------------------------
 */

/* Descriptor 0 is watched like any other: the range starts at 0. The
 * test puts a readable pipe on it (and gives the test's own descriptor 0
 * back after). */
START_TEST(test_descriptor_zero)
{
    WB_PROMISE("watch");
    loop *l = new_loop();
    int p[2];
    ready_pipe(p);
    int saved = dup(0); /* -1 when descriptor 0 was closed */
    ck_assert_int_eq(dup2(p[0], 0), 0);
    struct seen s = {.stop = 1};
    int rc = loop_watch(l, 0, LOOP_READ, on_seen, &s);
    int err = errno;
    int run_rc = rc == 0 ? loop_run(l) : 0;
    int unwatch_rc = -2, unwatch_err = 0, big_rc = -2, big_err = 0;
    if (rc == 0) {
        /* What select() reported for descriptor 0 is still in the loop
         * (loop_stop() kept it watched): a number past the table must
         * not find it there. */
        errno = 0;
        big_rc = loop_unwatch(l, FD_SETSIZE);
        big_err = errno;
        errno = 0;
        unwatch_rc = loop_unwatch(l, 0);
        unwatch_err = errno;
    }
    if (saved >= 0) {
        dup2(saved, 0);
        close(saved);
    } else {
        close(0);
    }
    WB_EXPECT(rc == 0,
              "loop_watch(l, 0, LOOP_READ, ...) should return 0: descriptor "
              "0 is a descriptor like any other; got %d (%s)",
              rc, wb_errname(err));
    WB_EXPECT(run_rc == 0 && s.calls == 1 && s.fd == 0 && s.events == LOOP_READ,
              "a readable pipe on descriptor 0 should get one callback "
              "(which calls loop_stop()) with fd 0 and LOOP_READ; loop_run() "
              "returned %d, the callback ran %d times, the first with fd %d "
              "and %s",
              run_rc, s.calls, s.fd, events_text(s.events));
    WB_PROMISE("bad-args");
    WB_EXPECT(big_rc == -1 && big_err == ENOENT,
              "loop_unwatch(l, FD_SETSIZE), a descriptor never watched, "
              "should fail with ENOENT; got %d (%s)",
              big_rc, wb_errname(big_err));
    WB_PROMISE("unwatch");
    WB_EXPECT(unwatch_rc == 0,
              "loop_unwatch(l, 0) of the watched descriptor 0 should return "
              "0; got %d (%s)",
              unwatch_rc, wb_errname(unwatch_err));
    run_ok(l);
    WB_EXPECT(s.calls == 1,
              "descriptor 0 got a callback after loop_unwatch(); %d in all",
              s.calls);
    loop_free(l);
    close_pair(p);
}
END_TEST

/* --- Signals and errors --------------------------------------------------- */

static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
    (void)sig;
    alarms++;
}

struct timed {
    int calls;
    int64_t at;
    int fd_to_unwatch;
};

static void on_timed(loop *l, void *ctx)
{
    int64_t t0 = trace_now();
    struct timed *t = ctx;
    if (t->calls++ == 0)
        t->at = t0;
    if (t->fd_to_unwatch >= 0)
        (void)loop_unwatch(l, t->fd_to_unwatch);
    span("timer", t->calls, t0);
}

START_TEST(test_eintr_is_not_an_error)
{
    WB_PROMISE("eintr");
    loop *l = new_loop();
    int p[2];
    wb_pipe(p); /* never readable */
    int calls = 0;
    watch_ok(l, p[0], LOOP_READ, on_never, &calls);
    struct timed t = {0, 0, p[0]};
    int64_t start = wb_now_ns();
    timer_ok(l, 150, on_timed, &t);

    /* A handler without SA_RESTART: the signal interrupts select(). */
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigemptyset(&sa.sa_mask);
    ck_assert_int_eq(sigaction(SIGALRM, &sa, &old), 0);
    struct itimerval it = {{0, 0}, {0, 30000}}; /* once, in 30 ms */
    ck_assert_int_eq(setitimer(ITIMER_REAL, &it, NULL), 0);

    int rc = loop_run(l);
    int err = errno;
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
    sigaction(SIGALRM, &old, NULL);

    WB_EXPECT(alarms >= 1, "the test's signal was never delivered");
    WB_EXPECT(calls == 0,
              "a signal interrupted " LOOP_WAIT " (EINTR) while the loop "
              "waited on an empty pipe: the pipe's callback should not be "
              "called (a failed " LOOP_WAIT " reports nothing ready); it was "
              "called %d times",
              calls);
    WB_EXPECT(rc == 0,
              "a signal interrupted " LOOP_WAIT " (EINTR) while the loop "
              "waited for a timer: loop_run() should wait again and return 0 "
              "after the timer; it returned %d (%s) after %lld ms",
              rc, rc == -1 ? wb_errname(err) : "no error",
              (long long)((wb_now_ns() - start) / MS));
    WB_EXPECT(t.calls == 1 && t.at - start >= 150 * MS,
              "the 150 ms timer should run once, 150 ms or more after it "
              "was added, despite the signal; it ran %d times, after %lld "
              "ms",
              t.calls, (long long)((t.at - start) / MS));
    loop_free(l);
    close_pair(p);
}
END_TEST

#ifndef LOOP_BACKEND_EPOLL /* what only select() does */
START_TEST(test_closed_watched_fd_is_ebadf)
{
    WB_PROMISE("ebadf");
    loop *l = new_loop();
    int p[2];
    wb_pipe(p);
    int calls = 0;
    watch_ok(l, p[0], LOOP_READ, on_never, &calls);
    close(p[0]); /* the bug: closed while watched */
    int rc = loop_run(l);
    int err = errno;
    WB_EXPECT(rc == -1 && err == EBADF,
              "a watched descriptor closed without loop_unwatch(): "
              "select() fails with EBADF, and loop_run() should return -1 "
              "with EBADF; got %d%s",
              rc, rc == -1 ? fmt(" (%s)", wb_errname(err)) : "");
    rc = loop_unwatch(l, p[0]);
    WB_EXPECT(rc == 0,
              "loop_unwatch() of the closed descriptor should "
              "still return 0; got %d%s",
              rc, wb_errno_note(rc));
    run_ok(l);
    loop_free(l);
    close(p[1]);
}
END_TEST
#endif

/* --- Timers --------------------------------------------------------------- */

struct order {
    int ran[16];
    int64_t at[16];
    int n;
    long cancelled_id;
    int cancel_self_rc, cancel_self_err;
};

struct step {
    struct order *o;
    int label;
};

static void on_step(loop *l, void *ctx)
{
    int64_t t0 = trace_now();
    (void)l;
    struct step *s = ctx;
    if (s->o->n < 16) {
        s->o->ran[s->o->n] = s->label;
        s->o->at[s->o->n] = t0;
        s->o->n++;
    }
    span("timer", s->label, t0);
}

START_TEST(test_timers_run_in_deadline_order)
{
    WB_PROMISE("timers");
    loop *l = new_loop();
    struct order o = {0};
    const int delays[] = {40, 10, 30, 0, 20};
    struct step steps[6];
    long ids[6];
    /* When each loop_add_timer() began and ended: a timer's deadline lies
     * between begin + delay and end + delay, however slow the machine. */
    int64_t began[5], ended[5];
    int64_t start = wb_now_ns();
    for (int i = 0; i < 5; i++) {
        steps[i] = (struct step){&o, delays[i]};
        began[i] = wb_now_ns();
        ids[i] = timer_ok(l, delays[i], on_step, &steps[i]);
        ended[i] = wb_now_ns();
    }
    steps[5] = (struct step){&o, 25};
    ids[5] = timer_ok(l, 25, on_step, &steps[5]);
    for (int i = 0; i < 6; i++)
        for (int k = 0; k < i; k++)
            WB_EXPECT(ids[i] != ids[k], "two timers got the same id %ld",
                      ids[i]);
    WB_PROMISE("cancel");
    int rc = loop_cancel_timer(l, ids[5]);
    WB_EXPECT(rc == 0,
              "loop_cancel_timer() of a pending timer should "
              "return 0; got %d%s",
              rc, wb_errno_note(rc));
    expect_fail(loop_cancel_timer(l, ids[5]), ENOENT,
                "a second loop_cancel_timer() of the same timer");
    run_ok(l);
    WB_PROMISE("timers");
    const int want[] = {0, 10, 20, 30, 40};
    char got[128] = "";
    for (int i = 0; i < o.n; i++)
        snprintf(got + strlen(got), sizeof got - strlen(got), "%s%d",
                 i ? ", " : "", o.ran[i]);
    int same = o.n == 5;
    for (int i = 0; same && i < 5; i++)
        same = o.ran[i] == want[i];
    /* On a machine slow enough to take 10 ms per call (a loaded one,
     * Valgrind), nearly equal deadlines may truly come in another order:
     * wrong only when a timer ran before one that was surely due
     * earlier. */
    if (!same && o.n == 5) {
        same = 1;
        for (int a = 0; a < 5; a++) {
            for (int b = a + 1; b < 5; b++) {
                int x = 0, y = 0;
                while (x < 4 && delays[x] != o.ran[a])
                    x++;
                while (y < 4 && delays[y] != o.ran[b])
                    y++;
                if (delays[x] != o.ran[a] || delays[y] != o.ran[b] ||
                    ended[y] + (int64_t)delays[y] * MS <
                        began[x] + (int64_t)delays[x] * MS)
                    same = 0;
            }
        }
    }
    WB_EXPECT(same,
              "timers added with delays 40, 10, 30, 0, 20 (and 25, "
              "cancelled) should run in the order 0, 10, 20, 30, 40; they "
              "ran: %s",
              got);
    for (int i = 0; i < o.n; i++)
        WB_EXPECT(o.at[i] - start >= (int64_t)o.ran[i] * MS,
                  "the %d ms timer ran after %.1f ms: a timer never runs "
                  "before its delay",
                  o.ran[i], (double)(o.at[i] - start) / MS);
    WB_PROMISE("cancel");
    expect_fail(loop_cancel_timer(l, ids[1]), ENOENT,
                "loop_cancel_timer() of a timer that already ran");
    loop_free(l);
}
END_TEST

/* Many timers at once, and ids that come and go. */
enum { MANY = 300 };

struct many {
    int ran[MANY];
    int order[MANY];
    int n;
};

struct many_step {
    struct many *m;
    int i;
};

static void on_many(loop *l, void *ctx)
{
    (void)l;
    struct many_step *s = ctx;
    s->m->ran[s->i]++;
    if (s->m->n < MANY)
        s->m->order[s->m->n++] = s->i;
}

/* Which of the timers 0 to n - 1 ran, and in what order, against the
 * ones expected (keep(i) true): each once, in the order they were added
 * (their deadlines do not decrease: each was added with a delay of 0
 * after the one before). */
static void expect_ran(const struct many *m, int n, int (*keep)(int),
                       const char *what)
{
    int wrong = -1;
    for (int i = 0; i < n && wrong < 0; i++)
        if (m->ran[i] != (keep(i) ? 1 : 0))
            wrong = i;
    WB_EXPECT(wrong < 0, "%s: timer %d (added %d-th) ran %d times; expected %s",
              what, wrong, wrong + 1, wrong >= 0 ? m->ran[wrong] : 0,
              wrong >= 0 && keep(wrong) ? "once" : "never (it was cancelled)");
    for (int k = 1; k < m->n; k++)
        WB_EXPECT(m->order[k - 1] < m->order[k],
                  "%s: timer %d ran before timer %d, which was added "
                  "earlier with the same delay of 0",
                  what, m->order[k - 1], m->order[k]);
}

static int third(int i)
{
    return i % 3 == 0;
}

static int one_in_32(int i)
{
    return i % 32 == 0;
}

START_TEST(test_many_timers_cancelled)
{
    WB_PROMISE("cancel");
    /* 300 timers pending at once; two in three cancelled, in a scrambled
     * order (7 k modulo 300 visits every number once). */
    loop *l = new_loop();
    static struct many m;
    static struct many_step steps[MANY];
    static long ids[MANY];
    memset(&m, 0, sizeof m);
    for (int i = 0; i < MANY; i++) {
        steps[i] = (struct many_step){&m, i};
        ids[i] = timer_ok(l, 0, on_many, &steps[i]);
    }
    for (int k = 0; k < MANY; k++) {
        int i = k * 7 % MANY;
        if (third(i))
            continue;
        int rc = loop_cancel_timer(l, ids[i]);
        WB_EXPECT(rc == 0,
                  "with %d timers pending, loop_cancel_timer() of the %d-th "
                  "one added should return 0; got %d%s",
                  MANY - k, i + 1, rc, wb_errno_note(rc));
        expect_fail(loop_cancel_timer(l, ids[i]), ENOENT,
                    fmt("a second loop_cancel_timer() of the %d-th timer "
                        "(one of %d)",
                        i + 1, MANY));
    }
    run_ok(l);
    expect_ran(&m, MANY, third,
               fmt("%d timers of 0 ms, two in three cancelled", MANY));
    for (int i = 0; i < MANY; i += 3)
        expect_fail(
            loop_cancel_timer(l, ids[i]), ENOENT,
            fmt("loop_cancel_timer() of the %d-th timer, which ran", i + 1));
    loop_free(l);

    /* On a new loop, timers added and cancelled at once, one after the other,
     * while one in 32 stays pending: few pending, many ids given. Then every
     * other one that stayed is cancelled. */
    l = new_loop();
    memset(&m, 0, sizeof m);
    for (int i = 0; i < MANY; i++) {
        ids[i] = timer_ok(l, 0, on_many, &steps[i]);
        if (!one_in_32(i)) {
            int rc = loop_cancel_timer(l, ids[i]);
            WB_EXPECT(rc == 0,
                      "loop_cancel_timer() of a timer just added should "
                      "return 0; got %d%s",
                      rc, wb_errno_note(rc));
        }
    }
    for (int i = 32; i < MANY; i += 64) {
        int rc = loop_cancel_timer(l, ids[i]);
        WB_EXPECT(rc == 0,
                  "loop_cancel_timer() of the %d-th timer, pending among %d "
                  "added, should return 0; got %d%s",
                  i + 1, MANY, rc, wb_errno_note(rc));
    }
    run_ok(l);
    int want = 0;
    for (int i = 0; i < MANY; i += 64)
        want++;
    WB_EXPECT(m.n == want,
              "of %d timers added one after the other, all cancelled but "
              "one in 64, %d should have run; %d did",
              MANY, want, m.n);
    for (int k = 0; k < m.n; k++)
        WB_EXPECT(m.order[k] % 64 == 0, "timer %d ran, but it was cancelled",
                  m.order[k]);
    for (int k = 1; k < m.n; k++)
        WB_EXPECT(m.order[k - 1] < m.order[k],
                  "timer %d ran before timer %d, which was added earlier "
                  "with the same delay of 0",
                  m.order[k - 1], m.order[k]);

    /* The same again, with timers that are never due, left pending, and
     * 8 more: loop_free() frees them all (the fixture counts the loop's
     * memory). */
    for (int i = 0; i < MANY; i++) {
        ids[i] = timer_ok(l, 1000000, on_many, &steps[i]);
        if (!one_in_32(i))
            (void)loop_cancel_timer(l, ids[i]);
    }
    for (int i = 0; i < 8; i++)
        timer_ok(l, 1000000, on_many, &steps[i]);
    loop_free(l);
    WB_EXPECT(m.n == want, "loop_free() ran %d timers", m.n - want);
}
END_TEST

/* A timer years away is due when the clock has gone that far: the test
 * moves the clock the loop reads (the wrap's clock_gettime(), for every
 * clock) forward by all but 150 ms of its delay, then adds timers of 50
 * and 250 ms. The long one must come between them: its deadline is its
 * delay after loop_add_timer(), to the millisecond, however long the
 * delay. */
START_TEST(test_timer_years_away)
{
    WB_PROMISE("timers");
    loop *l = new_loop();
    struct order o = {0};
    struct step early = {&o, 50}, years = {&o, 150}, late = {&o, 250};
    const long delay_ms = 400000000000L; /* 4e11 ms: about 12.7 years */
    const int64_t shift = (int64_t)delay_ms * MS - 150 * MS;
    int64_t years_added = wb_now_ns();
    timer_ok(l, delay_ms, on_step, &years);
    wb_wrap_clock_shift(shift);
    timer_ok(l, 50, on_step, &early);
    int64_t early_added = wb_now_ns() - shift;
    timer_ok(l, 250, on_step, &late);
    int rc = loop_run(l);
    wb_wrap_clock_shift(0);
    WB_EXPECT(rc == 0, "loop_run() should return 0; got %d%s", rc,
              wb_errno_note(rc));
    /* The long timer is due 150 ms after it was added, the 50 ms one 50
     * ms after the shift: a test held up 100 ms between the two (a
     * loaded machine) may truly see them the other way round. */
    int slow = early_added - years_added >= 100 * MS;
    int right = o.n == 3 && o.ran[2] == 250 &&
                ((o.ran[0] == 50 && o.ran[1] == 150) ||
                 (slow && o.ran[0] == 150 && o.ran[1] == 50));
    WB_EXPECT(right,
              "a timer %ld ms away was added, then the clock moved forward "
              "by all but 150 ms of that: it should run 150 ms later, "
              "between timers of 50 and 250 ms added then. Got %d runs: "
              "%d, %d, %d (150 stands for the long timer; its deadline "
              "should be exactly its delay, counted in nanoseconds, after "
              "loop_add_timer())",
              delay_ms, o.n, o.n > 0 ? o.ran[0] : 0, o.n > 1 ? o.ran[1] : 0,
              o.n > 2 ? o.ran[2] : 0);
    loop_free(l);
}
END_TEST

/* --- Timers and descriptors together -------------------------------------- */

struct busy {
    int calls;
    int64_t start;
    int starved;
    int timer_ran;
    int fd;
};

/* The pipe is never drained: it is ready in every iteration. Gives up
 * after 500 ms so that a loop that starves its timers still ends. */
static void on_busy(loop *l, int fd, int events, void *ctx)
{
    (void)events;
    struct busy *b = ctx;
    b->calls++;
    if (wb_now_ns() - b->start > 500 * MS) {
        b->starved = 1;
        (void)loop_unwatch(l, fd);
    }
}

static void on_busy_timer(loop *l, void *ctx)
{
    int64_t t0 = trace_now();
    struct busy *b = ctx;
    b->timer_ran = 1;
    (void)loop_unwatch(l, b->fd);
    span("timer", 1, t0);
}

START_TEST(test_timer_runs_while_fd_always_ready)
{
    WB_PROMISE("timers-and-io");
    loop *l = new_loop();
    int p[2];
    ready_pipe(p);
    struct busy b = {0, wb_now_ns(), 0, 0, p[0]};
    watch_ok(l, p[0], LOOP_READ, on_busy, &b);
    timer_ok(l, 20, on_busy_timer, &b);
    run_ok(l);
    WB_EXPECT(b.timer_ran && !b.starved,
              "a 20 ms timer should run while a pipe is readable in every "
              "iteration; after 500 ms and %d callbacks for the pipe, the "
              "timer had not run. Run due timers after every " LOOP_WAIT
              ", not only when it times out",
              b.calls);
    loop_free(l);
    close_pair(p);
}
END_TEST

struct relay {
    int pipe[2];
    int64_t start, timer_at, io_at;
    int io_calls;
};

static void on_relay_timer(loop *l, void *ctx)
{
    int64_t t0 = trace_now();
    (void)l;
    struct relay *r = ctx;
    r->timer_at = t0;
    ck_assert_int_eq(write(r->pipe[1], "x", 1), 1);
    span("timer", 1, t0);
}

static void on_relay_io(loop *l, int fd, int events, void *ctx)
{
    int64_t t0 = trace_now();
    (void)events;
    struct relay *r = ctx;
    if (r->io_calls++ == 0)
        r->io_at = t0;
    (void)loop_unwatch(l, fd);
    span("read fd", fd, t0);
}

START_TEST(test_timer_and_io_both_dispatched)
{
    WB_PROMISE("timers-and-io");
    loop *l = new_loop();
    /* A pipe readable now must not wait for a timer 300 ms away. */
    int p[2];
    ready_pipe(p);
    struct seen s = {.unwatch_after = 1};
    struct timed late = {0, 0, -1};
    int64_t start = wb_now_ns();
    watch_ok(l, p[0], LOOP_READ, on_seen, &s);
    timer_ok(l, 300, on_timed, &late);
    /* A timer that makes a watched pipe readable. */
    struct relay r = {{-1, -1}, start, 0, 0, 0};
    wb_pipe(r.pipe);
    watch_ok(l, r.pipe[0], LOOP_READ, on_relay_io, &r);
    timer_ok(l, 20, on_relay_timer, &r);
    run_ok(l);
    WB_EXPECT(s.calls == 1 && s.at - start < 200 * MS,
              "a pipe readable from the start should get its callback at "
              "once, not after the 300 ms timer; it ran %d times, first "
              "after %lld ms",
              s.calls, (long long)((s.at - start) / MS));
    WB_EXPECT(r.timer_at != 0 && r.io_calls == 1 && r.io_at >= r.timer_at,
              "a 20 ms timer writes to a watched pipe: the timer should "
              "run, then the pipe's callback; timer %s, pipe callback ran "
              "%d times",
              r.timer_at != 0 ? "ran" : "never ran", r.io_calls);
    WB_EXPECT(late.calls == 1,
              "the 300 ms timer should run once; it ran %d "
              "times",
              late.calls);
    loop_free(l);
    close_pair(p);
    close_pair(r.pipe);
}
END_TEST

/* Timer A, from its callback: cancels C, adds B (delay 0) and watches a
 * readable pipe; tries to cancel itself. */
struct chain {
    struct order o;
    struct step b, c;
    long a_id, c_id;
    int cancel_c_rc;
    int pipe[2];
    struct seen pipe_seen;
    int repeats;
};

static void on_chain_a(loop *l, void *ctx)
{
    int64_t t0 = trace_now();
    struct chain *ch = ctx;
    ch->o.ran[ch->o.n] = 1;
    ch->o.at[ch->o.n++] = t0;
    errno = 0;
    ch->o.cancel_self_rc = loop_cancel_timer(l, ch->a_id);
    ch->o.cancel_self_err = errno;
    ch->cancel_c_rc = loop_cancel_timer(l, ch->c_id);
    (void)loop_add_timer(l, 0, on_step, &ch->b);
    ready_pipe(ch->pipe);
    (void)loop_watch(l, ch->pipe[0], LOOP_READ, on_seen, &ch->pipe_seen);
    span("timer", 1, t0);
}

static void on_repeat(loop *l, void *ctx)
{
    int64_t t0 = trace_now();
    struct chain *ch = ctx;
    if (++ch->repeats < 5)
        (void)loop_add_timer(l, 2, on_repeat, ctx);
    span("timer (repeating)", ch->repeats, t0);
}

START_TEST(test_timer_callbacks_change_the_loop)
{
    WB_PROMISE("timer-callbacks");
    loop *l = new_loop();
    struct chain ch;
    memset(&ch, 0, sizeof ch);
    ch.pipe[0] = ch.pipe[1] = -1;
    ch.b = (struct step){&ch.o, 2};
    ch.c = (struct step){&ch.o, 3};
    ch.pipe_seen.unwatch_after = 1;
    ch.a_id = timer_ok(l, 10, on_chain_a, &ch);
    ch.c_id = timer_ok(l, 60, on_step, &ch.c);
    timer_ok(l, 1, on_repeat, &ch);
    run_ok(l);
    WB_EXPECT(ch.o.n == 2 && ch.o.ran[0] == 1 && ch.o.ran[1] == 2,
              "timer A should run, then timer B that A added; C, which A "
              "cancelled, never. Got %d runs (%d, %d)",
              ch.o.n, ch.o.n > 0 ? ch.o.ran[0] : 0,
              ch.o.n > 1 ? ch.o.ran[1] : 0);
    WB_EXPECT(ch.cancel_c_rc == 0,
              "loop_cancel_timer() of a pending timer, from a timer "
              "callback, should return 0; got %d",
              ch.cancel_c_rc);
    WB_EXPECT(ch.o.cancel_self_rc == -1 && ch.o.cancel_self_err == ENOENT,
              "a timer cancelling itself from its callback should get "
              "ENOENT (it is no longer pending); got %d (%s)",
              ch.o.cancel_self_rc, wb_errname(ch.o.cancel_self_err));
    WB_EXPECT(ch.pipe_seen.calls == 1,
              "a pipe watched from a timer callback should get a callback; "
              "it got %d",
              ch.pipe_seen.calls);
    WB_EXPECT(ch.repeats == 5,
              "a timer that adds itself again 4 times should run 5 times; "
              "it ran %d times",
              ch.repeats);
    loop_free(l);
    if (ch.pipe[0] >= 0)
        close_pair(ch.pipe);
}
END_TEST

/* The date jumps (CLOCK_REALTIME) after a timer was added: the timer
 * neither runs early nor waits for the date to catch up. */
START_TEST(test_timers_ignore_date_changes)
{
    WB_PROMISE("timers");
    struct {
        long long shift_ns;
        const char *how;
    } jumps[] = {{10000 * MS, "forward by 10 s"}, {-1000 * MS, "back by 1 s"}};
    for (int i = 0; i < 2; i++) {
        loop *l = new_loop();
        struct timed t = {0, 0, -1};
        int64_t start = wb_now_ns();
        timer_ok(l, 60, on_timed, &t);
        atomic_store(&realtime_shift_ns, jumps[i].shift_ns);
        run_ok(l);
        atomic_store(&realtime_shift_ns, 0);
        int64_t took = t.at - start;
        WB_EXPECT(t.calls == 1 && took >= 60 * MS && took < 600 * MS,
                  "the date (CLOCK_REALTIME) was set %s just after a 60 ms "
                  "timer was added: it should still run once, 60 ms later "
                  "on CLOCK_MONOTONIC; it ran %d times, %lld ms after it "
                  "was added",
                  jumps[i].how, t.calls, (long long)(took / MS));
        loop_free(l);
    }
}
END_TEST

/* A timer added with a delay of 0 by a callback (of a descriptor, or of
 * a timer) runs in a later iteration: the iteration's "now" is read once,
 * right after select() returns. A pipe that stays readable counts the
 * iterations. */
struct zero_add {
    int io_calls;
    int fd;
    int t_at, b_at; /* io_calls when timer T (added by the descriptor's
                       callback) and B (added by timer A) ran */
};

static void on_zero_t(loop *l, void *ctx)
{
    (void)l;
    struct zero_add *z = ctx;
    z->t_at = z->io_calls;
}

static void on_zero_b(loop *l, void *ctx)
{
    (void)l;
    struct zero_add *z = ctx;
    z->b_at = z->io_calls;
}

static void on_zero_a(loop *l, void *ctx)
{
    (void)loop_add_timer(l, 0, on_zero_b, ctx);
}

static void on_zero_io(loop *l, int fd, int events, void *ctx)
{
    (void)events;
    struct zero_add *z = ctx;
    if (++z->io_calls == 1)
        (void)loop_add_timer(l, 0, on_zero_t, z);
    if (z->io_calls == 4)
        (void)loop_unwatch(l, fd);
}

START_TEST(test_zero_timer_from_callback_waits)
{
    WB_PROMISE("timer-callbacks");
    loop *l = new_loop();
    int p[2];
    ready_pipe(p);
    struct zero_add z = {0, p[0], -1, -1};
    watch_ok(l, p[0], LOOP_READ, on_zero_io, &z);
    timer_ok(l, 0, on_zero_a, &z);
    run_ok(l);
    WB_EXPECT(z.t_at == 2,
              "a pipe's callback added a 0 ms timer in iteration 1: it "
              "should run in iteration 2 (after the pipe's second "
              "callback), because the loop reads the clock once, right "
              "after " LOOP_WAIT " returns; it ran after callback %d%s",
              z.t_at,
              z.t_at == 1 ? " (the same iteration: was the clock read "
                            "again after the descriptors' callbacks?)"
                          : "");
    WB_EXPECT(z.b_at == 2,
              "a timer's callback added a 0 ms timer in iteration 1: it "
              "should run in iteration 2, after the pipe's second "
              "callback; it ran after callback %d",
              z.b_at);
    loop_free(l);
    close_pair(p);
}
END_TEST

/* --- When loop_run() returns ---------------------------------------------- */

START_TEST(test_run_ends_when_nothing_is_left)
{
    WB_PROMISE("run-ends");
    loop *l = new_loop();
    int64_t t0 = wb_now_ns();
    run_ok(l);
    WB_EXPECT(wb_now_ns() - t0 < 200 * MS,
              "loop_run() of an empty loop should return at once; it took "
              "%lld ms",
              (long long)((wb_now_ns() - t0) / MS));

    /* Only a timer: loop_run() waits for it. */
    struct timed t = {0, 0, -1};
    t0 = wb_now_ns();
    timer_ok(l, 100, on_timed, &t);
    run_ok(l);
    WB_EXPECT(t.calls == 1,
              "with a 100 ms timer pending and nothing watched, loop_run() "
              "should return only after the timer ran; it returned after "
              "%lld ms and the timer ran %d times",
              (long long)((wb_now_ns() - t0) / MS), t.calls);

    /* A watched pipe that stays quiet, unwatched by a 30 ms timer. */
    int p[2];
    wb_pipe(p);
    int calls = 0;
    struct timed u = {0, 0, p[0]};
    watch_ok(l, p[0], LOOP_READ, on_never, &calls);
    /* Read the clock before the timer is added: the timer's 30 ms start
     * there, and a test descheduled between the two would see less. */
    t0 = wb_now_ns();
    timer_ok(l, 30, on_timed, &u);
    run_ok(l);
    WB_EXPECT(u.calls == 1 && wb_now_ns() - t0 >= 30 * MS,
              "with a pipe watched, loop_run() should return only after the "
              "30 ms timer unwatched it; it returned after %lld ms and the "
              "timer ran %d times",
              (long long)((wb_now_ns() - t0) / MS), u.calls);
    loop_free(l);
    close_pair(p);
}
END_TEST

START_TEST(test_stop_from_callback)
{
    WB_PROMISE("stop");
    loop *l = new_loop();
    int p[2];
    ready_pipe(p);
    /* Readable in every iteration, a timer far away: without loop_stop()
     * loop_run() would not return. */
    struct seen s = {.stop = 1};
    watch_ok(l, p[0], LOOP_READ, on_seen, &s);
    struct timed far = {0, 0, -1};
    long far_id = timer_ok(l, 5000, on_timed, &far);
    run_ok(l);
    WB_EXPECT(s.calls == 1,
              "a callback called loop_stop(): loop_run() should return at "
              "the end of that iteration, after 1 callback; got %d",
              s.calls);
    run_ok(l);
    WB_EXPECT(s.calls == 2,
              "a second loop_run() should go on with what is watched (and "
              "stop again): expected 2 callbacks in all, got %d",
              s.calls);

    /* loop_stop() outside loop_run() does nothing. */
    int rc = loop_unwatch(l, p[0]);
    WB_EXPECT(rc == 0,
              "the pipe should still be watched after loop_stop(); "
              "loop_unwatch() returned %d%s",
              rc, wb_errno_note(rc));
    rc = loop_cancel_timer(l, far_id);
    WB_EXPECT(rc == 0,
              "the 5 s timer should still be pending after "
              "loop_stop(); loop_cancel_timer() returned %d%s",
              rc, wb_errno_note(rc));
    struct timed t = {0, 0, -1};
    timer_ok(l, 20, on_timed, &t);
    loop_stop(l);
    run_ok(l);
    WB_EXPECT(t.calls == 1,
              "loop_stop() called while the loop was not running should "
              "do nothing; the next loop_run() returned before its 20 ms "
              "timer ran");
    loop_free(l);
    close_pair(p);
}
END_TEST

/* loop_stop() from the first of two callbacks of one iteration: the
 * second still runs, and so does the timer due in that iteration. */
struct stop_rest {
    int calls[2];
    int fds[2];
    int stopped;
};

static void on_stop_rest(loop *l, int fd, int events, void *ctx)
{
    (void)events;
    struct stop_rest *r = ctx;
    r->calls[fd == r->fds[0] ? 0 : 1]++;
    if (!r->stopped) {
        r->stopped = 1;
        loop_stop(l);
    }
}

START_TEST(test_stop_lets_the_iteration_finish)
{
    WB_PROMISE("stop");
    loop *l = new_loop();
    int a[2], b[2];
    ready_pipe(a);
    ready_pipe(b);
    struct stop_rest r = {{0, 0}, {a[0], b[0]}, 0};
    watch_ok(l, a[0], LOOP_READ, on_stop_rest, &r);
    watch_ok(l, b[0], LOOP_READ, on_stop_rest, &r);
    struct timed t = {0, 0, -1};
    timer_ok(l, 0, on_timed, &t);
    run_ok(l);
    WB_EXPECT(r.calls[0] == 1 && r.calls[1] == 1 && t.calls == 1,
              "two pipes were readable and a 0 ms timer due in the first "
              "iteration; the first callback called loop_stop(). The rest "
              "of the iteration should still run, then loop_run() return: "
              "expected 1 callback per pipe and the timer run once; got "
              "%d and %d callbacks, the timer %d times",
              r.calls[0], r.calls[1], t.calls);
    loop_free(l);
    close_pair(a);
    close_pair(b);
}
END_TEST

/* --- The loop does not spin ----------------------------------------------- */

START_TEST(test_idle_timer_does_not_spin)
{
    WB_PROMISE("no-spin");
    loop *l = new_loop();
    struct timed t = {0, 0, -1};
    struct effort e = effort_start();
    timer_ok(l, 200, on_timed, &t);
    run_ok(l);
    e = effort_since(e);
    WB_EXPECT(t.calls == 1 && e.wall >= 200 * MS,
              "the 200 ms timer should run once, after 200 ms; it ran %d "
              "times, loop_run() returned after %lld ms",
              t.calls, (long long)(e.wall / MS));
    WB_EXPECT(!spun(e),
              "waiting %lld ms for a timer, the loop called " LOOP_WAIT
              " %ld times and used %.1f ms of CPU time; expected a call or "
              "two and under 10 ms. It should sleep in " LOOP_WAIT " with "
              "the time left as its timeout (rounded up, not down to 0), "
              "not call " LOOP_WAIT " again and again",
              (long long)(e.wall / MS), e.selects, (double)e.cpu / MS);
    loop_free(l);
}
END_TEST

START_TEST(test_writable_socket_read_only_does_not_spin)
{
    WB_PROMISE("no-spin");
    loop *l = new_loop();
    int sv[2];
    make_socketpair(sv);
    /* sv[0] is writable all the time, but only reading is asked for. */
    int calls = 0;
    watch_ok(l, sv[0], LOOP_READ, on_never, &calls);
    struct timed t = {0, 0, sv[0]};
    timer_ok(l, 200, on_timed, &t);
    struct effort e = effort_start();
    run_ok(l);
    e = effort_since(e);
    WB_EXPECT(calls == 0,
              "a socket with nothing to read, watched for LOOP_READ only, "
              "got %d callbacks; expected none",
              calls);
    WB_EXPECT(!spun(e),
              "a writable socket watched for LOOP_READ only, %lld ms: the "
              "loop called " LOOP_WAIT " %ld times and used %.1f ms of CPU "
              "time; expected a call or two and under 10 ms. Put a "
              "descriptor in " LOOP_WRITE_SET " only when it is watched "
              "for LOOP_WRITE",
              (long long)(e.wall / MS), e.selects, (double)e.cpu / MS);
    loop_free(l);
    close_pair(sv);
}
END_TEST

/* --- loop_free() ---------------------------------------------------------- */

START_TEST(test_free_drops_everything)
{
    WB_PROMISE("free");
    loop *l = new_loop();
    int p[2];
    ready_pipe(p);
    int calls = 0;
    struct timed t = {0, 0, -1};
    watch_ok(l, p[0], LOOP_READ, on_never, &calls);
    for (int i = 0; i < 40; i++)
        timer_ok(l, i % 2 ? 0 : 100000, on_timed, &t);
    loop_free(l);
    WB_EXPECT(calls == 0 && t.calls == 0,
              "loop_free() should run no callback; %d descriptor and %d "
              "timer callbacks ran",
              calls, t.calls);
    WB_EXPECT(fcntl(p[0], F_GETFD) != -1,
              "loop_free() closed a watched descriptor; the descriptors "
              "belong to the caller");
    close_pair(p);
}
END_TEST

/* --- A clock that fails ----------------------------------------------------
 */

/* The clock fails once (the wrap of tests/support/wrap.c, in loop.links),
 * with an error the test chose: the loop's next clock_gettime(). */
static const int clock_err = EINVAL;

START_TEST(test_clock_failure_is_reported)
{
    WB_PROMISE("clock-fails");
    loop *l = new_loop();
    struct timed t = {0, 0, -1};
    wb_wrap_fail(WB_CLOCK_GETTIME, 1, clock_err, 0);
    errno = 0;
    long id = loop_add_timer(l, 0, on_timed, &t);
    int err = errno;
    int reads = wb_wrap_calls(WB_CLOCK_GETTIME);
    wb_wrap_reset(WB_CLOCK_GETTIME, 0);
    WB_EXPECT(id == -1 && err == clock_err,
              "when clock_gettime() fails (here with %s, forced by the "
              "test), loop_add_timer(l, 0, ...) has no \"now\" to count the "
              "delay from: it should return -1 with errno %s and add no "
              "timer; got %ld%s (it read the clock %d times)",
              wb_errname(clock_err), wb_errname(clock_err), id,
              id == -1 ? fmt(" (%s)", wb_errname(err)) : "", reads);
    run_ok(l);
    WB_EXPECT(t.calls == 0,
              "a loop_add_timer() that failed should add no timer; its "
              "callback ran %d times",
              t.calls);

    /* A watched pipe and a due timer: loop_run() cannot tell that the
     * timer is due, and keeps both for the next run. */
    int p[2];
    ready_pipe(p);
    struct seen s = {0};
    s.unwatch_after = 1;
    watch_ok(l, p[0], LOOP_READ, on_seen, &s);
    timer_ok(l, 0, on_timed, &t);
    wb_wrap_fail(WB_CLOCK_GETTIME, 1, clock_err, 0);
    errno = 0;
    int rc = loop_run(l);
    err = errno;
    int timer_calls = t.calls;
    wb_wrap_reset(WB_CLOCK_GETTIME, 0);
    WB_EXPECT(rc == -1 && err == clock_err && timer_calls == 0,
              "with a timer of 0 ms pending and clock_gettime() failing once "
              "(with %s, forced by the test), loop_run() should return -1 "
              "with errno %s and run no timer; got %d%s, and the timer ran "
              "%d times",
              wb_errname(clock_err), wb_errname(clock_err), rc,
              rc == -1 ? fmt(" (%s)", wb_errname(err)) : "", timer_calls);
    int io_calls = s.calls;
    run_ok(l);
    WB_EXPECT(t.calls == 1 && s.calls >= 1,
              "once the clock works again, loop_run() should go on with "
              "what is watched and pending: the timer should run once and "
              "the ready pipe's callback be called; the timer ran %d times "
              "and the callback was called %d times (%d of them in the "
              "failed run)",
              t.calls, s.calls, io_calls);

    /* Whichever of its clock readings fails (here the second and the
     * third of the run), loop_run() returns -1 with that errno. */
    for (int k = 2; k <= 3; k++) {
        struct timed u = {0, 0, -1};
        int q[2];
        ready_pipe(q);
        struct seen qs = {0};
        qs.unwatch_after = 1;
        watch_ok(l, q[0], LOOP_READ, on_seen, &qs);
        timer_ok(l, 0, on_timed, &u);
        wb_wrap_fail(WB_CLOCK_GETTIME, k, clock_err, 0);
        errno = 0;
        rc = loop_run(l);
        err = errno;
        int reads = wb_wrap_calls(WB_CLOCK_GETTIME);
        wb_wrap_reset(WB_CLOCK_GETTIME, 0);
        if (reads >= k)
            WB_EXPECT(rc == -1 && err == clock_err,
                      "clock_gettime() failed (with %s, forced by the test) "
                      "the %d-th time loop_run() read it: loop_run() should "
                      "return -1 with errno %s; got %d%s",
                      wb_errname(clock_err), k, wb_errname(clock_err), rc,
                      rc == -1 ? fmt(" (%s)", wb_errname(err)) : "");
        run_ok(l);
        WB_EXPECT(u.calls == 1 && qs.calls == 1,
                  "once the clock works again, the 0 ms timer should have "
                  "run once and the ready pipe's callback once; they ran "
                  "%d and %d times",
                  u.calls, qs.calls);
        close_pair(q);
    }
    loop_free(l);
    close_pair(p);
}
END_TEST

/* --- No memory ----------------------------------------------------------- */

static void on_count(loop *l, void *ctx)
{
    (void)l;
    (*(int *)ctx)++;
}

/* Whose allocations fail: the loop's own (counted), or those of the
 * building block under it, the timer queue (tests/support/alloc.c). */
struct failer {
    void (*arm)(int call);
    int (*count)(void);
    const char *whose; /* "its allocation", "its timer queue's allocation" */
    int block;         /* 1: a loop may make none of these calls */
};

static const struct failer own = {wb_alloc_fail, wb_alloc_calls,
                                  "its allocation", 0};
static const struct failer timer_queue = {wb_block_alloc_fail,
                                          wb_block_alloc_calls,
                                          "its timer queue's allocation", 1};

/* The n-th allocation of the loop fails, for n = 1, 2, ... until a call
 * makes fewer than n; then the same for loop_add_timer(). */
static void out_of_memory(const struct failer *f)
{
    int failed = 0, injected = 0;
    for (int n = 1; n <= 50; n++) {
        f->arm(n);
        errno = 0;
        loop *l = loop_new();
        int err = errno;
        int calls = f->count();
        f->arm(0);
        if (calls >= n)
            injected++;
        size_t bytes;
        size_t blocks = wb_alloc_live(&bytes);
        if (l == NULL) {
            failed++;
            WB_EXPECT(err == ENOMEM && blocks == 0,
                      "with %s %d failing, loop_new() returned NULL: errno "
                      "should be ENOMEM and nothing left allocated; errno "
                      "%s, %zu blocks (%zu bytes) left",
                      f->whose, n, wb_errname(err), blocks, bytes);
            continue;
        }
        /* A loop made despite the failed allocation must work. */
        int ran = 0;
        timer_ok(l, 0, on_count, &ran);
        run_ok(l);
        WB_EXPECT(ran == 1,
                  "a loop that loop_new() returned with %s %d failing "
                  "should work; its 0 ms timer ran %d times",
                  f->whose, n, ran);
        loop_free(l);
        if (calls < n)
            break; /* no allocation failed */
    }
    WB_EXPECT(failed > 0 || (f->block && injected == 0),
              "loop_new() with %s 1 failing should return NULL with "
              "ENOMEM; it never returned NULL",
              f->whose);

    /* loop_add_timer() with its n-th allocation failing, on a loop with
     * timers pending, over and over (the loop's tables grow meanwhile):
     * -1 with ENOMEM and no timer added, or a timer that runs. */
    loop *l = new_loop();
    enum { ADDS = 60 };
    int ran[ADDS] = {0};
    long ids[ADDS];
    int added = 0, refused = 0;
    injected = 0;
    for (int i = 0; i < ADDS; i++) {
        int n = i % 3 + 1;
        size_t before = wb_alloc_live(NULL);
        f->arm(n);
        errno = 0;
        ids[i] = loop_add_timer(l, 0, on_count, &ran[i]);
        int err = errno;
        int calls = f->count();
        f->arm(0);
        if (calls >= n)
            injected++;
        if (ids[i] > 0) {
            added++;
            continue;
        }
        refused++;
        size_t after = wb_alloc_live(NULL);
        WB_EXPECT(ids[i] == -1 && err == ENOMEM && calls >= n &&
                      after == before,
                  "loop_add_timer() with %s %d failing (%d made) should "
                  "return an id, or -1 with ENOMEM and nothing left "
                  "allocated; got %ld (%s), and %zu blocks allocated "
                  "before the call, %zu after",
                  f->whose, n, calls, ids[i], wb_errname(err), before, after);
    }
    WB_EXPECT(refused > 0 || (f->block && injected == 0),
              "loop_add_timer() with %s 1 failing should return -1 with "
              "ENOMEM; it never failed",
              f->whose);
    run_ok(l);
    for (int i = 0; i < ADDS; i++)
        WB_EXPECT(ran[i] == (ids[i] > 0 ? 1 : 0),
                  "the %d-th loop_add_timer(), which %s, ran %d times", i + 1,
                  ids[i] > 0 ? "returned an id" : "failed", ran[i]);
    WB_EXPECT(added > 0, "no loop_add_timer() succeeded");
    loop_free(l);
}

START_TEST(test_out_of_memory)
{
    WB_PROMISE("no-memory");
    out_of_memory(&own);
}
END_TEST

/* The same with the timer queue under the loop out of memory: its
 * failure is the loop's (a learner's loop that uses no timerq makes no
 * such call, and has nothing to answer here). */
START_TEST(test_timer_queue_out_of_memory)
{
    WB_PROMISE("no-memory");
    out_of_memory(&timer_queue);
}
END_TEST

/* --- Memory follows what is pending -------------------------------------- */

START_TEST(test_memory_follows_pending_timers)
{
    WB_PROMISE("bounded");
    loop *l = new_loop();
    struct timed t = {0, 0, -1};
    size_t before, after;
    wb_alloc_live(&before);
    const long rounds = wb_scaled(20000, 2000);
    for (long i = 0; i < rounds; i++) {
        long id = loop_add_timer(l, 1000000, on_timed, &t);
        int rc = loop_cancel_timer(l, id);
        if (id <= 0 || rc != 0) {
            WB_EXPECT(0,
                      "loop_add_timer() then loop_cancel_timer(), round %ld: "
                      "got id %ld, then %d%s",
                      i + 1, id, rc, wb_errno_note(rc));
        }
    }
    wb_alloc_live(&after);
    WB_EXPECT(after <= before + 4096,
              "%ld timers added and cancelled one after the other (never "
              "more than one pending): the loop's memory grew from %zu to "
              "%zu bytes; it should follow the timers pending",
              rounds, before, after);
    loop_free(l);
}
END_TEST

/* --- A blocking callback, for the timeline -------------------------------- */

/* Timers 1 to 6, 10 ms apart, each write a byte to one of two pipes. The
 * second time pipe A is read, its callback blocks for 60 ms, as a
 * blocking call would: the timers due meanwhile run late, together. */
struct stall {
    int a[2], b[2];
    int a_reads, reads;
    struct step steps[6];
    int64_t due[6], ran[6];
    int64_t block_end;
    int64_t start;
    int ticks;
};

static struct stall *the_stall;

static void on_tick(loop *l, void *ctx)
{
    int64_t t0 = trace_now();
    (void)l;
    int i = (int)((struct step *)ctx - the_stall->steps);
    the_stall->ran[i] = t0;
    the_stall->ticks++;
    int fd = i % 2 == 0 ? the_stall->a[1] : the_stall->b[1];
    ck_assert_int_eq(write(fd, "x", 1), 1);
    span("timer", i + 1, t0);
}

static void on_stall_read(loop *l, int fd, int events, void *ctx)
{
    int64_t t0 = trace_now();
    (void)events;
    struct stall *s = ctx;
    char c;
    (void)read(fd, &c, 1);
    if (fd == s->a[0] && ++s->a_reads == 2) {
        wb_sleep_ms(60); /* a blocking call inside a callback */
        s->block_end = trace_now();
        char label[48];
        snprintf(label, sizeof label, "read fd %d (blocks 60 ms)", fd);
        trace_span(label, t0, trace_now());
    } else {
        span("read fd", fd, t0);
    }
    /* Done once the 6 bytes the timers wrote are read: on a loaded
     * machine the timers can all run in one iteration, before any read. */
    if (++s->reads == 6) {
        (void)loop_unwatch(l, s->a[0]);
        (void)loop_unwatch(l, s->b[0]);
    }
}

START_TEST(test_blocking_callback_delays_everything)
{
    WB_PROMISE("timers");
    loop *l = new_loop();
    struct stall s;
    memset(&s, 0, sizeof s);
    the_stall = &s;
    wb_pipe(s.a);
    wb_pipe(s.b);
    watch_ok(l, s.a[0], LOOP_READ, on_stall_read, &s);
    watch_ok(l, s.b[0], LOOP_READ, on_stall_read, &s);
    s.start = wb_now_ns();
    for (int i = 0; i < 6; i++) {
        s.steps[i] = (struct step){NULL, i + 1};
        s.due[i] = s.start + (int64_t)(i + 1) * 10 * MS;
        timer_ok(l, (i + 1) * 10, on_tick, &s.steps[i]);
    }
    run_ok(l);
    WB_EXPECT(s.ticks == 6, "6 timers should have run; %d did", s.ticks);
    WB_EXPECT(s.block_end != 0,
              "pipe A should have been read twice (by the timers 1 and 3); "
              "it was read %d times",
              s.a_reads);
    /* Each timer runs no earlier than its deadline, and a timer due while
     * the callback blocked runs only after it. */
    for (int i = 0; i < 6; i++) {
        WB_EXPECT(s.ran[i] >= s.due[i],
                  "timer %d ran %.1f ms before its deadline", i + 1,
                  (double)(s.due[i] - s.ran[i]) / MS);
        if (s.due[i] > s.block_end - 60 * MS && s.due[i] < s.block_end)
            WB_EXPECT(s.ran[i] >= s.block_end,
                      "timer %d was due while a callback blocked; it "
                      "cannot run before that callback returns, yet it "
                      "ran %.1f ms before",
                      i + 1, (double)(s.block_end - s.ran[i]) / MS);
    }
    loop_free(l);
    close_pair(s.a);
    close_pair(s.b);
}
END_TEST

#ifndef LOOP_BACKEND_EPOLL
/* make check CHAPTER=4 EXERCISE=loop TRACE=1 draws this test's callbacks:
 * short spans, one 60 ms bar, and the timers it held up. */
const char *const wb_trace_test = "test_blocking_callback_delays_everything";

Suite *wb_suite(void)
{
    Suite *s = wb_begin("loop", "chapters/04-select/chapter.md");
    WB_ADD(s, test_bad_arguments, "The event loop");
    WB_ADD(s, test_run_from_callback_is_ebusy, "The event loop");
    WB_ADD(s, test_fd_setsize_refused, "The limit of FD_SETSIZE");
    WB_ADD(s, test_read_callback, "The event loop");
    WB_ADD(s, test_write_and_both_events, "Readiness is not completion");
    WB_ADD(s, test_rewatch_replaces, "Changing the watch list from a callback");
    WB_ADD(s, test_unwatch_stops_callbacks,
           "Changing the watch list from a callback");
    WB_ADD(s, test_unwatched_in_same_iteration,
           "Changing the watch list from a callback");
    WB_ADD(s, test_closed_and_reused_in_same_iteration,
           "Changing the watch list from a callback");
    WB_ADD(s, test_rewatched_in_same_iteration,
           "Changing the watch list from a callback");
    WB_ADD(s, test_callback_closes_and_watches,
           "Changing the watch list from a callback");
    WB_ADD(s, test_descriptor_zero, "The event loop");
    WB_ADD(s, test_eintr_is_not_an_error, "The timeout and EINTR");
    WB_ADD(s, test_closed_watched_fd_is_ebadf,
           "Closing a descriptor the loop still holds");
    WB_ADD(s, test_timers_run_in_deadline_order, "Timers in the loop");
    WB_ADD(s, test_many_timers_cancelled, "Timers in the loop");
    WB_ADD(s, test_timer_years_away, "Timers in the loop");
    WB_ADD(s, test_timer_runs_while_fd_always_ready, "Timers in the loop");
    WB_ADD(s, test_timer_and_io_both_dispatched, "Timers in the loop");
    WB_ADD(s, test_timer_callbacks_change_the_loop, "Timers in the loop");
    WB_ADD(s, test_timers_ignore_date_changes, "The timeout and EINTR");
    WB_ADD(s, test_zero_timer_from_callback_waits, "Timers in the loop");
    WB_ADD(s, test_run_ends_when_nothing_is_left, "The event loop");
    WB_ADD(s, test_stop_from_callback, "The event loop");
    WB_ADD(s, test_stop_lets_the_iteration_finish, "The event loop");
    WB_ADD(s, test_idle_timer_does_not_spin, "The timeout and EINTR");
    WB_ADD(s, test_writable_socket_read_only_does_not_spin,
           "Asking for write readiness all the time");
    WB_ADD(s, test_free_drops_everything, "The event loop");
    WB_ADD(s, test_clock_failure_is_reported, "An event loop on select");
    WB_ADD(s, test_out_of_memory, "The event loop");
    WB_ADD(s, test_timer_queue_out_of_memory, "The event loop");
    WB_ADD(s, test_memory_follows_pending_timers, "Timers in the loop");
    WB_ADD(s, test_blocking_callback_delays_everything,
           "A blocking call in a callback");
    return s;
}
#endif
