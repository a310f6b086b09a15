/*
 * Tests of etfair (exercises/06-beyond/etfair.h): fair edge-triggered
 * reading.
 *
 * Clients are UNIX socket pairs: the etfair reads one end (made
 * non-blocking), the test writes into the other. A flood is made
 * deterministic rather than raced: the flooder's callback writes back
 * into its peer as many bytes as it was given, so its socket is never
 * drained while the flood lasts (2 MiB), whoever the scheduler favours.
 * Fairness is then counted in bytes, not timed: how many bytes of the
 * flood the reader took before another client's line got through.
 *
 * The test defines epoll_wait() and epoll_pwait() itself and counts
 * them, so that "sleeps, does not spin" is counted too.
 *
 * Linux only (epoll): defines _GNU_SOURCE.
 */
#define _GNU_SOURCE
#include "wb.h"
#include "fdlimit.h"
#include "etfair.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define MS 1000000LL /* nanoseconds */

/* --- epoll_wait(), counted ------------------------------------------------ */

static atomic_long epoll_waits;
static int wait_fails_with; /* the next epoll_wait() fails with it; 0: none */

int epoll_wait(int epfd, struct epoll_event *events, int maxevents, int timeout)
{
    static int (*real)(int, struct epoll_event *, int, int);
    atomic_fetch_add(&epoll_waits, 1);
    if (wait_fails_with != 0) {
        errno = wait_fails_with;
        wait_fails_with = 0;
        return -1;
    }
    if (real == NULL) {
        void *sym = dlsym(RTLD_NEXT, "epoll_wait");
        if (sym == NULL) {
            errno = ENOSYS;
            return -1;
        }
        memcpy(&real, &sym, sizeof real);
    }
    return real(epfd, events, maxevents, timeout);
}

int epoll_pwait(int epfd, struct epoll_event *events, int maxevents,
                int timeout, const sigset_t *mask)
{
    static int (*real)(int, struct epoll_event *, int, int, const sigset_t *);
    atomic_fetch_add(&epoll_waits, 1);
    if (real == NULL) {
        void *sym = dlsym(RTLD_NEXT, "epoll_pwait");
        if (sym == NULL) {
            errno = ENOSYS;
            return -1;
        }
        memcpy(&real, &sym, sizeof real);
    }
    return real(epfd, events, maxevents, timeout, mask);
}

/* --- Clients -------------------------------------------------------------- */

/* What one client's callback saw. */
struct client {
    int fd, peer; /* the etfair reads fd; the test writes into peer */
    size_t bytes; /* delivered */
    int calls, eofs, errors, last_error;
    int after_end;        /* callbacks after an end of file or error */
    unsigned long round;  /* the round of the last callback */
    size_t round_bytes;   /* bytes delivered in that round */
    size_t max_round;     /* the most bytes delivered in one round */
    unsigned char next;   /* the byte the pattern expects next */
    int pattern_broken;   /* a byte came out of order */
    int lines;            /* newlines delivered */
    size_t flood_at_line; /* the flood's bytes when the last line came */
    size_t refill_left;   /* flooder: bytes still to write back */
    struct client *flood; /* the flooder, for the quiet clients */
    etfair *end_r;        /* the etfair and descriptor the callback was */
    int end_fd;           /* given with n <= 0 */
    int remove_other;     /* remove this client's fd on the first call */
    int remove_other_rc;
};

static unsigned long round_no; /* counted by the test, for the callbacks */

static void make_client(struct client *c)
{
    memset(c, 0, sizeof *c);
    int sv[2];
    int rc = socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv);
    WB_EXPECT(rc == 0, "socketpair() failed%s", wb_errno_note(rc));
    ck_assert_int_eq(fcntl(sv[0], F_SETFL, O_NONBLOCK), 0);
    c->fd = sv[0];
    c->peer = sv[1];
    c->remove_other = -1;
}

static void close_client(struct client *c)
{
    if (c->fd >= 0)
        close(c->fd);
    if (c->peer >= 0)
        close(c->peer);
}

/* The test's bytes follow a pattern, so that a byte delivered twice,
 * lost or out of order shows. */
static void write_pattern(struct client *c, size_t n, unsigned char *from)
{
    unsigned char buf[4096];
    while (n > 0) {
        size_t k = n < sizeof buf ? n : sizeof buf;
        for (size_t i = 0; i < k; i++)
            buf[i] = (*from)++;
        ck_assert_int_eq(write(c->peer, buf, k), (ssize_t)k);
        n -= k;
    }
}

static void write_text(struct client *c, const char *text)
{
    size_t n = strlen(text);
    ck_assert_int_eq(write(c->peer, text, n), (ssize_t)n);
}

static void count(struct client *c, ssize_t n)
{
    if (c->eofs || c->errors)
        c->after_end++;
    c->calls++;
    if (c->round != round_no) {
        c->round = round_no;
        c->round_bytes = 0;
    }
    if (n > 0) {
        c->bytes += (size_t)n;
        c->round_bytes += (size_t)n;
        if (c->round_bytes > c->max_round)
            c->max_round = c->round_bytes;
    } else if (n == 0) {
        c->eofs++;
    } else {
        c->errors++;
        c->last_error = (int)-n;
    }
}

