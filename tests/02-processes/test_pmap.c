/*
 * Tests of pmap (exercises/02-processes/pmap.h): one child per item,
 * results back through pipes in input order.
 *
 * _DEFAULT_SOURCE is for MAP_ANONYMOUS (Linux and the BSDs have it;
 * POSIX 2008 does not): the children of one test count themselves in a
 * page of shared memory.
 */
#define _DEFAULT_SOURCE
#include "wb.h"
#include "pmap.h"
#include "autoreap.h"
#include "dirtyheap.h"
#include "crash.h"
#include "interrupt.h"
#include "exitmark.h"
#include "stdioflush.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* After pmap_run() returned @p failed for @p n items: the errno text when
 * it failed, else how the first failed item ended, as " (...)"; "" when
 * nothing failed. */
static const char *fail_note(int failed, const pmap_result *r, size_t n)
{
    static char buf[192];
    if (failed == -1)
        return wb_errno_note(failed);
    for (size_t i = 0; i < n; i++) {
        if (r[i].ok)
            continue;
        snprintf(buf, sizeof buf, " (item %zu: code %d, signal %d%s)", i,
                 r[i].code, r[i].signo,
                 r[i].signo == SIGPIPE ? ", SIGPIPE: its pipe was closed "
                                         "before it was read to the end"
                                       : "");
        return buf;
    }
    return "";
}

/* --- Helpers for the children ------------------------------------------- */

static int write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n == -1) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static int write_text(int fd, const char *text)
{
    return write_all(fd, text, strlen(text));
}

static void *shared_page(size_t size)
{
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    WB_EXPECT(p != MAP_FAILED, "mmap() failed: %s", strerror(errno));
    return p;
}

/* Junk in every field of every result, so a field that pmap_run() never
 * sets shows up. */
static char junk_data[] = "junk";

static void fill_junk(pmap_result *r, size_t n)
{
    for (size_t i = 0; i < n; i++)
        r[i] = (pmap_result){
            .ok = 7, .code = 77, .signo = 55, .data = junk_data, .len = 999};
}

/* pmap_free(), but never on the junk a call left in place (a failure the
 * checks have already reported). */
static void free_results(pmap_result *r, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (r[i].data == junk_data)
            r[i].data = NULL;
    pmap_free(r, n);
}

/* After a call that failed before it collected any result: each of the
 * @p n results must be {ok 0, code -1, signo 0, data NULL, len 0}. */
static void expect_uncollected(const pmap_result *r, size_t n, const char *why)
{
    WB_PROMISE("fail-clean");
    for (size_t i = 0; i < n; i++)
        WB_EXPECT(r[i].ok == 0 && r[i].code == -1 && r[i].signo == 0 &&
                      r[i].data == NULL && r[i].len == 0,
                  "%s, before any result was collected: results[%zu] should "
                  "be {ok 0, code -1, signo 0, data NULL, len 0}; got {ok "
                  "%d, code %d, signo %d, data %s, len %zu}",
                  why, i, r[i].ok, r[i].code, r[i].signo,
                  r[i].data == NULL ? "NULL" : "not NULL", r[i].len);
}

/* How many of @p n results have data NULL. */
static size_t null_data(const pmap_result *r, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += r[i].data == NULL;
    return k;
}

/* --- Results in input order ------------------------------------------- */

static const char *const words[] = {"alpha", "bravo", "charlie",
                                    "delta", "echo",  "foxtrot"};
enum { NWORDS = sizeof words / sizeof words[0] };

/* Later items finish first, so the order of completion is the reverse of
 * the order of the input. */
static int shout(size_t index, int fd, void *ctx)
{
    const char *const *in = ctx;
    wb_sleep_ms((long)(NWORDS - index) * 8);
    char buf[64];
    size_t k = 0;
    for (const char *p = in[index]; *p != '\0'; p++)
        buf[k++] = (char)(*p - 'a' + 'A');
    buf[k] = '\0';
    char line[96];
    snprintf(line, sizeof line, "%zu:%s", index, buf);
    return write_text(fd, line) == 0 ? 0 : 1;
}

START_TEST(test_results_in_input_order)
{
    pmap_result r[NWORDS];
    fill_junk(r, NWORDS);
    errno = 0;
    int failed = pmap_run(NWORDS, shout, (void *)words, r);
    WB_PROMISE("order");
    WB_EXPECT(failed == 0,
              "expected 0 failed items; pmap_run() returned %d"
              "%s",
              failed, fail_note(failed, r, NWORDS));
    for (size_t i = 0; i < NWORDS; i++) {
        char want[96], up[64];
        size_t k = 0;
        for (const char *p = words[i]; *p != '\0'; p++)
            up[k++] = (char)(*p - 'a' + 'A');
        up[k] = '\0';
        snprintf(want, sizeof want, "%zu:%s", i, up);
        WB_EXPECT(r[i].ok == 1 && r[i].code == 0 && r[i].signo == 0,
                  "item %zu: expected ok=1 code=0 signo=0; got ok=%d code=%d "
                  "signo=%d",
                  i, r[i].ok, r[i].code, r[i].signo);
        WB_EXPECT(r[i].data != NULL && r[i].len == strlen(want) &&
                      strcmp(r[i].data, want) == 0,
                  "results[%zu] should hold item %zu's result \"%s\" (the "
                  "children finish in reverse order, the results must not); "
                  "got \"%s\" (len %zu)",
                  i, i, want, r[i].data != NULL ? r[i].data : "(null)",
                  r[i].len);
    }
    free_results(r, NWORDS);
}
END_TEST

/* Item i writes its number, i, in decimal. */
static int write_index(size_t index, int fd, void *ctx)
{
    (void)ctx;
    char text[32];
    snprintf(text, sizeof text, "%zu", index);
    return write_text(fd, text);
}

