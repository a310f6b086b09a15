/*
 * Tests of sigloop (exercises/06-beyond/sigloop.h): signals as loop
 * callbacks, and a server that shuts down gracefully on SIGTERM.
 *
 * The loop is the reference loop (solutions/04-select/loop.c, through
 * sigloop.links). The tests send real signals: raise(), kill() to the
 * process, pthread_kill() to the loop's thread. Every test first gives
 * SIGTERM, SIGINT, SIGUSR1 and SIGUSR2 a handler of its own that only
 * counts: a signal that reaches a handler was not blocked, and the test
 * says so instead of dying.
 *
 * The server tests run the loop on the test's thread and a client in a
 * second thread, started after the signals were watched (so it inherits
 * the blocked mask). The client tells the shutdown has begun by a
 * connect() that is refused.
 *
 * Linux-only: signalfd.
 */
#define _GNU_SOURCE
#include "wb.h"
#include "fdlimit.h"
#include "sigloop.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static volatile sig_atomic_t handled; /* signals that reached a handler */

static void count_handled(int signo)
{
    (void)signo;
    handled++;
}

static void install_catchers(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = count_handled;
    sigemptyset(&sa.sa_mask);
    int sigs[] = {SIGTERM, SIGINT, SIGUSR1, SIGUSR2};
    for (int i = 0; i < 4; i++)
        ck_assert(sigaction(sigs[i], &sa, NULL) == 0);
    handled = 0;
}

/* --- The signal callbacks --------------------------------------------------
 */

struct seen {
    int n;
    int signo[16];
    void *ctx[16];
    int in_run[16];
    int on_main[16];
    int unwatch_after; /* unwatch the signal after this many; 0 never */
    int raise_again;   /* raise it again from the callback, this many times */
};

static pthread_t main_thread;
static int in_run;
static long limit_timer;
static loop *the_loop;
static atomic_int callbacks; /* for the client thread */

static void on_signal_note(sigloop *s, int signo, void *ctx)
{
    struct seen *w = ctx;
    if (w->n < 16) {
        w->signo[w->n] = signo;
        w->ctx[w->n] = ctx;
        w->in_run[w->n] = in_run;
        w->on_main[w->n] = pthread_equal(pthread_self(), main_thread);
    }
    w->n++;
    atomic_fetch_add(&callbacks, 1);
    if (w->raise_again > 0) {
        w->raise_again--;
        raise(signo);
    }
    if (w->unwatch_after > 0 && w->n == w->unwatch_after) {
        sigloop_unwatch(s, signo);
    }
}

static void on_limit(loop *l, void *ctx)
{
    (void)ctx;
    limit_timer = 0;
    loop_stop(l);
}

/* Run the loop, stopped after @p limit_ms at the latest (0: no limit);
 * the milliseconds it ran. */
static long run_loop(loop *l, long limit_ms)
{
    limit_timer = 0;
    if (limit_ms > 0) {
        limit_timer = loop_add_timer(l, limit_ms, on_limit, NULL);
        ck_assert(limit_timer > 0);
    }
    int64_t t0 = wb_now_ns();
    in_run = 1;
    int rc = loop_run(l);
    in_run = 0;
    ck_assert_msg(rc == 0, "loop_run() failed%s", wb_errno_note(rc));
    if (limit_timer > 0)
        loop_cancel_timer(l, limit_timer);
    return (long)((wb_now_ns() - t0) / 1000000);
}

/* A sigloop callback that also cancels the limit once it has seen
 * enough, so that loop_run() can return by itself. */
static int cancel_at;
static void on_signal_count(sigloop *s, int signo, void *ctx)
{
    on_signal_note(s, signo, ctx);
    if (atomic_load(&callbacks) == cancel_at && limit_timer > 0) {
        loop_cancel_timer(the_loop, limit_timer);
        limit_timer = 0;
    }
}

static void setup(loop **l, sigloop **s)
{
    install_catchers();
    main_thread = pthread_self();
    wb_wrap_send_thread(&main_thread);
    atomic_store(&callbacks, 0);
    *l = the_loop = loop_new();
    ck_assert_msg(*l != NULL, "loop_new() failed");
    *s = sigloop_new(*l);
    ck_assert_msg(*s != NULL, "sigloop_new() failed%s", wb_errno_note(-1));
}

static void watch_ok(sigloop *s, int signo, struct seen *w)
{
    int rc = sigloop_watch(s, signo, on_signal_count, w);
    ck_assert_msg(rc == 0, "sigloop_watch(%d) failed%s", signo,
                  wb_errno_note(rc));
}

static void expect_not_handled(const char *when)
{
    WB_EXPECT(handled == 0,
              "%s: %d signal%s reached a signal handler: a watched signal "
              "must be blocked, so that only the signalfd sees it",
              when, (int)handled, handled == 1 ? "" : "s");
}

START_TEST(test_signal_before_run)
{
    loop *l;
    sigloop *s;
    setup(&l, &s);
    struct seen w = {.unwatch_after = 1};
    watch_ok(s, SIGUSR1, &w);
    cancel_at = 1;
    raise(SIGUSR1);
    WB_PROMISE("callback");
    expect_not_handled("raise(SIGUSR1) after sigloop_watch()");
    WB_EXPECT(w.n == 0,
              "the callback should run from loop_run(), not from "
              "raise(); it ran %d times before loop_run()",
              w.n);
    long ms = run_loop(l, 1000);
    WB_PROMISE("before-run");
    WB_EXPECT(w.n == 1,
              "a SIGUSR1 raised after sigloop_watch() and before loop_run() "
              "should give one callback in the first iteration; got %d",
              w.n);
    WB_PROMISE("callback");
    WB_EXPECT(w.signo[0] == SIGUSR1 && w.ctx[0] == &w,
              "the callback should get the signal's number (%d) and its "
              "ctx; got %d and %s ctx",
              SIGUSR1, w.signo[0], w.ctx[0] == &w ? "the right" : "another");
    WB_EXPECT(w.in_run[0] && w.on_main[0],
              "the callback should run from loop_run() on the loop's thread");
    WB_PROMISE("run-ends");
    WB_EXPECT(ms < 900,
              "once its only signal is unwatched the sigloop watches "
              "nothing: loop_run() should return; it ran %ld ms",
              ms);
    sigloop_free(s);
    loop_free(l);
}
END_TEST

START_TEST(test_term_and_int)
{
    loop *l;
    sigloop *s;
    setup(&l, &s);
    struct seen term = {.unwatch_after = 1}, intr = {.unwatch_after = 1};
    watch_ok(s, SIGTERM, &term);
    watch_ok(s, SIGINT, &intr);
    cancel_at = 2;
    kill(getpid(), SIGTERM);
    kill(getpid(), SIGINT);
    WB_PROMISE("callback");
    expect_not_handled("kill() of SIGTERM and SIGINT after sigloop_watch()");
    run_loop(l, 1000);
    WB_PROMISE("each");
    WB_EXPECT(term.n == 1 && term.signo[0] == SIGTERM,
              "SIGTERM's callback should run once with %d; it ran %d times "
              "(signo %d)",
              SIGTERM, term.n, term.n > 0 ? term.signo[0] : 0);
    WB_EXPECT(intr.n == 1 && intr.signo[0] == SIGINT,
              "SIGINT's callback should run once with %d; it ran %d times "
              "(signo %d)",
              SIGINT, intr.n, intr.n > 0 ? intr.signo[0] : 0);
    sigloop_free(s);
    loop_free(l);
}
END_TEST

static void *send_twice(void *arg)
{
    (void)arg;
    wb_sleep_ms(30);
    kill(getpid(), SIGUSR2); /* to the process */
    for (int i = 0; i < 1000 && atomic_load(&callbacks) < 1; i++)
        wb_sleep_ms(2);
    pthread_kill(main_thread, SIGUSR2); /* to the loop's thread */
    return NULL;
}

START_TEST(test_from_another_thread)
{
    loop *l;
    sigloop *s;
    setup(&l, &s);
    struct seen w = {.unwatch_after = 2};
    watch_ok(s, SIGUSR2, &w);
    cancel_at = 2;
    pthread_t t;
    ck_assert(pthread_create(&t, NULL, send_twice, NULL) == 0);
    run_loop(l, 1500);
    pthread_join(t, NULL);
    WB_PROMISE("other-thread");
    expect_not_handled("SIGUSR2 sent by another thread");
    WB_EXPECT(w.n == 2,
              "SIGUSR2 sent by another thread (kill() to the process, then, "
              "after the first callback, pthread_kill() to the loop's "
              "thread) should give 2 callbacks; got %d",
              w.n);
    for (int i = 0; i < w.n && i < 2; i++)
        WB_EXPECT(w.on_main[i] && w.in_run[i],
                  "callback %d should run on the loop's thread, from "
                  "loop_run()",
                  i + 1);
    sigloop_free(s);
    loop_free(l);
}
END_TEST

START_TEST(test_again_after_callback)
{
    loop *l;
    sigloop *s;
    setup(&l, &s);
    struct seen w = {.unwatch_after = 3, .raise_again = 2};
    watch_ok(s, SIGUSR1, &w);
    cancel_at = 3;
    raise(SIGUSR1);
    run_loop(l, 1000);
    WB_PROMISE("again");
    expect_not_handled("SIGUSR1 raised from its callback");
    WB_EXPECT(w.n == 3,
              "a signal raised again from its own callback (twice) should "
              "give a callback each time: 3 in all; got %d",
              w.n);
    sigloop_free(s);
    loop_free(l);
}
END_TEST

static int sig_blocked(int signo)
{
    sigset_t now;
    pthread_sigmask(SIG_BLOCK, NULL, &now);
    return sigismember(&now, signo);
}

START_TEST(test_unwatch_keeps_it_blocked)
{
    loop *l;
    sigloop *s;
    setup(&l, &s);
    struct seen w = {0};
    watch_ok(s, SIGUSR1, &w);
    raise(SIGUSR1);
    WB_PROMISE("unwatch");
    int rc = sigloop_unwatch(s, SIGUSR1);
    WB_EXPECT(rc == 0,
              "sigloop_unwatch() of a watched signal should return "
              "0; got %d%s",
              rc, wb_errno_note(rc));
    WB_EXPECT(sig_blocked(SIGUSR1), "an unwatched signal stays blocked until "
                                    "sigloop_free()");
    long ms = run_loop(l, 0);
    WB_EXPECT(w.n == 0,
              "after sigloop_unwatch() the callback should never "
              "run, not even for a signal already pending; it "
              "ran %d times",
              w.n);
    expect_not_handled("SIGUSR1 pending while unwatched");
    WB_PROMISE("run-ends");
    WB_EXPECT(ms < 500,
              "with nothing watched loop_run() should return at "
              "once; it ran %ld ms",
              ms);
    errno = 0;
    rc = sigloop_unwatch(s, SIGUSR1);
    WB_PROMISE("bad-args");
    WB_EXPECT(rc == -1 && errno == ENOENT,
              "sigloop_unwatch() of a signal not watched should fail with "
              "ENOENT; got %d%s",
              rc, wb_errno_note(rc));
    sigloop_free(s);
    WB_PROMISE("free");
    expect_not_handled("sigloop_free() with a SIGUSR1 pending");
    loop_free(l);
}
END_TEST