/* Checks that the bytes follow the pattern. */
static void on_pattern(etfair *r, int fd, const char *data, ssize_t n,
                       void *ctx)
{
    (void)r;
    (void)fd;
    struct client *c = ctx;
    count(c, n);
    for (ssize_t i = 0; i < n; i++)
        if ((unsigned char)data[i] != c->next++)
            c->pattern_broken = 1;
}

/* Counts lines, and how much of the flood had been read at each. */
static void on_lines(etfair *r, int fd, const char *data, ssize_t n, void *ctx)
{
    struct client *c = ctx;
    count(c, n);
    if (n <= 0) {
        c->end_r = r;
        c->end_fd = fd;
    }
    for (ssize_t i = 0; i < n; i++)
        if (data[i] == '\n' && ++c->lines > 0 && c->flood != NULL)
            c->flood_at_line = c->flood->bytes;
    if (c->remove_other >= 0 && c->calls == 1)
        c->remove_other_rc = etfair_remove(r, c->remove_other);
}

/* The flooder: every byte read is written again into its peer, until
 * refill_left runs out, so the socket is never drained until then. */
static void on_flood(etfair *r, int fd, const char *data, ssize_t n, void *ctx)
{
    (void)r;
    (void)fd;
    struct client *c = ctx;
    count(c, n);
    size_t k = n > 0 ? (size_t)n : 0;
    if (k > c->refill_left)
        k = c->refill_left;
    while (k > 0) {
        ssize_t w = write(c->peer, data, k);
        if (w <= 0)
            break; /* full: what the socket holds keeps it readable */
        c->refill_left -= (size_t)w;
        k -= (size_t)w;
    }
}

static etfair *new_etfair(size_t budget)
{
    etfair *r = etfair_new(budget);
    WB_EXPECT(r != NULL,
              "etfair_new(%zu) should return an etfair; got "
              "NULL%s",
              budget, wb_errno_note(-1));
    return r;
}

static void add_ok(etfair *r, struct client *c, etfair_cb cb)
{
    int rc = etfair_add(r, c->fd, cb, c);
    WB_EXPECT(rc == 0, "etfair_add(r, %d, ...) should return 0; got %d%s",
              c->fd, rc, wb_errno_note(rc));
}

static int round_ok(etfair *r, int timeout_ms)
{
    round_no++;
    int rc = etfair_round(r, timeout_ms);
    WB_EXPECT(rc >= 0,
              "etfair_round(r, %d) should return 0 or more; got "
              "%d%s",
              timeout_ms, rc, wb_errno_note(rc));
    return rc;
}

/* --- Draining ------------------------------------------------------------- */

START_TEST(test_drains_everything)
{
    WB_PROMISE("drain");
    enum { SIZE = 48 * 1024 };
    etfair *r = new_etfair(1 << 20);
    struct client c;
    make_client(&c);
    unsigned char from = 0;
    write_pattern(&c, SIZE, &from);
    add_ok(r, &c, on_pattern);
    int64_t start = wb_now_ns();
    for (int i = 0; i < 10 && c.bytes < SIZE; i++)
        round_ok(r, 50);
    WB_EXPECT(c.bytes == SIZE && !c.pattern_broken,
              "a socket held %d bytes (more than one read() takes) when it "
              "was added, with a budget of 1 MiB: all of them should be "
              "delivered, in order, with no new data sent; after %lld ms, "
              "%zu were%s. An edge-triggered reader must read until "
              "EAGAIN: epoll says nothing more about bytes left behind",
              SIZE, (long long)((wb_now_ns() - start) / MS), c.bytes,
              c.pattern_broken ? ", and some came out of order" : "");
    etfair_free(r);
    close_client(&c);
}
END_TEST

/* --- Budget and carry-over ------------------------------------------------ */

START_TEST(test_budget_carries_over)
{
    WB_PROMISE("budget");
    enum { BUDGET = 1000, SIZE = 10 * BUDGET };
    etfair *r = new_etfair(BUDGET);
    struct client c;
    make_client(&c);
    unsigned char from = 0;
    write_pattern(&c, SIZE, &from);
    add_ok(r, &c, on_pattern);
    int rounds = 0, last = -1;
    int64_t start = wb_now_ns();
    while (c.bytes < SIZE && rounds < 30 && wb_now_ns() - start < 1000 * MS) {
        last = round_ok(r, 500);
        rounds++;
        WB_PROMISE("budget");
        WB_EXPECT(c.max_round <= BUDGET,
                  "with a budget of %d bytes, round %d delivered %zu bytes "
                  "from one descriptor",
                  BUDGET, rounds, c.max_round);
    }
    int64_t took = wb_now_ns() - start;
    WB_PROMISE("carry");
    WB_EXPECT(c.bytes == SIZE && !c.pattern_broken && took < 400 * MS,
              "a socket held %d bytes, the budget is %d: %d rounds should "
              "deliver them all, each at once (the descriptor still has "
              "data, no edge will come, so the round must not wait for "
              "one); after %d rounds and %lld ms, %zu bytes were "
              "delivered%s. Keep a descriptor whose budget ran out on a "
              "ready list of your own",
              SIZE, BUDGET, SIZE / BUDGET, rounds, (long long)(took / MS),
              c.bytes, c.pattern_broken ? ", some out of order" : "");
    WB_EXPECT(last >= 0, "etfair_round() failed");

    /* Drained now: the next round finds EAGAIN and returns 0; the one
     * after that waits for its whole timeout. */
    int left = round_ok(r, 500);
    if (left != 0)
        left = round_ok(r, 500);
    WB_EXPECT(left == 0,
              "once every byte was delivered, etfair_round() should "
              "return 0 (no descriptor left on the ready list); got %d",
              left);
    WB_PROMISE("wait");
    long waits = atomic_load(&epoll_waits);
    int64_t t0 = wb_now_ns();
    left = round_ok(r, 100);
    int64_t waited = wb_now_ns() - t0;
    waits = atomic_load(&epoll_waits) - waits;
    WB_EXPECT(left == 0 && waited >= 90 * MS && waits <= 2 && c.calls > 0,
              "with nothing ready, etfair_round(r, 100) should sleep in "
              "epoll_wait() for 100 ms and return 0; it returned %d after "
              "%lld ms and %ld epoll_wait() calls",
              left, (long long)(waited / MS), waits);
    etfair_free(r);
    close_client(&c);
}
END_TEST

