/*
 * Tests of fullio_read() and fullio_write() (exercises/01-sync/fullio.h).
 *
 * Partial transfers are forced, not hoped for: a child process writes
 * into a pipe in small pieces with pauses, or drains a pipe slowly, so
 * one read() or write() cannot move everything. EINTR is forced with a
 * timer that sends SIGALRM every few milliseconds to a handler installed
 * without SA_RESTART, while the call under test is blocked.
 *
 * The suite links tests/support/wrap.c (fullio.links): for write(), a
 * test can also force the rare cases exactly, a write() cut short after
 * a few bytes, one that fails with EINTR, one that fails with EIO after
 * some bytes went out, or one that returns 0.
 *
 * Where a read() must get exactly one piece, a "dripping" child writes
 * the next piece only once the pipe is empty again (FIONREAD), so the
 * reader has taken the one before: the cut is where the test put it,
 * however loaded the machine.
 */
#include "wb.h"
#include "fullio.h"
#include "errnote.h"
#include "interrupt.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MIB (1024 * 1024)

/* --- Helpers: the test's own plain I/O, children, a ticking timer --------- */

/* Expects -1 with errno @p want from a call that returned @p r (@p err,
 * its errno); @p what says which call, for the message. */
static void expect_fails_with(ssize_t r, int err, int want, const char *what)
{
    WB_EXPECT(r == -1 && err == want,
              "%s: expected -1 with errno %s, got %zd (errno %s: %s)", what,
              wb_errname(want), r, wb_errname(err), strerror(err));
}

/* The test's own write loop, so the test does not rely on the code it
 * tests. Returns 0, or -1 on an error. */
static int raw_write_all(int fd, const void *buf, size_t n)
{
    const unsigned char *p = buf;
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w == -1 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Bytes that do not repeat at any small period, so a piece written twice
 * or skipped shows up. */
static unsigned char *pattern(size_t n, uint32_t seed)
{
    unsigned char *p = malloc(n > 0 ? n : 1);
    WB_EXPECT(p != NULL, "out of memory");
    uint32_t x = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        p[i] = (unsigned char)(x >> 16);
    }
    return p;
}

/* Index of the first byte where a and b differ, or n if none. */
static size_t first_diff(const unsigned char *a, const unsigned char *b,
                         size_t n)
{
    size_t i = 0;
    while (i < n && a[i] == b[i])
        i++;
    return i;
}

static void set_nonblocking(int fd, int on)
{
    int flags = fcntl(fd, F_GETFL);
    WB_EXPECT(flags != -1, "fcntl(F_GETFL) failed: %s", strerror(errno));
    flags = on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK;
    WB_EXPECT(fcntl(fd, F_SETFL, flags) != -1, "fcntl(F_SETFL) failed: %s",
              strerror(errno));
}

static pid_t start_child(void)
{
    WB_EXPECT(fflush(NULL) == 0, "fflush() failed: %s", strerror(errno));
    pid_t pid = fork();
    WB_EXPECT(pid != -1, "fork() failed: %s", strerror(errno));
    return pid;
}

/* Wait for the child and return its exit code (or 100 + signal). */
static int reap(pid_t pid)
{
    int status;
    while (waitpid(pid, &status, 0) == -1) {
        WB_EXPECT(errno == EINTR, "waitpid() failed: %s", strerror(errno));
    }
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    return 100 + WTERMSIG(status);
}

/* A child that writes @p chunks pieces of @p len bytes from @p data into
 * the pipe, pausing @p pause_ms after each, then closes its end and
 * exits. The parent's copy of the write end is closed here, so the
 * reader sees end of file once the child is done. */
static pid_t start_writer(int fds[2], const unsigned char *data, size_t len,
                          size_t chunks, long pause_ms)
{
    pid_t pid = start_child();
    if (pid == 0) {
        close(fds[0]);
        for (size_t i = 0; i < chunks; i++) {
            if (raw_write_all(fds[1], data + i * len, len) == -1)
                _exit(1);
            if (pause_ms > 0)
                wb_sleep_ms(pause_ms);
        }
        close(fds[1]);
        _exit(0);
    }
    close(fds[1]);
    fds[1] = -1;
    return pid;
}

/* Exit codes of a reader child. */
enum { READER_OK, READER_SHORT, READER_WRONG, READER_EXTRA, READER_ERROR };

static const char *reader_says(int code)
{
    switch (code) {
    case READER_OK:
        return "received every byte, in order";
    case READER_SHORT:
        return "reached end of file before all the bytes had arrived";
    case READER_WRONG:
        return "received wrong bytes (a piece written twice, skipped or "
               "out of order)";
    case READER_EXTRA:
        return "received more bytes than were written";
    case READER_ERROR:
        return "could not read";
    default:
        return "ended abnormally";
    }
}

/* A child that waits @p delay_ms, then reads the pipe until end of file in
 * reads of @p chunk bytes (pausing 1 ms every @p pause_every reads if it
 * is not 0) and checks it receives @p filler bytes 'f' followed by exactly
 * the @p n bytes of @p want. The parent's copy of the read end is closed
 * here. */
static pid_t start_reader(int fds[2], const unsigned char *want, size_t n,
                          size_t filler, size_t chunk, long delay_ms,
                          int pause_every)
{
    pid_t pid = start_child();
    if (pid == 0) {
        close(fds[1]);
        if (delay_ms > 0)
            wb_sleep_ms(delay_ms);
        unsigned char buf[8192];
        size_t pos = 0, total = filler + n;
        int reads = 0;
        for (;;) {
            ssize_t r =
                read(fds[0], buf, chunk < sizeof buf ? chunk : sizeof buf);
            if (r == -1 && errno == EINTR)
                continue;
            if (r == -1)
                _exit(READER_ERROR);
            if (r == 0)
                break;
            for (ssize_t i = 0; i < r; i++, pos++) {
                if (pos >= total)
                    _exit(READER_EXTRA);
                unsigned char expect = pos < filler ? 'f' : want[pos - filler];
                if (buf[i] != expect)
                    _exit(READER_WRONG);
            }
            if (pause_every > 0 && ++reads % pause_every == 0)
                wb_sleep_ms(1);
        }
        close(fds[0]);
        _exit(pos == total ? READER_OK : READER_SHORT);
    }
    close(fds[0]);
    fds[0] = -1;
    return pid;
}

/* Fill a pipe until it holds no more, with 'f' bytes; returns how many. */
static size_t fill_pipe(int wfd)
{
    char block[4096];
    memset(block, 'f', sizeof block);
    size_t filled = 0;
    set_nonblocking(wfd, 1);
    for (;;) {
        ssize_t w = write(wfd, block, sizeof block);
        if (w > 0) {
            filled += (size_t)w;
            continue;
        }
        WB_EXPECT(w == -1 && errno == EAGAIN, "filling the pipe failed: %s",
                  strerror(errno));
        break;
    }
    set_nonblocking(wfd, 0);
    return filled;
}