START_TEST(test_rewatch_replaces)
{
    loop *l;
    sigloop *s;
    setup(&l, &s);
    struct seen first = {0}, second = {.unwatch_after = 1};
    watch_ok(s, SIGUSR1, &first);
    watch_ok(s, SIGUSR1, &second);
    cancel_at = 1;
    raise(SIGUSR1);
    run_loop(l, 1000);
    WB_PROMISE("rewatch");
    WB_EXPECT(first.n == 0 && second.n == 1,
              "a second sigloop_watch() of SIGUSR1 should replace the "
              "first's callback and ctx: expected 0 and 1 calls, got %d and "
              "%d",
              first.n, second.n);
    sigloop_free(s);
    loop_free(l);
}
END_TEST

START_TEST(test_free_restores_the_mask)
{
    install_catchers();
    sigset_t usr2, before, after;
    sigemptyset(&usr2);
    sigaddset(&usr2, SIGUSR2);
    pthread_sigmask(SIG_BLOCK, &usr2, NULL); /* blocked by the caller */
    pthread_sigmask(SIG_BLOCK, NULL, &before);
    int fds = wb_count_fds();
    loop *l;
    sigloop *s;
    setup(&l, &s);
    struct seen w = {0};
    watch_ok(s, SIGUSR1, &w);
    watch_ok(s, SIGTERM, &w);
    watch_ok(s, SIGUSR2, &w);
    raise(SIGUSR1);
    raise(SIGTERM);
    sigloop_free(s);
    WB_PROMISE("free");
    expect_not_handled("sigloop_free() with SIGUSR1 and SIGTERM pending "
                       "(pending ones are thrown away, not delivered)");
    pthread_sigmask(SIG_BLOCK, NULL, &after);
    int same = 1;
    for (int signo = 1; signo < NSIG; signo++)
        if (sigismember(&before, signo) != sigismember(&after, signo))
            same = 0;
    WB_EXPECT(same,
              "after sigloop_free() the thread's mask should be what it was "
              "before: SIGUSR1 and SIGTERM unblocked, SIGUSR2 (blocked by "
              "the caller) still blocked; SIGUSR1 %s, SIGTERM %s, SIGUSR2 %s",
              sig_blocked(SIGUSR1) ? "blocked" : "unblocked",
              sig_blocked(SIGTERM) ? "blocked" : "unblocked",
              sig_blocked(SIGUSR2) ? "blocked" : "unblocked");
    WB_EXPECT(wb_count_fds() == fds,
              "sigloop_free() should close the signalfd: %d descriptors "
              "before sigloop_new(), %d after sigloop_free()",
              fds, wb_count_fds());
    pthread_sigmask(SIG_UNBLOCK, &usr2, NULL);
    loop_free(l);
}
END_TEST

START_TEST(test_bad_arguments)
{
    loop *l;
    sigloop *s;
    setup(&l, &s);
    WB_PROMISE("bad-args");
    errno = 0;
    WB_EXPECT(sigloop_new(NULL) == NULL && errno == EINVAL,
              "sigloop_new(NULL) should fail with EINVAL");
    struct seen w = {0};
    struct {
        sigloop *s;
        int signo;
        sigloop_fn fn;
        const char *what;
    } cases[] = {{NULL, SIGUSR1, on_signal_note, "a NULL sigloop"},
                 {s, SIGUSR1, NULL, "a NULL callback"},
                 {s, 0, on_signal_note, "signal 0"},
                 {s, NSIG, on_signal_note, "signal NSIG"},
                 {s, -3, on_signal_note, "signal -3"},
                 {s, SIGKILL, on_signal_note, "SIGKILL"},
                 {s, SIGSTOP, on_signal_note, "SIGSTOP"}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        errno = 0;
        int rc = sigloop_watch(cases[i].s, cases[i].signo, cases[i].fn, &w);
        int err = errno;
        WB_EXPECT(rc == -1 && err == EINVAL,
                  "sigloop_watch() with %s should fail with EINVAL; got %d "
                  "with errno %s",
                  cases[i].what, rc, wb_errname(err));
    }
    errno = 0;
    WB_EXPECT(sigloop_unwatch(NULL, SIGUSR1) == -1 && errno == EINVAL,
              "sigloop_unwatch(NULL, ...) should fail with EINVAL");
    long ms = run_loop(l, 0);
    WB_EXPECT(ms < 500,
              "after refused calls nothing is watched: loop_run() "
              "should return at once; it ran %ld ms",
              ms);
    sigloop_free(NULL);
    sigloop_free(s);
    loop_free(l);
}
END_TEST

static int listener(int *port);

/* --- Signal numbers at the edges, pending instances, failures ------------- */

START_TEST(test_signal_one_and_out_of_range)
{
    loop *l;
    sigloop *s;
    setup(&l, &s);
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = count_handled;
    sigemptyset(&sa.sa_mask);
    ck_assert(sigaction(SIGHUP, &sa, &old) == 0);
    WB_PROMISE("callback");
    /* SIGHUP is signal 1, the smallest. */
    struct seen w = {.unwatch_after = 1};
    int rc = sigloop_watch(s, SIGHUP, on_signal_count, &w);
    WB_EXPECT(rc == 0,
              "sigloop_watch(s, SIGHUP, ...) (signal 1) should "
              "return 0; got %d%s",
              rc, wb_errno_note(rc));
    cancel_at = 1;
    raise(SIGHUP);
    run_loop(l, 1000);
    WB_EXPECT(w.n == 1 && w.signo[0] == SIGHUP,
              "a watched SIGHUP (signal 1) should give one callback with "
              "signo 1; got %d callbacks",
              w.n);
    expect_not_handled("a watched SIGHUP");
    WB_PROMISE("bad-args");
    int bad[] = {0, -1, NSIG, NSIG + 1};
    for (int i = 0; i < 4; i++) {
        errno = 0;
        rc = sigloop_unwatch(s, bad[i]);
        WB_EXPECT(rc == -1 && errno == ENOENT,
                  "sigloop_unwatch(s, %d), not a signal, should fail with "
                  "ENOENT; got %d%s",
                  bad[i], rc, wb_errno_note(rc));
    }
    sigloop_free(s);
    sigaction(SIGHUP, &old, NULL);
    loop_free(l);
}
END_TEST

START_TEST(test_unwatched_signal_stays_for_the_caller)
{
    loop *l;
    sigloop *s;
    setup(&l, &s);
    struct seen one = {0}, two = {.unwatch_after = 1};
    watch_ok(s, SIGUSR1, &one);
    watch_ok(s, SIGUSR2, &two);
    ck_assert_int_eq(sigloop_unwatch(s, SIGUSR1), 0);
    raise(SIGUSR1);
    raise(SIGUSR2);
    cancel_at = 1;
    run_loop(l, 1000);
    WB_PROMISE("unwatch");
    sigset_t usr1;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    struct timespec zero = {0, 0};
    int got = sigtimedwait(&usr1, NULL, &zero);
    WB_EXPECT(one.n == 0 && two.n == 1 && got == SIGUSR1,
              "SIGUSR1 was unwatched, then SIGUSR1 and SIGUSR2 (still "
              "watched) raised: the loop should call SIGUSR2's callback "
              "only, and leave SIGUSR1 pending, blocked, for the caller "
              "(sigtimedwait() takes it); callbacks %d and %d, "
              "sigtimedwait() gave %d",
              one.n, two.n, got);
    /* The last one unwatched, then a new one watched: it is delivered. */
    WB_PROMISE("run-ends");
    struct seen again = {.unwatch_after = 1};
    watch_ok(s, SIGUSR1, &again);
    atomic_store(&callbacks, 0);
    raise(SIGUSR1);
    run_loop(l, 1000);
    WB_EXPECT(again.n == 1,
              "after the last signal was unwatched, a signal watched anew "
              "should be delivered (its descriptor watched again); its "
              "callback ran %d times",
              again.n);
    sigloop_free(s);
    expect_not_handled("signals of a sigloop");
    loop_free(l);
}
END_TEST

START_TEST(test_free_discards_at_once)
{
    loop *l;
    sigloop *s;
    setup(&l, &s);
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = count_handled;
    sigemptyset(&sa.sa_mask);
    ck_assert(sigaction(SIGHUP, &sa, &old) == 0);
    struct seen w = {0};
    ck_assert_int_eq(sigloop_watch(s, SIGHUP, on_signal_note, &w), 0);
    watch_ok(s, SIGUSR1, &w);
    raise(SIGHUP);
    raise(SIGUSR1);
    int64_t t0 = wb_now_ns();
    sigloop_free(s);
    long ms = (long)((wb_now_ns() - t0) / 1000000);
    WB_PROMISE("free");
    expect_not_handled("sigloop_free() with SIGHUP and SIGUSR1 pending");
    WB_EXPECT(ms < 500,
              "sigloop_free() should throw away what is pending and return "
              "at once, without waiting for more; it took %ld ms",
              ms);
    sigaction(SIGHUP, &old, NULL);
    loop_free(l);
}
END_TEST

/* Take every descriptor below FD_SETSIZE; the next one opened is above,
 * where the loop of chapter 4 refuses it ([fd-setsize]). */
struct filled {
    struct rlimit old;
    int null;
    unsigned char taken[FD_SETSIZE];
};

static void fill_below_fd_setsize(struct filled *f)
{
    ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &f->old), 0);
    struct rlimit high = f->old;
    if (high.rlim_cur < FD_SETSIZE + 64)
        high.rlim_cur = FD_SETSIZE + 64;
    if (high.rlim_max != RLIM_INFINITY && high.rlim_cur > high.rlim_max)
        high.rlim_max = high.rlim_cur;
    ck_assert_msg(setrlimit(RLIMIT_NOFILE, &high) == 0,
                  "raising RLIMIT_NOFILE failed%s", wb_errno_note(-1));
    memset(f->taken, 0, sizeof f->taken);
    f->null = open("/dev/null", O_RDONLY | O_CLOEXEC);
    ck_assert(f->null >= 0);
    for (int fd = 0; fd < FD_SETSIZE; fd++)
        if (fcntl(fd, F_GETFD) == -1 &&
            fcntl(f->null, F_DUPFD_CLOEXEC, fd) == fd)
            f->taken[fd] = 1;
}