/* --- Fairness ------------------------------------------------------------- */

START_TEST(test_flood_does_not_starve_others)
{
    WB_PROMISE("fair");
    enum { BUDGET = 4096, QUIET = 3 };
    etfair *r = new_etfair(BUDGET);
    struct client flood, quiet[QUIET];
    make_client(&flood);
    ck_assert_int_eq(fcntl(flood.peer, F_SETFL, O_NONBLOCK), 0);
    flood.refill_left = 2 << 20;
    unsigned char from = 0;
    write_pattern(&flood, 64 * 1024, &from);
    add_ok(r, &flood, on_flood);
    for (int i = 0; i < QUIET; i++) {
        make_client(&quiet[i]);
        quiet[i].flood = &flood;
        write_text(&quiet[i], "hello\n");
        add_ok(r, &quiet[i], on_lines);
    }
    int rounds = 0;
    int all = 0;
    int64_t start = wb_now_ns();
    while (!all && rounds < 100 && wb_now_ns() - start < 1000 * MS) {
        round_ok(r, 100);
        rounds++;
        all = 1;
        for (int i = 0; i < QUIET; i++)
            all = all && quiet[i].lines == 1;
    }
    for (int i = 0; i < QUIET; i++)
        WB_EXPECT(quiet[i].lines == 1 && quiet[i].flood_at_line <= 2 * BUDGET,
                  "one client floods (its socket is never drained), %d "
                  "others sent a line each; with a budget of %d, each line "
                  "should get through after at most %d bytes of the flood "
                  "(a turn each per round). Client %d's line %s after %zu "
                  "bytes of the flood. A reader that drains one descriptor "
                  "before the next lets the fastest sender starve the rest",
                  QUIET, BUDGET, 2 * BUDGET, i + 1,
                  quiet[i].lines ? "got through" : "had not got through",
                  quiet[i].lines ? quiet[i].flood_at_line : flood.bytes);

    /* While the flood goes on, a line sent now gets through in the next
     * round, and the flooder is slowed, not starved: a turn per round. */
    size_t before = flood.bytes;
    unsigned long from_round = round_no;
    write_text(&quiet[0], "again\n");
    for (int i = 0; i < 3 && quiet[0].lines < 2; i++)
        round_ok(r, 100);
    WB_EXPECT(quiet[0].lines == 2 &&
                  quiet[0].flood_at_line <= before + 2 * BUDGET,
              "a line sent while the flood went on should get through "
              "within a round or two; after %lu rounds it %s",
              round_no - from_round,
              quiet[0].lines == 2 ? "did, but after more of the flood than "
                                    "two turns"
                                  : "had not");
    before = flood.bytes;
    from_round = round_no;
    for (int i = 0; i < 5; i++)
        round_ok(r, 100);
    WB_PROMISE("budget");
    WB_EXPECT(flood.max_round <= BUDGET,
              "the flooder got %zu bytes in one round; the budget is %d",
              flood.max_round, BUDGET);
    WB_PROMISE("fair");
    WB_EXPECT(flood.bytes - before >= 5 * (size_t)BUDGET / 2,
              "the flooder should still get a turn in every round (it is "
              "slowed, not starved); in %lu rounds it got %zu bytes",
              round_no - from_round, flood.bytes - before);
    etfair_free(r);
    close_client(&flood);
    for (int i = 0; i < QUIET; i++)
        close_client(&quiet[i]);
}
END_TEST

/* --- End of file and errors ----------------------------------------------- */

