/*
 * Tests of uringcopy (exercises/06-beyond/uringcopy.h): a file copy with
 * io_uring, up to `depth` requests in flight.
 *
 * The suite is linked with -Wl,--wrap= for io_uring_submit(),
 * io_uring_submit_and_wait() and io_uring_queue_exit()
 * (tests/06-beyond/uringcopy.libs): after each submission it notes how
 * many requests are in flight (submitted to the kernel, completion not
 * yet consumed), and when the ring is freed it notes how many still
 * were. The ring's own counters say it: the kernel's submission head
 * counts the requests it took, the completion head the completions the
 * program consumed.
 *
 * Short reads come from a pipe fed in small pieces, short writes from a
 * pipe (a write bigger than its 64 KiB buffer comes back short),
 * failures from /dev/full, RLIMIT_FSIZE, a read-only destination and a
 * directory.
 *
 * Linux-only: io_uring.
 */
#define _GNU_SOURCE
#include "wb.h"
#include "uringcopy.h"

#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/* What the wraps saw. */
static unsigned max_in_flight; /* the most in flight after a submit */
static int submits;            /* submit calls */
static int exits;              /* io_uring_queue_exit() calls */
static unsigned left_at_exit;  /* in flight when the ring was freed */

static unsigned in_flight(struct io_uring *ring)
{
    return *ring->sq.khead - *ring->cq.khead;
}

static void note_in_flight(struct io_uring *ring)
{
    unsigned n = in_flight(ring);
    if (n > max_in_flight)
        max_in_flight = n;
    submits++;
}

/* Short reads and writes of regular files, injected: before a submit,
 * every read of cut_read_fd (every write of cut_write_fd) still on the
 * submission queue asks for half of what it asked, rounded up. The
 * kernel then returns fewer bytes than the copy asked for, as it may
 * at any time; a regular file alone would do so only at its end. */
static int cut_read_fd = -1, cut_write_fd = -1;
static int submit_fails_with; /* the next submit-and-wait fails; 0: none */
static int cuts;              /* requests cut */

static void cut_requests(struct io_uring *ring)
{
    if (cut_read_fd < 0 && cut_write_fd < 0)
        return;
    unsigned shift = (ring->flags & IORING_SETUP_SQE128) ? 1 : 0;
    for (unsigned i = ring->sq.sqe_head; i != ring->sq.sqe_tail; i++) {
        struct io_uring_sqe *sqe =
            &ring->sq.sqes[(i & ring->sq.ring_mask) << shift];
        int reads = sqe->opcode == IORING_OP_READ ||
                    sqe->opcode == IORING_OP_READ_FIXED;
        int writes = sqe->opcode == IORING_OP_WRITE ||
                     sqe->opcode == IORING_OP_WRITE_FIXED;
        if ((sqe->flags & IOSQE_FIXED_FILE) || sqe->len < 2)
            continue;
        if ((reads && sqe->fd == cut_read_fd) ||
            (writes && sqe->fd == cut_write_fd)) {
            sqe->len = (sqe->len + 1) / 2;
            cuts++;
        }
    }
}

int __real_io_uring_submit(struct io_uring *ring);
int __wrap_io_uring_submit(struct io_uring *ring);
int __wrap_io_uring_submit(struct io_uring *ring)
{
    cut_requests(ring);
    int rc = __real_io_uring_submit(ring);
    note_in_flight(ring);
    return rc;
}

int __real_io_uring_submit_and_wait(struct io_uring *ring, unsigned wait_nr);
int __wrap_io_uring_submit_and_wait(struct io_uring *ring, unsigned wait_nr);
int __wrap_io_uring_submit_and_wait(struct io_uring *ring, unsigned wait_nr)
{
    if (submit_fails_with != 0) {
        /* io_uring_enter() fails before it takes anything. */
        int err = submit_fails_with;
        submit_fails_with = 0;
        submits++;
        return -err;
    }
    cut_requests(ring);
    int rc = __real_io_uring_submit_and_wait(ring, wait_nr);
    note_in_flight(ring);
    return rc;
}

void __real_io_uring_queue_exit(struct io_uring *ring);
void __wrap_io_uring_queue_exit(struct io_uring *ring);
void __wrap_io_uring_queue_exit(struct io_uring *ring)
{
    unsigned n = in_flight(ring);
    if (n > left_at_exit)
        left_at_exit = n;
    exits++;
    __real_io_uring_queue_exit(ring);
}

static void reset_counts(void)
{
    max_in_flight = 0;
    submits = 0;
    exits = 0;
    left_at_exit = 0;
}