/* A child that writes the @p npieces pieces of @p data (of the lengths in
 * @p lens) into the pipe, each once the pipe is empty again, then closes
 * its end and exits. So every read() of the parent gets exactly one
 * piece. The parent's copy of the write end is closed here. */
static pid_t start_dripper(int fds[2], const unsigned char *data,
                           const size_t *lens, size_t npieces)
{
    pid_t pid = start_child();
    if (pid == 0) {
        close(fds[0]);
        for (size_t i = 0; i < npieces; i++) {
            for (int waited = 0; waited < 2000; waited++) {
                int left = -1;
                if (ioctl(fds[1], FIONREAD, &left) == -1)
                    _exit(2);
                if (left == 0)
                    break;
                wb_sleep_ms(1);
            }
            if (raw_write_all(fds[1], data, lens[i]) == -1)
                _exit(1);
            data += lens[i];
        }
        close(fds[1]);
        _exit(0);
    }
    close(fds[1]);
    fds[1] = -1;
    return pid;
}

/* --- Reading -------------------------------------------------------------- */

START_TEST(test_read_collects_partial_chunks)
{
    WB_PROMISE("read-all");
    int fds[2];
    wb_pipe(fds);
    unsigned char *data = pattern(80, 1);
    /* 10 pieces of 8 bytes, 3 ms apart: one read() gets one piece. */
    pid_t pid = start_writer(fds, data, 8, 10, 3);
    unsigned char buf[80];
    errno = 0;
    ssize_t got = fullio_read(fds[0], buf, 80);
    int saved = errno;
    close(fds[0]); /* first, so a writer stuck on a full pipe ends */
    int code = reap(pid);
    WB_EXPECT(got == 80,
              "a child writes 80 bytes in 10 pieces of 8, 3 ms apart: "
              "expected fullio_read(fd, buf, 80) to return 80, got %zd%s "
              "(one read() returns only what has arrived so far; keep "
              "reading until n bytes or end of file)",
              got, errnote_with(got, saved));
    size_t at = first_diff(buf, data, 80);
    WB_EXPECT(at == 80,
              "the 80 bytes must arrive in order; byte %zu differs (each "
              "read() must go to buf + bytes so far)",
              at);
    WB_EXPECT(code == 0, "the writer child failed (exit %d)", code);
    free(data);
}
END_TEST

START_TEST(test_read_stops_at_eof_before_n)
{
    WB_PROMISE("read-eof");
    int fds[2];
    wb_pipe(fds);
    const unsigned char text[] = "hello, world";
    /* 12 bytes in 3 pieces, then end of file; we ask for 100. */
    pid_t pid = start_writer(fds, text, 4, 3, 2);
    unsigned char buf[100];
    errno = 0;
    ssize_t got = fullio_read(fds[0], buf, sizeof buf);
    int saved = errno;
    ssize_t again = fullio_read(fds[0], buf + 50, 10);
    close(fds[0]); /* first, so a writer stuck on a full pipe ends */
    int code = reap(pid);
    WB_EXPECT(got == 12,
              "the writer sends 12 bytes and closes the pipe: "
              "fullio_read(fd, buf, 100) must return 12 at end of file, "
              "got %zd%s",
              got, errnote_with(got, saved));
    WB_EXPECT(memcmp(buf, "hello, world", 12) == 0,
              "expected the bytes \"hello, world\", got \"%.12s\"", buf);
    WB_EXPECT(again == 0,
              "after end of file the next fullio_read() must return 0, got "
              "%zd",
              again);
    WB_EXPECT(code == 0, "the writer child failed (exit %d)", code);
}
END_TEST

START_TEST(test_read_empty_input_and_zero_bytes)
{
    WB_PROMISE("zero");
    int fds[2];
    wb_pipe(fds);
    WB_EXPECT(write(fds[1], "x", 1) == 1, "write() failed");
    errno = 0;
    ssize_t zero = fullio_read(fds[0], NULL, 0);
    WB_EXPECT(zero == 0,
              "fullio_read(fd, NULL, 0) asks for nothing: expected 0, got "
              "%zd (errno %s: %s)",
              zero, wb_errname(errno), strerror(errno));
    unsigned char buf[8];
    ssize_t one = fullio_read(fds[0], buf, 0);
    WB_EXPECT(one == 0, "fullio_read(fd, buf, 0): expected 0, got %zd", one);
    ssize_t raw = read(fds[0], buf, sizeof buf);
    WB_EXPECT(raw == 1 && buf[0] == 'x',
              "reading 0 bytes must not consume anything; the byte 'x' in "
              "the pipe is gone");
    WB_PROMISE("read-eof");
    close(fds[1]);
    ssize_t got = fullio_read(fds[0], buf, sizeof buf);
    close(fds[0]);
    WB_EXPECT(got == 0,
              "an empty input (write end closed, nothing written): expected "
              "0, got %zd",
              got);
}
END_TEST

START_TEST(test_read_retries_after_eintr)
{
    WB_PROMISE("read-eintr");
    int fds[2];
    wb_pipe(fds);
    const unsigned char text[] = "late bytes";
    pid_t pid = start_child();
    if (pid == 0) {
        /* The reader blocks twice: first with nothing read yet, then
         * with the first 5 bytes in hand. */
        close(fds[0]);
        wb_sleep_ms(60);
        if (raw_write_all(fds[1], text, 5) == -1)
            _exit(1);
        wb_sleep_ms(60);
        _exit(raw_write_all(fds[1], text + 5, 5) == 0 ? 0 : 1);
    }
    close(fds[1]);
    timer_t t = interrupt_tick_start(10);
    unsigned char buf[10];
    errno = 0;
    ssize_t got = fullio_read(fds[0], buf, 10);
    int saved = errno;
    int seen = interrupt_ticks();
    interrupt_tick_stop(t);
    close(fds[0]); /* first, so a writer stuck on a full pipe ends */
    int code = reap(pid);
    WB_EXPECT(got == 10,
              "a child writes 5 bytes after 60 ms and 5 more 60 ms later; "
              "meanwhile SIGALRM comes every 10 ms to a handler without "
              "SA_RESTART (it came %d time%s before fullio_read() "
              "returned): expected 10 bytes, got %zd%s. A read() "
              "interrupted by a signal before any byte has arrived fails "
              "with EINTR, and one interrupted after some bytes returns "
              "a short count: neither is an error, call read() again for "
              "the rest",
              seen, seen == 1 ? "" : "s", got, errnote_with(got, saved));
    WB_EXPECT(memcmp(buf, text, 10) == 0,
              "expected \"late bytes\", got "
              "\"%.10s\"",
              buf);
    WB_EXPECT(seen > 0, "the timer never fired while fullio_read() "
                        "waited: the test could not interrupt the read");
    WB_EXPECT(code == 0, "the writer child failed (exit %d)", code);
}
END_TEST