START_TEST(test_many_items)
{
    enum { MANY = 48 };
    pmap_result r[MANY];
    fill_junk(r, MANY);
    errno = 0;
    int failed = pmap_run(MANY, write_index, NULL, r);
    WB_PROMISE("order");
    WB_EXPECT(failed == 0, "%d items: expected 0 failed; got %d%s", MANY,
              failed, fail_note(failed, r, MANY));
    for (size_t i = 0; i < MANY; i++) {
        char want[32];
        snprintf(want, sizeof want, "%zu", i);
        WB_EXPECT(
            r[i].ok == 1 && r[i].data != NULL && strcmp(r[i].data, want) == 0,
            "%d items: results[%zu] should hold \"%s\"; got ok %d, "
            "data \"%s\"",
            MANY, i, want, r[i].ok,
            r[i].data != NULL && r[i].data != junk_data ? r[i].data : "(none)");
    }
    free_results(r, MANY);
}
END_TEST

/* --- All the children at the same time ------------------------------- */

enum { NMEET = 4 };
struct meeting {
    atomic_int arrived;
};

/* Each child arrives, then waits (300 ms at most) for all the others to
 * arrive: only children that run at the same time can all meet. */
static int meet(size_t index, int fd, void *ctx)
{
    (void)index;
    struct meeting *m = ctx;
    atomic_fetch_add(&m->arrived, 1);
    int64_t give_up = wb_now_ns() + 300 * 1000000LL;
    while (atomic_load(&m->arrived) < NMEET && wb_now_ns() < give_up)
        wb_sleep_ms(1);
    return write_text(fd,
                      atomic_load(&m->arrived) >= NMEET ? "together" : "alone");
}

START_TEST(test_children_run_at_the_same_time)
{
    struct meeting *m = shared_page(sizeof *m);
    atomic_init(&m->arrived, 0);
    pmap_result r[NMEET];
    int failed = pmap_run(NMEET, meet, m, r);
    WB_PROMISE("parallel");
    WB_EXPECT(failed == 0, "expected 0 failed items; got %d%s", failed,
              fail_note(failed, r, NMEET));
    for (size_t i = 0; i < NMEET; i++)
        WB_EXPECT(r[i].data != NULL && strcmp(r[i].data, "together") == 0,
                  "item %zu's child never saw all %d children alive at "
                  "once (it reported \"%s\"): start every child before "
                  "reading or waiting for any of them",
                  i, NMEET, r[i].data != NULL ? r[i].data : "(null)");
    pmap_free(r, NMEET);
    munmap(m, sizeof *m);
}
END_TEST

/* --- Failures stay with their item ------------------------------------ */

static int some_fail(size_t index, int fd, void *ctx)
{
    (void)ctx;
    char line[32];
    if (index == 1) {
        write_text(fd, "partial");
        crash_with(SIGSEGV);
    }
    if (index == 3) {
        write_text(fd, "bad");
        return 7;
    }
    snprintf(line, sizeof line, "ok %zu", index);
    return write_text(fd, line);
}

START_TEST(test_crashing_item_fails_alone)
{
    pmap_result r[5];
    fill_junk(r, 5);
    int failed = pmap_run(5, some_fail, NULL, r);
    WB_PROMISE("failed-item");
    WB_EXPECT(failed == 2,
              "items 1 (SIGSEGV) and 3 (exit code 7) fail: expected "
              "pmap_run() to return 2; got %d%s",
              failed, wb_errno_note(failed));
    WB_PROMISE("status");
    WB_EXPECT(r[1].ok == 0 && r[1].signo == SIGSEGV && r[1].code == -1 &&
                  r[1].data == NULL && r[1].len == 0,
              "item 1 raised SIGSEGV: expected ok=0 signo=%d code=-1 "
              "data=NULL len=0; got ok=%d signo=%d code=%d data=%s len=%zu",
              SIGSEGV, r[1].ok, r[1].signo, r[1].code,
              r[1].data != NULL ? r[1].data : "NULL", r[1].len);
    WB_EXPECT(r[3].ok == 0 && r[3].code == 7 && r[3].signo == 0 &&
                  r[3].data == NULL && r[3].len == 0,
              "item 3 exited with code 7: expected ok=0 code=7 signo=0 "
              "data=NULL len=0; got ok=%d code=%d signo=%d data=%s len=%zu",
              r[3].ok, r[3].code, r[3].signo,
              r[3].data != NULL ? r[3].data : "NULL", r[3].len);
    WB_PROMISE("failed-item");
    size_t good[] = {0, 2, 4};
    for (size_t k = 0; k < 3; k++) {
        size_t i = good[k];
        char want[32];
        snprintf(want, sizeof want, "ok %zu", i);
        WB_EXPECT(r[i].ok == 1 && r[i].data != NULL &&
                      strcmp(r[i].data, want) == 0,
                  "item %zu succeeded and must keep its result \"%s\" "
                  "whatever its neighbours did; got ok=%d data=\"%s\"",
                  i, want, r[i].ok, r[i].data != NULL ? r[i].data : "(null)");
    }
    free_results(r, 5);
}
END_TEST

/* Item 0 closes its end of the pipe at once, then lives on until the
 * other items have ended: the parent sees end-of-file on pipe 0 while
 * child 0 is still running and the others are already waiting to be
 * reaped. (The contract asks a map function not to close its descriptor;
 * this one does so on purpose, as a child that ends its output early.) */
struct late_end {
    atomic_int ended; /* items 1 and 2 that have returned */
};

static int close_early(size_t index, int fd, void *ctx)
{
    struct late_end *s = ctx;
    if (index != 0) {
        int rc = write_text(fd, index == 1 ? "one" : "two");
        atomic_fetch_add(&s->ended, 1);
        return rc == 0 ? (int)index * 10 : 1; /* 10, 20: both fail */
    }
    close(fd);
    int64_t give_up = wb_now_ns() + 1000 * 1000000LL;
    while (atomic_load(&s->ended) < 2 && wb_now_ns() < give_up)
        wb_sleep_ms(1);
    wb_sleep_ms(20); /* long enough for 1 and 2 to become zombies */
    return 0;
}