static void unfill(struct filled *f)
{
    for (int fd = 0; fd < FD_SETSIZE; fd++)
        if (f->taken[fd])
            close(fd);
    close(f->null);
    setrlimit(RLIMIT_NOFILE, &f->old);
}

START_TEST(test_failures_change_nothing)
{
    install_catchers();
    main_thread = pthread_self();
    wb_wrap_send_thread(&main_thread);
    loop *l = the_loop = loop_new();
    ck_assert(l != NULL);
    WB_PROMISE("bad-args");
    /* No descriptor for the signalfd. */
    fdlimit_none_left();
    errno = 0;
    sigloop *none = sigloop_new(l);
    int err = errno;
    fdlimit_restore();
    WB_EXPECT(none == NULL && err == EMFILE,
              "with no descriptor left, sigloop_new() should return NULL "
              "with EMFILE (signalfd()'s error) and keep no memory; got %s "
              "with errno %s",
              none == NULL ? "NULL" : "a sigloop", wb_errname(err));
    sigloop_free(none);
    /* A signalfd the loop refuses: sigloop_watch() fails, and the signal
     * is as it was (not blocked). */
    static struct filled f;
    fill_below_fd_setsize(&f);
    sigloop *s = sigloop_new(l);
    unfill(&f);
    int port = 0, lfd = listener(&port); /* below FD_SETSIZE */
    ck_assert_msg(s != NULL, "sigloop_new() failed%s", wb_errno_note(-1));
    struct seen w = {0};
    errno = 0;
    int rc = sigloop_watch(s, SIGUSR1, on_signal_note, &w);
    err = errno;
    WB_EXPECT(rc == -1 && err == EINVAL,
              "the sigloop's signalfd got a descriptor above FD_SETSIZE, "
              "which loop_watch() refuses with EINVAL: sigloop_watch() "
              "should return -1 with that errno; got %d with errno %s",
              rc, wb_errname(err));
    WB_EXPECT(!sig_blocked(SIGUSR1),
              "a sigloop_watch() that failed should leave the signal as it "
              "was: SIGUSR1 is blocked now");
    /* The server cannot watch its signals either: it fails, and leaves
     * the listening socket open and unwatched. */
    errno = 0;
    sigloop_server *srv = sigloop_server_new(l, s, lfd, 100);
    err = errno;
    WB_PROMISE("server-free");
    WB_EXPECT(srv == NULL && err == EINVAL,
              "sigloop_server_new() on a sigloop that cannot watch signals "
              "should return NULL with EINVAL; got %s with errno %s",
              srv == NULL ? "NULL" : "a server", wb_errname(err));
    if (srv != NULL)
        sigloop_server_free(srv);
    long ms = run_loop(l, 0);
    WB_EXPECT(ms < 500 && fcntl(lfd, F_GETFD) != -1,
              "a sigloop_server_new() that failed should leave nothing "
              "watched (loop_run() ran %ld ms) and the socket open (it is "
              "%s)",
              ms, fcntl(lfd, F_GETFD) != -1 ? "open" : "closed");
    close(lfd);
    sigloop_free(s);
    /* A listening socket the loop refuses (above FD_SETSIZE). */
    s = sigloop_new(l);
    ck_assert(s != NULL);
    struct rlimit old, high;
    ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &old), 0);
    high = old;
    if (high.rlim_cur < FD_SETSIZE + 64)
        high.rlim_cur = FD_SETSIZE + 64;
    if (high.rlim_max != RLIM_INFINITY && high.rlim_cur > high.rlim_max)
        high.rlim_max = high.rlim_cur;
    ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &high), 0);
    lfd = listener(&port);
    int big = FD_SETSIZE + 10;
    ck_assert_int_eq(dup2(lfd, big), big);
    close(lfd);
    errno = 0;
    srv = sigloop_server_new(l, s, big, 100);
    err = errno;
    WB_EXPECT(srv == NULL && err == EINVAL && fcntl(big, F_GETFD) != -1,
              "sigloop_server_new() with a listening socket the loop refuses "
              "(descriptor %d, above FD_SETSIZE) should return NULL with "
              "EINVAL (loop_watch()'s error) and leave the socket open; got "
              "%s with errno %s",
              big, srv == NULL ? "NULL" : "a server", wb_errname(err));
    if (srv != NULL)
        sigloop_server_free(srv);
    ms = run_loop(l, 0);
    WB_EXPECT(ms < 500 && !sig_blocked(SIGTERM),
              "after that failure nothing is watched (loop_run() ran %ld "
              "ms) and SIGTERM is as it was (%s)",
              ms, sig_blocked(SIGTERM) ? "blocked now" : "not blocked");
    close(big);
    setrlimit(RLIMIT_NOFILE, &old);
    sigloop_free(s);
    loop_free(l);
}
END_TEST

/* --- The server ------------------------------------------------------------
 */

static int listener(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ck_assert(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert(bind(fd, (struct sockaddr *)&a, sizeof a) == 0);
    ck_assert(listen(fd, 16) == 0);
    socklen_t len = sizeof a;
    ck_assert(getsockname(fd, (struct sockaddr *)&a, &len) == 0);
    *port = ntohs(a.sin_port);
    return fd;
}

/* A blocking client socket with a 3 s receive limit; -1 with errno when
 * connect() fails. */
static int client(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct timeval tv = {3, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons((unsigned short)port);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) == -1) {
        int err = errno;
        close(fd);
        errno = err;
        return -1;
    }
    return fd;
}

static void send_text(int fd, const char *text)
{
    send(fd, text, strlen(text), MSG_NOSIGNAL);
}

/* The server's send()s, shaped by tests/support/wrap.c on the loop's
 * thread only (setup() names it; the test's clients send as they are),
 * while a test asks, do what a socket whose buffers are full or nearly
 * full does. Held: every call fails with EAGAIN (after stop_at_refusal(),
 * the first also stops the loop). Dripping: one call in two fails with
 * EAGAIN, the others move 1 byte. Balking: one call in two fails with
 * EAGAIN, the others move what they are given. */
static void send_held(void)
{
    wb_wrap_send_limit(-1, 0);
}

static void send_dripping(void)
{
    wb_wrap_send_alternate(-1, 1);
}

static void send_balking(void)
{
    wb_wrap_send_alternate(-1, -1);
}

static void send_as_is(void)
{
    wb_wrap_send_limit(-1, -1);
}

static void stop_the_loop(void *arg)
{
    (void)arg;
    loop_stop(the_loop);
}

static void stop_at_refusal(void)
{
    wb_wrap_send_on_refusal(stop_the_loop, NULL);
}

/* One line without its newline; "" at end of file, "<reset>" when the
 * server closed with bytes of ours unread (TCP then resets the
 * connection: a close as well), "?" on a timeout or another error. */
static void read_line(int fd, char *line, size_t cap)
{
    size_t n = 0;
    for (;;) {
        char ch;
        ssize_t r = read(fd, &ch, 1);
        if (r == -1 && errno == EINTR)
            continue;
        if (r < 0) {
            snprintf(line, cap, "%s", errno == ECONNRESET ? "<reset>" : "?");
            return;
        }
        if (r == 0 || ch == '\n')
            break;
        if (n + 1 < cap)
            line[n++] = ch;
    }
    line[n] = '\0';
}

/* Wait until a connect() is refused: the listening socket is closed. */
static long until_refused(int port)
{
    int64_t t0 = wb_now_ns();
    for (int i = 0; i < 1000; i++) {
        int fd = client(port);
        if (fd == -1)
            return (long)((wb_now_ns() - t0) / 1000000);
        close(fd);
        wb_sleep_ms(2);
    }
    return -1;
}

struct script {
    int port;
    int (*run)(struct script *);
    char lines[12][32]; /* what the client read, in order */
    int nlines;
    long ms[12];       /* when, from the signal */
    int64_t signal_at; /* when the client sent the signal */
    long refused_ms;   /* how long until a connect() was refused */
    int fail;          /* the client could not do its part */
};

static void note_line(struct script *sc, int fd)
{
    if (sc->nlines < 12) {
        read_line(fd, sc->lines[sc->nlines], sizeof sc->lines[0]);
        sc->ms[sc->nlines] =
            sc->signal_at > 0 ? (long)((wb_now_ns() - sc->signal_at) / 1000000)
                              : 0;
        sc->nlines++;
    }
}

/* A line that says the server closed the connection. */
static int closed_line(const char *line)
{
    return strcmp(line, "") == 0 || strcmp(line, "<reset>") == 0;
}

/* The server closed the connection: end of file, or a reset. */
static int closed(const struct script *sc, int i)
{
    return i < sc->nlines && (strcmp(sc->lines[i], "") == 0 ||
                              strcmp(sc->lines[i], "<reset>") == 0);
}

static void *run_script(void *arg)
{
    struct script *sc = arg;
    sc->fail = sc->run(sc);
    return NULL;
}

struct server_run {
    loop *l;
    sigloop *s;
    sigloop_server *srv;
    int lfd;
    struct script sc;
    long loop_ms;     /* how long loop_run() ran */
    long returned_ms; /* from the signal to loop_run()'s return */
};

static void server_setup(struct server_run *r, long grace_ms)
{
    setup(&r->l, &r->s);
    r->lfd = listener(&r->sc.port);
    r->srv = sigloop_server_new(r->l, r->s, r->lfd, grace_ms);
    ck_assert_msg(r->srv != NULL, "sigloop_server_new() failed%s",
                  wb_errno_note(-1));
}

static void server_run(struct server_run *r, int (*script)(struct script *))
{
    r->sc.run = script;
    pthread_t t;
    ck_assert(pthread_create(&t, NULL, run_script, &r->sc) == 0);
    r->loop_ms = run_loop(r->l, 0);
    int64_t end = wb_now_ns();
    pthread_join(t, NULL);
    r->returned_ms =
        r->sc.signal_at > 0 ? (long)((end - r->sc.signal_at) / 1000000) : -1;
    ck_assert_msg(r->sc.fail == 0,
                  "the test's client could not connect or "
                  "send (step %d)",
                  r->sc.fail);
}

static void server_done(struct server_run *r)
{
    sigloop_server_free(r->srv);
    sigloop_free(r->s);
    loop_free(r->l);
}

static int script_serve(struct script *sc)
{
    int fd = client(sc->port);
    if (fd < 0)
        return 1;
    send_text(fd, "60\n20\n");
    for (int i = 0; i < 4; i++)
        note_line(sc, fd);
    send_text(fd, "abc\n99999\n0\n");
    for (int i = 0; i < 4; i++)
        note_line(sc, fd);
    close(fd);
    sc->signal_at = wb_now_ns();
    kill(getpid(), SIGTERM);
    return 0;
}