START_TEST(test_read_1mib_in_pieces)
{
    WB_PROMISE("read-all");
    int fds[2];
    wb_pipe(fds);
    unsigned char *data = pattern(MIB, 2);
    /* 1 MiB in pieces of 4 KiB: far more than the pipe holds. */
    pid_t pid = start_writer(fds, data, 4096, MIB / 4096, 0);
    unsigned char *buf = malloc(MIB);
    WB_EXPECT(buf != NULL, "out of memory");
    errno = 0;
    ssize_t got = fullio_read(fds[0], buf, MIB);
    int saved = errno;
    close(fds[0]); /* first, so a writer stuck on a full pipe ends */
    int code = reap(pid);
    WB_EXPECT(got == MIB,
              "a child writes 1 MiB through a pipe (which holds 64 KiB): "
              "expected fullio_read() to return %d, got %zd%s",
              MIB, got, errnote_with(got, saved));
    size_t at = first_diff(buf, data, MIB);
    WB_EXPECT(at == MIB, "the bytes must arrive in order; byte %zu differs",
              at);
    WB_EXPECT(code == 0, "the writer child failed (exit %d)", code);
    free(buf);
    free(data);
}
END_TEST

START_TEST(test_read_nonblocking_keeps_count)
{
    WB_PROMISE("read-error");
    int fds[2];
    wb_pipe(fds);
    set_nonblocking(fds[0], 1);
    WB_EXPECT(write(fds[1], "12345", 5) == 5, "write() failed");
    unsigned char buf[10];
    errno = 0;
    ssize_t got = fullio_read(fds[0], buf, 10);
    int saved = errno;
    errno = 0;
    ssize_t next = fullio_read(fds[0], buf + 5, 5);
    int next_errno = errno;
    close(fds[0]);
    close(fds[1]);
    WB_EXPECT(got == 5,
              "a non-blocking pipe holds 5 bytes and its writer is still "
              "open: read() gives 5, then fails with EAGAIN. Expected "
              "fullio_read(fd, buf, 10) to return the 5 bytes it has, got "
              "%zd%s (an error after some bytes returns the count; "
              "returning -1 would lose them)",
              got, errnote_with(got, saved));
    WB_EXPECT(memcmp(buf, "12345", 5) == 0,
              "expected \"12345\", got "
              "\"%.5s\"",
              buf);
    expect_fails_with(
        next, next_errno, EAGAIN,
        "the next call, with nothing to read, must report the error");
}
END_TEST

/* Every read() returns a single byte: each is a short read like any
 * other, to be followed by a read for the rest. */
START_TEST(test_read_one_byte_at_a_time)
{
    WB_PROMISE("read-all");
    int fds[2];
    wb_pipe(fds);
    unsigned char *data = pattern(6, 9);
    static const size_t ones[] = {1, 1, 1, 1, 1, 1};
    pid_t pid = start_dripper(fds, data, ones, 6);
    unsigned char buf[6];
    errno = 0;
    ssize_t got = fullio_read(fds[0], buf, 6);
    int saved = errno;
    close(fds[0]);
    int code = reap(pid);
    WB_EXPECT(got == 6,
              "a child writes 6 bytes one at a time, each once the one "
              "before was read, so every read() returns 1 byte: expected "
              "fullio_read(fd, buf, 6) to return 6, got %zd%s (a read() "
              "of 1 byte is a short read like any other: read again for "
              "the rest)",
              got, errnote_with(got, saved));
    WB_EXPECT(got != 6 || first_diff(buf, data, 6) == 6,
              "the 6 bytes read one at a time must arrive in order; byte "
              "%zu differs",
              first_diff(buf, data, 6));
    WB_EXPECT(code == 0, "the writing child failed (exit %d)", code);
    free(data);
}
END_TEST

/* After a short read, the next read() asks for the rest only: the pipe
 * then holds more than the rest, and a read() that asks for more would
 * store bytes past the buffer and take bytes that belong to the next
 * call. */
START_TEST(test_read_asks_only_for_the_rest)
{
    WB_PROMISE("read-all");
    enum { N = 10, CANARY = 16, SENT = 64 };
    int fds[2];
    wb_pipe(fds);
    unsigned char *data = pattern(SENT, 10);
    static const size_t pieces[] = {4, SENT - 4};
    pid_t pid = start_dripper(fds, data, pieces, 2);
    unsigned char buf[N + CANARY];
    memset(buf, 0xA5, sizeof buf);
    errno = 0;
    ssize_t got = fullio_read(fds[0], buf, N);
    int saved = errno;
    int code = reap(pid);
    unsigned char rest[SENT];
    size_t have = 0;
    ssize_t r;
    while (have < sizeof rest &&
           (r = read(fds[0], rest + have, sizeof rest - have)) > 0)
        have += (size_t)r;
    close(fds[0]);
    size_t canary_ok = 0;
    while (canary_ok < CANARY && buf[N + canary_ok] == 0xA5)
        canary_ok++;
    WB_EXPECT(got == N,
              "a child writes 4 bytes, then (once they were read) 60 "
              "more: expected fullio_read(fd, buf, %d) to return %d, got "
              "%zd%s (after a short read of 4 bytes, ask for the n - "
              "done = 6 bytes left, no more)",
              N, N, got, errnote_with(got, saved));
    WB_EXPECT(canary_ok == CANARY,
              "fullio_read(fd, buf, %d) stored bytes past buf[%d]: byte "
              "%zu after the buffer was changed (after a short read, ask "
              "for n - done bytes, at buf + done)",
              N, N - 1, canary_ok);
    WB_EXPECT(first_diff(buf, data, N) == N,
              "the first %d bytes must arrive in order; byte %zu differs", N,
              first_diff(buf, data, N));
    WB_EXPECT(have == SENT - N && first_diff(rest, data + N, have) == have,
              "the %d bytes after the first %d must be left in the pipe for "
              "the next reader; it holds %zu of them%s",
              SENT - N, N, have, have == SENT - N ? ", not those" : "");
    WB_EXPECT(code == 0, "the writing child failed (exit %d)", code);
    free(data);
}
END_TEST