START_TEST(test_each_item_gets_its_own_childs_status)
{
    struct late_end *s = shared_page(sizeof *s);
    atomic_init(&s->ended, 0);
    pmap_result r[3];
    fill_junk(r, 3);
    errno = 0;
    int failed = pmap_run(3, close_early, s, r);
    munmap(s, sizeof *s);
    WB_PROMISE("status");
    WB_EXPECT(failed != -1, "expected the number of failed items; got -1%s",
              wb_errno_note(failed));
    int codes[3] = {0, 10, 20};
    for (size_t i = 0; i < 3; i++)
        WB_EXPECT(r[i].code == codes[i] && r[i].signo == 0,
                  "item %zu's child exited with code %d: expected results[%zu] "
                  "= {code %d, signo 0}; got {code %d, signo %d}. Item 0's "
                  "child closed its pipe early and ended last: after the "
                  "end-of-file of pipe i, wait for child i itself "
                  "(waitpid(pids[i], ...), blocking), not for whichever "
                  "child has ended",
                  i, codes[i], i, codes[i], r[i].code, r[i].signo);
    WB_EXPECT(failed == 2,
              "items 1 and 2 exit with codes 10 and 20: expected 2 failed "
              "items; got %d%s",
              failed, wb_errno_note(failed));
    WB_PROMISE("data");
    WB_EXPECT(r[0].ok == 1 && r[0].data != NULL && r[0].len == 0,
              "item 0 succeeded without output: expected ok=1 and data \"\"; "
              "got ok=%d data=%s",
              r[0].ok, r[0].data == NULL ? "NULL" : r[0].data);
    free_results(r, 3);
}
END_TEST

/* --- Megabytes through a pipe ----------------------------------------- */

enum { BIG = 3 * 1024 * 1024 };

static unsigned char big_byte(size_t k)
{
    return (unsigned char)((k * 7 + k / 4096) & 0xff);
}

static int big_or_small(size_t index, int fd, void *ctx)
{
    (void)ctx;
    if (index != 1)
        return write_text(fd, index == 0 ? "small 0" : "small 2");
    static unsigned char chunk[65536];
    for (size_t off = 0; off < BIG; off += sizeof chunk) {
        for (size_t k = 0; k < sizeof chunk; k++)
            chunk[k] = big_byte(off + k);
        if (write_all(fd, chunk, sizeof chunk) == -1)
            return 1;
    }
    return 0;
}

START_TEST(test_large_output)
{
    pmap_result r[3];
    int failed = pmap_run(3, big_or_small, NULL, r);
    WB_PROMISE("big");
    WB_EXPECT(failed == 0,
              "expected 0 failed items (item 1 writes 3 MiB); got %d%s", failed,
              fail_note(failed, r, 3));
    WB_EXPECT(r[1].len == BIG,
              "item 1 wrote %d bytes (3 MiB, far more than a pipe holds); "
              "results[1].len is %zu",
              BIG, r[1].len);
    size_t bad = 0;
    while (bad < BIG && (unsigned char)r[1].data[bad] == big_byte(bad))
        bad++;
    WB_EXPECT(bad == BIG,
              "item 1's data differs from what it wrote at byte "
              "%zu",
              bad);
    WB_EXPECT(r[1].data[BIG] == '\0', "the data must be followed by a '\\0'");
    WB_EXPECT(strcmp(r[0].data, "small 0") == 0 &&
                  strcmp(r[2].data, "small 2") == 0,
              "items 0 and 2 should hold \"small 0\" and \"small 2\"; got "
              "\"%.20s\" and \"%.20s\" (lengths %zu and %zu)",
              r[0].data, r[2].data, r[0].len, r[2].len);
    pmap_free(r, 3);
}
END_TEST

/* --- Each child holds its own write end only --------------------------- */

/* The pipes the test itself has open when it calls pmap_run(): the
 * children inherit them too, and they are not the map's. */
enum { MAX_OWN = 64 };
static char own_pipes[MAX_OWN][48];
static int n_own_pipes;

static void note_own_pipes(void)
{
    n_own_pipes = 0;
    for (int fd = 0; fd < 1024 && n_own_pipes < MAX_OWN; fd++) {
        char link[64];
        snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
        char *target = own_pipes[n_own_pipes];
        ssize_t len = readlink(link, target, sizeof own_pipes[0] - 1);
        if (len <= 0)
            continue;
        target[len] = '\0';
        if (strncmp(target, "pipe:", 5) == 0)
            n_own_pipes++;
    }
}

/* The result: the other pipe descriptors this child holds besides out_fd
 * and those the test had ("" when there is none). Linux-only: it reads
 * /proc/self/fd. */
static int list_other_pipes(size_t index, int fd, void *ctx)
{
    (void)index;
    (void)ctx;
    char list[256] = "";
    size_t used = 0;
    for (int d = 0; d < 1024; d++) {
        char link[64], target[48];
        snprintf(link, sizeof link, "/proc/self/fd/%d", d);
        ssize_t len = readlink(link, target, sizeof target - 1);
        if (d == fd || len <= 0)
            continue;
        target[len] = '\0';
        int known = strncmp(target, "pipe:", 5) != 0;
        for (int k = 0; k < n_own_pipes && !known; k++)
            known = strcmp(own_pipes[k], target) == 0;
        if (known || used + 40 > sizeof list)
            continue;
        used += (size_t)snprintf(list + used, sizeof list - used, "%s%d (%s)",
                                 used > 0 ? ", " : "", d, target);
    }
    return write_text(fd, list);
}

START_TEST(test_children_hold_only_their_own_pipe)
{
    enum { N = 4 };
    note_own_pipes();
    pmap_result r[N];
    int failed = pmap_run(N, list_other_pipes, NULL, r);
    WB_PROMISE("own-pipe");
    WB_EXPECT(failed == 0, "expected 0 failed items; got %d%s", failed,
              fail_note(failed, r, N));
    for (size_t i = 0; i < N; i++)
        WB_EXPECT(r[i].data != NULL && r[i].len == 0,
                  "item %zu's child holds other pipe descriptors besides its "
                  "own write end: %s. A child keeps only its own write end: "
                  "close its read end and the read ends of the earlier "
                  "items' pipes, which it inherited from the parent",
                  i, r[i].data != NULL ? r[i].data : "(null)");
    pmap_free(r, N);
}
END_TEST