START_TEST(test_serve)
{
    struct server_run r = {0};
    server_setup(&r, 1000);
    server_run(&r, script_serve);
    const char *want[] = {"start 60", "start 20", "done 20", "done 60",
                          "error",    "error",    "start 0", "done 0"};
    WB_PROMISE("serve");
    for (int i = 0; i < 8; i++)
        WB_EXPECT(i < r.sc.nlines && strcmp(r.sc.lines[i], want[i]) == 0,
                  "after \"60\\n20\\n\", then \"abc\\n99999\\n0\\n\", line "
                  "%d from the server should be \"%s\"; got \"%s\"",
                  i + 1, want[i], i < r.sc.nlines ? r.sc.lines[i] : "");
    WB_PROMISE("bound");
    WB_EXPECT(r.returned_ms >= 0 && r.returned_ms < 1000,
              "with no connection left, loop_run() should return soon after "
              "SIGTERM; it returned %ld ms after",
              r.returned_ms);
    server_done(&r);
}
END_TEST

static int script_in_flight(struct script *sc)
{
    int busy = client(sc->port), idle = client(sc->port);
    if (busy < 0 || idle < 0)
        return 1;
    send_text(idle, "0\n"); /* accepted and served: now idle */
    note_line(sc, idle);
    note_line(sc, idle);
    send_text(busy, "400\n");
    note_line(sc, busy); /* start 400: it is in flight */
    sc->signal_at = wb_now_ns();
    kill(getpid(), SIGTERM);
    sc->refused_ms = until_refused(sc->port);
    send_text(busy, "10\n"); /* after the shutdown began: not read */
    note_line(sc, idle);     /* end of file, at once */
    note_line(sc, busy);     /* done 400 */
    note_line(sc, busy);     /* end of file */
    close(busy);
    close(idle);
    return 0;
}

START_TEST(test_shutdown_finishes_in_flight)
{
    struct server_run r = {0};
    server_setup(&r, 3000);
    server_run(&r, script_in_flight);
    expect_not_handled("SIGTERM to a server");
    WB_PROMISE("stop-accepting");
    WB_EXPECT(r.sc.refused_ms >= 0 && r.sc.refused_ms < 300,
              "at SIGTERM the server should close its listening socket, so "
              "a new connect() is refused; %s",
              r.sc.refused_ms < 0
                  ? "connections were still accepted 2 s later"
                  : wb_format("it took %ld ms", r.sc.refused_ms));
    WB_PROMISE("close-idle");
    WB_EXPECT(closed(&r.sc, 3) && r.sc.ms[3] < 300,
              "a connection with nothing in flight should be closed when "
              "the shutdown begins; the idle client read \"%s\" %ld ms "
              "after SIGTERM",
              r.sc.nlines >= 4 ? r.sc.lines[3] : "", r.sc.ms[3]);
    WB_PROMISE("finish-in-flight");
    WB_EXPECT(r.sc.nlines >= 5 && strcmp(r.sc.lines[4], "done 400") == 0,
              "a request in flight when SIGTERM came (400 ms) should still "
              "get its answer, \"done 400\"; the client read \"%s\"",
              r.sc.nlines >= 5 ? r.sc.lines[4] : "");
    WB_EXPECT(closed(&r.sc, 5),
              "after its last answer the connection should be closed, and "
              "the request sent after SIGTERM (\"10\") never read; after "
              "\"done 400\" the client read \"%s\" instead of the end",
              r.sc.nlines >= 6 ? r.sc.lines[5] : "");
    WB_PROMISE("bound");
    WB_EXPECT(r.returned_ms >= 300 && r.returned_ms < 2500,
              "loop_run() should return once the last request is answered "
              "(400 ms after it began), within the grace of 3 s; it "
              "returned %ld ms after SIGTERM",
              r.returned_ms);
    server_done(&r);
}
END_TEST

static int script_grace(struct script *sc)
{
    int busy = client(sc->port);
    if (busy < 0)
        return 1;
    send_text(busy, "5000\n");
    note_line(sc, busy); /* start 5000 */
    sc->signal_at = wb_now_ns();
    kill(getpid(), SIGINT);
    note_line(sc, busy); /* end of file at the end of the grace */
    close(busy);
    return 0;
}

START_TEST(test_grace_is_a_bound)
{
    struct server_run r = {0};
    server_setup(&r, 200);
    server_run(&r, script_grace);
    expect_not_handled("SIGINT to a server");
    WB_PROMISE("bound");
    WB_EXPECT(closed(&r.sc, 1) && r.sc.ms[1] >= 150 && r.sc.ms[1] < 1200,
              "a request of 5 s still in flight when the grace of 200 ms "
              "is over should have its connection closed then, without "
              "its answer; the client read \"%s\" %ld ms after SIGINT",
              r.sc.nlines == 2 ? r.sc.lines[1] : "", r.sc.ms[1]);
    WB_EXPECT(r.returned_ms >= 0 && r.returned_ms < 1500,
              "loop_run() should return at the end of the grace (200 ms); "
              "it returned %ld ms after SIGINT",
              r.returned_ms);
    server_done(&r);
}
END_TEST

static int script_second(struct script *sc)
{
    int busy = client(sc->port);
    if (busy < 0)
        return 1;
    send_text(busy, "5000\n");
    note_line(sc, busy);
    kill(getpid(), SIGTERM);
    sc->refused_ms = until_refused(sc->port);
    sc->signal_at = wb_now_ns();
    kill(getpid(), SIGINT); /* the second: now */
    note_line(sc, busy);
    close(busy);
    return 0;
}

START_TEST(test_second_signal_closes_now)
{
    struct server_run r = {0};
    server_setup(&r, 5000);
    server_run(&r, script_second);
    expect_not_handled("SIGTERM then SIGINT to a server");
    WB_PROMISE("second-signal");
    WB_EXPECT(closed(&r.sc, 1) && r.sc.ms[1] < 500,
              "a second signal during the shutdown should close every "
              "connection at once; the client with a request in flight "
              "read \"%s\" %ld ms after it",
              r.sc.nlines == 2 ? r.sc.lines[1] : "", r.sc.ms[1]);
    WB_EXPECT(r.returned_ms >= 0 && r.returned_ms < 800,
              "after the second signal loop_run() should return at once; "
              "it returned %ld ms after",
              r.returned_ms);
    server_done(&r);
}
END_TEST

/* The limits of a request line: 10000 ms is the largest, a line of 63
 * bytes is served, one longer is not. */
static int script_limits(struct script *sc)
{
    int fd = client(sc->port);
    if (fd < 0)
        return 1;
    char line63[80];
    memset(line63, '0', 62);
    strcpy(line63 + 62, "5\n"); /* 63 bytes and the newline: "0...05" */
    send_text(fd, "10000\n10001\n");
    send_text(fd, line63);
    for (int i = 0; i < 4; i++)
        note_line(sc, fd);
    char line70[80];
    memset(line70, '7', 70);
    line70[70] = '\0'; /* 70 bytes and no newline yet: too long */
    send_text(fd, line70);
    note_line(sc, fd);
    close(fd);
    sc->signal_at = wb_now_ns();
    kill(getpid(), SIGTERM);
    return 0;
}

START_TEST(test_serve_limits)
{
    struct server_run r = {0};
    server_setup(&r, 1000);
    server_run(&r, script_limits);
    const char *want[] = {"start 10000", "error", "start 5", "done 5"};
    const char *why[] = {
        "10000 is the largest request allowed", "10001 is one too many",
        "a line of 63 bytes is not too long", "its 5 ms are over"};
    WB_PROMISE("serve");
    for (int i = 0; i < 4; i++)
        WB_EXPECT(i < r.sc.nlines && strcmp(r.sc.lines[i], want[i]) == 0,
                  "after \"10000\\n10001\\n\" and a line of 63 bytes "
                  "(\"000...05\"), line %d from the server should be "
                  "\"%s\" (%s); got \"%s\"",
                  i + 1, want[i], why[i], i < r.sc.nlines ? r.sc.lines[i] : "");
    WB_EXPECT(closed(&r.sc, 4),
              "a line longer than 63 bytes should get the client "
              "disconnected; after 70 bytes with no newline it read \"%s\"",
              r.sc.nlines >= 5 ? r.sc.lines[4] : "");
    server_done(&r);
}
END_TEST

/* Freed during its shutdown: the grace timer must go with it. */
struct stopper {
    int port;
    int pipe_w; /* a byte here stops the loop */
    int fail;
};

static void *stop_mid_shutdown(void *arg)
{
    struct stopper *st = arg;
    int fd = client(st->port);
    if (fd < 0) {
        st->fail = 1;
        return NULL;
    }
    char line[32];
    send_text(fd, "5000\n");
    read_line(fd, line, sizeof line); /* start 5000: in flight */
    kill(getpid(), SIGTERM);
    if (until_refused(st->port) < 0)
        st->fail = 2; /* the shutdown never began */
    if (write(st->pipe_w, "x", 1) != 1)
        st->fail = 3;
    read_line(fd, line, sizeof line); /* the end, at sigloop_server_free() */
    close(fd);
    return NULL;
}

static void on_stop_pipe(loop *l, int fd, int events, void *ctx)
{
    (void)events;
    (void)ctx;
    (void)loop_unwatch(l, fd);
    loop_stop(l);
}

START_TEST(test_free_during_shutdown)
{
    struct server_run r = {0};
    server_setup(&r, 600);
    int p[2];
    wb_pipe(p);
    ck_assert_int_eq(loop_watch(r.l, p[0], LOOP_READ, on_stop_pipe, NULL), 0);
    struct stopper st = {r.sc.port, p[1], 0};
    pthread_t t;
    ck_assert(pthread_create(&t, NULL, stop_mid_shutdown, &st) == 0);
    run_loop(r.l, 3000); /* until the shutdown began, with 5 s in flight */
    sigloop_server_free(r.srv);
    pthread_join(t, NULL);
    ck_assert_msg(st.fail == 0,
                  "the test's client could not do its part "
                  "(step %d)",
                  st.fail);
    long ms = run_loop(r.l, 0);
    WB_PROMISE("server-free");
    WB_EXPECT(ms < 300,
              "sigloop_server_free() during the shutdown (a grace of 600 ms "
              "running) should cancel the server's timers: the loop should "
              "have nothing left and loop_run() return at once; it ran %ld "
              "ms (the grace timer still pending, on a freed server?)",
              ms);
    sigloop_free(r.s);
    loop_free(r.l);
    close(p[0]);
    close(p[1]);
}
END_TEST