/* A read() error after exactly one byte: that byte is not lost. */
START_TEST(test_read_error_after_one_byte)
{
    WB_PROMISE("read-error");
    int fds[2];
    wb_pipe(fds);
    set_nonblocking(fds[0], 1);
    WB_EXPECT(write(fds[1], "z", 1) == 1, "write() failed");
    unsigned char buf[10];
    errno = 0;
    ssize_t got = fullio_read(fds[0], buf, 10);
    int saved = errno;
    close(fds[0]);
    close(fds[1]);
    WB_EXPECT(got == 1 && buf[0] == 'z',
              "a non-blocking pipe holds 1 byte: read() gives it, then "
              "fails with EAGAIN. Expected fullio_read(fd, buf, 10) to "
              "return 1 (the byte it has), got %zd%s (an error after "
              "some bytes, even one, returns their count)",
              got, errnote_with(got, saved));
}
END_TEST

/* --- Writing -------------------------------------------------------------- */

START_TEST(test_write_1mib_drained_by_child)
{
    WB_PROMISE("write-all");
    signal(SIGPIPE, SIG_IGN); /* a dead reader gives EPIPE, not a crash */
    int fds[2];
    wb_pipe(fds);
    unsigned char *data = pattern(MIB, 3);
    /* The reader takes 1000 bytes per read(): the pipe fills and the
     * writer must wait for room again and again. */
    pid_t pid = start_reader(fds, data, MIB, 0, 1000, 0, 0);
    ssize_t put = fullio_write(fds[1], data, MIB);
    int saved = errno;
    close(fds[1]);
    int code = reap(pid);
    free(data);
    WB_EXPECT(put == MIB,
              "writing 1 MiB into a pipe (which holds 64 KiB) drained by a "
              "child: expected fullio_write() to return %d, got %zd%s. "
              "The reading child %s.",
              MIB, put, errnote_with(put, saved), reader_says(code));
    WB_EXPECT(code == READER_OK, "the reading child %s (exit %d)",
              reader_says(code), code);
}
END_TEST

START_TEST(test_write_retries_after_eintr_and_short_writes)
{
    WB_PROMISE("write-eintr");
    signal(SIGPIPE, SIG_IGN);
    int fds[2];
    wb_pipe(fds);
    /* The pipe starts full, so write() blocks at once and the first
     * signal makes it fail with EINTR; once the slow reader starts, the
     * later signals cut writes short after some bytes. */
    size_t filled = fill_pipe(fds[1]);
    size_t n = 256 * 1024;
    unsigned char *data = pattern(n, 4);
    pid_t pid = start_reader(fds, data, n, filled, 4096, 100, 4);
    timer_t t = interrupt_tick_start(5);
    errno = 0;
    ssize_t put = fullio_write(fds[1], data, n);
    int saved = errno;
    int seen = interrupt_ticks();
    interrupt_tick_stop(t);
    close(fds[1]);
    int code = reap(pid);
    free(data);
    WB_EXPECT(put != -1 || saved != EINTR,
              "the pipe is full and a child starts draining it after 100 "
              "ms; meanwhile SIGALRM comes every 5 ms to a handler without "
              "SA_RESTART (it came %d time%s before fullio_write() "
              "returned): expected it to return %zu, got -1 with errno "
              "EINTR. A write() interrupted before any byte moved fails "
              "with EINTR: call it again",
              seen, seen == 1 ? "" : "s", n);
    WB_PROMISE("write-all");
    WB_EXPECT(put == (ssize_t)n,
              "the pipe is full and a child starts draining it after 100 "
              "ms; meanwhile SIGALRM comes every 5 ms to a handler without "
              "SA_RESTART (it came %d time%s before fullio_write() "
              "returned): expected it to "
              "return %zu, got %zd%s (an interrupted write() fails with "
              "EINTR or returns a short count; both mean: call it again "
              "for the rest, from where it stopped). The reading child %s.",
              seen, seen == 1 ? "" : "s", n, put, errnote_with(put, saved),
              reader_says(code));
    WB_EXPECT(code == READER_OK, "the reading child %s (exit %d)",
              reader_says(code), code);
    WB_EXPECT(seen > 0, "the timer never fired while fullio_write() "
                        "waited: the test could not interrupt the write");
}
END_TEST

START_TEST(test_write_nonblocking_keeps_count)
{
    WB_PROMISE("write-error");
    int fds[2];
    wb_pipe(fds);
    set_nonblocking(fds[1], 1);
    unsigned char *data = pattern(MIB, 5);
    errno = 0;
    ssize_t put = fullio_write(fds[1], data, MIB);
    int saved = errno;
    errno = 0;
    ssize_t next = fullio_write(fds[1], data, 10);
    int next_errno = errno;
    /* Drain what really went into the pipe. */
    unsigned char *buf = malloc(MIB);
    WB_EXPECT(buf != NULL, "out of memory");
    close(fds[1]);
    size_t have = 0;
    ssize_t r;
    while ((r = read(fds[0], buf + have, MIB - have)) > 0)
        have += (size_t)r;
    close(fds[0]);
    size_t at = first_diff(buf, data, have);
    free(buf);
    free(data);
    WB_EXPECT(put > 0 && put < MIB,
              "writing 1 MiB to a non-blocking pipe that nobody reads: "
              "write() takes what fits, then fails with EAGAIN. Expected "
              "the count that fitted (more than 0, less than 1 MiB), got "
              "%zd%s (returning -1 after some bytes went out hides what "
              "was sent)",
              put, errnote_with(put, saved));
    WB_EXPECT(put < 0 || (size_t)put == have,
              "fullio_write() returned %zd but the pipe received %zu bytes",
              put, have);
    WB_EXPECT(at == have, "the pipe received wrong bytes from byte %zu", at);
    expect_fails_with(
        next, next_errno, EAGAIN,
        "the next call, on the still full pipe, must report the error");
}
END_TEST

START_TEST(test_write_zero_bytes)
{
    WB_PROMISE("zero");
    int fds[2];
    wb_pipe(fds);
    errno = 0;
    ssize_t zero = fullio_write(fds[1], NULL, 0);
    int saved = errno;
    ssize_t zero2 = fullio_write(fds[1], "abc", 0);
    close(fds[1]);
    char buf[4];
    ssize_t r = read(fds[0], buf, sizeof buf);
    close(fds[0]);
    WB_EXPECT(zero == 0,
              "fullio_write(fd, NULL, 0) writes nothing: expected 0, got "
              "%zd (errno %s: %s)",
              zero, wb_errname(saved), strerror(saved));
    WB_EXPECT(zero2 == 0, "fullio_write(fd, \"abc\", 0): expected 0, got %zd",
              zero2);
    WB_EXPECT(r == 0,
              "writing 0 bytes must put nothing in the pipe; it "
              "holds %zd bytes",
              r);
}
END_TEST

/* --- Bad input ------------------------------------------------------------ */