START_TEST(test_end_of_file_and_errors)
{
    WB_PROMISE("eof");
    etfair *r = new_etfair(4096);
    struct client a, b;
    make_client(&a);
    make_client(&b);
    write_text(&a, "last words\n");
    close(a.peer); /* end of file after the line */
    a.peer = -1;
    /* b writes into its peer, which closes without reading it: the
     * kernel resets the connection (ECONNRESET). */
    ck_assert_int_eq(write(b.fd, "unread", 6), 6);
    close(b.peer);
    b.peer = -1;
    add_ok(r, &a, on_lines);
    add_ok(r, &b, on_lines);
    for (int i = 0; i < 5 && (a.eofs == 0 || b.errors == 0); i++)
        round_ok(r, 100);
    round_ok(r, 20);
    WB_EXPECT(a.lines == 1 && a.eofs == 1 && a.after_end == 0,
              "a client sent a line and closed: its callback should get "
              "the line, then n == 0 once, then nothing; it got %d lines, "
              "%d ends of file, %d calls after the end",
              a.lines, a.eofs, a.after_end);
    WB_EXPECT(a.end_r == r && a.end_fd == a.fd,
              "the callback of an end of file should get the etfair and the "
              "descriptor (%d); it got %s and descriptor %d",
              a.fd, a.end_r == r ? "the etfair" : "another pointer", a.end_fd);
    int rc = etfair_remove(r, a.fd);
    WB_EXPECT(rc == -1 && errno == ENOENT,
              "after end of file the descriptor is no longer in the "
              "etfair: etfair_remove() should fail with ENOENT; got %d%s",
              rc, wb_errno_note(rc));
    WB_EXPECT(fcntl(a.fd, F_GETFD) != -1,
              "the etfair closed a descriptor at end of file; it is the "
              "caller's");
    WB_PROMISE("error");
    WB_EXPECT(b.errors == 1 && b.last_error == ECONNRESET && b.after_end == 0,
              "a connection reset by its peer: the callback should get n "
              "== -ECONNRESET once, then nothing; it got %d errors (the "
              "last %s) and %d calls after it",
              b.errors, wb_errname(b.last_error), b.after_end);
    WB_EXPECT(b.end_r == r && b.end_fd == b.fd,
              "the callback of an error should get the etfair and the "
              "descriptor (%d); it got %s and descriptor %d",
              b.fd, b.end_r == r ? "the etfair" : "another pointer", b.end_fd);
    rc = etfair_remove(r, b.fd);
    WB_EXPECT(rc == -1 && errno == ENOENT,
              "after an error the descriptor is no longer in the etfair: "
              "etfair_remove() should fail with ENOENT; got %d%s",
              rc, wb_errno_note(rc));
    etfair_free(r);
    close_client(&a);
    close_client(&b);
}
END_TEST

/* --- Removing ------------------------------------------------------------- */

START_TEST(test_remove_in_round_and_carried)
{
    WB_PROMISE("remove");
    etfair *r = new_etfair(1000);
    struct client a, b;
    make_client(&a);
    make_client(&b);
    /* Both ready in the first round: whichever runs first removes the
     * other, which must then get no callback. */
    write_text(&a, "a\n");
    write_text(&b, "b\n");
    a.remove_other = b.fd;
    b.remove_other = a.fd;
    add_ok(r, &a, on_lines);
    add_ok(r, &b, on_lines);
    round_ok(r, 100);
    round_ok(r, 20);
    WB_EXPECT(a.calls + b.calls == 1,
              "two clients were ready in the same round, and the first "
              "callback removed the other: only one callback should run; "
              "%d did",
              a.calls + b.calls);
    struct client *first = a.calls ? &a : &b;
    WB_EXPECT(first->remove_other_rc == 0,
              "etfair_remove() from a callback should return 0; got %d",
              first->remove_other_rc);
    ck_assert_int_eq(etfair_remove(r, first->fd), 0);

    /* Left on the ready list (budget spent), then removed: no callback;
     * added again, it is served again, from where it stopped. */
    struct client c;
    make_client(&c);
    unsigned char from = 0;
    write_pattern(&c, 3000, &from);
    add_ok(r, &c, on_pattern);
    int left = round_ok(r, 100);
    WB_PROMISE("carry");
    WB_EXPECT(left == 1 && c.bytes == 1000,
              "a socket with 3000 bytes and a budget of 1000: the first "
              "round should deliver 1000 bytes and return 1 (left on the "
              "ready list); it delivered %zu and returned %d",
              c.bytes, left);
    WB_PROMISE("remove");
    ck_assert_int_eq(etfair_remove(r, c.fd), 0);
    int calls = c.calls;
    left = round_ok(r, 20);
    WB_EXPECT(c.calls == calls && left == 0,
              "a descriptor removed while on the ready list should get no "
              "callback; it got %d more, and the round returned %d",
              c.calls - calls, left);
    add_ok(r, &c, on_pattern);
    for (int i = 0; i < 5 && c.bytes < 3000; i++)
        round_ok(r, 100);
    WB_EXPECT(c.bytes == 3000 && !c.pattern_broken,
              "added again, the descriptor should deliver the 2000 bytes "
              "it still held, in order; %zu of 3000 in all%s",
              c.bytes, c.pattern_broken ? ", some out of order" : "");

    /* A callback that removes its own descriptor in the middle of a
     * turn: no more callbacks, though more data waits. */
    etfair *big = new_etfair(1 << 20);
    struct client d;
    make_client(&d);
    write_pattern(&d, 48 * 1024, &from);
    d.remove_other = d.fd;
    add_ok(big, &d, on_lines);
    round_ok(big, 100);
    round_ok(big, 20);
    WB_EXPECT(d.calls == 1 && d.remove_other_rc == 0,
              "a callback removed its own descriptor while 48 KiB waited "
              "(more than one read() takes): etfair_remove() should return "
              "0 and no other callback run; it returned %d, and the "
              "callback ran %d times",
              d.remove_other_rc, d.calls);
    etfair_free(big);
    close_client(&d);
    etfair_free(r);
    close_client(&a);
    close_client(&b);
    close_client(&c);
}
END_TEST