START_TEST(test_signal_before_the_loop_runs)
{
    struct server_run r = {0};
    server_setup(&r, 1000);
    raise(SIGTERM);
    expect_not_handled("SIGTERM before loop_run()");
    long ms = run_loop(r.l, 0);
    WB_PROMISE("signal-early");
    WB_EXPECT(ms < 500,
              "a SIGTERM that came before loop_run() should begin the "
              "shutdown in the first iteration, and with no client "
              "loop_run() returns; it ran %ld ms",
              ms);
    errno = 0;
    int gone = fcntl(r.lfd, F_GETFD) == -1 && errno == EBADF;
    WB_PROMISE("stop-accepting");
    WB_EXPECT(gone,
              "after the shutdown the listening socket should be "
              "closed; descriptor %d is still open",
              r.lfd);
    server_done(&r);
}
END_TEST

/* --- The server: arguments, line formats, ends of streams ----------------- */

START_TEST(test_server_arguments_and_descriptor_zero)
{
    loop *l;
    sigloop *s;
    setup(&l, &s);
    WB_PROMISE("bad-args");
    int port, lfd = listener(&port);
    struct {
        loop *l;
        sigloop *s;
        int fd;
        long grace;
        const char *what;
    } cases[] = {{NULL, s, lfd, 100, "a NULL loop"},
                 {l, NULL, lfd, 100, "a NULL sigloop"},
                 {l, s, -1, 100, "descriptor -1"},
                 {l, s, lfd, -1, "a grace of -1 ms"}};
    for (int i = 0; i < 4; i++) {
        errno = 0;
        sigloop_server *bad = sigloop_server_new(cases[i].l, cases[i].s,
                                                 cases[i].fd, cases[i].grace);
        int err = errno;
        WB_EXPECT(bad == NULL && err == EINVAL,
                  "sigloop_server_new() with %s should fail with EINVAL; got "
                  "%s with errno %s",
                  cases[i].what, bad == NULL ? "NULL" : "a server",
                  wb_errname(err));
        if (bad != NULL)
            sigloop_server_free(bad);
    }
    sigloop_server_shutdown(NULL); /* does nothing */
    WB_PROMISE("server-free");
    /* The listening socket on descriptor 0, a grace of 0: both allowed. */
    int saved0 = fcntl(0, F_DUPFD_CLOEXEC, 3);
    ck_assert_int_eq(dup2(lfd, 0), 0);
    close(lfd);
    errno = 0;
    sigloop_server *srv = sigloop_server_new(l, s, 0, 0);
    WB_EXPECT(srv != NULL,
              "sigloop_server_new() with a listening socket on descriptor 0 "
              "and a grace of 0 ms should work; got NULL%s",
              wb_errno_note(-1));
    int fl = fcntl(0, F_GETFL);
    WB_EXPECT(fl != -1 && (fl & O_NONBLOCK),
              "sigloop_server_new() should make the listening socket "
              "non-blocking; O_NONBLOCK is not set");
    sigloop_server_free(srv); /* before any shutdown */
    errno = 0;
    int gone = fcntl(0, F_GETFD) == -1 && errno == EBADF;
    WB_EXPECT(gone, "sigloop_server_free() before the shutdown should close "
                    "the listening socket (descriptor 0); it is still open");
    long ms = run_loop(l, 0);
    WB_EXPECT(ms < 500,
              "after sigloop_server_free() nothing of the server is watched: "
              "loop_run() should return at once; it ran %ld ms",
              ms);
    dup2(saved0, 0);
    close(saved0);
    sigloop_free(s);
    loop_free(l);
}
END_TEST

/* A client of its own, with room for many lines: sends its steps, reads
 * everything until the end of the connection. */
struct talk {
    int port;
    const char *steps[8]; /* sent one after the other, 30 ms apart */
    int shut_wr;          /* shutdown(SHUT_WR) after the last step */
    char lines[96][80];
    int n;
    int closed; /* the server closed the connection */
    long closed_ms;
    int fail;
};

static void *run_talk(void *arg)
{
    struct talk *t = arg;
    int fd = client(t->port);
    if (fd < 0) {
        t->fail = 1;
        return NULL;
    }
    for (int i = 0; i < 8 && t->steps[i] != NULL; i++) {
        if (i > 0)
            wb_sleep_ms(30);
        send_text(fd, t->steps[i]);
    }
    int64_t t0 = wb_now_ns();
    if (t->shut_wr)
        shutdown(fd, SHUT_WR);
    for (;;) {
        char line[80];
        read_line(fd, line, sizeof line);
        if (strcmp(line, "") == 0 || strcmp(line, "<reset>") == 0) {
            t->closed = 1;
            t->closed_ms = (long)((wb_now_ns() - t0) / 1000000);
            break;
        }
        if (strcmp(line, "?") == 0 || t->n == 96)
            break;
        snprintf(t->lines[t->n++], sizeof t->lines[0], "%s", line);
        if (strcmp(line, "done 250") == 0)
            kill(getpid(), SIGTERM); /* the last answer: shut down */
    }
    close(fd);
    kill(getpid(), SIGTERM); /* ends the loop, whatever happened */
    return NULL;
}

static void talk_run(struct talk *t, long grace)
{
    loop *l;
    sigloop *s;
    setup(&l, &s);
    int lfd = listener(&t->port);
    sigloop_server *srv = sigloop_server_new(l, s, lfd, grace);
    ck_assert(srv != NULL);
    pthread_t th;
    ck_assert(pthread_create(&th, NULL, run_talk, t) == 0);
    run_loop(l, 0);
    pthread_join(th, NULL);
    ck_assert_msg(t->fail == 0, "the test's client could not connect");
    sigloop_server_free(srv);
    sigloop_free(s);
    loop_free(l);
    WB_EXPECT(fcntl(0, F_GETFD) != -1 || errno != EBADF,
              "the server closed descriptor 0, which is not its own");
}

/* Where @p want is among the lines, or -1. */
static int line_at(const struct talk *t, const char *want)
{
    for (int i = 0; i < t->n; i++)
        if (strcmp(t->lines[i], want) == 0)
            return i;
    return -1;
}

START_TEST(test_line_formats)
{
    WB_PROMISE("serve");
    struct talk t = {0};
    /* One line split across two sends (10 bytes wait for the rest, which
     * comes with more than the buffer's room), lines that are not
     * numbers, a CRLF line, and the last answer (250 ms) that ends the
     * test. */
    static char many[200];
    strcpy(many, "2\n9\n5x\n+6\n 7\n8\r\n");
    for (int i = 0; i < 30; i++)
        strcat(many, "0\n");
    strcat(many, "250\n");
    t.steps[0] = "0000000001"; /* a piece of a line: 10 bytes wait */
    t.steps[1] = many;
    t.steps[2] = "3"; /* a line in two reads of 1 byte */
    t.steps[3] = "\n";
    talk_run(&t, 1000);
    const char *want[] = {"start 12", "start 9",   "error",
                          "error",    "error",     "start 8",
                          "start 3",  "start 250", "done 250"};
    for (int i = 0; i < 9; i++)
        WB_EXPECT(
            line_at(&t, want[i]) >= 0,
            "after \"0000000001\", then \"2\\n9\\n5x\\n+6\\n 7\\n8\\r\\n\", "
            "30 lines \"0\" and \"250\", then \"3\" and \"\\n\" (1 byte each), "
            "the server should have "
            "answered \"%s\" (the first two pieces are one line, 12; only "
            "digits make a number; a line may end with \\r\\n); it "
            "did not (%d lines: \"%s\", \"%s\", \"%s\", ...)",
            want[i], t.n, t.lines[0], t.n > 1 ? t.lines[1] : "",
            t.n > 2 ? t.lines[2] : "");
    int errors = 0, zeros = 0;
    for (int i = 0; i < t.n; i++) {
        errors += strcmp(t.lines[i], "error") == 0;
        zeros += strcmp(t.lines[i], "start 0") == 0;
    }
    WB_EXPECT(errors == 3 && zeros == 30,
              "\"5x\", \"+6\" and \" 7\" should get \"error\" (3 in all) and "
              "the 30 lines \"0\" \"start 0\"; got %d errors and %d \"start "
              "0\"",
              errors, zeros);
}
END_TEST

START_TEST(test_line_of_64_bytes)
{
    WB_PROMISE("serve");
    struct talk t = {0};
    static char line64[80];
    memset(line64, '0', 63);
    strcpy(line64 + 63, "5\n"); /* 64 bytes and the newline */
    t.steps[0] = "3\n";
    t.steps[1] = line64;
    talk_run(&t, 1000);
    WB_EXPECT(t.closed && line_at(&t, "start 5") < 0,
              "a line of 64 bytes is longer than 63: the client should be "
              "disconnected, with no answer to it; %s",
              t.closed ? "it got \"start 5\"" : "it was not disconnected");
}
END_TEST

START_TEST(test_end_of_stream_drops_requests)
{
    WB_PROMISE("serve");
    struct talk t = {0};
    t.steps[0] = "300\n";
    t.shut_wr = 1;
    talk_run(&t, 1000);
    WB_EXPECT(t.closed && t.closed_ms < 250 && line_at(&t, "done 300") < 0,
              "a client sent \"300\" and shut down its sending side: the "
              "server should disconnect it as soon as it reads the end, "
              "dropping the request in flight; the client %s after %ld ms%s",
              t.closed ? "was disconnected" : "was not disconnected",
              t.closed_ms,
              line_at(&t, "done 300") >= 0 ? ", with \"done 300\"" : "");
}
END_TEST

/* Two clients with two long requests each; the test's own timer (the
 * loop's first, 5 s away) must outlive the server; a byte on the pipe
 * stops the loop. */
struct pair_run {
    int port, pipe_w, fail;
    char end[2][16];
};

static void *two_busy(void *arg)
{
    struct pair_run *pr = arg;
    int fd[2];
    char line[32];
    for (int i = 0; i < 2; i++) {
        fd[i] = client(pr->port);
        if (fd[i] < 0) {
            pr->fail = 1;
            return NULL;
        }
        send_text(fd[i], "5000\n6000\n");
        read_line(fd[i], line, sizeof line);
        read_line(fd[i], line, sizeof line);
    }
    kill(getpid(), SIGTERM);
    for (int i = 0; i < 2; i++) {
        read_line(fd[i], pr->end[i], sizeof pr->end[i]);
        close(fd[i]);
    }
    if (write(pr->pipe_w, "x", 1) != 1)
        pr->fail = 2;
    return NULL;
}

static void on_caller_timer(loop *l, void *ctx)
{
    (void)l;
    (*(int *)ctx)++;
}