/* --- Empty and binary results; pmap_free() ---------------------------- */

static int empty_or_binary(size_t index, int fd, void *ctx)
{
    (void)ctx;
    return index == 0 ? 0 : write_all(fd, "a\0b", 3);
}

START_TEST(test_empty_and_binary_results)
{
    pmap_result r[2];
    fill_junk(r, 2);
    int failed = pmap_run(2, empty_or_binary, NULL, r);
    WB_PROMISE("data");
    WB_EXPECT(failed == 0, "expected 0 failed items; got %d%s", failed,
              fail_note(failed, r, 2));
    WB_EXPECT(r[0].ok == 1 && r[0].data != NULL && r[0].len == 0,
              "an item that succeeds with no output has data \"\" (not "
              "NULL) and len 0; got data=%s len=%zu",
              r[0].data == NULL ? "NULL" : "non-NULL", r[0].len);
    WB_EXPECT(r[0].data[0] == '\0',
              "an empty result is still followed by a '\\0' (data is the C "
              "string \"\"); data[0] is byte %d",
              (unsigned char)r[0].data[0]);
    WB_EXPECT(r[1].len == 3 && memcmp(r[1].data, "a\0b", 4) == 0,
              "an item wrote the 3 bytes 'a', '\\0', 'b': expected len 3 and "
              "those bytes then '\\0'; got len %zu",
              r[1].len);
    free_results(r, 2);
    WB_PROMISE("free");
    WB_EXPECT(r[0].data == NULL && r[0].len == 0 && r[1].data == NULL &&
                  r[1].len == 0,
              "pmap_free() should set every data to NULL and len to 0; got "
              "data %s and %s, len %zu and %zu",
              r[0].data == NULL ? "NULL" : "set",
              r[1].data == NULL ? "NULL" : "set", r[0].len, r[1].len);
    pmap_free(r, 2); /* harmless a second time */
    pmap_free(NULL, 2);
}
END_TEST

/* --- Flushing before fork(), _exit() in the children ------------------ */

/* Output the child writes straight to the descriptor in ctx, while the
 * parent's own text sits in a stdio buffer. */
static int write_to_ctx_fd(size_t index, int fd, void *ctx)
{
    (void)index;
    (void)fd;
    return write_text(*(const int *)ctx, "child\n") == 0 ? 0 : 1;
}

START_TEST(test_flushes_before_fork)
{
    int fd;
    FILE *f = stdioflush_pending(&fd);
    pmap_result r[1];
    int failed = pmap_run(1, write_to_ctx_fd, &fd, r);
    WB_EXPECT(failed == 0, "expected 0 failed items; got %d%s", failed,
              fail_note(failed, r, 1));
    pmap_free(r, 1);
    int order = stdioflush_order(f);
    WB_PROMISE("flush");
    WB_EXPECT(order == 1,
              "the caller printed \"before\" (still in a stdio buffer), "
              "then item 0's child wrote \"child\": expected the file to "
              "hold \"before\\nchild\\n\"; %s. Flush stdio "
              "(fflush(NULL)) before fork()",
              order == -1 ? "\"before\" came after \"child\""
                          : "it holds something else");
}
END_TEST

START_TEST(test_children_end_with__exit)
{
    exitmark_arm(); /* tests/support/exitmark.c, in pmap.links */
    pmap_result r[NWORDS];
    int failed = pmap_run(NWORDS, shout, (void *)words, r);
    ssize_t n = exitmark_count(NWORDS + 1);
    WB_PROMISE("exit");
    WB_EXPECT(failed == 0, "expected 0 failed items; got %d%s", failed,
              fail_note(failed, r, NWORDS));
    pmap_free(r, failed >= 0 ? NWORDS : 0);
    WB_EXPECT(n == 0,
              "%zd of the %d children ran the caller's atexit() handlers: "
              "they ended with exit() (or returned from a function into "
              "the caller's code); a child must end with _exit()",
              n, NWORDS);
}
END_TEST

/* Item 0 closes its pipe, then interrupts the parent while it waits for
 * the child to end: a handler without SA_RESTART makes waitpid() fail
 * with EINTR. */
static int close_then_poke(size_t index, int fd, void *ctx)
{
    (void)index;
    (void)ctx;
    close(fd);
    wb_sleep_ms(50);
    kill(getppid(), SIGUSR1);
    wb_sleep_ms(20);
    return 0;
}

/* --- Arguments --------------------------------------------------------- */

static int never_called(size_t index, int fd, void *ctx)
{
    (void)index;
    (void)fd;
    (void)ctx;
    return 99;
}

START_TEST(test_zero_items)
{
    int got = pmap_run(0, never_called, NULL, NULL);
    WB_PROMISE("empty");
    WB_EXPECT(got == 0,
              "pmap_run(0, fn, ctx, NULL) has nothing to do: "
              "expected 0; got %d%s",
              got, wb_errno_note(got));
    WB_EXPECT(wb_no_children(), "no item, no child: a child was created");
}
END_TEST

START_TEST(test_invalid_arguments)
{
    pmap_result r[2];
    fill_junk(r, 2);
    errno = 0;
    int got = pmap_run(2, NULL, NULL, r);
    WB_PROMISE("einval");
    WB_EXPECT(got == -1 && errno == EINVAL,
              "pmap_run(2, NULL, ...): expected -1 with EINVAL; got %d%s", got,
              wb_errno_note(got));
    for (size_t i = 0; i < 2; i++)
        WB_EXPECT(r[i].ok == 7 && r[i].code == 77 && r[i].signo == 55 &&
                      r[i].data == junk_data && r[i].len == 999,
                  "pmap_run(2, NULL, ctx, results) is rejected before "
                  "anything happens, so results must be left as they were; "
                  "results[%zu] became {ok %d, code %d, signo %d, data %s, "
                  "len %zu}: check the arguments first",
                  i, r[i].ok, r[i].code, r[i].signo,
                  r[i].data == NULL ? "NULL" : "changed", r[i].len);
    errno = 0;
    got = pmap_run(2, never_called, NULL, NULL);
    WB_EXPECT(got == -1 && errno == EINVAL,
              "pmap_run(2, fn, ctx, NULL): expected -1 with EINVAL; got %d%s",
              got, wb_errno_note(got));
    errno = 0;
    got = pmap_run(1, never_called, NULL, NULL);
    WB_EXPECT(got == -1 && errno == EINVAL,
              "pmap_run(1, fn, ctx, NULL): expected -1 with EINVAL; got %d%s",
              got, wb_errno_note(got));
    WB_EXPECT(wb_no_children(), "a call rejected for its arguments must not "
                                "fork");
}
END_TEST

