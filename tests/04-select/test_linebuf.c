/*
 * Tests of linebuf (exercises/04-select/linebuf.h): cutting a byte stream
 * into lines, on a non-blocking descriptor.
 *
 * Every test feeds the framer through a real pipe, so read() behaves as it
 * does on a socket: it returns what is there, and EAGAIN when nothing is.
 * Where bytes arrive matters (a line split between two reads), the test
 * writes them in pieces and fills after each piece, so the split is where
 * the test put it, not where the scheduler happened to cut.
 *
 * Memory is measured as the growth of the resident set (/proc/self/statm)
 * while an 8 MiB line goes through a framer of 4 KiB lines: a buffer that
 * grows to hold the line touches megabytes; the right one touches none.
 *
 * EINTR is forced the way chapter 3's tests watch a thread block: a child
 * process reads the test process's state in /proc until the kernel
 * reports it asleep in read(), and only then sends the signal.
 *
 * Linux-only: it reads /proc.
 */
#define _GNU_SOURCE
#include "wb.h"
#include "linebuf.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define SECTION "Framing lines on a byte stream"

/* What the tests put in *line and *len before a call: a call that hands
 * out no line must leave them as they were. */
static const char junk_text[] = "junk";
#define JUNK_LINE (junk_text)
#define JUNK_LEN ((size_t)0xbadc0de)

/* --- Helpers ------------------------------------------------------------- */

static void set_nonblocking(int fd)
{
    int flags = fcntl(fd, F_GETFL);
    WB_EXPECT(flags != -1 && fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0,
              "fcntl(O_NONBLOCK) failed: %s", strerror(errno));
}

/* A pipe whose read end is non-blocking. */
static void nb_pipe(int fds[2])
{
    wb_pipe(fds);
    set_nonblocking(fds[0]);
}

static void put_n(int fd, const char *bytes, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, bytes, n);
        if (w < 0 && errno == EINTR)
            continue;
        WB_EXPECT(w > 0, "test setup: write() to the pipe failed: %s",
                  strerror(errno));
        bytes += w;
        n -= (size_t)w;
    }
}

static void put(int fd, const char *text)
{
    put_n(fd, text, strlen(text));
}

static linebuf *new_lb(size_t max_line)
{
    errno = 0;
    linebuf *lb = linebuf_new(max_line);
    WB_EXPECT(lb != NULL, "linebuf_new(%zu) should return a framer; got NULL%s",
              max_line, wb_errno_note(-1));
    return lb;
}

/* A line for messages: quoted, with \r, \n and other odd bytes escaped,
 * cut after 40 bytes. */
static const char *shown(const char *s, size_t n)
{
    static char buf[4][200];
    static int which;
    char *out = buf[which++ % 4], *o = out;
    *o++ = '"';
    for (size_t i = 0; i < n && i < 40; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\n')
            o += sprintf(o, "\\n");
        else if (c == '\r')
            o += sprintf(o, "\\r");
        else if (c < 32 || c > 126)
            o += sprintf(o, "\\x%02x", c);
        else
            *o++ = (char)c;
    }
    o += sprintf(o, n > 40 ? "\"... (%zu bytes)" : "\"", n);
    return out;
}

/* Name @p tag for a helper's own checks; returns the caller's tag (in
 * one of four buffers), to give back with wb_promise() afterwards. */
static const char *swap_promise(const char *tag)
{
    static char saved[4][64];
    static int which;
    char *out = saved[which++ % 4];
    const char *prefix = wb_promise_prefix(); /* "[tag] " or "" */
    size_t n = strlen(prefix);
    snprintf(out, sizeof saved[0], "%.*s", n >= 3 ? (int)(n - 3) : 0,
             n >= 3 ? prefix + 1 : "");
    wb_promise(tag);
    return out;
}

/* fill must take in exactly @p n bytes. */
static void fill_expect(linebuf *lb, int fd, ssize_t n)
{
    errno = 0;
    ssize_t got = linebuf_fill(lb, fd);
    WB_EXPECT(got == n,
              "linebuf_fill() should take in the %zd bytes waiting in the "
              "pipe and return %zd; got %zd%s",
              n, n, got, wb_errno_note(got));
}

/* fill must say EAGAIN: nothing is left in the pipe. */
static void fill_expect_eagain(linebuf *lb, int fd, const char *when)
{
    const char *caller = swap_promise("eagain");
    errno = 0;
    ssize_t got = linebuf_fill(lb, fd);
    int err = errno;
    WB_EXPECT(got == -1 && (err == EAGAIN || err == EWOULDBLOCK),
              "linebuf_fill() on an empty non-blocking pipe (%s) should "
              "return -1 with errno EAGAIN; got %zd%s",
              when, got, wb_errno_note(got));
    wb_promise(caller);
}

/* The next line must be @p want (of @p n bytes). */
static void next_expect_n(linebuf *lb, const char *want, size_t n)
{
    const char *line = JUNK_LINE;
    size_t len = JUNK_LEN;
    errno = 0;
    int r = linebuf_next(lb, &line, &len);
    WB_EXPECT(r == 1,
              "linebuf_next() should return 1 and the line %s; got %d%s",
              shown(want, n), r, wb_errno_note(r));
    WB_EXPECT(line != JUNK_LINE && len != JUNK_LEN,
              "linebuf_next() returned 1 but did not set %s",
              line == JUNK_LINE ? "*line" : "*len");
    WB_EXPECT(len == n && memcmp(line, want, n) == 0,
              "linebuf_next() should hand out %s; got %s", shown(want, n),
              shown(line, len));
    WB_EXPECT(line[len] == '\0',
              "the line %s should be followed by a NUL; got byte 0x%02x",
              shown(want, n), (unsigned char)line[len]);
}

static void next_expect(linebuf *lb, const char *want)
{
    next_expect_n(lb, want, strlen(want));
}

/* No complete line: linebuf_next() returns 0 and leaves *line, *len. */
static void next_expect_none(linebuf *lb, const char *when)
{
    const char *line = JUNK_LINE;
    size_t len = JUNK_LEN;
    errno = 0;
    int r = linebuf_next(lb, &line, &len);
    WB_EXPECT(
        r == 0,
        "linebuf_next() should return 0 (no complete line) %s; got %d%s%s",
        when, r, wb_errno_note(r),
        r == 1 ? wb_format(" and the line %s", shown(line, len)) : "");
    WB_EXPECT(line == JUNK_LINE && len == JUNK_LEN,
              "linebuf_next() returned 0 but changed *line or *len: they are "
              "written only when a line is handed out");
}