/* Say in one line when io_uring cannot run here at all. */
static void need_uring(void)
{
    struct io_uring ring;
    int rc = io_uring_queue_init(2, &ring, 0);
    if (rc < 0)
        ck_abort_msg("io_uring cannot run here: io_uring_queue_init() "
                     "failed with %s (a kernel without io_uring, or "
                     "kernel.io_uring_disabled set, or a sandbox that "
                     "forbids it): see \"io_uring: do it, and tell me "
                     "when it is done\"",
                     wb_errname(-rc));
    io_uring_queue_exit(&ring);
    reset_counts();
}

/* A new, unlinked file under /tmp, open for reading and writing. */
static int tmp_fd(void)
{
    char name[] = "/tmp/wb-uringcopy-XXXXXX";
    int fd = mkstemp(name);
    ck_assert_msg(fd >= 0, "mkstemp() under /tmp failed: %s", strerror(errno));
    unlink(name);
    return fd;
}

/* Byte i of every test file: a random MiB, shifted by a different amount
 * in each MiB of the file, so no block size repeats and a block written
 * at the wrong offset shows. Built with memcpy(): 64 MiB stays fast. */
#define BASE_SIZE (1u << 20)
static unsigned char *base;

static const unsigned char *base_bytes(void)
{
    if (base == NULL) {
        base = malloc(BASE_SIZE);
        ck_assert(base != NULL);
        unsigned long long x = 0x9E3779B97F4A7C15ull;
        for (size_t i = 0; i < BASE_SIZE; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            base[i] = (unsigned char)x;
        }
    }
    return base;
}

static size_t base_index(unsigned long long i)
{
    return (size_t)((i % BASE_SIZE + (i / BASE_SIZE) * 7919) % BASE_SIZE);
}

static unsigned char pattern(unsigned long long i)
{
    return base_bytes()[base_index(i)];
}

static void fill(unsigned char *buf, unsigned long long at, size_t n)
{
    const unsigned char *b = base_bytes();
    while (n > 0) {
        size_t from = base_index(at);
        size_t run = BASE_SIZE - from;
        size_t to_mib = BASE_SIZE - (size_t)(at % BASE_SIZE);
        if (run > to_mib)
            run = to_mib;
        if (run > n)
            run = n;
        memcpy(buf, b + from, run);
        buf += run;
        at += run;
        n -= run;
    }
}

static int file_of(unsigned long long size)
{
    int fd = tmp_fd();
    size_t chunk = 1 << 20;
    unsigned char *buf = malloc(chunk);
    ck_assert(buf != NULL);
    for (unsigned long long at = 0; at < size; at += chunk) {
        size_t n = size - at < chunk ? (size_t)(size - at) : chunk;
        fill(buf, at, n);
        ck_assert_msg(pwrite(fd, buf, n, (off_t)at) == (ssize_t)n,
                      "could not write the test file under /tmp");
    }
    free(buf);
    return fd;
}

/* Where @p fd first differs from the pattern of @p size bytes: -1 when
 * it holds exactly that. */
static long long first_difference(int fd, unsigned long long size)
{
    struct stat st;
    ck_assert(fstat(fd, &st) == 0);
    size_t chunk = 1 << 20;
    unsigned char *got = malloc(chunk), *want = malloc(chunk);
    ck_assert(got != NULL && want != NULL);
    long long diff = -1;
    for (unsigned long long at = 0; at < size && diff < 0; at += chunk) {
        size_t n = size - at < chunk ? (size_t)(size - at) : chunk;
        ssize_t r = pread(fd, got, n, (off_t)at);
        fill(want, at, n);
        if (r != (ssize_t)n) {
            diff = (long long)at + (r > 0 ? r : 0);
            break;
        }
        if (memcmp(got, want, n) != 0)
            for (size_t i = 0; i < n; i++)
                if (got[i] != want[i]) {
                    diff = (long long)(at + i);
                    break;
                }
    }
    free(got);
    free(want);
    if (diff < 0 && (unsigned long long)st.st_size != size)
        diff = (long long)(st.st_size < (off_t)size ? st.st_size : (off_t)size);
    return diff;
}