START_TEST(test_bad_descriptor_ebadf)
{
    WB_PROMISE("ebadf");
    int fds[2];
    wb_pipe(fds);
    unsigned char buf[4] = "abc";
    errno = 0;
    ssize_t r = fullio_read(fds[1], buf, 3);
    expect_fails_with(r, errno, EBADF, "reading from a pipe's write end");
    errno = 0;
    r = fullio_write(fds[0], buf, 3);
    expect_fails_with(r, errno, EBADF, "writing to a pipe's read end");
    close(fds[0]);
    close(fds[1]);
    errno = 0;
    r = fullio_read(fds[0], buf, 3);
    expect_fails_with(r, errno, EBADF, "reading from a closed descriptor");
    errno = 0;
    r = fullio_write(fds[1], buf, 3);
    expect_fails_with(r, errno, EBADF, "writing to a closed descriptor");
    errno = 0;
    r = fullio_read(-1, buf, 3);
    expect_fails_with(r, errno, EBADF, "fullio_read(-1, ...)");
}
END_TEST

START_TEST(test_null_buffer_einval)
{
    WB_PROMISE("einval");
    int fds[2];
    wb_pipe(fds);
    WB_EXPECT(write(fds[1], "xyz", 3) == 3, "write() failed");
    errno = 0;
    ssize_t r = fullio_read(fds[0], NULL, 3);
    int r_errno = errno;
    errno = 0;
    ssize_t w = fullio_write(fds[1], NULL, 3);
    int w_errno = errno;
    close(fds[1]);
    char buf[8];
    ssize_t left = read(fds[0], buf, sizeof buf);
    close(fds[0]);
    expect_fails_with(r, r_errno, EINVAL, "fullio_read(fd, NULL, 3)");
    expect_fails_with(w, w_errno, EINVAL, "fullio_write(fd, NULL, 3)");
    WB_EXPECT(left == 3 && memcmp(buf, "xyz", 3) == 0,
              "a NULL buffer must be refused before touching the pipe: it "
              "should still hold exactly \"xyz\", it holds %zd bytes",
              left);
}
END_TEST

START_TEST(test_count_too_large_einval)
{
    WB_PROMISE("einval");
    int fds[2];
    wb_pipe(fds);
    set_nonblocking(fds[0], 1);
    set_nonblocking(fds[1], 1);
    WB_EXPECT(write(fds[1], "xyz", 3) == 3, "write() failed");
    unsigned char buf[16] = {0};
    size_t huge = (size_t)SSIZE_MAX + 1;
    errno = 0;
    ssize_t r = fullio_read(fds[0], buf, huge);
    int r_errno = errno;
    errno = 0;
    ssize_t w = fullio_write(fds[1], buf, huge);
    int w_errno = errno;
    close(fds[0]);
    close(fds[1]);
    WB_EXPECT(r == -1 && r_errno == EINVAL,
              "fullio_read() of SSIZE_MAX + 1 bytes: the count could not "
              "be returned, so expected -1 with errno EINVAL, got %zd "
              "(errno %s: %s)",
              r, wb_errname(r_errno), strerror(r_errno));
    expect_fails_with(w, w_errno, EINVAL,
                      "fullio_write() of SSIZE_MAX + 1 bytes");
}
END_TEST

START_TEST(test_write_to_closed_pipe_epipe)
{
    WB_PROMISE("epipe");
    signal(SIGPIPE, SIG_IGN);
    int fds[2];
    wb_pipe(fds);
    close(fds[0]);
    errno = 0;
    ssize_t w = fullio_write(fds[1], "data", 4);
    int saved = errno;
    close(fds[1]);
    expect_fails_with(
        w, saved, EPIPE,
        "writing to a pipe whose read end is closed (SIGPIPE ignored)");
}
END_TEST

/* --- Forced cases: write() cut short, interrupted, failing ---------------- */

/* Read what a pipe holds now, up to @p cap bytes, without waiting (the
 * write end may still be open). Returns the count. */
static size_t drain_now(int rfd, unsigned char *buf, size_t cap)
{
    set_nonblocking(rfd, 1);
    size_t have = 0;
    while (have < cap) {
        ssize_t r = read(rfd, buf + have, cap - have);
        if (r > 0) {
            have += (size_t)r;
            continue;
        }
        WB_EXPECT(r == -1 && errno == EAGAIN,
                  "reading back the pipe failed: %s",
                  r == 0 ? "end of file" : strerror(errno));
        break;
    }
    set_nonblocking(rfd, 0);
    return have;
}

START_TEST(test_write_forced_short_writes)
{
    WB_PROMISE("write-all");
    int fds[2];
    wb_pipe(fds);
    enum { N = 1000 };
    unsigned char *data = pattern(N, 6);
    /* Every write() takes at most 7 bytes: 142 full pieces and one of 6,
     * the last one asked for fewer than 7. */
    wb_wrap_write_limit(7);
    errno = 0;
    ssize_t put = fullio_write(fds[1], data, N);
    int saved = errno;
    int calls = wb_wrap_calls(WB_WRITE);
    wb_wrap_write_limit(0);
    unsigned char got[N + 64];
    size_t have = drain_now(fds[0], got, sizeof got);
    close(fds[0]);
    close(fds[1]);
    size_t common = have < N ? have : N;
    size_t at = first_diff(got, data, common);
    free(data);
    WB_EXPECT(put == N,
              "every write() takes at most 7 bytes (a pipe or a socket may "
              "do that): expected fullio_write() of %d bytes to return %d, "
              "got %zd%s after %d calls of write()",
              N, N, put, errnote_with(put, saved), calls);
    WB_EXPECT(have == N,
              "every write() takes at most 7 bytes: the pipe must hold the "
              "%d bytes written, it holds %zu. After a short write, ask "
              "for the n - done bytes still to go, from buf + done",
              N, have);
    WB_EXPECT(at == common,
              "every write() takes at most 7 bytes: the pipe received "
              "wrong bytes from byte %zu on (a piece written twice, or "
              "skipped)",
              at);
}
END_TEST