/* Three clients that each hold more than their budget; in round 2, the
 * first callback removes one of the two not served yet in that round. */
static struct client sharers[3];
static int sharer_removed = -1;
static etfair *sharing;

static void on_sharing(etfair *r, int fd, const char *data, ssize_t n,
                       void *ctx)
{
    on_pattern(r, fd, data, n, ctx);
    if (round_no != 2 || sharer_removed >= 0)
        return;
    for (int i = 0; i < 3; i++) {
        if (&sharers[i] != ctx && sharers[i].round != round_no) {
            sharer_removed = i;
            ck_assert_int_eq(etfair_remove(sharing, sharers[i].fd), 0);
            return;
        }
    }
}

START_TEST(test_one_turn_per_round)
{
    WB_PROMISE("budget");
    enum { BUDGET = 1000 };
    etfair *r = sharing = new_etfair(BUDGET);
    for (int i = 0; i < 3; i++) {
        make_client(&sharers[i]);
        unsigned char from = 0;
        write_pattern(&sharers[i], 5 * BUDGET, &from);
        add_ok(r, &sharers[i], on_sharing);
    }
    for (int i = 0; i < 4; i++)
        round_ok(r, 100);
    WB_EXPECT(sharer_removed >= 0,
              "three clients held 5 budgets each: in round 2 all three "
              "should still have been on the ready list, and the first "
              "callback could remove one not yet served; none was left");
    for (int i = 0; i < 3; i++)
        WB_EXPECT(sharers[i].max_round <= BUDGET,
                  "three clients held 5 budgets each; in round 2 the first "
                  "callback removed one of the others. Each client should "
                  "still get at most one turn (%d bytes) per round; client "
                  "%d got %zu bytes in one round. A round that counts its "
                  "turns runs past its end when the list shrinks: stop at "
                  "the first descriptor pushed back in this round",
                  BUDGET, i + 1, sharers[i].max_round);
    etfair_free(r);
    for (int i = 0; i < 3; i++)
        close_client(&sharers[i]);
}
END_TEST

/* --- Arguments and freeing ------------------------------------------------ */

static void expect_fail(long rc, int want, const char *call)
{
    int err = errno;
    WB_EXPECT(rc == -1 && err == want, "%s should fail with %s; got %ld%s",
              call, wb_errname(want), rc,
              rc == -1 ? wb_format(" (%s)", wb_errname(err)) : "");
}

struct nested {
    int rc, err, calls;
};

static void on_nested(etfair *r, int fd, const char *data, ssize_t n, void *ctx)
{
    (void)fd;
    (void)data;
    (void)n;
    struct nested *ns = ctx;
    if (ns->calls++ == 0) {
        ns->rc = etfair_round(r, 0);
        ns->err = errno;
    }
}

START_TEST(test_bad_arguments)
{
    WB_PROMISE("bad-args");
    errno = 0;
    etfair *bad = etfair_new(0);
    WB_EXPECT(bad == NULL && errno == EINVAL,
              "etfair_new(0) should fail with EINVAL; got %s (%s)",
              bad ? "an etfair" : "NULL", wb_errname(errno));
    etfair_free(bad);
    etfair *r = new_etfair(100);
    struct client c;
    make_client(&c);
    struct nested ns = {0, 0, 0};
    expect_fail(etfair_add(NULL, c.fd, on_nested, &ns), EINVAL,
                "etfair_add(NULL, ...)");
    expect_fail(etfair_add(r, c.fd, NULL, &ns), EINVAL,
                "etfair_add(r, fd, NULL, ctx)");
    expect_fail(etfair_add(r, -1, on_nested, &ns), EINVAL,
                "etfair_add(r, -1, ...)");
    expect_fail(etfair_add(r, c.peer, on_nested, &ns), EINVAL,
                "etfair_add() of a blocking descriptor (a drained read "
                "would block instead of failing with EAGAIN)");
    FILE *f = tmpfile();
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fcntl(fileno(f), F_SETFL, O_NONBLOCK), 0);
    expect_fail(etfair_add(r, fileno(f), on_nested, &ns), EPERM,
                "etfair_add() of a regular file (epoll cannot wait for it)");
    fclose(f);
    int p[2];
    wb_pipe(p);
    int gone = p[0];
    close(p[0]);
    close(p[1]);
    expect_fail(etfair_add(r, gone, on_nested, &ns), EBADF,
                "etfair_add() of a descriptor that is not open");
    expect_fail(etfair_remove(r, c.fd), ENOENT,
                "etfair_remove() of a descriptor never added");
    expect_fail(etfair_remove(r, 1 << 20), ENOENT, "etfair_remove(r, 1 << 20)");
    expect_fail(etfair_remove(NULL, c.fd), EINVAL, "etfair_remove(NULL, fd)");
    expect_fail(etfair_round(NULL, 0), EINVAL, "etfair_round(NULL, 0)");

    ck_assert_int_eq(etfair_add(r, c.fd, on_nested, &ns), 0);
    expect_fail(etfair_add(r, c.fd, on_nested, &ns), EEXIST,
                "a second etfair_add() of the same descriptor");
    write_text(&c, "x");
    round_ok(r, 100);
    WB_EXPECT(ns.calls == 1 && ns.rc == -1 && ns.err == EBUSY,
              "etfair_round() from a callback should fail with EBUSY; the "
              "callback ran %d times, the nested call returned %d (%s)",
              ns.calls, ns.rc, wb_errname(ns.err));
    etfair_free(r);
    close_client(&c);
}
END_TEST

