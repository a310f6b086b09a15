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

/* " (errno text)" after a call that returned -1, "" otherwise. */
static const char *err_note(int rc)
{
    static char buf[128];
    if (rc != -1)
        return "";
    snprintf(buf, sizeof buf, " (%s)", strerror(errno));
    return buf;
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

/* Die of @p sig the way a crash does (default action, no core file). */
static void die_of_signal(int sig)
{
    struct rlimit no_core = {0, 0};
    setrlimit(RLIMIT_CORE, &no_core);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    sigaction(sig, &sa, NULL);
    raise(sig);
}

static void *shared_page(size_t size)
{
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    WB_EXPECT(p != MAP_FAILED, "mmap() failed: %s", strerror(errno));
    return p;
}

/* There must be no child left at all: none running, none unreaped. */
static int no_children(void)
{
    return waitpid(-1, NULL, WNOHANG) == -1 && errno == ECHILD;
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
    errno = 0;
    int failed = pmap_run(NWORDS, shout, (void *)words, r);
    WB_EXPECT(failed == 0,
              "expected 0 failed items; pmap_run() returned %d"
              "%s",
              failed, err_note(failed));
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
    pmap_free(r, NWORDS);
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
    WB_EXPECT(failed == 0, "expected 0 failed items; got %d", failed);
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
        die_of_signal(SIGSEGV);
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
    int failed = pmap_run(5, some_fail, NULL, r);
    WB_EXPECT(failed == 2,
              "items 1 (SIGSEGV) and 3 (exit code 7) fail: expected "
              "pmap_run() to return 2; got %d%s",
              failed, err_note(failed));
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
    pmap_free(r, 5);
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
    WB_EXPECT(failed == 0, "expected 0 failed items; got %d%s", failed,
              err_note(failed));
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
              "\"%s\" and \"%s\"",
              r[0].data, r[2].data);
    pmap_free(r, 3);
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
    int failed = pmap_run(2, empty_or_binary, NULL, r);
    WB_EXPECT(failed == 0, "expected 0 failed items; got %d", failed);
    WB_EXPECT(r[0].ok == 1 && r[0].data != NULL && r[0].len == 0 &&
                  r[0].data[0] == '\0',
              "an item that succeeds with no output has data \"\" (not "
              "NULL) and len 0; got data=%s len=%zu",
              r[0].data == NULL ? "NULL" : "non-NULL", r[0].len);
    WB_EXPECT(r[1].len == 3 && memcmp(r[1].data, "a\0b", 4) == 0,
              "an item wrote the 3 bytes 'a', '\\0', 'b': expected len 3 and "
              "those bytes then '\\0'; got len %zu",
              r[1].len);
    pmap_free(r, 2);
    WB_EXPECT(r[0].data == NULL && r[0].len == 0 && r[1].data == NULL &&
                  r[1].len == 0,
              "pmap_free() should set every data to NULL and len to 0");
    pmap_free(r, 2); /* harmless a second time */
    pmap_free(NULL, 2);
}
END_TEST

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
    WB_EXPECT(got == 0,
              "pmap_run(0, fn, ctx, NULL) has nothing to do: "
              "expected 0; got %d%s",
              got, err_note(got));
    WB_EXPECT(no_children(), "no item, no child: a child was created");
}
END_TEST

START_TEST(test_invalid_arguments)
{
    pmap_result r[2];
    errno = 0;
    int got = pmap_run(2, NULL, NULL, r);
    WB_EXPECT(got == -1 && errno == EINVAL,
              "pmap_run(2, NULL, ...): expected -1 with EINVAL; got %d (%s)",
              got, strerror(errno));
    errno = 0;
    got = pmap_run(2, never_called, NULL, NULL);
    WB_EXPECT(got == -1 && errno == EINVAL,
              "pmap_run(2, fn, ctx, NULL): expected -1 with EINVAL; got %d "
              "(%s)",
              got, strerror(errno));
    WB_EXPECT(no_children(), "a call rejected for its arguments must not "
                             "fork");
}
END_TEST

/* --- Running out of descriptors half-way ------------------------------ */