START_TEST(test_write_forced_eintr)
{
    WB_PROMISE("write-eintr");
    int fds[2];
    wb_pipe(fds);
    enum { N = 100 };
    unsigned char *data = pattern(N, 7);
    /* The first write() fails with EINTR before moving a byte. */
    wb_wrap_fail(WB_WRITE, 1, EINTR, 0);
    errno = 0;
    ssize_t first = fullio_write(fds[1], data, N);
    int first_errno = errno;
    /* Then: 30 bytes go out, and the next write() fails with EINTR. */
    wb_wrap_write_limit(30);
    wb_wrap_fail(WB_WRITE, 2, EINTR, 0);
    errno = 0;
    ssize_t second = fullio_write(fds[1], data, N);
    int second_errno = errno;
    wb_wrap_write_limit(0);
    wb_wrap_reset(WB_WRITE, 0);
    unsigned char got[2 * N + 64];
    size_t have = drain_now(fds[0], got, sizeof got);
    close(fds[0]);
    close(fds[1]);
    WB_EXPECT(first == N,
              "the first write() fails with EINTR (a signal handler ran "
              "before any byte moved): expected fullio_write() to call it "
              "again and return %d, got %zd%s",
              N, first, errnote_with(first, first_errno));
    WB_EXPECT(second != -1,
              "30 bytes go out, then write() fails with EINTR: expected "
              "fullio_write() to go on and return %d, got -1 with errno %s "
              "(EINTR is never an error, whether or not some bytes went "
              "out)",
              N, wb_errname(second_errno));
    WB_PROMISE("write-all");
    WB_EXPECT(second == N,
              "every write() takes at most 30 bytes, and the second one "
              "fails with EINTR: expected fullio_write() of %d bytes to "
              "return %d, got %zd (after a short write, ask for the n - "
              "done bytes left, from buf + done)",
              N, N, second);
    WB_EXPECT(have == 2 * N && memcmp(got, data, N) == 0 &&
                  memcmp(got + N, data, N) == 0,
              "two calls of fullio_write() with the same %d bytes: the "
              "pipe must hold them twice, in order; it holds %zu bytes%s",
              N, have, have == 2 * N ? ", not those" : "");
    free(data);
}
END_TEST

START_TEST(test_write_forced_error_after_some_bytes)
{
    WB_PROMISE("write-error");
    int fds[2];
    wb_pipe(fds);
    enum { N = 1000 };
    unsigned char *data = pattern(N, 8);
    /* Each write() takes at most 100 bytes; the third and every later
     * one fails with EIO. */
    wb_wrap_write_limit(100);
    wb_wrap_fail(WB_WRITE, 3, EIO, 1);
    errno = 0;
    ssize_t put = fullio_write(fds[1], data, N);
    int saved = errno;
    errno = 0;
    ssize_t next = fullio_write(fds[1], data + 200, N - 200);
    int next_errno = errno;
    wb_wrap_write_limit(0);
    wb_wrap_reset(WB_WRITE, 0);
    unsigned char got[N];
    size_t have = drain_now(fds[0], got, sizeof got);
    close(fds[0]);
    close(fds[1]);
    WB_EXPECT(put == 200,
              "two write()s of 100 bytes succeed, then write() fails with "
              "EIO: expected fullio_write() to return the 200 bytes that "
              "went out, got %zd%s (the caller must learn which bytes "
              "were written)",
              put, errnote_with(put, saved));
    WB_EXPECT(next == -1 && next_errno == EIO,
              "the next call, with write() still failing, must report the "
              "error: expected -1 with errno EIO, got %zd%s",
              next, errnote_with(next, next_errno));
    WB_EXPECT(have == 200 && memcmp(got, data, 200) == 0,
              "the pipe must hold the first 200 bytes of the buffer; it "
              "holds %zu bytes%s",
              have, have == 200 ? ", not those" : "");
    free(data);
}
END_TEST

START_TEST(test_write_one_byte_at_a_time)
{
    WB_PROMISE("write-all");
    int fds[2];
    wb_pipe(fds);
    enum { N = 50 };
    unsigned char *data = pattern(N, 11);
    wb_wrap_reset(WB_WRITE, 0);
    wb_wrap_write_limit(1);
    errno = 0;
    ssize_t put = fullio_write(fds[1], data, N);
    int saved = errno;
    /* One byte goes out, then write() fails with EIO. */
    wb_wrap_fail(WB_WRITE, 2, EIO, 1);
    errno = 0;
    ssize_t one = fullio_write(fds[1], data, N);
    int one_errno = errno;
    wb_wrap_write_limit(0);
    wb_wrap_reset(WB_WRITE, 0);
    unsigned char got[2 * N];
    size_t have = drain_now(fds[0], got, sizeof got);
    close(fds[0]);
    close(fds[1]);
    WB_EXPECT(put == N,
              "every write() takes 1 byte: expected fullio_write() of %d "
              "bytes to return %d, got %zd%s (a write() of 1 byte is a "
              "short write like any other: write the rest)",
              N, N, put, errnote_with(put, saved));
    WB_PROMISE("write-error");
    WB_EXPECT(one == 1,
              "one write() of 1 byte succeeds, then write() fails with EIO: "
              "expected fullio_write() to return 1 (the byte that went "
              "out), got %zd%s",
              one, errnote_with(one, one_errno));
    WB_PROMISE("write-all");
    WB_EXPECT(have == N + 1 && first_diff(got, data, N) == N &&
                  got[N] == data[0],
              "the pipe must hold the %d bytes, then the 1 byte of the "
              "failed call; it holds %zu bytes%s",
              N, have, have == N + 1 ? ", not those" : "");
    free(data);
}
END_TEST

/* write() returns 0 for a non-empty request: nothing moved, and no error
 * says why. */
START_TEST(test_write_returning_zero_stops)
{
    WB_PROMISE("write-zero");
    int fds[2];
    wb_pipe(fds);
    enum { N = 40 };
    unsigned char *data = pattern(N, 12);
    static const struct {
        size_t limit;
        int zero_at;
        ssize_t want;
    } cases[] = {{0, 1, -1}, {1, 2, 1}, {7, 3, 14}};
    ssize_t put[3];
    int errs[3];
    for (int i = 0; i < 3; i++) {
        wb_wrap_reset(WB_WRITE, 0);
        wb_wrap_write_limit(cases[i].limit);
        wb_wrap_write_zero(cases[i].zero_at);
        errno = 0;
        put[i] = fullio_write(fds[1], data, N);
        errs[i] = errno;
        wb_wrap_write_zero(0);
        wb_wrap_write_limit(0);
    }
    wb_wrap_reset(WB_WRITE, 0);
    unsigned char got[3 * N];
    size_t have = drain_now(fds[0], got, sizeof got);
    close(fds[0]);
    close(fds[1]);
    WB_EXPECT(put[0] == -1 && errs[0] == EIO,
              "the first write() returns 0 (it took nothing, and set no "
              "errno): calling it again may do the same for ever, so "
              "expected fullio_write() to stop and return -1 with errno "
              "EIO, got %zd%s",
              put[0], errnote_with(put[0], errs[0]));
    for (int i = 1; i < 3; i++)
        WB_EXPECT(put[i] == cases[i].want,
                  "every write() takes at most %zu bytes and write() number "
                  "%d returns 0: expected fullio_write() to stop and return "
                  "the %zd bytes written before, got %zd%s",
                  cases[i].limit, cases[i].zero_at, cases[i].want, put[i],
                  errnote_with(put[i], errs[i]));
    WB_EXPECT(have == 15 && got[0] == data[0] &&
                  first_diff(got + 1, data, 14) == 14,
              "the pipe must hold the 1 and then the 14 bytes that went "
              "out; it holds %zu bytes%s",
              have, have == 15 ? ", not those" : "");
    free(data);
}
END_TEST