START_TEST(test_free_closes_nothing_of_the_caller)
{
    WB_PROMISE("free");
    etfair *r = new_etfair(100);
    struct client c;
    make_client(&c);
    struct nested ns = {0, 0, 0};
    write_text(&c, "unread");
    ck_assert_int_eq(etfair_add(r, c.fd, on_nested, &ns), 0);
    int fds = wb_count_fds();
    etfair_free(r);
    WB_EXPECT(ns.calls == 0, "etfair_free() ran %d callbacks; expected none",
              ns.calls);
    WB_EXPECT(fcntl(c.fd, F_GETFD) != -1,
              "etfair_free() closed an added descriptor; it is the "
              "caller's");
    WB_EXPECT(wb_count_fds() == fds - 1,
              "etfair_free() should close exactly one descriptor, its epoll "
              "instance; the open descriptors went from %d to %d",
              fds, wb_count_fds());
    etfair_free(NULL);
    close_client(&c);
}
END_TEST

/* --- Removed and added again within a turn ------------------------------ */

/* On its first call, removes its own descriptor and adds it again. */
static void on_readd(etfair *r, int fd, const char *data, ssize_t n, void *ctx)
{
    struct client *c = ctx;
    on_pattern(r, fd, data, n, ctx);
    if (c->calls == 1) {
        c->remove_other_rc = etfair_remove(r, fd);
        if (c->remove_other_rc == 0 && etfair_add(r, fd, on_readd, c) != 0)
            c->remove_other_rc = -2;
    }
}

START_TEST(test_removed_and_added_again_in_a_callback)
{
    WB_PROMISE("remove");
    enum { SIZE = 48 * 1024 };
    etfair *r = new_etfair(1 << 20);
    struct client c;
    make_client(&c);
    unsigned char from = 0;
    write_pattern(&c, SIZE, &from);
    add_ok(r, &c, on_readd);
    round_ok(r, 100);
    int first_round = c.calls;
    WB_EXPECT(c.remove_other_rc == 0 && first_round == 1,
              "a callback removed its own descriptor while 48 KiB waited and "
              "added it again at once: expected 1 callback in that round "
              "(the removed addition gets no more; the new one is read from "
              "the next round on), got %d (remove and add gave %d). After "
              "each callback, check that the descriptor is still the same "
              "addition, not only that it is added",
              first_round, c.remove_other_rc);
    WB_PROMISE("drain");
    for (int i = 0; i < 10 && c.bytes < SIZE; i++)
        round_ok(r, 100);
    WB_EXPECT(c.bytes == SIZE && !c.pattern_broken,
              "added again, the descriptor should deliver the rest of its "
              "48 KiB in later rounds, in order; %zu of %d were%s",
              c.bytes, SIZE, c.pattern_broken ? ", some out of order" : "");
    etfair_free(r);
    close_client(&c);
}
END_TEST

/* --- Descriptor 0, high descriptors, and the ready list's ends ------------ */

/* Moves client @p c's descriptor to number @p to (closing the old one). */
static void move_client(struct client *c, int to)
{
    ck_assert_msg(dup2(c->fd, to) == to, "dup2() onto %d failed%s", to,
                  wb_errno_note(-1));
    close(c->fd);
    c->fd = to;
}