static void next_expect_emsgsize(linebuf *lb, const char *what)
{
    const char *caller = swap_promise("too-long");
    const char *line = JUNK_LINE;
    size_t len = JUNK_LEN;
    errno = 0;
    int r = linebuf_next(lb, &line, &len);
    int err = errno;
    WB_EXPECT(r == -1 && err == EMSGSIZE,
              "linebuf_next() should return -1 with errno EMSGSIZE for %s; "
              "got %d%s%s",
              what, r, wb_errno_note(r),
              r == 1 ? wb_format(" and the line %s", shown(line, len)) : "");
    wb_promise(caller);
}

/* --- Lines and reads ----------------------------------------------------- */

START_TEST(test_several_lines_in_one_fill)
{
    WB_PROMISE("lines");
    int p[2];
    nb_pipe(p);
    linebuf *lb = new_lb(100);
    const char *text = "one\ntwo\n\nthree and four\n";
    put(p[1], text);
    fill_expect(lb, p[0], (ssize_t)strlen(text));
    next_expect(lb, "one");
    next_expect(lb, "two");
    next_expect(lb, "");
    next_expect(lb, "three and four");
    next_expect_none(lb, "after the four lines of one fill");
    linebuf_free(lb);
    close(p[0]);
    close(p[1]);
}
END_TEST

START_TEST(test_lines_with_nul_bytes)
{
    WB_PROMISE("lines");
    int p[2];
    nb_pipe(p);
    linebuf *lb = new_lb(100);
    put_n(p[1], "a\0b\n\0\n", 6);
    fill_expect(lb, p[0], 6);
    next_expect_n(lb, "a\0b", 3);
    next_expect_n(lb, "\0", 1);
    next_expect_none(lb, "after the two lines");
    linebuf_free(lb);
    close(p[0]);
    close(p[1]);
}
END_TEST

/* With room for only one short line at a time, every line still comes
 * out: fill stops when the buffer is full of lines, the caller takes
 * them, and the next fill goes on. */
START_TEST(test_buffer_full_of_lines)
{
    WB_PROMISE("lines");
    int p[2];
    nb_pipe(p);
    linebuf *lb = new_lb(4);
    put(p[1], "a\nbb\nccc\ndddd\ne\n");
    const char *want[] = {"a", "bb", "ccc", "dddd", "e"};
    size_t got = 0;
    for (int round = 0; round < 20 && got < 5; round++) {
        errno = 0;
        ssize_t n = linebuf_fill(lb, p[0]);
        WB_EXPECT(n > 0 || (n == -1 && errno == EAGAIN),
                  "linebuf_fill() with lines still in the pipe should take "
                  "some in; got %zd%s",
                  n, wb_errno_note(n));
        const char *line = JUNK_LINE;
        size_t len = JUNK_LEN;
        int r;
        while ((r = linebuf_next(lb, &line, &len)) == 1) {
            WB_EXPECT(got < 5 && len == strlen(want[got]) &&
                          memcmp(line, want[got], len) == 0,
                      "with max_line 4, line %zu should be %s; got %s", got + 1,
                      got < 5 ? shown(want[got], strlen(want[got])) : "none",
                      shown(line, len));
            got++;
        }
        WB_EXPECT(r == 0,
                  "linebuf_next() should hand out lines or return 0; "
                  "got %d%s",
                  r, wb_errno_note(r));
        if (n == -1)
            break;
    }
    WB_EXPECT(got == 5,
              "5 lines of at most 4 bytes went through a framer with max_line "
              "4; expected all 5 back, got %zu",
              got);
    linebuf_free(lb);
    close(p[0]);
    close(p[1]);
}
END_TEST

static void drain_into(linebuf *lb, char *out, size_t *nout)
{
    const char *line = JUNK_LINE;
    size_t len = JUNK_LEN;
    int r;
    while ((r = linebuf_next(lb, &line, &len)) == 1) {
        memcpy(out + *nout, line, len);
        *nout += len;
        out[(*nout)++] = '|';
    }
    WB_EXPECT(r == 0,
              "linebuf_next() should hand out lines or return 0; "
              "got %d%s",
              r, wb_errno_note(r));
}

/* Fill and take the lines, as an event loop does, until linebuf_fill()
 * reports EAGAIN or end of file. Each line is appended to out followed by
 * '|', and a skipped line as "<EMSGSIZE>|". Returns what the last fill
 * returned: -1 (EAGAIN) or 0 (end of file). */
static ssize_t take_all(linebuf *lb, int fd, char *out, size_t *nout,
                        size_t room)
{
    for (int round = 0; round < 100000; round++) {
        errno = 0;
        ssize_t n = linebuf_fill(lb, fd);
        int err = errno;
        WB_EXPECT(n >= 0 || err == EAGAIN || err == EWOULDBLOCK,
                  "linebuf_fill() should take bytes in, or return 0 at end "
                  "of file or -1 with EAGAIN; got %zd%s",
                  n, wb_errno_note(n));
        for (;;) {
            const char *line = JUNK_LINE;
            size_t len = JUNK_LEN;
            errno = 0;
            int r = linebuf_next(lb, &line, &len);
            if (r == 0)
                break;
            WB_EXPECT(r == 1 || errno == EMSGSIZE,
                      "linebuf_next() should return 1, 0, or -1 with "
                      "EMSGSIZE; got %d%s",
                      r, wb_errno_note(r));
            if (r == -1) {
                line = "<EMSGSIZE>";
                len = strlen(line);
            }
            WB_EXPECT(*nout + len + 1 <= room,
                      "linebuf_next() handed out more than was sent");
            memcpy(out + *nout, line, len);
            *nout += len;
            out[(*nout)++] = '|';
        }
        if (n <= 0)
            return n;
    }
    WB_EXPECT(0, "linebuf_fill() never reported EAGAIN or end of file");
    return -1;
}

static void take_all_expect(linebuf *lb, int fd, const char *sent,
                            const char *want)
{
    char out[512];
    size_t nout = 0;
    take_all(lb, fd, out, &nout, sizeof out);
    WB_EXPECT(nout == strlen(want) && memcmp(out, want, nout) == 0,
              "%s should give %s ('|' ends each line); got %s", sent,
              shown(want, strlen(want)), shown(out, nout));
}

/* Each line ends in '|' in the result: "first line|second\r||last|". */
static const char split_text[] = "first line\nsecond\r\n\nlast\n";
static const char split_lines[] = "first line|second\r||last|";