/* --- Running out of descriptors half-way ------------------------------ */

/* Left to itself, each child would run on for a second, then mark its
 * slot of the page the test shares with it (ctx): a child killed as it
 * must be never does. The mark, not the time pmap_run() took, tells
 * killing from waiting: a loaded machine can make the kill slow, never
 * the sleep short. */
struct linger_page {
    volatile int woke[20];
};

static int linger(size_t index, int fd, void *ctx)
{
    struct linger_page *pg = ctx;
    wb_sleep_ms(1000);
    if (index < 20)
        pg->woke[index] = 1;
    return write_text(fd, "late");
}

/* How many children of @p pg ran to the end of their sleep. */
static int woke(const struct linger_page *pg)
{
    int k = 0;
    for (int i = 0; i < 20; i++)
        k += pg->woke[i] != 0;
    return k;
}

START_TEST(test_out_of_descriptors)
{
    int highest = -1;
    for (int fd = 0; fd < 65536; fd++)
        if (fcntl(fd, F_GETFD) != -1)
            highest = fd;
    struct rlimit old;
    WB_EXPECT(getrlimit(RLIMIT_NOFILE, &old) == 0, "getrlimit() failed");
    /* Room above the highest open descriptor: without it, a process whose
     * descriptors are 0..highest with no hole would have none free, and
     * pmap_run() would fail before starting a single child. */
    struct rlimit tight = old;
    tight.rlim_cur = (rlim_t)highest + 1 + 16;
    WB_EXPECT(setrlimit(RLIMIT_NOFILE, &tight) == 0, "setrlimit() failed: %s",
              strerror(errno));
    /* Take every free descriptor below the limit (there may be holes
     * below the highest one), then give back five: a few items start,
     * then pipe() fails with EMFILE. */
    int *fill = malloc(((size_t)highest + 1 + 16) * sizeof *fill);
    WB_EXPECT(fill != NULL, "out of memory");
    int nfill = 0, fd;
    while ((fd = open("/dev/null", O_RDONLY)) != -1)
        fill[nfill++] = fd;
    WB_EXPECT(nfill >= 16, "the test could take only %d descriptors", nfill);
    for (int k = 0; k < 5 && nfill > 0; k++)
        close(fill[--nfill]);

    /* The children ignore SIGTERM (they inherit that from the test while
     * pmap_run() forks them): only SIGKILL stops them at once. */
    struct sigaction ignore, old_term;
    memset(&ignore, 0, sizeof ignore);
    ignore.sa_handler = SIG_IGN;
    sigemptyset(&ignore.sa_mask);
    WB_EXPECT(sigaction(SIGTERM, &ignore, &old_term) == 0,
              "sigaction() failed");
    pmap_result r[20];
    for (size_t i = 0; i < 20; i++)
        r[i].data = (char *)"not touched";
    struct linger_page *pg = shared_page(sizeof *pg);
    int64_t start = wb_now_ns();
    errno = 0;
    int got = pmap_run(20, linger, pg, r);
    int err = errno;
    int64_t ms = (wb_now_ns() - start) / 1000000;
    sigaction(SIGTERM, &old_term, NULL);
    while (nfill > 0)
        close(fill[--nfill]);
    free(fill);
    WB_EXPECT(setrlimit(RLIMIT_NOFILE, &old) == 0, "setrlimit() failed");
    WB_PROMISE("fail-clean");
    WB_EXPECT(got == -1 && err == EMFILE,
              "with room for only a few pipes, expected -1 with EMFILE; got "
              "%d (errno %s)",
              got, wb_errname(err));
    int nulls = 0;
    for (size_t i = 0; i < 20; i++)
        nulls += r[i].data == NULL;
    WB_EXPECT(nulls == 20,
              "after a failed call every results[i].data must "
              "be NULL; %d of 20 are",
              nulls);
    WB_EXPECT(wb_no_children(),
              "after a failed call no child of the map may be "
              "left: kill and reap the ones already started");
    WB_EXPECT(woke(pg) == 0,
              "pmap_run() took %lld ms to give up, and %d of the children "
              "already started ran to the end of their 1 s sleep: kill "
              "them with SIGKILL, which cannot be ignored, then reap them; "
              "do not wait for them to end",
              (long long)ms, woke(pg));
    munmap(pg, sizeof *pg);
}
END_TEST

/* --- fork() fails half-way --------------------------------------------- */

/* pmap.links links this suite with tests/support/wrap.c,
 * so a test can make fork() fail. */