START_TEST(test_any_descriptor_number)
{
    enum { N = 4, BUDGET = 1000, SIZE = 3500 };
    /* Descriptor 0 is the test's standard input: put it back after. */
    int saved0 = fcntl(0, F_DUPFD_CLOEXEC, 3);
    struct rlimit old, high;
    ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &old), 0);
    high = old;
    if (high.rlim_cur < 1100)
        high.rlim_cur = 1100;
    if (high.rlim_max != RLIM_INFINITY && high.rlim_cur > high.rlim_max)
        high.rlim_max = high.rlim_cur;
    ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &high), 0);
    struct client c[N];
    int numbers[N] = {0, 64, 1000, -1};
    etfair *r = new_etfair(BUDGET);
    for (int i = 0; i < N; i++) {
        make_client(&c[i]);
        if (numbers[i] >= 0)
            move_client(&c[i], numbers[i]);
        unsigned char from = 0;
        write_pattern(&c[i], SIZE, &from);
        /* Descriptor 0 first, into a table that is still empty. */
        add_ok(r, &c[i], on_pattern);
    }
    WB_PROMISE("bad-args");
    int rc = etfair_add(r, 0, on_pattern, &c[0]);
    WB_EXPECT(rc == -1 && errno == EEXIST,
              "a second etfair_add() of descriptor 0 should fail with "
              "EEXIST; got %d%s",
              rc, wb_errno_note(rc));
    WB_PROMISE("carry");
    /* Every descriptor holds 3.5 budgets: each round serves all four, and
     * sends each back to the tail of the ready list. */
    round_ok(r, 100);
    /* Take out the one after descriptor 0 on the list, and put it back. */
    WB_PROMISE("remove");
    ck_assert_int_eq(etfair_remove(r, 64), 0);
    add_ok(r, &c[1], on_pattern);
    round_ok(r, 100);
    /* Descriptor 0 out and in again: now behind the others on the list. */
    ck_assert_int_eq(etfair_remove(r, 0), 0);
    add_ok(r, &c[0], on_pattern);
    int done = 0;
    for (int k = 0; k < 20 && !done; k++) {
        round_ok(r, 100);
        done = 1;
        for (int i = 0; i < N; i++)
            done = done && c[i].bytes == SIZE;
    }
    WB_PROMISE("drain");
    for (int i = 0; i < N; i++)
        WB_EXPECT(c[i].bytes == SIZE && !c[i].pattern_broken &&
                      c[i].max_round <= BUDGET,
                  "four sockets (descriptors 0, 64, 1000 and %d) held %d "
                  "bytes each, with a budget of %d; one was taken out and "
                  "added again behind descriptor 0, then descriptor 0 too: "
                  "each should deliver all its bytes, in order, at most a "
                  "budget per round. Descriptor %d delivered %zu%s, at most "
                  "%zu in a round. Descriptor 0 is a descriptor like any "
                  "other, at either end of the ready list",
                  c[N - 1].fd, SIZE, BUDGET, c[i].fd, c[i].bytes,
                  c[i].pattern_broken ? ", some out of order" : "",
                  c[i].max_round);
    etfair_free(r);
    for (int i = 0; i < N; i++)
        close_client(&c[i]);
    dup2(saved0, 0);
    close(saved0);
    setrlimit(RLIMIT_NOFILE, &old);
}
END_TEST

START_TEST(test_round_serves_every_ready_descriptor)
{
    WB_PROMISE("fair");
    etfair *r = new_etfair(1000);
    struct client a, b, one;
    make_client(&a);
    make_client(&b);
    make_client(&one);
    unsigned char fa = 0, fb = 0;
    write_pattern(&a, 100, &fa);
    write_pattern(&b, 100, &fb);
    write_text(&one, "x");
    add_ok(r, &a, on_pattern);
    add_ok(r, &b, on_pattern);
    add_ok(r, &one, on_lines);
    int left = round_ok(r, 100);
    WB_EXPECT(a.bytes == 100 && b.bytes == 100 && one.bytes == 1,
              "three sockets were ready (100, 100 and 1 bytes, budget "
              "1000): one round should give each its turn; it delivered "
              "%zu, %zu and %zu bytes",
              a.bytes, b.bytes, one.bytes);
    WB_PROMISE("drain");
    WB_EXPECT(one.calls == 1 && one.errors == 0 && one.eofs == 0,
              "a socket that held 1 byte should get one callback with n == 1; "
              "it got %d callbacks, %d errors, %d ends of file",
              one.calls, one.errors, one.eofs);
    WB_PROMISE("carry");
    WB_EXPECT(left == 0,
              "each socket held less than the budget, so each turn read until "
              "EAGAIN: the round should return 0 (none left on the ready "
              "list); it returned %d",
              left);
    etfair_free(r);
    close_client(&a);
    close_client(&b);
    close_client(&one);
}
END_TEST

START_TEST(test_budget_holds_when_reads_come_short)
{
    WB_PROMISE("budget");
    enum { BUDGET = 4096 };
    etfair *r = new_etfair(BUDGET);
    struct client c;
    make_client(&c);
    ck_assert_int_eq(fcntl(c.peer, F_SETFL, O_NONBLOCK), 0);
    /* 1000 bytes, written back as they are read: each read() comes back
     * with 1000 bytes, less than it asked for, and more are there at
     * once for the next one. */
    c.refill_left = 64 * 1024;
    unsigned char from = 0;
    write_pattern(&c, 1000, &from);
    add_ok(r, &c, on_flood);
    for (int i = 0; i < 5; i++)
        round_ok(r, 100);
    WB_EXPECT(c.max_round <= BUDGET && c.bytes >= 4 * (size_t)BUDGET,
              "each read() of this socket returns 1000 bytes, and 1000 more "
              "are there after each: with a budget of %d, a round should "
              "deliver at most %d bytes (ask the last read() for what is "
              "left of the budget); in 5 rounds it delivered %zu, at most "
              "%zu in one round",
              BUDGET, BUDGET, c.bytes, c.max_round);
    etfair_free(r);
    close_client(&c);
}
END_TEST

START_TEST(test_wait_error_is_returned)
{
    WB_PROMISE("wait");
    etfair *r = new_etfair(100);
    struct client c;
    make_client(&c);
    add_ok(r, &c, on_pattern);
    wait_fails_with = EINVAL;
    errno = 0;
    int rc = etfair_round(r, 100);
    int err = errno;
    wait_fails_with = 0;
    WB_EXPECT(rc == -1 && err == EINVAL,
              "when epoll_wait() fails with EINVAL (not EINTR), "
              "etfair_round() should return -1 with that errno; it returned "
              "%d (%s)",
              rc, wb_errname(err));
    unsigned char from = 0;
    write_pattern(&c, 10, &from);
    round_ok(r, 100);
    WB_EXPECT(c.bytes == 10,
              "after a failed wait the etfair should work as before: 10 "
              "bytes sent, %zu delivered",
              c.bytes);
    etfair_free(r);
    close_client(&c);
}
END_TEST