START_TEST(test_line_split_at_every_byte)
{
    WB_PROMISE("split");
    size_t n = strlen(split_text);
    for (size_t k = 0; k <= n; k++) {
        int p[2];
        nb_pipe(p);
        linebuf *lb = new_lb(40);
        char out[128];
        size_t nout = 0;
        put_n(p[1], split_text, k);
        if (k > 0)
            fill_expect(lb, p[0], (ssize_t)k);
        drain_into(lb, out, &nout);
        put_n(p[1], split_text + k, n - k);
        if (k < n)
            fill_expect(lb, p[0], (ssize_t)(n - k));
        drain_into(lb, out, &nout);
        WB_EXPECT(nout == strlen(split_lines) &&
                      memcmp(out, split_lines, nout) == 0,
                  "%s sent in two reads cut after byte %zu should give the "
                  "lines %s ('|' ends each); got %s",
                  shown(split_text, n), k,
                  shown(split_lines, strlen(split_lines)), shown(out, nout));
        linebuf_free(lb);
        close(p[0]);
        close(p[1]);
    }
}
END_TEST

START_TEST(test_one_byte_at_a_time)
{
    WB_PROMISE("split");
    int p[2];
    nb_pipe(p);
    linebuf *lb = new_lb(20);
    size_t n = strlen(split_text);
    char out[128];
    size_t nout = 0;
    for (size_t i = 0; i < n; i++) {
        put_n(p[1], split_text + i, 1);
        fill_expect(lb, p[0], 1);
        drain_into(lb, out, &nout);
        fill_expect_eagain(lb, p[0], "after each byte was taken in");
    }
    WB_EXPECT(nout == strlen(split_lines) &&
                  memcmp(out, split_lines, nout) == 0,
              "%s sent one byte per read should give the lines %s ('|' ends "
              "each); got %s",
              shown(split_text, n), shown(split_lines, strlen(split_lines)),
              shown(out, nout));
    linebuf_free(lb);
    close(p[0]);
    close(p[1]);
}
END_TEST

START_TEST(test_partial_line_kept_across_fills)
{
    WB_PROMISE("split");
    int p[2];
    nb_pipe(p);
    linebuf *lb = new_lb(100);
    put(p[1], "abc");
    fill_expect(lb, p[0], 3);
    next_expect_none(lb, "after \"abc\" with no newline yet");
    put(p[1], "def\nxy");
    fill_expect(lb, p[0], 6);
    next_expect(lb, "abcdef");
    next_expect_none(lb, "after \"abcdef\", with only \"xy\" of the next line");
    put(p[1], "z");
    fill_expect(lb, p[0], 1);
    next_expect_none(lb, "with \"xyz\" and no newline yet");
    put(p[1], "\n");
    fill_expect(lb, p[0], 1);
    next_expect(lb, "xyz");
    linebuf_free(lb);
    close(p[0]);
    close(p[1]);
}
END_TEST

/* 12 KB in the pipe, more than one read() into a 4 KiB buffer can take
 * (but less than the 4 x max_line a fill may drop): one fill must take it
 * all. The same with a line of 48 bytes and max_line 16. */
START_TEST(test_fill_reads_until_eagain)
{
    WB_PROMISE("drain");
    static const struct {
        size_t max_line, line;
    } cases[] = {{4096, 12000}, {16, 48}};
    static char big[12000];
    memset(big, 'x', sizeof big);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int p[2];
        nb_pipe(p);
        linebuf *lb = new_lb(cases[i].max_line);
        put_n(p[1], big, cases[i].line);
        put(p[1], "\nok\n");
        errno = 0;
        ssize_t got = linebuf_fill(lb, p[0]);
        WB_EXPECT(got == (ssize_t)(cases[i].line + 4),
                  "a line of %zu bytes (max_line %zu) and \"ok\\n\" wait in "
                  "the pipe, more than one read() into the buffer can take: "
                  "one linebuf_fill() should take in all %zu bytes (it reads "
                  "until EAGAIN); got %zd%s",
                  cases[i].line, cases[i].max_line, cases[i].line + 4, got,
                  wb_errno_note(got));
        fill_expect_eagain(lb, p[0], "everything was taken in by one fill");
        linebuf_free(lb);
        close(p[0]);
        close(p[1]);
    }
}
END_TEST

/* A line far longer than 4 x max_line waits in the pipe: one fill drops a
 * bounded part of it and returns, and the fills after it go on. */
START_TEST(test_skipping_is_bounded)
{
    WB_PROMISE("skip-bounded");
    static const struct {
        size_t max_line, line;
    } cases[] = {{4096, 60000}, {8, 2000}, {2, 500}};
    static char big[60000];
    memset(big, 'x', sizeof big);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t max_line = cases[i].max_line, n = cases[i].line;
        int p[2];
        nb_pipe(p);
        linebuf *lb = new_lb(max_line);
        put_n(p[1], big, n);
        put(p[1], "\nok\n");
        errno = 0;
        ssize_t got = linebuf_fill(lb, p[0]);
        WB_EXPECT(got > 0 && (size_t)got <= 8 * (max_line + 1),
                  "a line of %zu bytes (max_line %zu) then \"ok\\n\" wait in "
                  "the pipe: one linebuf_fill() should drop at most about 4 x "
                  "max_line bytes of it and return, having read between 1 "
                  "and %zu bytes (the other clients of a loop are waiting); "
                  "got %zd%s",
                  n, max_line, 8 * (max_line + 1), got, wb_errno_note(got));
        WB_PROMISE("too-long"); /* the skip goes on, the next line is kept */
        char out[512];
        size_t nout = 0;
        take_all(lb, p[0], out, &nout, sizeof out);
        const char *want = "<EMSGSIZE>|ok|";
        WB_EXPECT(nout == strlen(want) && memcmp(out, want, nout) == 0,
                  "after that, filling again and again until EAGAIN should "
                  "give %s ('|' ends each line); got %s",
                  shown(want, strlen(want)), shown(out, nout));
        linebuf_free(lb);
        close(p[0]);
        close(p[1]);
        WB_PROMISE("skip-bounded");
    }
}
END_TEST

/* The other side of the bound: a fill stops for a too-long line only
 * once it has dropped 4 x max_line bytes. With an endless line waiting,
 * the first fill reads at least that much; with a too-long line that
 * ends before 4 x max_line bytes, the fill goes on to the lines after it
 * and reads until EAGAIN. */