static void copy_ok(unsigned long long size, unsigned depth, size_t block)
{
    int src = file_of(size), dst = tmp_fd();
    reset_counts();
    errno = 0;
    int rc = uringcopy(src, dst, depth, block);
    WB_EXPECT(rc == 0,
              "copying %llu bytes (depth %u, block %zu) should return 0; "
              "got %d%s",
              size, depth, block, rc, wb_errno_note(rc));
    long long d = first_difference(dst, size);
    struct stat st;
    fstat(dst, &st);
    WB_EXPECT(d < 0,
              "the copy of %llu bytes (depth %u, block %zu) should hold the "
              "same bytes; it differs from byte %lld on (it has %lld bytes)",
              size, depth, block, d, (long long)st.st_size);
    close(src);
    close(dst);
}

START_TEST(test_sizes_and_depths)
{
    need_uring();
    WB_PROMISE("same-bytes");
    static const unsigned long long sizes[] = {
        0, 1, 4095, 4096, 4097, 3 * 65536 + 17, 1 << 20};
    static const unsigned depths[] = {1, 2, 8, 64};
    static const size_t blocks[] = {4096, 1000};
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++)
        for (size_t d = 0; d < sizeof depths / sizeof *depths; d++)
            for (size_t b = 0; b < sizeof blocks / sizeof *blocks; b++)
                copy_ok(sizes[s], depths[d], blocks[b]);
}
END_TEST

START_TEST(test_64_mib)
{
    need_uring();
    WB_PROMISE("same-bytes");
    copy_ok(64ull << 20, 16, 256 << 10);
    WB_PROMISE("in-flight");
    WB_EXPECT(max_in_flight <= 16 && max_in_flight > 1,
              "a 64 MiB copy with depth 16 should keep 2 to 16 requests in "
              "flight; the most counted after a submit was %u (in %d "
              "submits)",
              max_in_flight, submits);
}
END_TEST

START_TEST(test_in_flight_bounded_and_kept_full)
{
    need_uring();
    WB_PROMISE("in-flight");
    static const unsigned depths[] = {1, 3, 64};
    for (size_t i = 0; i < sizeof depths / sizeof *depths; i++) {
        unsigned depth = depths[i];
        copy_ok(4 << 20, depth, 32 << 10);
        WB_EXPECT(submits > 0,
                  "the copy should submit with io_uring_submit() or "
                  "io_uring_submit_and_wait() (the calls the test counts); "
                  "none was called");
        WB_EXPECT(max_in_flight <= depth,
                  "with depth %u at most %u requests should be in flight "
                  "(submitted, completion not yet consumed); counted %u",
                  depth, depth, max_in_flight);
        WB_EXPECT(depth == 1 || max_in_flight > 1,
                  "with depth %u and a 4 MiB regular file, more than one "
                  "request should be in flight at once; the most was %u: "
                  "each request waited for the one before",
                  depth, max_in_flight);
    }
}
END_TEST

/* A pipe fed from a thread in small pieces: every read comes back short. */
struct feeder {
    int fd;
    unsigned long long size;
    size_t piece;
    long pause_ms; /* after the first piece */
};

static void *feed(void *arg)
{
    struct feeder *f = arg;
    unsigned char buf[4096];
    for (unsigned long long at = 0; at < f->size;) {
        size_t n = f->size - at < f->piece ? (size_t)(f->size - at) : f->piece;
        fill(buf, at, n);
        ssize_t w = write(f->fd, buf, n);
        if (w <= 0)
            break;
        if (at == 0 && f->pause_ms > 0)
            wb_sleep_ms(f->pause_ms);
        at += (unsigned long long)w;
        if ((at / f->piece) % 16 == 0)
            wb_sleep_ms(1);
    }
    close(f->fd);
    return NULL;
}

START_TEST(test_short_reads_from_a_pipe)
{
    need_uring();
    static const unsigned depths[] = {1, 8};
    for (size_t i = 0; i < 2; i++) {
        int p[2];
        wb_pipe(p);
        struct feeder f = {p[1], 300000, 1000, 0};
        pthread_t t;
        ck_assert(pthread_create(&t, NULL, feed, &f) == 0);
        int dst = tmp_fd();
        reset_counts();
        int rc = uringcopy(p[0], dst, depths[i], 128 << 10);
        /* A copy that stopped early leaves the feeder blocked: EPIPE
         * (SIGPIPE ignored) ends it. */
        close(p[0]);
        pthread_join(t, NULL);
        WB_PROMISE("short-read");
        WB_EXPECT(rc == 0,
                  "copying a pipe fed 1000 bytes at a time (depth %u) "
                  "should return 0; got %d%s",
                  depths[i], rc, wb_errno_note(rc));
        struct stat st;
        fstat(dst, &st);
        WB_EXPECT(st.st_size == 300000,
                  "a pipe fed 300000 bytes in pieces of 1000 gives short "
                  "reads, and only a read of 0 is its end: the copy should "
                  "have 300000 bytes, it has %lld",
                  (long long)st.st_size);
        WB_PROMISE("streams");
        long long d = first_difference(dst, 300000);
        WB_EXPECT(d < 0,
                  "the bytes read from a pipe should be written in the "
                  "order they came; the copy differs from byte %lld on",
                  d);
        close(dst);
    }
}
END_TEST