START_TEST(test_fork_fails_halfway)
{
    pmap_result r[5];
    for (size_t i = 0; i < 5; i++)
        r[i] = (pmap_result){.ok = 7,
                             .code = 77,
                             .signo = 55,
                             .data = (char *)"not touched",
                             .len = 999};
    struct linger_page *pg = shared_page(sizeof *pg);
    int64_t start = wb_now_ns();
    wb_wrap_reset(WB_FORK, 3); /* items 0 and 1 start, item 2 cannot */
    errno = 0;
    int got = pmap_run(5, linger, pg, r);
    int err = errno;
    int forks = wb_wrap_calls(WB_FORK);
    wb_wrap_reset(WB_FORK, 0);
    int64_t ms = (wb_now_ns() - start) / 1000000;
    WB_PROMISE("fail-clean");
    WB_EXPECT(got == -1 && err == EAGAIN,
              "the third fork() failed with EAGAIN: expected pmap_run() to "
              "return -1 with errno EAGAIN; got %d (errno %s)",
              got, wb_errname(err));
    WB_EXPECT(forks == 3,
              "after the third fork() failed, pmap_run() should start no "
              "more children; it called fork() %d times",
              forks);
    int nulls = 0;
    for (size_t i = 0; i < 5; i++)
        nulls += r[i].data == NULL;
    WB_EXPECT(nulls == 5,
              "after a failed call every results[i].data must be NULL; %d "
              "of 5 are",
              nulls);
    if (got == -1)
        expect_uncollected(r, 5, "the third fork() failed");
    WB_EXPECT(wb_no_children(),
              "after a failed call no child of the map may be left: kill "
              "and reap the two already started");
    WB_EXPECT(woke(pg) == 0,
              "pmap_run() took %lld ms to give up, and %d of the two "
              "children already started ran to the end of their 1 s sleep: "
              "kill them with SIGKILL, then reap them",
              (long long)ms, woke(pg));
    munmap(pg, sizeof *pg);
}
END_TEST

/* --- A signal while the parent reads ---------------------------------- */

static int poke_then_write(size_t index, int fd, void *ctx)
{
    (void)ctx;
    if (index == 0) {
        wb_sleep_ms(30);
        kill(getppid(), SIGUSR1);
        wb_sleep_ms(20);
        return write_text(fd, "late");
    }
    return write_text(fd, "early");
}

START_TEST(test_read_interrupted_by_signal)
{
    interrupt_on_usr1(); /* no SA_RESTART: read() fails with EINTR */
    pmap_result r[2];
    errno = 0;
    int failed = pmap_run(2, poke_then_write, NULL, r);
    WB_PROMISE("eintr");
    WB_EXPECT(failed == 0,
              "a signal handler interrupted read() or waitpid() (EINTR): "
              "expected the call to be resumed and 0 failed items; got %d"
              "%s",
              failed, wb_errno_note(failed));
    WB_EXPECT(interrupt_usr1_seen(),
              "the child's signal never reached the caller");
    WB_EXPECT(r[0].data != NULL && strcmp(r[0].data, "late") == 0 &&
                  r[1].data != NULL && strcmp(r[1].data, "early") == 0,
              "expected \"late\" and \"early\"; got \"%s\" and \"%s\"",
              r[0].data != NULL ? r[0].data : "(null)",
              r[1].data != NULL ? r[1].data : "(null)");
    pmap_free(r, 2);
}
END_TEST

START_TEST(test_wait_interrupted_by_signal)
{
    interrupt_on_usr1(); /* no SA_RESTART: waitpid() fails with EINTR */
    pmap_result r[1];
    errno = 0;
    int failed = pmap_run(1, close_then_poke, NULL, r);
    int seen = interrupt_usr1_seen();
    WB_PROMISE("eintr");
    WB_EXPECT(failed == 0 && r[0].ok == 1 && r[0].code == 0,
              "the child closed its pipe, then a signal handler interrupted "
              "the parent's waitpid() (EINTR): expected the wait to be "
              "resumed and the item to succeed; got %d%s, ok=%d code=%d",
              failed, wb_errno_note(failed), failed == -1 ? 0 : r[0].ok,
              failed == -1 ? 0 : r[0].code);
    WB_EXPECT(seen, "the child's signal never reached the caller");
    pmap_free(r, failed >= 0 ? 1 : 0);
}
END_TEST

/* --- The '\0' after the data ------------------------------------------ */

/* Each item writes a line longer than the few bytes at the start of a
 * freed heap block that the allocator reuses for its own pointers. */
static int long_line(size_t index, int fd, void *ctx)
{
    (void)ctx;
    char line[96];
    snprintf(line, sizeof line,
             "item %zu: a result long enough to pass the heap's headers",
             index);
    return write_text(fd, line);
}

START_TEST(test_data_is_nul_terminated)
{
    enum { N = 3 };
    pmap_result r[N];
    fill_junk(r, N);
    dirtyheap_leave_garbage();
    int failed = pmap_run(N, long_line, NULL, r);
    WB_PROMISE("data");
    WB_EXPECT(failed == 0, "expected 0 failed items; got %d%s", failed,
              fail_note(failed, r, N));
    for (size_t i = 0; i < N; i++) {
        char want[96];
        snprintf(want, sizeof want,
                 "item %zu: a result long enough to pass the heap's headers",
                 i);
        WB_EXPECT(r[i].data != NULL && r[i].len == strlen(want) &&
                      memcmp(r[i].data, want, r[i].len) == 0,
                  "item %zu wrote \"%s\"; got len %zu", i, want, r[i].len);
        WB_EXPECT(r[i].data[r[i].len] == '\0',
                  "results[%zu].data must be followed by an extra '\\0' at "
                  "data[len] (data[%zu]); that byte is %d: the buffer came "
                  "from malloc() with old bytes in it, so write the '\\0' "
                  "yourself",
                  i, r[i].len, (unsigned char)r[i].data[r[i].len]);
    }
    free_results(r, N);
}
END_TEST

/* --- Return values above 255 ------------------------------------------ */

/* Item 0 returns 256, which arrives as exit code 0; item 1 returns 300,
 * which arrives as 44. */
static int return_above_255(size_t index, int fd, void *ctx)
{
    (void)ctx;
    write_text(fd, index == 0 ? "two-five-six" : "three-hundred");
    return index == 0 ? 256 : 300;
}