START_TEST(test_grace_closes_every_busy_connection)
{
    WB_PROMISE("bound");
    loop *l;
    sigloop *s;
    setup(&l, &s);
    int caller_ran = 0;
    long caller = loop_add_timer(l, 5000, on_caller_timer, &caller_ran);
    ck_assert(caller > 0);
    struct pair_run pr = {0};
    int lfd = listener(&pr.port);
    sigloop_server *srv = sigloop_server_new(l, s, lfd, 100);
    ck_assert(srv != NULL);
    int p[2];
    wb_pipe(p);
    pr.pipe_w = p[1];
    ck_assert_int_eq(loop_watch(l, p[0], LOOP_READ, on_stop_pipe, NULL), 0);
    pthread_t th;
    ck_assert(pthread_create(&th, NULL, two_busy, &pr) == 0);
    int rc = loop_run(l);
    pthread_join(th, NULL);
    ck_assert_msg(rc == 0 && pr.fail == 0,
                  "loop_run() failed or the client could not do its part");
    WB_EXPECT(
        closed(&(struct script){.nlines = 1, .lines = {{0}}}, 0) &&
            (strcmp(pr.end[0], "") == 0 || strcmp(pr.end[0], "<reset>") == 0) &&
            (strcmp(pr.end[1], "") == 0 || strcmp(pr.end[1], "<reset>") == 0),
        "two clients with two requests of 5 s and 6 s each: at the "
        "end of the grace (100 ms) both connections should be closed; "
        "they read \"%s\" and \"%s\"",
        pr.end[0], pr.end[1]);
    sigloop_server_free(srv);
    WB_PROMISE("server-free");
    WB_EXPECT(loop_cancel_timer(l, caller) == 0 && caller_ran == 0,
              "the test's own timer (added first, 5 s away) should still be "
              "pending after the shutdown and sigloop_server_free(): the "
              "server cancels its own timers only");
    close(p[0]);
    close(p[1]);
    sigloop_free(s);
    loop_free(l);
}
END_TEST

/* A client whose socket takes little: the server's answers pile up in
 * its own buffer and go out as the client reads them. */
struct slow {
    int port, fail;
    int starts, dones, others;
    int closed;
};

static void *slow_reader(void *arg)
{
    struct slow *sl = arg;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int small = 1;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    struct timeval tv = {3, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons((unsigned short)sl->port);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) == -1) {
        sl->fail = 1;
        close(fd);
        return NULL;
    }
    enum { N = 380 };
    static char reqs[2 * N + 1];
    for (int i = 0; i < N; i++)
        memcpy(reqs + 2 * i, "0\n", 2);
    send_text(fd, reqs);
    wb_sleep_ms(100); /* read nothing meanwhile */
    while (sl->starts + sl->dones + sl->others < 2 * N) {
        char line[32];
        read_line(fd, line, sizeof line);
        if (strcmp(line, "") == 0 || strcmp(line, "<reset>") == 0) {
            sl->closed = 1;
            break;
        }
        if (strcmp(line, "start 0") == 0)
            sl->starts++;
        else if (strcmp(line, "done 0") == 0)
            sl->dones++;
        else
            sl->others++;
        if (strcmp(line, "?") == 0)
            break;
    }
    kill(getpid(), SIGTERM);
    close(fd);
    return NULL;
}

START_TEST(test_answers_wait_for_a_slow_reader)
{
    WB_PROMISE("serve");
    loop *l;
    sigloop *s;
    setup(&l, &s);
    struct slow sl = {0};
    int lfd = listener(&sl.port);
    int small = 1; /* accepted sockets inherit a small send buffer */
    setsockopt(lfd, SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    sigloop_server *srv = sigloop_server_new(l, s, lfd, 1000);
    ck_assert(srv != NULL);
    pthread_t th;
    ck_assert(pthread_create(&th, NULL, slow_reader, &sl) == 0);
    run_loop(l, 0);
    pthread_join(th, NULL);
    ck_assert_msg(sl.fail == 0, "the test's client could not connect");
    WB_EXPECT(sl.starts == 380 && sl.dones == 380 && sl.others == 0 &&
                  !sl.closed,
              "a client sent 380 requests \"0\" and read nothing for 100 ms: "
              "5700 bytes of answers, more than its small socket buffers "
              "take (about 2 to 4.5 KiB here), so the rest, less than 4 KiB, "
              "waits in the server; then it read: it should get 380 "
              "\"start 0\" and 380 \"done 0\", every byte once, in order; it "
              "got %d and %d, %d other lines%s",
              sl.starts, sl.dones, sl.others,
              sl.closed ? ", and the server closed the connection" : "");
    sigloop_server_free(srv);
    sigloop_free(s);
    loop_free(l);
}
END_TEST

/* A request the server cannot start for want of memory: its own, then
 * the loop's (the timer's). */
struct nomem {
    int port, fail;
    char lines[9][32];
};

static void *nomem_client(void *arg)
{
    struct nomem *nm = arg;
    int fd = client(nm->port);
    if (fd < 0) {
        nm->fail = 1;
        return NULL;
    }
    send_text(fd, "0\n");
    read_line(fd, nm->lines[0], sizeof nm->lines[0]); /* start 0 */
    read_line(fd, nm->lines[1], sizeof nm->lines[1]); /* done 0 */
    wb_alloc_fail(1); /* the server's next allocation fails */
    send_text(fd, "5\n");
    read_line(fd, nm->lines[2], sizeof nm->lines[2]); /* error */
    wb_alloc_fail(0);
    send_text(fd, "6\n");
    read_line(fd, nm->lines[3], sizeof nm->lines[3]); /* start 6 */
    read_line(fd, nm->lines[4], sizeof nm->lines[4]); /* done 6 */
    wb_block_alloc_fail(1); /* the loop's next allocation fails */
    send_text(fd, "7\n");
    read_line(fd, nm->lines[5], sizeof nm->lines[5]); /* error */
    wb_block_alloc_fail(0);
    send_text(fd, "8\n");
    read_line(fd, nm->lines[6], sizeof nm->lines[6]); /* start 8 */
    read_line(fd, nm->lines[7], sizeof nm->lines[7]); /* done 8 */
    kill(getpid(), SIGTERM);
    read_line(fd, nm->lines[8], sizeof nm->lines[8]); /* the end */
    close(fd);
    return NULL;
}

START_TEST(test_request_without_memory)
{
    WB_PROMISE("serve");
    loop *l;
    sigloop *s;
    setup(&l, &s);
    struct nomem nm = {0};
    int lfd = listener(&nm.port);
    sigloop_server *srv = sigloop_server_new(l, s, lfd, 1000);
    ck_assert(srv != NULL);
    pthread_t th;
    ck_assert(pthread_create(&th, NULL, nomem_client, &nm) == 0);
    run_loop(l, 0);
    pthread_join(th, NULL);
    ck_assert_msg(nm.fail == 0, "the test's client could not connect");
    const char *want[] = {"start 0", "done 0", "error",   "start 6",
                          "done 6",  "error",  "start 8", "done 8"};
    for (int i = 0; i < 8; i++)
        WB_EXPECT(strcmp(nm.lines[i], want[i]) == 0,
                  "a request whose memory could not be allocated (\"5\": the "
                  "server's own; \"7\": the loop's, for its timer) should get "
                  "\"error\", and the next one be served as usual; line %d "
                  "should be \"%s\", got \"%s\"",
                  i + 1, want[i], nm.lines[i]);
    sigloop_server_free(srv);
    sigloop_free(s);
    loop_free(l);
}
END_TEST

/* A client whose connection gets a descriptor the loop refuses. */
struct refused {
    int port, fail;
    char line[32];
    long ms;
};

static void *refused_client(void *arg)
{
    struct refused *rf = arg;
    int fd = client(rf->port);
    if (fd < 0) {
        rf->fail = 1;
    } else {
        int64_t t0 = wb_now_ns();
        read_line(fd, rf->line, sizeof rf->line);
        rf->ms = (long)((wb_now_ns() - t0) / 1000000);
        close(fd);
    }
    kill(getpid(), SIGTERM);
    return NULL;
}

START_TEST(test_client_the_loop_refuses)
{
    WB_PROMISE("serve");
    loop *l;
    sigloop *s;
    setup(&l, &s);
    struct refused rf = {0};
    int lfd = listener(&rf.port);
    sigloop_server *srv = sigloop_server_new(l, s, lfd, 1000);
    ck_assert(srv != NULL);
    /* Every descriptor below FD_SETSIZE taken: the accepted connection
     * gets one above, which the loop of chapter 4 refuses. */
    static struct filled f;
    fill_below_fd_setsize(&f);
    pthread_t th;
    ck_assert(pthread_create(&th, NULL, refused_client, &rf) == 0);
    run_loop(l, 0);
    pthread_join(th, NULL);
    unfill(&f);
    ck_assert_msg(rf.fail == 0, "the test's client could not connect");
    WB_EXPECT((strcmp(rf.line, "") == 0 || strcmp(rf.line, "<reset>") == 0) &&
                  rf.ms < 1000,
              "a connection the loop cannot watch (its descriptor is above "
              "FD_SETSIZE) should be closed at once, and the server go on; "
              "the client read \"%s\" after %ld ms",
              rf.line, rf.ms);
    sigloop_server_free(srv);
    sigloop_free(s);
    loop_free(l);
}
END_TEST

/* A client that resets its connection while the shutdown waits for its
 * request: the server's answer then fails to go out. */
struct resetter {
    int port, fail;
    int64_t reset_at;
};

static void *reset_in_drain(void *arg)
{
    struct resetter *rs = arg;
    int fd = client(rs->port);
    if (fd < 0) {
        rs->fail = 1;
        return NULL;
    }
    char line[32];
    send_text(fd, "400\n");
    read_line(fd, line, sizeof line); /* start 400: in flight */
    kill(getpid(), SIGTERM);
    if (until_refused(rs->port) < 0)
        rs->fail = 2;
    struct linger lg = {1, 0}; /* close() resets the connection */
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(fd);
    rs->reset_at = wb_now_ns();
    return NULL;
}

START_TEST(test_answer_to_a_reset_connection)
{
    WB_PROMISE("bound");
    loop *l;
    sigloop *s;
    setup(&l, &s);
    struct resetter rs = {0};
    int lfd = listener(&rs.port);
    sigloop_server *srv = sigloop_server_new(l, s, lfd, 3000);
    ck_assert(srv != NULL);
    pthread_t th;
    ck_assert(pthread_create(&th, NULL, reset_in_drain, &rs) == 0);
    run_loop(l, 0);
    int64_t end = wb_now_ns();
    pthread_join(th, NULL);
    ck_assert_msg(rs.fail == 0,
                  "the test's client could not do its part (step %d)", rs.fail);
    /* Held up past the 400 ms (a very busy machine), the client resets
     * after the answer, the connection is closed at its last answer, and
     * loop_run() returns before the reset: nothing to see then. */
    long ms = (long)((end - rs.reset_at) / 1000000);
    WB_EXPECT(ms < 1500,
              "a client reset its connection while the shutdown (a grace of "
              "3 s) waited for its request (400 ms): the answer cannot be "
              "sent (EPIPE, ECONNRESET), so the connection is closed, and "
              "with it the last one: loop_run() should return then, not at "
              "the end of the grace; it returned %ld ms after the reset",
              ms);
    sigloop_server_free(srv);
    sigloop_free(s);
    loop_free(l);
}
END_TEST

/* A client that stays connected and idle. */
struct idler {
    int port, fail;
    long selects;
};

static void *idle_client(void *arg)
{
    struct idler *id = arg;
    int fd = client(id->port);
    if (fd < 0) {
        id->fail = 1;
    } else {
        char line[32];
        send_text(fd, "0\n");
        read_line(fd, line, sizeof line);
        read_line(fd, line, sizeof line); /* served: idle from now on */
        long before = wb_select_calls();
        wb_sleep_ms(200);
        id->selects = wb_select_calls() - before;
        close(fd);
    }
    kill(getpid(), SIGTERM);
    return NULL;
}

START_TEST(test_idle_connection_does_not_spin)
{
    WB_PROMISE("serve");
    loop *l;
    sigloop *s;
    setup(&l, &s);
    struct idler id = {0};
    int lfd = listener(&id.port);
    sigloop_server *srv = sigloop_server_new(l, s, lfd, 1000);
    ck_assert(srv != NULL);
    pthread_t th;
    ck_assert(pthread_create(&th, NULL, idle_client, &id) == 0);
    run_loop(l, 0);
    pthread_join(th, NULL);
    ck_assert_msg(id.fail == 0, "the test's client could not connect");
    WB_EXPECT(id.selects < 20,
              "a client connected and idle for 200 ms, nothing to send to "
              "it: the loop should sleep in select() (watch the connection "
              "for writing only while answers wait); it called select() %ld "
              "times",
              id.selects);
    sigloop_server_free(srv);
    sigloop_free(s);
    loop_free(l);
}
END_TEST

/* A signal the program handles interrupts the loop's select() (EINTR);
 * errno keeps that value through calls that succeed. Each signal is sent
 * while the server waits in select(): 20 ms after it accepted or sent
 * its last answer, 50 ms into a request of 150 ms. */
struct stale {
    int port, fail;
    char lines[5][32];
};

static void *stale_errno_client(void *arg)
{
    struct stale *st = arg;
    int fd = client(st->port);
    if (fd < 0) {
        st->fail = 1;
        kill(getpid(), SIGTERM);
        return NULL;
    }
    wb_sleep_ms(20); /* accepted: the loop waits in select() */
    pthread_kill(main_thread, SIGUSR2);
    wb_sleep_ms(20);
    send_text(fd, "5\n"); /* read with errno at EINTR */
    read_line(fd, st->lines[0], sizeof st->lines[0]); /* start 5 */
    read_line(fd, st->lines[1], sizeof st->lines[1]); /* done 5 */
    send_text(fd, "150\n");
    read_line(fd, st->lines[2], sizeof st->lines[2]); /* start 150 */
    wb_sleep_ms(50);
    pthread_kill(main_thread, SIGUSR2); /* "done 150" goes out after it */
    read_line(fd, st->lines[3], sizeof st->lines[3]); /* done 150 */
    wb_sleep_ms(20);
    pthread_kill(main_thread, SIGUSR2);
    wb_sleep_ms(20);
    shutdown(fd, SHUT_WR); /* the end of the stream, read after EINTR */
    read_line(fd, st->lines[4], sizeof st->lines[4]);
    close(fd);
    kill(getpid(), SIGTERM);
    return NULL;
}

START_TEST(test_stale_errno_after_a_signal)
{
    WB_PROMISE("serve");
    loop *l;
    sigloop *s;
    setup(&l, &s); /* SIGUSR2 has a handler, without SA_RESTART */
    struct stale st = {0};
    int lfd = listener(&st.port);
    sigloop_server *srv = sigloop_server_new(l, s, lfd, 1000);
    ck_assert(srv != NULL);
    pthread_t th;
    ck_assert(pthread_create(&th, NULL, stale_errno_client, &st) == 0);
    run_loop(l, 0);
    pthread_join(th, NULL);
    ck_assert_msg(st.fail == 0, "the test's client could not connect");
    WB_EXPECT(strcmp(st.lines[0], "start 5") == 0 &&
                  strcmp(st.lines[1], "done 5") == 0 &&
                  strcmp(st.lines[2], "start 150") == 0 &&
                  strcmp(st.lines[3], "done 150") == 0 &&
                  (strcmp(st.lines[4], "") == 0 ||
                   strcmp(st.lines[4], "<reset>") == 0),
              "handled signals interrupted the loop's select() (EINTR): "
              "before the client sent \"5\", during its request \"150\", "
              "and before it ended its stream: it should read \"start 5\", "
              "\"done 5\", \"start 150\", \"done 150\", then the end; it "
              "read \"%s\", \"%s\", \"%s\", \"%s\", \"%s\". errno is only "
              "meaningful after a call that failed: test the return value "
              "first",
              st.lines[0], st.lines[1], st.lines[2], st.lines[3], st.lines[4]);
    sigloop_server_free(srv);
    sigloop_free(s);
    loop_free(l);
}
END_TEST

/* A client that sends and never reads: its answers pile up past 4 KiB. */
struct piler {
    int port, fail;
    char line[32];
    long ms;
};

static void *pile_up(void *arg)
{
    struct piler *pl = arg;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int small = 1;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    struct timeval tv = {3, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons((unsigned short)pl->port);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) == -1) {
        pl->fail = 1;
    } else {
        enum { N = 1000 };
        static char reqs[2 * N + 1];
        for (int i = 0; i < N; i++)
            memcpy(reqs + 2 * i, "0\n", 2);
        send_text(fd, reqs);
        wb_sleep_ms(100);
        /* Read until the end: what the kernel held, then the end. */
        int64_t t0 = wb_now_ns();
        for (int i = 0; i < 2 * N; i++) {
            read_line(fd, pl->line, sizeof pl->line);
            if (strcmp(pl->line, "") == 0 || strcmp(pl->line, "<reset>") == 0 ||
                strcmp(pl->line, "?") == 0)
                break;
        }
        pl->ms = (long)((wb_now_ns() - t0) / 1000000);
    }
    close(fd);
    kill(getpid(), SIGTERM);
    return NULL;
}