/* A pipe's reader in a thread: collects everything into a buffer. */
struct drainer {
    int fd;
    unsigned char *got;
    size_t cap, len;
};

static void *drain(void *arg)
{
    struct drainer *d = arg;
    for (;;) {
        ssize_t n = read(d->fd, d->got + d->len,
                         d->cap - d->len < 3000 ? d->cap - d->len : 3000);
        if (n <= 0)
            break;
        d->len += (size_t)n;
    }
    return NULL;
}

START_TEST(test_short_writes_to_a_pipe)
{
    need_uring();
    unsigned long long size = 1 << 20;
    int src = file_of(size);
    int p[2];
    wb_pipe(p);
    struct drainer d = {p[0], malloc(size + 1), size + 1, 0};
    ck_assert(d.got != NULL);
    pthread_t t;
    ck_assert(pthread_create(&t, NULL, drain, &d) == 0);
    /* 256 KiB asked of a pipe that holds 64 KiB: the write comes back
     * short. */
    int rc = uringcopy(src, p[1], 8, 256 << 10);
    close(p[1]);
    pthread_join(t, NULL);
    WB_PROMISE("short-write");
    WB_EXPECT(rc == 0, "copying 1 MiB into a pipe should return 0; got %d%s",
              rc, wb_errno_note(rc));
    WB_EXPECT(d.len == size,
              "a write of 256 KiB into a pipe comes back short (the pipe "
              "holds 64 KiB): the rest must be written too; the pipe's "
              "reader got %zu bytes of %llu",
              d.len, size);
    WB_PROMISE("streams");
    size_t bad = d.len;
    for (size_t i = 0; i < d.len; i++)
        if (d.got[i] != pattern(i)) {
            bad = i;
            break;
        }
    WB_EXPECT(bad == d.len,
              "a pipe gets one write at a time, in order; the bytes the "
              "reader got differ from byte %zu on",
              bad);
    free(d.got);
    close(p[0]);
    close(src);
}
END_TEST

static void copy_fails(int src, int dst, unsigned depth, int want,
                       const char *what)
{
    reset_counts();
    errno = 0;
    int rc = uringcopy(src, dst, depth, 64 << 10);
    int err = errno;
    WB_PROMISE("errors");
    const char *want_name = wb_format("%s", wb_errname(want));
    WB_EXPECT(rc == -1 && err == want,
              "%s: uringcopy() should return -1 with errno %s (the error "
              "number of the failed request, -cqe->res); got %d with errno "
              "%s",
              what, want_name, rc, wb_errname(err));
    WB_PROMISE("drain");
    WB_EXPECT(exits == 1,
              "%s: uringcopy() should free its ring with "
              "io_uring_queue_exit() once; it was called %d times",
              what, exits);
    WB_EXPECT(left_at_exit == 0,
              "%s: every submitted request's completion should be consumed "
              "before the ring is freed, also after an error; %u were not",
              what, left_at_exit);
}

START_TEST(test_full_device)
{
    need_uring();
    int src = file_of(4 << 20);
    int full = open("/dev/full", O_WRONLY | O_CLOEXEC);
    ck_assert_msg(full >= 0, "cannot open /dev/full: %s", strerror(errno));
    copy_fails(src, full, 16, ENOSPC, "writing to /dev/full");
    close(full);
    close(src);
}
END_TEST

/* The write fails while the next read waits on the pipe (its feeder
 * pauses 100 ms after the first piece): that read is in flight. */
START_TEST(test_error_while_a_read_waits)
{
    need_uring();
    int p[2];
    wb_pipe(p);
    struct feeder f = {p[1], 50000, 1000, 100};
    pthread_t t;
    ck_assert(pthread_create(&t, NULL, feed, &f) == 0);
    int full = open("/dev/full", O_WRONLY | O_CLOEXEC);
    ck_assert_msg(full >= 0, "cannot open /dev/full: %s", strerror(errno));
    copy_fails(p[0], full, 4, ENOSPC,
               "from a pipe to /dev/full, a read waiting on the pipe");
    close(p[0]);
    pthread_join(t, NULL);
    close(full);
}
END_TEST