START_TEST(test_exit_code_low_8_bits)
{
    pmap_result r[2];
    fill_junk(r, 2);
    int failed = pmap_run(2, return_above_255, NULL, r);
    WB_PROMISE("exit-code");
    WB_EXPECT(failed == 1,
              "the map function returned 256 for item 0 and 300 for item 1: "
              "the children exit with 0 and 44 (the low 8 bits), so one item "
              "fails; expected 1, got %d%s",
              failed, wb_errno_note(failed));
    WB_EXPECT(r[0].ok == 1 && r[0].code == 0 && r[0].signo == 0 &&
                  r[0].data != NULL && strcmp(r[0].data, "two-five-six") == 0,
              "item 0 returned 256, so its child exited with code 0 and the "
              "item succeeded: expected {ok 1, code 0, signo 0, data "
              "\"two-five-six\"}; got {ok %d, code %d, signo %d, data %s}. "
              "Judge an item by the exit code waitpid() reports",
              r[0].ok, r[0].code, r[0].signo,
              r[0].data == NULL        ? "NULL"
              : r[0].data == junk_data ? "never set"
                                       : r[0].data);
    WB_EXPECT(r[1].ok == 0 && r[1].code == 44 && r[1].signo == 0 &&
                  r[1].data == NULL && r[1].len == 0,
              "item 1 returned 300, so its child exited with code 44 and the "
              "item failed: expected {ok 0, code 44, signo 0, data NULL, len "
              "0}; got {ok %d, code %d, signo %d, data %s, len %zu}",
              r[1].ok, r[1].code, r[1].signo,
              r[1].data == NULL ? "NULL" : "set", r[1].len);
    free_results(r, 2);
}
END_TEST

/* --- fflush() fails ---------------------------------------------------- */

START_TEST(test_flush_fails)
{
    FILE *full = stdioflush_full();
    pmap_result r[3];
    fill_junk(r, 3);
    wb_wrap_reset(WB_FORK, 0);
    errno = 0;
    int got = pmap_run(3, shout, (void *)words, r);
    int err = errno;
    int forks = wb_wrap_calls(WB_FORK);
    fclose(full); /* fails too (ENOSPC), and closes the stream */
    WB_PROMISE("fail-clean");
    WB_EXPECT(got == -1 && err == ENOSPC,
              "a stdio stream on /dev/full held unwritten text, so "
              "fflush(NULL) failed with ENOSPC: expected pmap_run() to "
              "return -1 with errno ENOSPC; got %d (errno %s)%s",
              got, wb_errname(err),
              got >= 0 ? ": call fflush(NULL) before the first fork(), and "
                         "give up when it returns EOF"
                       : "");
    WB_EXPECT(forks == 0,
              "fflush() failed before any child was started, so none may "
              "be; fork() was called %d times",
              forks);
    WB_EXPECT(null_data(r, 3) == 3,
              "after a failed call every results[i].data must be NULL (so "
              "there is nothing to free); %zu of 3 are",
              null_data(r, 3));
    if (got == -1)
        expect_uncollected(r, 3, "fflush() failed");
    free_results(r, got >= 0 ? 3 : 0);
}
END_TEST

/* --- waitpid() fails --------------------------------------------------- */

/* The pids of one test's children, in a page they share with the test. */
struct pid_page {
    pid_t pid[8];
};

static int note_pid(size_t index, int fd, void *ctx)
{
    struct pid_page *pg = ctx;
    pg->pid[index] = getpid();
    char line[32];
    snprintf(line, sizeof line, "ok %zu", index);
    return write_text(fd, line);
}

START_TEST(test_wait_fails)
{
    enum { N = 4 };
    struct pid_page *pg = shared_page(sizeof *pg);
    pmap_result r[N];

    /* SIGCHLD ignored: the kernel reaps each child as it ends, and every
     * waitpid() fails with ECHILD. */
    autoreap_start();
    fill_junk(r, N);
    errno = 0;
    int got = pmap_run(N, note_pid, pg, r);
    int err = errno;
    autoreap_stop();
    WB_PROMISE("fail-clean");
    WB_EXPECT(got == -1 && err == ECHILD,
              "SIGCHLD was set to SIG_IGN, so the kernel reaped the children "
              "and waitpid() failed with ECHILD: expected -1 with errno "
              "ECHILD; got %d (errno %s)",
              got, wb_errname(err));
    WB_EXPECT(null_data(r, N) == N,
              "after a failed call every results[i].data must be NULL; %zu "
              "of %d are",
              null_data(r, N), N);
    free_results(r, got >= 0 ? N : 0);

    /* The second waitpid() fails with ECHILD, as if someone else had
     * reaped that child: item 0 is already collected by then. */
    memset(pg, 0, sizeof *pg);
    fill_junk(r, N);
    wb_wrap_fail(WB_WAITPID, 2, ECHILD, 0);
    errno = 0;
    got = pmap_run(N, note_pid, pg, r);
    err = errno;
    wb_wrap_reset(WB_WAITPID, 0);
    /* The child whose waitpid() "failed" is still a zombie: reap it, and
     * see that the map left no other. */
    int zombies = 0, running = 0;
    for (int i = 0; i < N; i++) {
        if (pg->pid[i] <= 0)
            continue;
        pid_t w = waitpid(pg->pid[i], NULL, WNOHANG);
        if (w == 0) {
            running++;
            kill(pg->pid[i], SIGKILL);
            while (waitpid(pg->pid[i], NULL, 0) == -1 && errno == EINTR)
                continue;
        } else if (w == pg->pid[i]) {
            zombies++;
        }
    }
    WB_EXPECT(got == -1 && err == ECHILD,
              "the second waitpid() failed with ECHILD: expected pmap_run() "
              "to return -1 with errno ECHILD; got %d (errno %s)",
              got, wb_errname(err));
    WB_EXPECT(null_data(r, N) == N,
              "the second waitpid() failed after item 0 had been collected: "
              "every results[i].data must then be NULL, so free the data "
              "already collected; %zu of %d are NULL (results[0].data is "
              "%s)",
              null_data(r, N), N, r[0].data == NULL ? "NULL" : "still set");
    WB_EXPECT(running == 0 && zombies <= 1,
              "after a failed call no child of the map may be left (besides "
              "the one whose waitpid() failed): %d still ran and %d were "
              "unreaped",
              running, zombies > 0 ? zombies - 1 : 0);
    free_results(r, got >= 0 ? N : 0);
    munmap(pg, sizeof *pg);
}
END_TEST

/* --- Memory and read() fail ----------------------------------------- */

/* Item 0 writes 10,000 bytes (more than one first buffer of the
 * reference, so its buffer grows), the others "ok I". */