/* On a datagram socket every write() is a message, even an empty one:
 * "nothing after the n bytes" means no write() after them. */
START_TEST(test_write_nothing_after_the_bytes)
{
    WB_PROMISE("write-all");
    int sv[2];
    WB_EXPECT(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) == 0,
              "socketpair() failed: %s", strerror(errno));
    errno = 0;
    ssize_t put = fullio_write(sv[0], "abc", 3);
    int saved = errno;
    set_nonblocking(sv[1], 1);
    char buf[16];
    ssize_t first = read(sv[1], buf, sizeof buf);
    errno = 0;
    ssize_t second = read(sv[1], buf + 8, sizeof buf - 8);
    int second_errno = errno;
    close(sv[0]);
    close(sv[1]);
    WB_EXPECT(put == 3,
              "fullio_write() of 3 bytes to a datagram socket: expected 3, "
              "got %zd%s",
              put, errnote_with(put, saved));
    WB_EXPECT(first == 3 && memcmp(buf, "abc", 3) == 0,
              "the socket must receive one message \"abc\"; the first "
              "read() got %zd bytes",
              first);
    WB_EXPECT(second == -1 && second_errno == EAGAIN,
              "after the 3 bytes nothing more may be written, yet the "
              "socket received a %zd-byte message after them (a write() "
              "of 0 bytes sends an empty datagram: stop once done == n)",
              second);
}
END_TEST

/* n = SSIZE_MAX is allowed; only larger counts are refused. */
START_TEST(test_count_ssize_max_allowed)
{
    WB_PROMISE("einval");
    int fds[2];
    wb_pipe(fds);
    WB_EXPECT(write(fds[1], "xyz", 3) == 3, "write() failed");
    unsigned char buf[16];
    errno = 0;
    ssize_t r = fullio_read(fds[0], buf, (size_t)SSIZE_MAX);
    int r_errno = errno;
    /* Each write() takes 3 bytes, and the second one fails. */
    wb_wrap_reset(WB_WRITE, 0);
    wb_wrap_write_limit(3);
    wb_wrap_fail(WB_WRITE, 2, EIO, 1);
    errno = 0;
    ssize_t w = fullio_write(fds[1], "abcdef", (size_t)SSIZE_MAX);
    int w_errno = errno;
    wb_wrap_write_limit(0);
    wb_wrap_reset(WB_WRITE, 0);
    unsigned char got[16];
    size_t have = drain_now(fds[0], got, sizeof got);
    close(fds[0]);
    close(fds[1]);
    WB_EXPECT((r == -1 && r_errno == EFAULT) || r == 3,
              "fullio_read(fd, buf, SSIZE_MAX): only counts greater than "
              "SSIZE_MAX are refused, so expected read() to be called "
              "(Linux then fails it with EFAULT, the count reaching past "
              "the process's memory), got %zd%s",
              r, errnote_with(r, r_errno));
    WB_EXPECT(w == 3,
              "fullio_write(fd, buf, SSIZE_MAX), where write() takes 3 "
              "bytes and then fails with EIO: only counts greater than "
              "SSIZE_MAX are refused, so expected 3, got %zd%s",
              w, errnote_with(w, w_errno));
    WB_EXPECT(w != 3 || (have >= 3 && memcmp(got + have - 3, "abc", 3) == 0),
              "the pipe must end with the 3 bytes written, \"abc\"");
}
END_TEST

/* --- Arguments, before anything else -------------------------------------- */

/* One call's outcome, for the tests that try several. */
struct outcome {
    const char *call;
    ssize_t got;
    int err;
};

START_TEST(test_zero_bytes_even_on_bad_descriptor)
{
    WB_PROMISE("zero");
    int fds[2];
    wb_pipe(fds);
    close(fds[0]);
    close(fds[1]);
    unsigned char buf[4] = "abc";
    struct outcome c[5];
    errno = 0;
    c[0] = (struct outcome){"fullio_read(-1, NULL, 0)", 0, 0};
    c[0].got = fullio_read(-1, NULL, 0);
    c[0].err = errno;
    c[1] = (struct outcome){"fullio_read(closed_fd, buf, 0)", 0, 0};
    c[1].got = fullio_read(fds[0], buf, 0);
    c[1].err = errno;
    c[2] = (struct outcome){"fullio_write(-1, NULL, 0)", 0, 0};
    c[2].got = fullio_write(-1, NULL, 0);
    c[2].err = errno;
    c[3] = (struct outcome){"fullio_write(closed_fd, buf, 0)", 0, 0};
    c[3].got = fullio_write(fds[1], buf, 0);
    c[3].err = errno;
    c[4] = (struct outcome){"fullio_write(-1, \"abc\", 0)", 0, 0};
    c[4].got = fullio_write(-1, "abc", 0);
    c[4].err = errno;
    for (int i = 0; i < 5; i++)
        WB_EXPECT(c[i].got == 0,
                  "%s: n = 0 returns 0 before the descriptor is looked at, "
                  "so a bad one is no error; got %zd%s",
                  c[i].call, c[i].got, errnote_with(c[i].got, c[i].err));
}
END_TEST

START_TEST(test_einval_comes_before_ebadf)
{
    WB_PROMISE("einval");
    unsigned char buf[4] = "abc";
    size_t huge = (size_t)SSIZE_MAX + 1;
    struct outcome c[4];
    errno = 0;
    c[0] = (struct outcome){"fullio_read(-1, NULL, 3)", 0, 0};
    c[0].got = fullio_read(-1, NULL, 3);
    c[0].err = errno;
    errno = 0;
    c[1] = (struct outcome){"fullio_read(-1, buf, SSIZE_MAX + 1)", 0, 0};
    c[1].got = fullio_read(-1, buf, huge);
    c[1].err = errno;
    errno = 0;
    c[2] = (struct outcome){"fullio_write(-1, NULL, 3)", 0, 0};
    c[2].got = fullio_write(-1, NULL, 3);
    c[2].err = errno;
    errno = 0;
    c[3] = (struct outcome){"fullio_write(-1, buf, SSIZE_MAX + 1)", 0, 0};
    c[3].got = fullio_write(-1, buf, huge);
    c[3].err = errno;
    for (int i = 0; i < 4; i++)
        WB_EXPECT(c[i].got == -1 && c[i].err == EINVAL,
                  "%s: the arguments are checked before the descriptor is "
                  "used, so expected -1 with errno EINVAL, got %zd with "
                  "errno %s",
                  c[i].call, c[i].got, wb_errname(c[i].err));
}
END_TEST