START_TEST(test_file_size_limit)
{
    need_uring();
    int src = file_of(4 << 20);
    int dst = tmp_fd();
    /* Past the limit a write fails with EFBIG (and raises SIGXFSZ); the
     * write that crosses it comes back short. */
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit rl = {300000, 300000};
    ck_assert(setrlimit(RLIMIT_FSIZE, &rl) == 0);
    copy_fails(src, dst, 16, EFBIG, "writing past RLIMIT_FSIZE (300000)");
    close(dst);
    close(src);
}
END_TEST

START_TEST(test_bad_descriptors)
{
    need_uring();
    int src = file_of(1 << 20);
    int dst = tmp_fd();
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", dst);
    int ro = open(path, O_RDONLY | O_CLOEXEC);
    ck_assert(ro >= 0);
    copy_fails(src, ro, 4, EBADF, "a destination opened read-only");
    int dir = open("/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    ck_assert(dir >= 0);
    copy_fails(dir, dst, 4, EISDIR, "a directory as the source");
    close(dir);
    close(ro);
    close(dst);
    close(src);
}
END_TEST

START_TEST(test_drain_on_success)
{
    need_uring();
    WB_PROMISE("drain");
    for (unsigned depth = 1; depth <= 64; depth *= 4) {
        copy_ok(1 << 20, depth, 16 << 10);
        WB_EXPECT(exits == 1 && left_at_exit == 0,
                  "after a copy (depth %u) the ring should be freed once "
                  "(io_uring_queue_exit() was called %d times) with every "
                  "completion consumed (%u were not)",
                  depth, exits, left_at_exit);
    }
}
END_TEST

/* Many small blocks into a pipe whose reader is a little slow: slots
 * are refilled out of order, and each write must still wait its turn. */
START_TEST(test_small_blocks_to_a_pipe)
{
    need_uring();
    WB_PROMISE("streams");
    unsigned long long size = 4 << 20;
    int src = file_of(size);
    int p[2];
    wb_pipe(p);
    struct drainer d = {p[0], malloc(size + 1), size + 1, 0};
    ck_assert(d.got != NULL);
    pthread_t t;
    ck_assert(pthread_create(&t, NULL, drain, &d) == 0);
    int rc = uringcopy(src, p[1], 16, 4096);
    close(p[1]);
    pthread_join(t, NULL);
    WB_EXPECT(rc == 0, "copying 4 MiB into a pipe should return 0; got %d%s",
              rc, wb_errno_note(rc));
    size_t bad = d.len;
    for (size_t i = 0; i < d.len; i++)
        if (d.got[i] != pattern(i)) {
            bad = i;
            break;
        }
    WB_EXPECT(d.len == size && bad == d.len,
              "4 MiB from a regular file into a pipe, depth 16, blocks of 4 "
              "KiB: a pipe has no offsets, so it must get one write at a "
              "time, in the order of the file (the reads may finish in any "
              "order); the reader got %zu bytes of %llu, the first wrong at "
              "byte %zu",
              d.len, size, bad);
    free(d.got);
    close(p[0]);
    close(src);
}
END_TEST

/* Two requests fail, one after the other: a read (the socket is reset)
 * and then a write (the pipe's reader goes away). */
struct two_errors {
    int sock; /* the peer of the copy's source */
    int pipe_r;
};

static void *fail_twice(void *arg)
{
    struct two_errors *te = arg;
    char buf[1000];
    memset(buf, 'x', sizeof buf);
    wb_sleep_ms(30);
    (void)!write(te->sock, buf, sizeof buf); /* read, then written: the
                                                full pipe holds the write */
    wb_sleep_ms(150);
    close(te->sock); /* unread bytes in its queue: the read fails first */
    wb_sleep_ms(150);
    close(te->pipe_r); /* then the waiting write fails with EPIPE */
    return NULL;
}

START_TEST(test_first_error_is_reported)
{
    need_uring();
    int sv[2], p[2];
    ck_assert(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
    /* Bytes the peer never reads: closing it then resets the source. */
    ck_assert(write(sv[0], "unread", 6) == 6);
    wb_pipe(p);
    /* Fill the pipe, so the copy's write waits with nothing written. */
    ck_assert(fcntl(p[1], F_SETFL, O_NONBLOCK) == 0);
    char buf[4096] = {0};
    while (write(p[1], buf, sizeof buf) > 0)
        ;
    ck_assert(fcntl(p[1], F_SETFL, 0) == 0);
    struct two_errors te = {sv[1], p[0]};
    pthread_t t;
    ck_assert(pthread_create(&t, NULL, fail_twice, &te) == 0);
    copy_fails(sv[0], p[1], 4, ECONNRESET,
               "a socket source reset while the write of its first bytes "
               "waited on a full pipe, whose reader then went away (EPIPE, "
               "second): the first error is the one reported");
    pthread_join(t, NULL);
    close(sv[0]);
    close(p[1]);
}
END_TEST

/* Signals to the copying thread, every 5 ms, caught by a handler. */
static volatile sig_atomic_t alarms;
static atomic_int stop_alarms;

static void on_alarm(int sig)
{
    (void)sig;
    alarms++;
}

static void *alarm_train(void *arg)
{
    pthread_t *target = arg;
    while (!atomic_load(&stop_alarms)) {
        wb_sleep_ms(5);
        pthread_kill(*target, SIGALRM);
    }
    return NULL;
}

START_TEST(test_signals_during_the_copy)
{
    need_uring();
    WB_PROMISE("signals");
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm; /* no SA_RESTART: a wait is interrupted */
    sigemptyset(&sa.sa_mask);
    ck_assert(sigaction(SIGALRM, &sa, &old) == 0);
    int p[2];
    wb_pipe(p);
    /* The feeder pauses 150 ms after its first piece: the copy waits. */
    struct feeder f = {p[1], 100000, 1000, 150};
    pthread_t feeder, train, self = pthread_self();
    alarms = 0;
    atomic_store(&stop_alarms, 0);
    ck_assert(pthread_create(&feeder, NULL, feed, &f) == 0);
    ck_assert(pthread_create(&train, NULL, alarm_train, &self) == 0);
    int dst = tmp_fd();
    errno = 0;
    int rc = uringcopy(p[0], dst, 4, 64 << 10);
    int err = errno;
    atomic_store(&stop_alarms, 1);
    pthread_join(train, NULL);
    close(p[0]);
    pthread_join(feeder, NULL);
    sigaction(SIGALRM, &old, NULL);
    WB_EXPECT(rc == 0,
              "a signal caught by a handler (no SA_RESTART) every 5 ms while "
              "the copy waited for a pipe: uringcopy() should wait again and "
              "return 0; it returned %d (%s) after %d signals. "
              "io_uring_submit_and_wait() returns -EINTR then: not an error",
              rc, rc == -1 ? wb_errname(err) : "no error", (int)alarms);
    long long d = first_difference(dst, 100000);
    WB_EXPECT(d < 0,
              "despite the signals the copy should hold the 100000 bytes "
              "the pipe was fed; it differs from byte %lld on",
              d);
    close(dst);
}
END_TEST

/* Short reads and writes of regular files, injected by the wraps. */
START_TEST(test_short_reads_and_writes_of_files)
{
    need_uring();
    unsigned long long size = (1 << 20) + 1234;
    for (int writes = 0; writes < 2; writes++) {
        int src = file_of(size), dst = tmp_fd();
        cut_read_fd = writes ? -1 : src;
        cut_write_fd = writes ? dst : -1;
        cuts = 0;
        errno = 0;
        int rc = uringcopy(src, dst, 4, 64 << 10);
        int err = errno;
        cut_read_fd = cut_write_fd = -1;
        WB_PROMISE(writes ? "short-write" : "short-read");
        const char *what = writes ? "write" : "read";
        WB_EXPECT(cuts > 0,
                  "the test cuts each %s of the file short by halving its "
                  "length on the submission queue (IORING_OP_%s); it found "
                  "none to cut",
                  what, writes ? "WRITE" : "READ");
        long long d = first_difference(dst, size);
        WB_EXPECT(rc == 0 && d < 0,
                  "copying %llu bytes of a regular file while every %s "
                  "came back short (half of what was asked): expected 0 and "
                  "the same bytes; got %d (%s), the copy differing from byte "
                  "%lld on. %s",
                  size, what, rc, rc == -1 ? wb_errname(err) : "no error", d,
                  writes ? "A short write is followed by a write of the rest, "
                           "at the offset plus what was written"
                         : "A short read is not the end of the file: read the "
                           "rest at the offset plus what came; only a read of "
                           "0 is the end");
        close(src);
        close(dst);
    }
}
END_TEST

START_TEST(test_bad_arguments)
{
    need_uring();
    WB_PROMISE("bad-args");
    int src = file_of(1000), dst = tmp_fd();
    struct {
        int src, dst;
        unsigned depth;
        size_t block;
        int err;
    } cases[] = {
        {-1, dst, 4, 4096, EBADF},   {src, -1, 4, 4096, EBADF},
        {src, dst, 0, 4096, EINVAL}, {src, dst, 65, 4096, EINVAL},
        {src, dst, 4, 0, EINVAL},    {src, dst, 4, (16 << 20) + 1, EINVAL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        errno = 0;
        int rc = uringcopy(cases[i].src, cases[i].dst, cases[i].depth,
                           cases[i].block);
        int err = errno;
        WB_EXPECT(rc == -1 && err == cases[i].err,
                  "uringcopy(%d, %d, %u, %zu) should fail with %s; got %d "
                  "with errno %s",
                  cases[i].src, cases[i].dst, cases[i].depth, cases[i].block,
                  wb_errname(cases[i].err), rc, wb_errname(err));
    }
    struct stat st;
    fstat(dst, &st);
    WB_EXPECT(st.st_size == 0,
              "a call refused for its arguments should write nothing; the "
              "destination has %lld bytes",
              (long long)st.st_size);
    errno = 0;
    int rc = uringcopy(src, dst, 2, 16 << 20);
    WB_EXPECT(rc == 0 && first_difference(dst, 1000) < 0,
              "the largest block, 16 MiB (16777216), and depth 2 are allowed: "
              "copying 1000 bytes with them should return 0 and copy them; "
              "got %d%s",
              rc, wb_errno_note(rc));
    close(src);
    close(dst);
}
END_TEST

/* --- Descriptor numbers, failures before the copy, waiting -----------------
 */

START_TEST(test_descriptor_zero_and_closed)
{
    need_uring();
    int saved0 = fcntl(0, F_DUPFD_CLOEXEC, 3);
    ck_assert(saved0 >= 0);
    WB_PROMISE("same-bytes");
    for (int which = 0; which < 2; which++) {
        int src = file_of(100000), dst = tmp_fd();
        /* The source, then the destination, on descriptor 0. */
        int *moved = which == 0 ? &src : &dst;
        ck_assert_int_eq(dup2(*moved, 0), 0);
        close(*moved);
        *moved = 0;
        errno = 0;
        int rc = uringcopy(src, dst, 4, 4096);
        long long d = first_difference(dst, 100000);
        WB_EXPECT(rc == 0 && d < 0,
                  "a copy with the %s on descriptor 0 should work like any "
                  "other: 0 and the same bytes; got %d%s, first difference "
                  "at %lld",
                  which == 0 ? "source" : "destination", rc, wb_errno_note(rc),
                  d);
        close(src == 0 ? dst : src);
        dup2(saved0, 0);
    }
    close(saved0);
    WB_PROMISE("bad-args");
    int dst = tmp_fd();
    errno = 0;
    int rc = uringcopy(1000, dst, 4, 4096); /* not open */
    int err = errno;
    struct stat st;
    fstat(dst, &st);
    WB_EXPECT(rc == -1 && err == EBADF && st.st_size == 0,
              "uringcopy() from descriptor 1000, which is not open, should "
              "return -1 with EBADF and write nothing; got %d with errno %s, "
              "%lld bytes written",
              rc, wb_errname(err), (long long)st.st_size);
    close(dst);
}
END_TEST

START_TEST(test_no_memory_and_no_ring)
{
    need_uring();
    WB_PROMISE("errors");
    int src = file_of(100000), dst = tmp_fd();
    for (int call = 1; call <= 2; call++) {
        wb_alloc_fail(call);
        errno = 0;
        int rc = uringcopy(src, dst, 4, 4096);
        int err = errno;
        wb_alloc_fail(0);
        struct stat st;
        fstat(dst, &st);
        WB_EXPECT(rc == -1 && err == ENOMEM && st.st_size == 0,
                  "with its allocation %d failing, uringcopy() should return "
                  "-1 with ENOMEM and write nothing; got %d with errno %s, "
                  "%lld bytes written",
                  call, rc, wb_errname(err), (long long)st.st_size);
    }
    /* No descriptor left for the ring. */
    struct rlimit old, low;
    ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &old), 0);
    low = old;
    low.rlim_cur = 64;
    ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &low), 0);
    int fill[64], nfill = 0;
    while (nfill < 64 &&
           (fill[nfill] = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0)
        nfill++;
    reset_counts();
    errno = 0;
    int rc = uringcopy(src, dst, 4, 4096);
    int err = errno;
    for (int k = 0; k < nfill; k++)
        close(fill[k]);
    setrlimit(RLIMIT_NOFILE, &old);
    struct stat st;
    fstat(dst, &st);
    WB_EXPECT(rc == -1 && err == EMFILE && st.st_size == 0,
              "with no descriptor left for the ring (RLIMIT_NOFILE), "
              "uringcopy() should return -1 with io_uring_queue_init()'s "
              "error, EMFILE, and write nothing; got %d with errno %s, %lld "
              "bytes written",
              rc, wb_errname(err), (long long)st.st_size);
    close(src);
    close(dst);
}
END_TEST