START_TEST(test_skipping_stops_no_sooner)
{
    WB_PROMISE("skip-bounded");
    static char big[2000];
    memset(big, 'x', sizeof big);
    static const size_t max_lines[] = {3, 4, 8, 100};
    for (size_t i = 0; i < sizeof max_lines / sizeof max_lines[0]; i++) {
        size_t max_line = max_lines[i];
        int p[2];
        nb_pipe(p);
        linebuf *lb = new_lb(max_line);
        put_n(p[1], big, sizeof big);
        errno = 0;
        ssize_t got = linebuf_fill(lb, p[0]);
        WB_EXPECT(got >= (ssize_t)(4 * max_line),
                  "a line of %zu bytes waits in the pipe (max_line %zu): one "
                  "linebuf_fill() should drop at least 4 x max_line = %zu "
                  "bytes of it before it returns; got %zd%s",
                  sizeof big, max_line, 4 * max_line, got, wb_errno_note(got));
        linebuf_free(lb);
        close(p[0]);
        close(p[1]);
    }
    /* 14 bytes and '\n' with max_line 4: 15 bytes dropped, under 16. */
    WB_PROMISE("drain");
    int p[2];
    nb_pipe(p);
    linebuf *lb = new_lb(4);
    put(p[1], "xxxxxxxxxxxxxx\nok\n");
    errno = 0;
    ssize_t got = linebuf_fill(lb, p[0]);
    WB_EXPECT(got == 18,
              "\"xxxxxxxxxxxxxx\\nok\\n\" waits in the pipe (max_line 4): "
              "the too-long line is 15 bytes with its newline, less than 4 x "
              "max_line, so one linebuf_fill() should read on until EAGAIN "
              "and return 18; got %zd%s",
              got, wb_errno_note(got));
    next_expect_emsgsize(lb, "the line of 14 bytes (max_line 4)");
    next_expect(lb, "ok");
    next_expect_none(lb, "after the two lines");
    linebuf_free(lb);
    close(p[0]);
    close(p[1]);
}
END_TEST

/* A stream of too-long lines, each ending soon after it overflowed the
 * buffer: a fill that checks its count of dropped bytes only while it is
 * in the middle of a line never stops, since every line ends before the
 * check. Every fill must stay within the bound, and every line is
 * reported once. */
static void many_long_lines(const char *line)
{
    WB_PROMISE("skip-bounded");
    enum { MAX_LINE = 4, LINES = 222 };
    size_t line_len = strlen(line);
    static char text[LINES * 9 + 4];
    for (size_t i = 0; i < LINES; i++)
        memcpy(text + i * line_len, line, line_len);
    memcpy(text + LINES * line_len, "ok\n", 4);
    size_t bound = 8 * (MAX_LINE + 1);
    int p[2];
    nb_pipe(p);
    linebuf *lb = new_lb(MAX_LINE);
    put_n(p[1], text, strlen(text));
    size_t fills = 0, reported = 0, oks = 0, others = 0;
    ssize_t n = 1;
    while (n > 0 && fills < 10000) {
        errno = 0;
        n = linebuf_fill(lb, p[0]);
        int err = errno;
        fills++;
        WB_EXPECT(n <= (ssize_t)bound,
                  "%d lines of %zu bytes each (max_line %d) wait in the pipe, "
                  "then \"ok\\n\": every linebuf_fill() should return once it "
                  "has dropped 4 x max_line bytes of too-long lines, having "
                  "read at most %zu bytes (the other clients of a loop are "
                  "waiting); fill %zu read %zd",
                  LINES, line_len - 1, MAX_LINE, bound, fills, n);
        WB_EXPECT(fills > 1 || n >= 4 * MAX_LINE,
                  "%d lines of %zu bytes each (max_line %d) wait in the pipe: "
                  "the first linebuf_fill() should go on until it has dropped "
                  "at least 4 x max_line = %d bytes of them; it read %zd%s",
                  LINES, line_len - 1, MAX_LINE, 4 * MAX_LINE, n,
                  wb_errno_note(n));
        WB_EXPECT(n > 0 || err == EAGAIN || err == EWOULDBLOCK,
                  "linebuf_fill() should take bytes in or return -1 with "
                  "EAGAIN; got %zd%s",
                  n, wb_errno_note(n));
        for (;;) {
            const char *got = JUNK_LINE;
            size_t len = JUNK_LEN;
            errno = 0;
            int r = linebuf_next(lb, &got, &len);
            if (r == 0)
                break;
            if (r == -1 && errno == EMSGSIZE)
                reported++;
            else if (r == 1 && len == 2 && memcmp(got, "ok", 2) == 0)
                oks++;
            else
                others++;
        }
    }
    WB_PROMISE("too-long");
    WB_EXPECT(reported == LINES && oks == 1 && others == 0,
              "%d too-long lines of %zu bytes then \"ok\\n\" (max_line %d), "
              "filled until EAGAIN, should give EMSGSIZE %d times (once per "
              "line), then the line \"ok\"; got %zu EMSGSIZE, %zu \"ok\" "
              "and %zu other results",
              LINES, line_len - 1, MAX_LINE, LINES, reported, oks, others);
    linebuf_free(lb);
    close(p[0]);
    close(p[1]);
}

/* 222 lines of 8 bytes (1998 bytes in all), or of 5: one byte more than a
 * full buffer, so each ends in the read after the overflow (a fill that
 * counts only the bytes it drops after the overflow counts too few). */
START_TEST(test_skipping_many_long_lines_is_bounded)
{
    many_long_lines("xxxxxxxx\n");
    many_long_lines("xxxxx\n");
}
END_TEST

/* Several too-long lines taken in by one fill (or by the fills until
 * EAGAIN): each is reported on its own, in its place among the others. */