/* --- SIGPIPE is the caller's ---------------------------------------------- */

static volatile sig_atomic_t sigpipes;

static void on_sigpipe(int signo)
{
    (void)signo;
    sigpipes++;
}

START_TEST(test_write_leaves_sigpipe_to_caller)
{
    WB_PROMISE("sigpipe");
    /* 1. With SIGPIPE at its default action, a write to a pipe nobody can
     * read must end the process, as write() itself would: in a child. */
    int fds[2];
    wb_pipe(fds);
    close(fds[0]);
    pid_t pid = start_child();
    if (pid == 0) {
        signal(SIGPIPE, SIG_DFL);
        int ok[2];
        if (pipe(ok) == -1)
            _exit(3);
        /* A write that works comes first: it must not change anything. */
        if (fullio_write(ok[1], "fine", 4) != 4)
            _exit(4);
        ssize_t w = fullio_write(fds[1], "data", 4);
        _exit(w == -1 && errno == EPIPE ? 1 : 2);
    }
    close(fds[1]);
    int code = reap(pid);
    WB_EXPECT(code == 100 + SIGPIPE,
              "a child with SIGPIPE at its default action calls "
              "fullio_write() on a pipe whose read end is closed: it must "
              "be killed by SIGPIPE, as by a plain write(); %s. Whether "
              "SIGPIPE ends the process is the caller's choice, not "
              "fullio_write()'s",
              code == 1    ? "instead fullio_write() returned -1 with EPIPE "
                             "(it ignored or blocked SIGPIPE)"
              : code == 2  ? "instead fullio_write() returned"
              : code > 100 ? "it was killed by another signal"
                           : "the child could not set up its pipes");

    /* 2. With a handler installed, the write fails with EPIPE, the
     * handler runs, and the handler and the signal mask are still the
     * caller's afterwards. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigpipe;
    sigemptyset(&sa.sa_mask);
    WB_EXPECT(sigaction(SIGPIPE, &sa, NULL) == 0, "sigaction() failed: %s",
              strerror(errno));
    sigset_t mask_before, mask_after;
    WB_EXPECT(sigprocmask(SIG_SETMASK, NULL, &mask_before) == 0,
              "sigprocmask() failed: %s", strerror(errno));
    wb_pipe(fds);
    close(fds[0]);
    sigpipes = 0;
    errno = 0;
    ssize_t w = fullio_write(fds[1], "data", 4);
    int saved = errno;
    close(fds[1]);
    struct sigaction now;
    WB_EXPECT(sigaction(SIGPIPE, NULL, &now) == 0, "sigaction() failed: %s",
              strerror(errno));
    WB_EXPECT(sigprocmask(SIG_SETMASK, NULL, &mask_after) == 0,
              "sigprocmask() failed: %s", strerror(errno));
    WB_EXPECT(now.sa_handler == on_sigpipe,
              "the caller installed a SIGPIPE handler; after fullio_write() "
              "the handler is %s. fullio_write() must not change signal "
              "dispositions",
              now.sa_handler == SIG_IGN   ? "SIG_IGN"
              : now.sa_handler == SIG_DFL ? "SIG_DFL"
                                          : "another function");
    WB_EXPECT(sigismember(&mask_after, SIGPIPE) ==
                  sigismember(&mask_before, SIGPIPE),
              "fullio_write() changed the signal mask: SIGPIPE is %s now",
              sigismember(&mask_after, SIGPIPE) ? "blocked" : "unblocked");
    WB_EXPECT(sigpipes == 1,
              "the write to a closed pipe must raise SIGPIPE once, for the "
              "caller's handler; the handler ran %d times",
              (int)sigpipes);
    WB_PROMISE("epipe");
    WB_EXPECT(w == -1 && saved == EPIPE,
              "with a SIGPIPE handler installed, writing to a pipe whose "
              "read end is closed: expected -1 with errno EPIPE, got %zd "
              "with errno %s",
              w, wb_errname(saved));
}
END_TEST

Suite *wb_suite(void)
{
    Suite *s = wb_begin("fullio", "chapters/01-sync/chapter.md");
    WB_ADD(s, test_read_collects_partial_chunks, "Partial reads and writes");
    WB_ADD(s, test_read_stops_at_eof_before_n, "Partial reads and writes");
    WB_ADD(s, test_read_empty_input_and_zero_bytes, "Partial reads and writes");
    WB_ADD(s, test_read_retries_after_eintr, "Partial reads and writes");
    WB_ADD(s, test_read_1mib_in_pieces, "Partial reads and writes");
    WB_ADD(s, test_read_nonblocking_keeps_count, "Partial reads and writes");
    WB_ADD(s, test_write_1mib_drained_by_child, "Partial reads and writes");
    WB_ADD(s, test_write_retries_after_eintr_and_short_writes,
           "Partial reads and writes");
    WB_ADD(s, test_write_nonblocking_keeps_count, "Partial reads and writes");
    WB_ADD(s, test_write_zero_bytes, "Partial reads and writes");
    WB_ADD(s, test_write_forced_short_writes, "Partial reads and writes");
    WB_ADD(s, test_write_forced_eintr, "Partial reads and writes");
    WB_ADD(s, test_write_forced_error_after_some_bytes,
           "Partial reads and writes");
    WB_ADD(s, test_read_one_byte_at_a_time, "Partial reads and writes");
    WB_ADD(s, test_read_asks_only_for_the_rest, "Partial reads and writes");
    WB_ADD(s, test_read_error_after_one_byte, "Partial reads and writes");
    WB_ADD(s, test_write_one_byte_at_a_time, "Partial reads and writes");
    WB_ADD(s, test_write_returning_zero_stops, "Partial reads and writes");
    WB_ADD(s, test_write_nothing_after_the_bytes, "Partial reads and writes");
    WB_ADD(s, test_count_ssize_max_allowed, "Exit codes and errors");
    WB_ADD(s, test_zero_bytes_even_on_bad_descriptor,
           "Reading and writing everything");
    WB_ADD(s, test_bad_descriptor_ebadf, "Exit codes and errors");
    WB_ADD(s, test_null_buffer_einval, "Exit codes and errors");
    WB_ADD(s, test_count_too_large_einval, "Exit codes and errors");
    WB_ADD(s, test_write_to_closed_pipe_epipe, "Exit codes and errors");
    WB_ADD(s, test_einval_comes_before_ebadf, "Reading and writing everything");
    WB_ADD(s, test_write_leaves_sigpipe_to_caller,
           "Reading and writing everything");
    return s;
}