START_TEST(test_submit_failure_is_returned)
{
    need_uring();
    WB_PROMISE("errors");
    int src = file_of(100000), dst = tmp_fd();
    reset_counts();
    submit_fails_with = EFAULT;
    errno = 0;
    int rc = uringcopy(src, dst, 4, 4096);
    int err = errno;
    submit_fails_with = 0;
    WB_EXPECT(rc == -1 && err == EFAULT,
              "when io_uring_submit_and_wait() fails (with EFAULT, not "
              "EINTR), uringcopy() should return -1 with that errno; got %d "
              "with errno %s",
              rc, wb_errname(err));
    close(src);
    close(dst);
}
END_TEST

START_TEST(test_waiting_does_not_spin)
{
    need_uring();
    WB_PROMISE("sleeps");
    int p[2];
    wb_pipe(p);
    /* 1000 bytes, then nothing for 300 ms, then the rest. */
    struct feeder f = {p[1], 5000, 1000, 300};
    pthread_t t;
    ck_assert(pthread_create(&t, NULL, feed, &f) == 0);
    int dst = tmp_fd();
    reset_counts();
    int rc = uringcopy(p[0], dst, 4, 64 << 10);
    close(p[0]);
    pthread_join(t, NULL);
    WB_EXPECT(rc == 0 && first_difference(dst, 5000) < 0,
              "copying a pipe that pauses 300 ms should return 0 with the "
              "5000 bytes; got %d%s",
              rc, wb_errno_note(rc));
    WB_EXPECT(submits < 100,
              "while the pipe had nothing for 300 ms, the copy should sleep "
              "in io_uring_submit_and_wait() until a completion comes (wait "
              "for 1); it submitted %d times",
              submits);
    close(dst);
}
END_TEST