START_TEST(test_answers_piling_up_disconnect)
{
    WB_PROMISE("serve");
    loop *l;
    sigloop *s;
    setup(&l, &s);
    struct piler pl = {0};
    int lfd = listener(&pl.port);
    int small = 1;
    setsockopt(lfd, SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    sigloop_server *srv = sigloop_server_new(l, s, lfd, 1000);
    ck_assert(srv != NULL);
    pthread_t th;
    ck_assert(pthread_create(&th, NULL, pile_up, &pl) == 0);
    run_loop(l, 0);
    pthread_join(th, NULL);
    ck_assert_msg(pl.fail == 0, "the test's client could not connect");
    WB_EXPECT(strcmp(pl.line, "") == 0 || strcmp(pl.line, "<reset>") == 0,
              "a client sent 1000 requests and read nothing: 15000 bytes of "
              "answers, far more than 4 KiB pile up, so it should be "
              "disconnected; reading what was sent to it, it got \"%s\" "
              "instead of the end (after %ld ms)",
              pl.line, pl.ms);
    sigloop_server_free(srv);
    sigloop_free(s);
    loop_free(l);
}
END_TEST

/* Answers that go out a byte at a time, each byte after a send() that
 * fails with EAGAIN (send_dripping()), while serving; then,
 * during the shutdown, a last answer after a send() that failed, with a
 * request the client sent after the shutdown began waiting unread. */
struct dripper {
    int port, fail, n;
    char lines[8][32];
    long end_ms; /* from SIGTERM to the end of the connection */
};

static void drip_line(struct dripper *d, int fd)
{
    if (d->n < 8) {
        read_line(fd, d->lines[d->n], sizeof d->lines[0]);
        d->n++;
    }
}

static void *drip_client(void *arg)
{
    struct dripper *d = arg;
    int fd = client(d->port);
    if (fd < 0) {
        d->fail = 1;
        kill(getpid(), SIGTERM);
        return NULL;
    }
    struct timeval tv = {1, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    send_dripping();
    send_text(fd, "0\n20\n");
    for (int i = 0; i < 4; i++)
        drip_line(d, fd); /* start 0, start 20, done 0, done 20 */
    send_text(fd, "100\n");
    drip_line(d, fd); /* start 100: in flight */
    /* Whole answers from now on: 1 byte at a time, the last ones could
     * wait for the client's acknowledgements (Nagle's algorithm) and be
     * lost in the reset the bytes left unread bring at the close. */
    send_balking();
    int64_t t0 = wb_now_ns();
    kill(getpid(), SIGTERM);
    if (until_refused(d->port) < 0)
        d->fail = 2;
    send_text(fd, "7\n"); /* after the shutdown began: never read */
    drip_line(d, fd);     /* done 100 */
    drip_line(d, fd);     /* the end */
    d->end_ms = (long)((wb_now_ns() - t0) / 1000000);
    close(fd);
    return NULL;
}

START_TEST(test_answers_in_drips)
{
    loop *l;
    sigloop *s;
    setup(&l, &s);
    struct dripper d = {0};
    int lfd = listener(&d.port);
    sigloop_server *srv = sigloop_server_new(l, s, lfd, 2000);
    ck_assert(srv != NULL);
    pthread_t th;
    ck_assert(pthread_create(&th, NULL, drip_client, &d) == 0);
    run_loop(l, 0);
    pthread_join(th, NULL);
    send_as_is();
    ck_assert_msg(d.fail == 0,
                  "the test's client could not do its part "
                  "(step %d)",
                  d.fail);
    const char *want[] = {"start 0",   "start 20", "done 0",   "done 20",
                          "start 100", "done 100", "<the end>"};
    for (int i = 0; i < 7; i++) {
        int ok =
            i < 6 ? strcmp(d.lines[i], want[i]) == 0 : closed_line(d.lines[i]);
        if (i == 0)
            WB_PROMISE("serve");
        if (i == 4)
            WB_PROMISE("finish-in-flight");
        WB_EXPECT(ok,
                  "the server's send() failed with EAGAIN every other call "
                  "(a socket with room for little) and, before SIGTERM, "
                  "moved 1 byte the other times: the answers should still "
                  "go out, every byte once and in order, and the request "
                  "\"7\" sent after SIGTERM never be read (not even when "
                  "the connection becomes writable); after \"0\\n20\\n\", "
                  "\"100\\n\", SIGTERM and \"7\\n\", line %d should be "
                  "\"%s\"; got \"%s\"",
                  i + 1, want[i], d.lines[i]);
    }
    WB_PROMISE("bound");
    WB_EXPECT(d.end_ms < 1000,
              "the last answer out, the connection should be closed and "
              "the shutdown end, well before its grace of 2 s; the client "
              "saw the end %ld ms after SIGTERM",
              d.end_ms);
    sigloop_server_free(srv);
    sigloop_free(s);
    loop_free(l);
}
END_TEST

/* A server freed during its shutdown while an answer waits, unsent (the
 * server's send() fails with EAGAIN, send_held()), with the grace timer the
 * loop's first: nothing of the server may stay on the loop. */
START_TEST(test_free_with_an_answer_held)
{
    WB_PROMISE("server-free");
    loop *l;
    sigloop *s;
    setup(&l, &s);
    int port, lfd = listener(&port);
    sigloop_server *srv = sigloop_server_new(l, s, lfd, 1000);
    ck_assert(srv != NULL);
    int fd = client(port);
    ck_assert_msg(fd >= 0, "the test could not connect");
    send_text(fd, "x\n"); /* "error": no request, so no timer */
    stop_at_refusal();
    send_held();
    /* Stopped by the first refused send(), or by the answer if it came
     * another way. */
    ck_assert_int_eq(loop_watch(l, fd, LOOP_READ, on_stop_pipe, NULL), 0);
    run_loop(l, 0);
    (void)loop_unwatch(l, fd);
    sigloop_server_shutdown(srv); /* its grace timer: the loop's first */
    sigloop_server_free(srv);
    send_as_is();
    long ms = run_loop(l, 0);
    WB_EXPECT(ms < 300,
              "sigloop_server_free() during the shutdown, with an answer "
              "still waiting to go out (send() said EAGAIN) and the grace "
              "timer the loop's only timer, should cancel that timer: "
              "loop_run() should then return at once; it ran %ld ms",
              ms);
    char line[32];
    read_line(fd, line, sizeof line);
    if (strcmp(line, "error") == 0)
        read_line(fd, line, sizeof line);
    WB_EXPECT(closed_line(line),
              "sigloop_server_free() should close every connection; the "
              "client read \"%s\" instead of the end",
              line);
    close(fd);
    sigloop_free(s);
    loop_free(l);
}
END_TEST

/* Answers that pile up past 4 KiB in the server, because its send()
 * fails with EAGAIN (send_held()): first while it reads a client's
 * requests, then when the answers to requests in flight come during the
 * shutdown. */
struct held {
    int port, fail;
    char first[32], last[32];
    char other[3][32]; /* what the other client read */
    int starts, early; /* "start 600" read, and "done 600" before SIGTERM */
    long end_ms;       /* from SIGTERM to the second client's end */
    int64_t signal_at; /* when the client sent SIGTERM */
};

static void *held_client(void *arg)
{
    struct held *h = arg;
    static char zeros[2 * 600 + 1], batch[4 * 115 + 1];
    for (int i = 0; i < 600; i++)
        memcpy(zeros + 2 * i, "0\n", 2);
    for (int i = 0; i < 115; i++)
        memcpy(batch + 4 * i, "600\n", 4);
    int a = client(h->port);
    if (a < 0) {
        h->fail = 1;
        kill(getpid(), SIGTERM);
        return NULL;
    }
    send_held();
    send_text(a, zeros); /* 600 "start 0", 4800 bytes: too many */
    read_line(a, h->first, sizeof h->first);
    close(a);
    send_as_is();
    /* Two clients at once now: each connection its own. */
    int b = client(h->port), other = client(h->port);
    if (b < 0 || other < 0) {
        h->fail = 2;
        if (b >= 0)
            close(b);
        if (other >= 0)
            close(other);
        kill(getpid(), SIGTERM);
        return NULL;
    }
    send_text(other, "1\n");
    read_line(other, h->other[0], sizeof h->other[0]); /* start 1 */
    read_line(other, h->other[1], sizeof h->other[1]); /* done 1 */
    /* 460 requests of 600 ms, 115 at a time (1150 bytes of answers). */
    for (int i = 0; i < 4; i++) {
        send_text(b, batch);
        for (int j = 0; j < 115; j++) {
            char line[32];
            read_line(b, line, sizeof line);
            h->starts += strcmp(line, "start 600") == 0;
            h->early += strcmp(line, "done 600") == 0;
        }
    }
    /* Their 460 "done 600", 4140 bytes, will find no room. */
    send_held();
    h->signal_at = wb_now_ns();
    kill(getpid(), SIGTERM);
    read_line(b, h->last, sizeof h->last);
    h->end_ms = (long)((wb_now_ns() - h->signal_at) / 1000000);
    read_line(other, h->other[2], sizeof h->other[2]); /* the end */
    close(b);
    close(other);
    return NULL;
}

START_TEST(test_answers_held_past_4_kib)
{
    WB_PROMISE("serve");
    loop *l;
    sigloop *s;
    setup(&l, &s);
    struct held h = {0};
    int lfd = listener(&h.port);
    sigloop_server *srv = sigloop_server_new(l, s, lfd, 3000);
    ck_assert(srv != NULL);
    pthread_t th;
    ck_assert(pthread_create(&th, NULL, held_client, &h) == 0);
    run_loop(l, 0);
    int64_t end = wb_now_ns();
    pthread_join(th, NULL); /* h.signal_at read only after it */
    long returned_ms = (long)((end - h.signal_at) / 1000000);
    send_as_is();
    ck_assert_msg(h.fail == 0, "the test's client could not connect (step %d)",
                  h.fail);
    WB_EXPECT(closed_line(h.first),
              "a client sent 600 requests \"0\" while the server's send() "
              "failed with EAGAIN: their answers pile up past 4 KiB, so it "
              "should be disconnected; it read \"%s\" instead of the end",
              h.first);
    WB_EXPECT(h.starts == 460 && strcmp(h.other[0], "start 1") == 0 &&
                  strcmp(h.other[1], "done 1") == 0,
              "after that disconnect the server should go on: of two new "
              "clients, one sent \"1\" and should read \"start 1\" and "
              "\"done 1\" (it read \"%s\" and \"%s\"), the other 460 "
              "requests \"600\", 115 at a time, and should get 460 \"start "
              "600\" (it got %d%s)",
              h.other[0], h.other[1], h.starts,
              h.early > 0 ? ", and answers \"done 600\" already: the test "
                            "was held up 600 ms, the machine is very busy?"
                          : "");
    WB_PROMISE("bound");
    WB_EXPECT(closed_line(h.last) && h.end_ms < 1500 && returned_ms < 1500,
              "the second client's 460 answers \"done 600\" (4140 bytes) "
              "came during the shutdown while send() failed with EAGAIN: "
              "past 4 KiB the client should be disconnected, and with that "
              "last connection closed loop_run() should return, well "
              "before the grace of 3 s; the client read \"%s\" %ld ms after "
              "SIGTERM, and loop_run() returned %ld ms after it",
              h.last, h.end_ms, returned_ms);
    WB_PROMISE("close-idle");
    WB_EXPECT(closed_line(h.other[2]),
              "the client with nothing in flight should be closed at "
              "SIGTERM; it read \"%s\" instead of the end",
              h.other[2]);
    sigloop_server_free(srv);
    sigloop_free(s);
    loop_free(l);
}
END_TEST

Suite *wb_suite(void)
{
    Suite *s = wb_begin("sigloop", "chapters/06-beyond/chapter.md");
    WB_ADD(s, test_signal_before_run, "Signals in the loop");
    WB_ADD(s, test_term_and_int, "Signals in the loop");
    WB_ADD(s, test_from_another_thread, "Signals in the loop");
    WB_ADD(s, test_again_after_callback, "Signals in the loop");
    WB_ADD(s, test_unwatch_keeps_it_blocked, "Signals in the loop");
    WB_ADD(s, test_rewatch_replaces, "Signals in the loop");
    WB_ADD(s, test_free_restores_the_mask, "Signals in the loop");
    WB_ADD(s, test_bad_arguments, "Signals in the loop");
    WB_ADD(s, test_serve, "A graceful shutdown");
    WB_ADD(s, test_serve_limits, "A graceful shutdown");
    WB_ADD(s, test_free_during_shutdown, "A graceful shutdown");
    WB_ADD_TIMEOUT(s, test_shutdown_finishes_in_flight, "A graceful shutdown",
                   4.0);
    WB_ADD(s, test_grace_is_a_bound, "A graceful shutdown");
    WB_ADD(s, test_second_signal_closes_now, "A graceful shutdown");
    WB_ADD(s, test_signal_before_the_loop_runs, "A graceful shutdown");
    WB_ADD(s, test_signal_one_and_out_of_range, "Signals in the loop");
    WB_ADD(s, test_unwatched_signal_stays_for_the_caller,
           "Signals in the loop");
    WB_ADD(s, test_free_discards_at_once, "Signals in the loop");
    WB_ADD(s, test_failures_change_nothing, "Signals in the loop");
    WB_ADD(s, test_server_arguments_and_descriptor_zero, "A graceful shutdown");
    WB_ADD(s, test_line_formats, "A graceful shutdown");
    WB_ADD(s, test_line_of_64_bytes, "A graceful shutdown");
    WB_ADD(s, test_end_of_stream_drops_requests, "A graceful shutdown");
    WB_ADD(s, test_grace_closes_every_busy_connection, "A graceful shutdown");
    WB_ADD(s, test_answers_wait_for_a_slow_reader, "A graceful shutdown");
    WB_ADD(s, test_request_without_memory, "A graceful shutdown");
    WB_ADD(s, test_client_the_loop_refuses, "A graceful shutdown");
    WB_ADD_TIMEOUT(s, test_answer_to_a_reset_connection, "A graceful shutdown",
                   6.0);
    WB_ADD(s, test_idle_connection_does_not_spin, "A graceful shutdown");
    WB_ADD(s, test_stale_errno_after_a_signal, "A graceful shutdown");
    WB_ADD(s, test_answers_piling_up_disconnect, "A graceful shutdown");
    WB_ADD_TIMEOUT(s, test_answers_in_drips, "A graceful shutdown", 5.0);
    WB_ADD(s, test_free_with_an_answer_held, "A graceful shutdown");
    WB_ADD_TIMEOUT(s, test_answers_held_past_4_kib, "A graceful shutdown", 6.0);
    return s;
}