START_TEST(test_several_long_lines_each_reported)
{
    WB_PROMISE("too-long");
    static const struct {
        size_t max_line;
        const char *sent, *shown, *want;
    } cases[] = {
        {4, "xxxxxxx\nyyyyyyy\nzzzzzzz\nok\n",
         "\"xxxxxxx\\nyyyyyyy\\nzzzzzzz\\nok\\n\"",
         "<EMSGSIZE>|<EMSGSIZE>|<EMSGSIZE>|ok|"},
        {4, "xxxxxxx\nab\nyyyyy\n\nzzzzzz\nend\n",
         "\"xxxxxxx\\nab\\nyyyyy\\n\\nzzzzzz\\nend\\n\"",
         "<EMSGSIZE>|ab|<EMSGSIZE>||<EMSGSIZE>|end|"},
        {8, "123456789\nabcdefghij\n", "\"123456789\\nabcdefghij\\n\"",
         "<EMSGSIZE>|<EMSGSIZE>|"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int p[2];
        nb_pipe(p);
        linebuf *lb = new_lb(cases[i].max_line);
        put(p[1], cases[i].sent);
        char what[160];
        snprintf(what, sizeof what, "%s with max_line %zu", cases[i].shown,
                 cases[i].max_line);
        take_all_expect(lb, p[0], what, cases[i].want);
        linebuf_free(lb);
        close(p[0]);
        close(p[1]);
    }
}
END_TEST

/* The buffer is full of complete lines the caller has not taken: fill
 * reads nothing and says ENOBUFS, never 0 (end of file). */
START_TEST(test_full_of_lines_is_enobufs)
{
    WB_PROMISE("enobufs");
    int p[2];
    nb_pipe(p);
    linebuf *lb = new_lb(4);
    put(p[1], "ab\ncd\nef\n");
    errno = 0;
    ssize_t first = linebuf_fill(lb, p[0]);
    WB_EXPECT(first > 0 && first < 9,
              "with max_line 4 and \"ab\\ncd\\nef\\n\" in the pipe, "
              "linebuf_fill() should take in some bytes, fewer than 9 (the "
              "buffer holds a 4-byte line and its newline); got %zd%s",
              first, wb_errno_note(first));
    for (int i = 0; i < 3; i++) {
        errno = 0;
        ssize_t got = linebuf_fill(lb, p[0]);
        int err = errno;
        if (got > 0)
            continue; /* it still had room: fill until it is full */
        WB_EXPECT(got == -1 && err == ENOBUFS,
                  "linebuf_fill() with its buffer full of lines not taken "
                  "yet should return -1 with errno ENOBUFS (0 would say end "
                  "of file); got %zd%s",
                  got, wb_errno_note(got));
        break;
    }
    next_expect(lb, "ab");
    char out[64];
    size_t nout = 0;
    take_all(lb, p[0], out, &nout, sizeof out);
    WB_EXPECT(nout == 6 && memcmp(out, "cd|ef|", 6) == 0,
              "after ENOBUFS and taking \"ab\", the other lines should "
              "come out: expected \"cd|ef|\"; got %s",
              shown(out, nout));
    linebuf_free(lb);
    close(p[0]);
    close(p[1]);
}
END_TEST

START_TEST(test_eagain_when_nothing_to_read)
{
    WB_PROMISE("eagain");
    int p[2];
    nb_pipe(p);
    linebuf *lb = new_lb(100);
    fill_expect_eagain(lb, p[0], "nothing was ever written");
    next_expect_none(lb, "when nothing was read");
    put(p[1], "ab");
    fill_expect(lb, p[0], 2);
    fill_expect_eagain(lb, p[0], "after \"ab\" was taken in");
    next_expect_none(lb, "with \"ab\" and no newline");
    put(p[1], "c\n");
    fill_expect(lb, p[0], 2);
    next_expect(lb, "abc");
    linebuf_free(lb);
    close(p[0]);
    close(p[1]);
}
END_TEST

/* --- End of file ---------------------------------------------------------- */

static void rest_expect(linebuf *lb, const char *want)
{
    const char *line = JUNK_LINE;
    size_t len = JUNK_LEN;
    errno = 0;
    int r = linebuf_rest(lb, &line, &len);
    WB_EXPECT(r == 1,
              "at end of file, linebuf_rest() should return 1 and the last "
              "line %s; got %d%s",
              shown(want, strlen(want)), r, wb_errno_note(r));
    WB_EXPECT(len == strlen(want) && memcmp(line, want, len) == 0 &&
                  line[len] == '\0',
              "linebuf_rest() should hand out %s followed by a NUL; got %s",
              shown(want, strlen(want)), shown(line, len));
}

static void rest_expect_none(linebuf *lb, const char *when)
{
    const char *line = JUNK_LINE;
    size_t len = JUNK_LEN;
    errno = 0;
    int r = linebuf_rest(lb, &line, &len);
    WB_EXPECT(r == 0 && line == JUNK_LINE && len == JUNK_LEN,
              "linebuf_rest() should return 0 %s and leave *line and *len "
              "alone; got %d%s%s",
              when, r, wb_errno_note(r),
              r == 1 ? wb_format(" and the line %s", shown(line, len)) : "");
}

static void fill_expect_eof(linebuf *lb, int fd)
{
    errno = 0;
    ssize_t got = linebuf_fill(lb, fd);
    WB_EXPECT(got == 0,
              "linebuf_fill() at end of file (write end closed, everything "
              "taken in) should return 0; got %zd%s",
              got, wb_errno_note(got));
}

START_TEST(test_eof_with_partial_line)
{
    WB_PROMISE("eof-rest");
    int p[2];
    nb_pipe(p);
    linebuf *lb = new_lb(100);
    put(p[1], "one\ntwo");
    close(p[1]);
    fill_expect(lb, p[0], 7);
    next_expect(lb, "one");
    next_expect_none(lb, "with \"two\" and no newline");
    fill_expect_eof(lb, p[0]);
    next_expect_none(lb, "at end of file: \"two\" is for linebuf_rest()");
    rest_expect(lb, "two");
    rest_expect_none(lb, "once the last line was handed out");
    linebuf_free(lb);
    close(p[0]);
}
END_TEST

/* The fill that takes in the last bytes meets end of file too: rest
 * works at once, and the next fill returns 0. */
START_TEST(test_rest_after_fill_that_met_eof)
{
    WB_PROMISE("eof-rest");
    int p[2];
    nb_pipe(p);
    linebuf *lb = new_lb(100);
    put(p[1], "one\ntwo");
    close(p[1]);
    fill_expect(lb, p[0], 7); /* read() then returned 0 */
    next_expect(lb, "one");
    next_expect_none(lb, "with \"two\" and no newline");
    rest_expect(lb, "two");
    rest_expect_none(lb, "once the last line was handed out");
    fill_expect_eof(lb, p[0]);
    linebuf_free(lb);
    close(p[0]);
}
END_TEST

START_TEST(test_eof_after_newline)
{
    WB_PROMISE("eof-rest");
    int p[2];
    nb_pipe(p);
    linebuf *lb = new_lb(100);
    put(p[1], "only\n");
    close(p[1]);
    fill_expect(lb, p[0], 5);
    fill_expect_eof(lb, p[0]);
    rest_expect(lb, "only"); /* complete lines come first, from rest too */
    rest_expect_none(lb, "when the input ended with a newline");
    linebuf_free(lb);
    close(p[0]);
}
END_TEST

START_TEST(test_eof_at_once)
{
    WB_PROMISE("eof-rest");
    int p[2];
    nb_pipe(p);
    linebuf *lb = new_lb(100);
    close(p[1]);
    fill_expect_eof(lb, p[0]);
    rest_expect_none(lb, "on an empty input");
    linebuf_free(lb);
    close(p[0]);
}
END_TEST

START_TEST(test_cr_kept)
{
    WB_PROMISE("cr-kept");
    int p[2];
    nb_pipe(p);
    linebuf *lb = new_lb(100);
    put(p[1], "dos\r\nunix\n\r\n");
    fill_expect(lb, p[0], 12);
    next_expect(lb, "dos\r");
    next_expect(lb, "unix");
    next_expect(lb, "\r");
    linebuf_free(lb);
    close(p[0]);
    close(p[1]);
}
END_TEST

/* --- Long lines ----------------------------------------------------------- */

START_TEST(test_line_of_exactly_max_line)
{
    WB_PROMISE("max-line");
    int p[2];
    nb_pipe(p);
    linebuf *lb = new_lb(8);
    put(p[1], "12345678\n");
    fill_expect(lb, p[0], 9);
    next_expect(lb, "12345678");
    /* Again, with the line arriving in pieces and after another line. */
    put(p[1], "a\n1234");
    fill_expect(lb, p[0], 6);
    next_expect(lb, "a");
    put(p[1], "5678");
    fill_expect(lb, p[0], 4);
    next_expect_none(lb, "with 8 bytes of a line and no newline yet");
    put(p[1], "\n");
    fill_expect(lb, p[0], 1);
    next_expect(lb, "12345678");
    /* And as the last, unterminated line. */
    put(p[1], "abcdefgh");
    close(p[1]);
    fill_expect(lb, p[0], 8);
    fill_expect_eof(lb, p[0]);
    rest_expect(lb, "abcdefgh");
    linebuf_free(lb);
    close(p[0]);
}
END_TEST

/* A line of exactly max_line bytes that fills the buffer after an empty
 * line taken from its first byte: the one byte taken is room enough. */
START_TEST(test_max_line_after_empty_line)
{
    WB_PROMISE("max-line");
    int p[2];
    nb_pipe(p);
    linebuf *lb = new_lb(8);
    put(p[1], "\n1234");
    fill_expect(lb, p[0], 5);
    next_expect(lb, "");
    next_expect_none(lb, "with 4 bytes of the next line and no newline yet");
    put(p[1], "5678\n");
    take_all_expect(lb, p[0],
                    "\"\\n1234\" taken, then \"5678\\n\" with max_line 8",
                    "12345678|");
    linebuf_free(lb);
    close(p[0]);
    close(p[1]);
}
END_TEST

/* After the buffer is moved up to make room, the bytes past its new end
 * are old ones, a '\n' among them: they are not a newline that arrived. */
START_TEST(test_no_line_from_old_bytes)
{
    WB_PROMISE("split");
    int p[2];
    nb_pipe(p);
    linebuf *lb = new_lb(8);
    put(p[1], "a\nbcdefg\n"); /* 9 bytes: the buffer is full */
    fill_expect(lb, p[0], 9);
    next_expect(lb, "a");
    put(p[1], "h");
    fill_expect(lb, p[0], 1);
    next_expect(lb, "bcdefg");
    next_expect_none(lb, "with only \"h\" of the next line and no newline yet");
    put(p[1], "\n");
    fill_expect(lb, p[0], 1);
    next_expect(lb, "h");
    next_expect_none(lb, "after the last line");
    linebuf_free(lb);
    close(p[0]);
    close(p[1]);
}
END_TEST

START_TEST(test_line_one_too_long_is_skipped)
{
    WB_PROMISE("too-long");
    int p[2];
    nb_pipe(p);
    linebuf *lb = new_lb(8);
    put(p[1], "ok\n123456789\nafter\n");
    take_all_expect(lb, p[0], "\"ok\\n123456789\\nafter\\n\" with max_line 8",
                    "ok|<EMSGSIZE>|after|");
    /* The same, one line per read. */
    put(p[1], "ok\n");
    fill_expect(lb, p[0], 3);
    next_expect(lb, "ok");
    put(p[1], "123456789\n");
    fill_expect(lb, p[0], 10);
    next_expect_emsgsize(lb, "a line of 9 bytes with max_line 8");
    next_expect_none(lb, "after EMSGSIZE (it is reported once)");
    put(p[1], "after\n");
    fill_expect(lb, p[0], 6);
    next_expect(lb, "after");
    next_expect_none(lb, "after the last line");
    linebuf_free(lb);
    close(p[0]);
    close(p[1]);
}
END_TEST

/* The long line arrives a few bytes at a time, over many fills; the lines
 * after it arrive in the same read as its end. */
START_TEST(test_long_line_in_pieces_is_skipped)
{
    WB_PROMISE("too-long");
    int p[2];
    nb_pipe(p);
    linebuf *lb = new_lb(8);
    char out[512];
    size_t nout = 0;
    put(p[1], "before\nxxx");
    take_all(lb, p[0], out, &nout, sizeof out);
    for (int i = 0; i < 30; i++) {
        put(p[1], "xxxxxxx");
        take_all(lb, p[0], out, &nout, sizeof out);
    }
    put(p[1], "xx\nnext\nlast\n");
    take_all(lb, p[0], out, &nout, sizeof out);
    const char *want = "before|<EMSGSIZE>|next|last|";
    WB_EXPECT(nout == strlen(want) && memcmp(out, want, nout) == 0,
              "\"before\\n\", a line of 225 bytes sent 7 bytes at a time, "
              "then \"next\\nlast\\n\" with max_line 8 should give %s ('|' "
              "ends each line); got %s",
              shown(want, strlen(want)), shown(out, nout));
    linebuf_free(lb);
    close(p[0]);
    close(p[1]);
}
END_TEST

START_TEST(test_long_line_at_eof)
{
    WB_PROMISE("too-long");
    int p[2];
    nb_pipe(p);
    linebuf *lb = new_lb(8);
    put(p[1], "ok\n12345678901234567890");
    close(p[1]);
    take_all_expect(lb, p[0],
                    "\"ok\\n\" then 20 bytes and end of file, with max_line 8",
                    "ok|<EMSGSIZE>|");
    fill_expect_eof(lb, p[0]);
    rest_expect_none(lb, "when the rest was a skipped too-long line");
    linebuf_free(lb);
    close(p[0]);
}
END_TEST

/* Resident memory of this process, in bytes. */
static long resident_bytes(void)
{
    char buf[128];
    int fd = open("/proc/self/statm", O_RDONLY);
    WB_EXPECT(fd >= 0, "open(/proc/self/statm) failed: %s", strerror(errno));
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    WB_EXPECT(n > 0, "read(/proc/self/statm) failed");
    buf[n] = '\0';
    long size, resident;
    WB_EXPECT(sscanf(buf, "%ld %ld", &size, &resident) == 2,
              "cannot parse /proc/self/statm: %s", buf);
    return resident * sysconf(_SC_PAGESIZE);
}

START_TEST(test_long_line_memory_bounded)
{
    WB_PROMISE("bounded");
    enum { CHUNK = 32 * 1024, LINE = 8 * 1024 * 1024 };
    static char chunk[CHUNK];
    memset(chunk, 'y', sizeof chunk); /* touched now, not counted later */
    int p[2];
    nb_pipe(p);
    linebuf *lb = new_lb(4096);
    put(p[1], "start\n");
    fill_expect(lb, p[0], 6);
    next_expect(lb, "start");
    long base = resident_bytes(), peak = base;
    int reported = 0;
    for (long sent = 0; sent < LINE; sent += CHUNK) {
        put_n(p[1], chunk, CHUNK);
        /* Fill (a fill may stop early while skipping) until EAGAIN. */
        ssize_t took = 0, n;
        while ((n = linebuf_fill(lb, p[0])) > 0) {
            took += n;
            const char *line = JUNK_LINE;
            size_t len = JUNK_LEN;
            int r = linebuf_next(lb, &line, &len);
            WB_EXPECT(r == 0 || (r == -1 && errno == EMSGSIZE),
                      "while an 8 MiB line arrives (max_line 4096), "
                      "linebuf_next() should return -1 (EMSGSIZE) once and "
                      "otherwise 0; got %d%s",
                      r, wb_errno_note(r));
            reported += r == -1;
        }
        WB_EXPECT(took == CHUNK && (errno == EAGAIN || errno == EWOULDBLOCK),
                  "linebuf_fill() again and again should take in the %d "
                  "bytes written, then report EAGAIN; took %zd, then got "
                  "%zd%s",
                  CHUNK, took, n, wb_errno_note(n));
        long now = resident_bytes();
        if (now > peak)
            peak = now;
    }
    WB_EXPECT(peak - base < 1024 * 1024,
              "with max_line 4096, an 8 MiB line should cost no memory "
              "(its bytes are dropped as they arrive); the process grew by "
              "%ld KiB while it arrived",
              (peak - base) / 1024);
    put(p[1], "\nafter\n");
    fill_expect(lb, p[0], 7);
    if (reported == 0)
        next_expect_emsgsize(lb, "the 8 MiB line (max_line 4096)");
    else
        WB_EXPECT(reported == 1,
                  "linebuf_next() should report the 8 MiB line once with "
                  "EMSGSIZE; it did %d times",
                  reported);
    next_expect(lb, "after");
    linebuf_free(lb);
    close(p[0]);
    close(p[1]);
}
END_TEST

/* --- Signals and errors --------------------------------------------------- */

/* test_eintr_is_retried: the test process blocks in linebuf_fill() on an
 * empty blocking pipe. A child process waits until the kernel reports the
 * test process asleep, then interrupts it with SIGALRM, whose handler has
 * no SA_RESTART: read() fails with EINTR, and the handler answers on the
 * "ack" pipe. Only once the answer is there (so read() has already failed
 * with EINTR) does the child write a line and exit, which closes the pipe.
 * So the interruption happens on every run, however loaded the machine. */
static int ack_wfd = -1;

static void on_alarm(int sig)
{
    (void)sig;
    int saved = errno;
    (void)!write(ack_wfd, "!", 1);
    errno = saved;
}

/* The state letter of process @p pid ('R' running, 'S' asleep, ...). */
static char process_state(pid_t pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return '?';
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return '?';
    buf[n] = '\0';
    const char *paren = strrchr(buf, ')'); /* the name may hold spaces */
    return paren != NULL && paren[1] == ' ' ? paren[2] : '?';
}

/* Wait up to 1 s for process @p pid to be asleep. */
static int wait_asleep(pid_t pid)
{
    int64_t end = wb_now_ns() + 1000 * 1000000LL;
    while (wb_now_ns() < end) {
        if (process_state(pid) == 'S')
            return 1;
        sched_yield();
    }
    return 0;
}

/* The child: interrupt @p target, then write the line. */
static void interrupt_then_write(pid_t target, int wfd, int ack_rfd)
{
    if (wait_asleep(target) && kill(target, SIGALRM) == 0) {
        struct pollfd pfd = {.fd = ack_rfd, .events = POLLIN};
        char c;
        if (poll(&pfd, 1, 1000) == 1)
            (void)!read(ack_rfd, &c, 1);
    }
    (void)!write(wfd, "hi\n", 3);
    _exit(0);
}

START_TEST(test_eintr_is_retried)
{
    WB_PROMISE("eintr");
    int p[2], ack[2];
    wb_pipe(p); /* blocking: read() waits, and a signal interrupts it */
    wb_pipe(ack);
    ack_wfd = ack[1];
    struct sigaction sa = {.sa_handler = on_alarm}; /* no SA_RESTART */
    sigemptyset(&sa.sa_mask);
    WB_EXPECT(sigaction(SIGALRM, &sa, NULL) == 0, "sigaction() failed: %s",
              strerror(errno));
    pid_t me = getpid();
    fflush(NULL);
    pid_t child = fork();
    WB_EXPECT(child >= 0, "fork() failed: %s", strerror(errno));
    if (child == 0) {
        close(p[0]);
        close(ack[1]);
        interrupt_then_write(me, p[1], ack[0]);
    }
    close(p[1]); /* the child's copy is the last: end of file after "hi" */
    close(ack[0]);
    linebuf *lb = new_lb(100);
    errno = 0;
    ssize_t got = linebuf_fill(lb, p[0]);
    int err = errno;
    if (got != 3) { /* let the child finish before the test ends */
        char sink[16];
        while (read(p[0], sink, sizeof sink) > 0)
            ;
    }
    int status = -1;
    waitpid(child, &status, 0);
    close(ack[1]);
    errno = err;
    WB_EXPECT(got == 3,
              "linebuf_fill() on a blocking pipe, interrupted by SIGALRM (a "
              "handler without SA_RESTART) before \"hi\\n\" arrived, should "
              "retry read() and return 3; got %zd%s",
              got, wb_errno_note(got));
    WB_EXPECT(WIFEXITED(status) && WEXITSTATUS(status) == 0,
              "test setup: the child that sends the signal ended with status "
              "%d",
              status);
    next_expect(lb, "hi");
    linebuf_free(lb);
    close(p[0]);
}
END_TEST

START_TEST(test_read_error_reported)
{
    WB_PROMISE("read-error");
    int p[2];
    wb_pipe(p);
    linebuf *lb = new_lb(100);
    errno = 0;
    ssize_t got = linebuf_fill(lb, p[1]); /* the write end: not readable */
    int err = errno;
    WB_EXPECT(got == -1 && err == EBADF,
              "linebuf_fill() on the write end of a pipe should return -1 "
              "with errno EBADF (from read()); got %zd%s",
              got, wb_errno_note(got));
    close(p[0]);
    close(p[1]);
    errno = 0;
    got = linebuf_fill(lb, p[0]); /* closed */
    err = errno;
    WB_EXPECT(got == -1 && err == EBADF,
              "linebuf_fill() on a closed descriptor should return -1 with "
              "errno EBADF; got %zd%s",
              got, wb_errno_note(got));
    next_expect_none(lb, "after failed fills");
    linebuf_free(lb);
}
END_TEST

START_TEST(test_bad_arguments)
{
    WB_PROMISE("bad-args");
    errno = 0;
    linebuf *none = linebuf_new(0);
    int err = errno;
    WB_EXPECT(none == NULL && err == EINVAL,
              "linebuf_new(0) should return NULL with errno EINVAL; got %s "
              "with errno %s",
              none == NULL ? "NULL" : "a framer", wb_errname(err));
    linebuf_free(none);
    linebuf_free(NULL); /* does nothing */
    errno = 0;
    none = linebuf_new(SIZE_MAX);
    err = errno;
    WB_EXPECT(none == NULL && err == ENOMEM,
              "linebuf_new(SIZE_MAX) should return NULL with errno ENOMEM "
              "(the buffer's size, max_line + 1 or more, overflows); got %s "
              "with errno %s",
              none == NULL ? "NULL" : "a framer", wb_errname(err));
    linebuf_free(none);
    errno = 0;
    none = linebuf_new(SIZE_MAX - 1);
    err = errno;
    WB_EXPECT(none == NULL && err == ENOMEM,
              "linebuf_new(SIZE_MAX - 1) should return NULL with errno ENOMEM "
              "(the buffer needs max_line + 1 bytes or more: no such memory); "
              "got %s with errno %s",
              none == NULL ? "NULL" : "a framer", wb_errname(err));
    linebuf_free(none);

    int p[2];
    nb_pipe(p);
    errno = 0;
    ssize_t got = linebuf_fill(NULL, p[0]);
    err = errno;
    WB_EXPECT(got == -1 && err == EINVAL,
              "linebuf_fill(NULL, fd) should return -1 with errno EINVAL; got "
              "%zd%s",
              got, wb_errno_note(got));

    linebuf *lb = new_lb(10);
    const char *line = JUNK_LINE;
    size_t len = JUNK_LEN;
    /* One call at a time, so errno belongs to the call checked. */
    errno = 0;
    int r = linebuf_next(NULL, &line, &len);
    WB_EXPECT(r == -1 && errno == EINVAL,
              "linebuf_next(NULL, &line, &len) should return -1 with errno "
              "EINVAL; got %d%s",
              r, wb_errno_note(r));
    errno = 0;
    r = linebuf_next(lb, NULL, &len);
    WB_EXPECT(r == -1 && errno == EINVAL,
              "linebuf_next(lb, NULL, &len) should return -1 with errno "
              "EINVAL; got %d%s",
              r, wb_errno_note(r));
    errno = 0;
    r = linebuf_next(lb, &line, NULL);
    WB_EXPECT(r == -1 && errno == EINVAL,
              "linebuf_next(lb, &line, NULL) should return -1 with errno "
              "EINVAL; got %d%s",
              r, wb_errno_note(r));
    errno = 0;
    r = linebuf_rest(NULL, &line, &len);
    WB_EXPECT(r == -1 && errno == EINVAL,
              "linebuf_rest(NULL, &line, &len) should return -1 with errno "
              "EINVAL; got %d%s",
              r, wb_errno_note(r));
    put(p[1], "abc");
    fill_expect(lb, p[0], 3);
    errno = 0;
    r = linebuf_rest(lb, &line, &len);
    WB_EXPECT(r == -1 && errno == EINVAL,
              "linebuf_rest() before end of file should return -1 with errno "
              "EINVAL; got %d%s",
              r, wb_errno_note(r));
    WB_EXPECT(line == JUNK_LINE && len == JUNK_LEN,
              "failed calls should leave *line and *len alone");
    linebuf_free(lb);
    close(p[0]);
    close(p[1]);
}
END_TEST

Suite *wb_suite(void)
{
    Suite *s = wb_begin("linebuf", "chapters/04-select/chapter.md");
    WB_ADD(s, test_several_lines_in_one_fill, SECTION);
    WB_ADD(s, test_lines_with_nul_bytes, SECTION);
    WB_ADD(s, test_buffer_full_of_lines, SECTION);
    WB_ADD(s, test_line_split_at_every_byte, SECTION);
    WB_ADD(s, test_one_byte_at_a_time, SECTION);
    WB_ADD(s, test_partial_line_kept_across_fills, SECTION);
    WB_ADD(s, test_fill_reads_until_eagain, "Non-blocking descriptors");
    WB_ADD(s, test_eagain_when_nothing_to_read, "Non-blocking descriptors");
    WB_ADD(s, test_skipping_is_bounded, SECTION);
    WB_ADD(s, test_skipping_many_long_lines_is_bounded, SECTION);
    WB_ADD(s, test_skipping_stops_no_sooner, SECTION);
    WB_ADD(s, test_full_of_lines_is_enobufs, SECTION);
    WB_ADD(s, test_eof_with_partial_line, SECTION);
    WB_ADD(s, test_rest_after_fill_that_met_eof, SECTION);
    WB_ADD(s, test_eof_after_newline, SECTION);
    WB_ADD(s, test_eof_at_once, SECTION);
    WB_ADD(s, test_cr_kept, SECTION);
    WB_ADD(s, test_line_of_exactly_max_line, SECTION);
    WB_ADD(s, test_max_line_after_empty_line, SECTION);
    WB_ADD(s, test_no_line_from_old_bytes, SECTION);
    WB_ADD(s, test_line_one_too_long_is_skipped, SECTION);
    WB_ADD(s, test_several_long_lines_each_reported, SECTION);
    WB_ADD(s, test_long_line_in_pieces_is_skipped, SECTION);
    WB_ADD(s, test_long_line_at_eof, SECTION);
    WB_ADD(s, test_long_line_memory_bounded, SECTION);
    WB_ADD_TIMEOUT(s, test_eintr_is_retried, "The timeout and EINTR", 4.0);
    WB_ADD(s, test_read_error_reported, "Non-blocking descriptors");
    WB_ADD(s, test_bad_arguments, SECTION);
    return s;
}