Suite *wb_suite(void)
{
    /* Tests close a pipe's reader early; a write then fails with EPIPE. */
    signal(SIGPIPE, SIG_IGN);
    Suite *s = wb_begin("uringcopy", "chapters/06-beyond/chapter.md");
    WB_ADD_TIMEOUT(s, test_sizes_and_depths, "Copying a file with io_uring",
                   4.0);
    WB_ADD_TIMEOUT(s, test_64_mib, "Copying a file with io_uring", 5.0);
    WB_ADD(s, test_in_flight_bounded_and_kept_full,
           "io_uring: do it, and tell me when it is done");
    WB_ADD(s, test_short_reads_from_a_pipe, "Copying a file with io_uring");
    WB_ADD(s, test_short_writes_to_a_pipe, "Copying a file with io_uring");
    WB_ADD(s, test_full_device, "io_uring: do it, and tell me when it is done");
    WB_ADD(s, test_error_while_a_read_waits, "Copying a file with io_uring");
    WB_ADD(s, test_file_size_limit,
           "io_uring: do it, and tell me when it is done");
    WB_ADD(s, test_bad_descriptors,
           "io_uring: do it, and tell me when it is done");
    WB_ADD(s, test_drain_on_success, "Copying a file with io_uring");
    WB_ADD(s, test_small_blocks_to_a_pipe, "Copying a file with io_uring");
    WB_ADD(s, test_first_error_is_reported,
           "io_uring: do it, and tell me when it is done");
    WB_ADD(s, test_signals_during_the_copy, "Copying a file with io_uring");
    WB_ADD(s, test_short_reads_and_writes_of_files,
           "Copying a file with io_uring");
    WB_ADD(s, test_bad_arguments, "Copying a file with io_uring");
    WB_ADD(s, test_descriptor_zero_and_closed, "Copying a file with io_uring");
    WB_ADD(s, test_no_memory_and_no_ring,
           "io_uring: do it, and tell me when it is done");
    WB_ADD(s, test_submit_failure_is_returned,
           "io_uring: do it, and tell me when it is done");
    WB_ADD(s, test_waiting_does_not_spin, "Copying a file with io_uring");
    return s;
}