static int big_then_small(size_t index, int fd, void *ctx)
{
    (void)ctx;
    if (index == 0) {
        char buf[10000];
        memset(buf, 'x', sizeof buf);
        return write_all(fd, buf, sizeof buf) == 0 ? 0 : 1;
    }
    char line[32];
    snprintf(line, sizeof line, "ok %zu", index);
    return write_text(fd, line) == 0 ? 0 : 1;
}

START_TEST(test_out_of_memory)
{
    /* Every allocation pmap_run() makes, failed in turn (NULL with
     * ENOMEM): the tables, each item's buffer and each time it grows. */
    enum { N = 3 };
    pmap_result r[N];
    fill_junk(r, N);
    wb_alloc_fail(0);
    int got = pmap_run(N, big_then_small, NULL, r);
    int total = wb_alloc_calls();
    WB_EXPECT(got == 0, "pmap_run() with 3 items: expected 0; got %d%s", got,
              fail_note(got, r, N));
    free_results(r, got >= 0 ? N : 0);
    WB_PROMISE("fail-clean");
    for (int k = 1; k <= total && k <= 12; k++) {
        fill_junk(r, N);
        wb_alloc_fail(k);
        errno = 0;
        got = pmap_run(N, big_then_small, NULL, r);
        int err = errno;
        wb_alloc_fail(0);
        WB_EXPECT(got == -1 && err == ENOMEM,
                  "allocation %d of the %d pmap_run() makes for 3 items "
                  "returned NULL (ENOMEM): expected -1 with errno ENOMEM; "
                  "got %d (errno %s)",
                  k, total, got, wb_errname(err));
        WB_EXPECT(null_data(r, N) == N,
                  "allocation %d failed: after a failed call every "
                  "results[i].data must be NULL (free the data already "
                  "collected); %zu of %d are",
                  k, null_data(r, N), N);
        WB_EXPECT(wb_no_children(),
                  "allocation %d failed: the children "
                  "already started must be killed and "
                  "reaped",
                  k);
        free_results(r, got >= 0 ? N : 0);
    }
}
END_TEST

START_TEST(test_read_fails)
{
    /* read() call k fails with EIO (the map's reads in turn: item 0's
     * data, its end-of-file, then item 1's), then with EINTR. */
    enum { N = 3 };
    pmap_result r[N];
    for (int k = 1; k <= 3; k++) {
        fill_junk(r, N);
        wb_wrap_fail(WB_READ, k, EIO, 0);
        errno = 0;
        int got = pmap_run(N, big_then_small, NULL, r);
        int err = errno;
        wb_wrap_reset(WB_READ, 0);
        WB_PROMISE("fail-clean");
        WB_EXPECT(got == -1 && err == EIO,
                  "read() call %d failed with EIO: expected pmap_run() to "
                  "return -1 with errno EIO; got %d (errno %s)",
                  k, got, wb_errname(err));
        WB_EXPECT(null_data(r, N) == N,
                  "read() call %d failed: after a failed call every "
                  "results[i].data must be NULL; %zu of %d are",
                  k, null_data(r, N), N);
        WB_EXPECT(wb_no_children(),
                  "read() call %d failed: the children "
                  "already started must be killed and "
                  "reaped",
                  k);
        free_results(r, got >= 0 ? N : 0);

        fill_junk(r, N);
        wb_wrap_fail(WB_READ, k, EINTR, 0);
        got = pmap_run(N, big_then_small, NULL, r);
        wb_wrap_reset(WB_READ, 0);
        WB_PROMISE("eintr");
        WB_EXPECT(got == 0 && r[0].ok && r[0].len == 10000 && r[1].ok &&
                      r[1].data != NULL && r[1].data != junk_data &&
                      strcmp(r[1].data, "ok 1") == 0,
                  "read() call %d failed with EINTR (as if a signal handler "
                  "had interrupted it): expected it to be resumed, 0 and "
                  "every result; got %d%s, results[0].len %zu",
                  k, got, fail_note(got, r, N), r[0].len);
        free_results(r, got >= 0 ? N : 0);
    }
}
END_TEST

Suite *wb_suite(void)
{
    Suite *s = wb_begin("pmap", "chapters/02-processes/chapter.md");
    WB_ADD(s, test_results_in_input_order, "Pipes");
    WB_ADD(s, test_many_items, "Pipes");
    WB_ADD(s, test_children_run_at_the_same_time, "A pool of worker processes");
    WB_ADD(s, test_crashing_item_fails_alone,
           "Waiting for children: wait() and waitpid()");
    WB_ADD(s, test_children_hold_only_their_own_pipe, "Pipes");
    WB_ADD_TIMEOUT(s, test_large_output, "The full pipe", 3.0);
    WB_ADD(s, test_empty_and_binary_results, "Pipes");
    WB_ADD(s, test_data_is_nul_terminated, "Pipes");
    WB_ADD(s, test_exit_code_low_8_bits,
           "Waiting for children: wait() and waitpid()");
    WB_ADD(s, test_zero_items, "A pool of worker processes");
    WB_ADD(s, test_invalid_arguments, "A pool of worker processes");
    WB_ADD(s, test_out_of_descriptors, "Pipes");
    WB_ADD(s, test_fork_fails_halfway, "fork() returns twice");
    WB_ADD(s, test_wait_fails, "Pitfalls");
    WB_ADD(s, test_out_of_memory, "Pipes");
    WB_ADD(s, test_read_fails, "Pipes");
    WB_ADD(s, test_read_interrupted_by_signal, "Pipes");
    WB_ADD(s, test_each_item_gets_its_own_childs_status,
           "Waiting for children: wait() and waitpid()");
    WB_ADD(s, test_wait_interrupted_by_signal,
           "Waiting for children: wait() and waitpid()");
    WB_ADD(s, test_flushes_before_fork,
           "exit() and _exit(), and flushing before fork()");
    WB_ADD(s, test_flush_fails,
           "exit() and _exit(), and flushing before fork()");
    WB_ADD(s, test_children_end_with__exit,
           "exit() and _exit(), and flushing before fork()");
    return s;
}