START_TEST(test_out_of_descriptors)
{
    int highest = -1;
    for (int fd = 0; fd < 65536; fd++)
        if (fcntl(fd, F_GETFD) != -1)
            highest = fd;
    struct rlimit old;
    WB_EXPECT(getrlimit(RLIMIT_NOFILE, &old) == 0, "getrlimit() failed");
    struct rlimit tight = old;
    tight.rlim_cur = (rlim_t)highest + 1;
    WB_EXPECT(setrlimit(RLIMIT_NOFILE, &tight) == 0, "setrlimit() failed: %s",
              strerror(errno));
    /* Take every free descriptor below the limit (there may be holes
     * below the highest one), then give back five: a few items start,
     * then pipe() fails with EMFILE. */
    int *fill = malloc(((size_t)highest + 1) * sizeof *fill);
    WB_EXPECT(fill != NULL, "out of memory");
    int nfill = 0, fd;
    while ((fd = open("/dev/null", O_RDONLY)) != -1)
        fill[nfill++] = fd;
    for (int k = 0; k < 5 && nfill > 0; k++)
        close(fill[--nfill]);

    pmap_result r[20];
    for (size_t i = 0; i < 20; i++)
        r[i].data = (char *)"not touched";
    errno = 0;
    int got = pmap_run(20, some_fail, NULL, r);
    int err = errno;
    while (nfill > 0)
        close(fill[--nfill]);
    free(fill);
    WB_EXPECT(setrlimit(RLIMIT_NOFILE, &old) == 0, "setrlimit() failed");
    WB_EXPECT(got == -1 && err == EMFILE,
              "with room for only a few pipes, expected -1 with EMFILE; got "
              "%d (%s)",
              got, strerror(err));
    int nulls = 0;
    for (size_t i = 0; i < 20; i++)
        nulls += r[i].data == NULL;
    WB_EXPECT(nulls == 20,
              "after a failed call every results[i].data must "
              "be NULL; %d of 20 are",
              nulls);
    WB_EXPECT(no_children(), "after a failed call no child of the map may be "
                             "left: kill and reap the ones already started");
}
END_TEST

/* --- A signal while the parent reads ---------------------------------- */

static volatile sig_atomic_t usr1_seen;

static void on_usr1(int sig)
{
    (void)sig;
    usr1_seen = 1;
}

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
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: read() fails with EINTR */
    WB_EXPECT(sigaction(SIGUSR1, &sa, NULL) == 0, "sigaction() failed");
    pmap_result r[2];
    errno = 0;
    int failed = pmap_run(2, poke_then_write, NULL, r);
    WB_EXPECT(usr1_seen, "the child's signal never reached the caller");
    WB_EXPECT(failed == 0,
              "a signal handler interrupted read() or waitpid() (EINTR): "
              "expected the call to be resumed and 0 failed items; got %d"
              "%s",
              failed, err_note(failed));
    WB_EXPECT(r[0].data != NULL && strcmp(r[0].data, "late") == 0 &&
                  r[1].data != NULL && strcmp(r[1].data, "early") == 0,
              "expected \"late\" and \"early\"; got \"%s\" and \"%s\"",
              r[0].data != NULL ? r[0].data : "(null)",
              r[1].data != NULL ? r[1].data : "(null)");
    pmap_free(r, 2);
}
END_TEST

Suite *wb_suite(void)
{
    Suite *s = wb_begin("pmap", "chapters/02-processes/chapter.md");
    WB_ADD(s, test_results_in_input_order, "Pipes");
    WB_ADD(s, test_children_run_at_the_same_time, "A pool of worker processes");
    WB_ADD(s, test_crashing_item_fails_alone,
           "Waiting for children: wait() and waitpid()");
    WB_ADD_TIMEOUT(s, test_large_output, "Pipes", 3.0);
    WB_ADD(s, test_empty_and_binary_results, "Pipes");
    WB_ADD(s, test_zero_items, "A pool of worker processes");
    WB_ADD(s, test_invalid_arguments, "A pool of worker processes");
    WB_ADD(s, test_out_of_descriptors, "Pipes");
    WB_ADD(s, test_read_interrupted_by_signal, "Pipes");
    return s;
}