START_TEST(test_failures_change_nothing)
{
    WB_PROMISE("bad-args");
    /* No descriptor left for the epoll instance. */
    fdlimit_none_left();
    errno = 0;
    etfair *none = etfair_new(100);
    int err = errno;
    fdlimit_restore();
    WB_EXPECT(none == NULL && err == EMFILE,
              "with no descriptor left (RLIMIT_NOFILE), etfair_new() should "
              "return NULL with EMFILE (epoll_create1()'s error), and keep "
              "no memory; got %s with errno %s",
              none == NULL ? "NULL" : "an etfair", wb_errname(err));
    etfair_free(none);
    /* No memory for the table. */
    etfair *r = new_etfair(100);
    struct client c;
    make_client(&c);
    wb_alloc_fail(1);
    errno = 0;
    int rc = etfair_add(r, c.fd, on_pattern, &c);
    err = errno;
    wb_alloc_fail(0);
    WB_EXPECT(rc == -1 && err == ENOMEM,
              "etfair_add() whose table cannot grow (no memory) should "
              "return -1 with ENOMEM; got %d with errno %s",
              rc, wb_errname(err));
    rc = etfair_remove(r, c.fd);
    WB_EXPECT(rc == -1 && errno == ENOENT,
              "a failed etfair_add() adds nothing: etfair_remove() should "
              "then fail with ENOENT; got %d%s",
              rc, wb_errno_note(rc));
    /* A descriptor that is not open, far above any open one. */
    size_t before = 0, after = 0;
    wb_alloc_live(&before);
    errno = 0;
    rc = etfair_add(r, 100000, on_pattern, &c);
    err = errno;
    wb_alloc_live(&after);
    WB_EXPECT(rc == -1 && err == EBADF && after == before,
              "etfair_add() of descriptor 100000, which is not open, should "
              "fail with EBADF and change nothing; it returned %d (%s), and "
              "the memory it holds went from %zu to %zu bytes",
              rc, wb_errname(err), before, after);
    etfair_free(r);
    close_client(&c);
}
END_TEST

/* --- A signal during the wait --------------------------------------------- */

static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
    (void)sig;
    alarms++;
}

START_TEST(test_signal_ends_the_wait_without_error)
{
    WB_PROMISE("wait");
    etfair *r = new_etfair(100);
    struct client c;
    make_client(&c);
    add_ok(r, &c, on_pattern);
    /* A handler without SA_RESTART: the signal interrupts epoll_wait(). */
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigemptyset(&sa.sa_mask);
    ck_assert_int_eq(sigaction(SIGALRM, &sa, &old), 0);
    alarms = 0;
    struct itimerval it = {{0, 0}, {0, 30000}}; /* once, in 30 ms */
    ck_assert_int_eq(setitimer(ITIMER_REAL, &it, NULL), 0);
    int64_t t0 = wb_now_ns();
    errno = 0;
    int rc = etfair_round(r, 1000);
    int err = errno;
    long ms = (long)((wb_now_ns() - t0) / MS);
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
    sigaction(SIGALRM, &old, NULL);
    WB_EXPECT(alarms == 1, "the test's signal was never delivered");
    WB_EXPECT(rc == 0 && ms < 900,
              "a signal interrupted the wait of etfair_round(r, 1000) after "
              "30 ms (EINTR), with nothing ready: expected the round to end "
              "early and return 0, with no error; it returned %d (%s) after "
              "%ld ms",
              rc, rc == -1 ? wb_errname(err) : "no error", ms);
    etfair_free(r);
    close_client(&c);
}
END_TEST

Suite *wb_suite(void)
{
    Suite *s = wb_begin("etfair", "chapters/06-beyond/chapter.md");
    WB_ADD(s, test_drains_everything, "Level-triggered and edge-triggered");
    WB_ADD(s, test_budget_carries_over, "Fair reading: drain, but share");
    WB_ADD(s, test_flood_does_not_starve_others,
           "Fair reading: drain, but share");
    WB_ADD(s, test_end_of_file_and_errors, "Fair reading: drain, but share");
    WB_ADD(s, test_remove_in_round_and_carried,
           "Fair reading: drain, but share");
    WB_ADD(s, test_one_turn_per_round, "Fair reading: drain, but share");
    WB_ADD(s, test_removed_and_added_again_in_a_callback,
           "Fair reading: drain, but share");
    WB_ADD(s, test_signal_ends_the_wait_without_error,
           "Fair reading: drain, but share");
    WB_ADD(s, test_bad_arguments, "Fair reading: drain, but share");
    WB_ADD(s, test_free_closes_nothing_of_the_caller,
           "Fair reading: drain, but share");
    WB_ADD(s, test_any_descriptor_number, "Fair reading: drain, but share");
    WB_ADD(s, test_round_serves_every_ready_descriptor,
           "Fair reading: drain, but share");
    WB_ADD(s, test_budget_holds_when_reads_come_short,
           "Fair reading: drain, but share");
    WB_ADD(s, test_wait_error_is_returned, "Fair reading: drain, but share");
    WB_ADD(s, test_failures_change_nothing, "Fair reading: drain, but share");
    return s;
}
