/*
 * Tests of the batch report (exercises/01-sync/report.h).
 *
 * Every test feeds report_run() a whole input through a temporary file
 * and compares what it wrote, byte for byte, with what the contract
 * says: the totals on out, the messages (with their line numbers) on
 * err, and the summary.
 *
 * Linux-only (glibc): _GNU_SOURCE is for fopencookie(), which makes a
 * stream that fails in the middle of the input.
 */
#define _GNU_SOURCE
#include "wb.h"
#include "report.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* --- Helpers -------------------------------------------------------------- */

/* A growing string, for inputs and expected outputs built in a loop. */
struct text {
    char *s;
    size_t len, cap;
};

static void text_add(struct text *t, const char *fmt, ...)
{
    for (;;) {
        size_t room = t->cap - t->len;
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(t->s != NULL ? t->s + t->len : NULL, room, fmt, ap);
        va_end(ap);
        WB_EXPECT(n >= 0, "vsnprintf() failed");
        if ((size_t)n < room) {
            t->len += (size_t)n;
            return;
        }
        size_t cap = t->cap * 2 + (size_t)n + 64;
        char *bigger = realloc(t->s, cap);
        WB_EXPECT(bigger != NULL, "out of memory");
        t->s = bigger;
        t->cap = cap;
    }
}

/* What one call of report_run() did. */
struct result {
    int ret;
    int err_no;
    char *out;
    char *err;
    struct report_summary sum;
};

static struct result run_report(const char *input)
{
    struct result r;
    FILE *in = wb_tmpfile_with(input);
    FILE *out = tmpfile();
    FILE *err = tmpfile();
    WB_EXPECT(out != NULL && err != NULL, "tmpfile() failed");
    /* Garbage, so a summary that is never set shows up. */
    r.sum = (struct report_summary){777, 777, 777};
    errno = 0;
    r.ret = report_run(in, out, err, &r.sum);
    r.err_no = errno;
    rewind(out);
    rewind(err);
    r.out = wb_slurp(out);
    r.err = wb_slurp(err);
    fclose(in);
    fclose(out);
    fclose(err);
    return r;
}

static void result_free(struct result *r)
{
    free(r->out);
    free(r->err);
}

/* Copy up to @p max bytes of @p s from @p from into @p dst, with newlines
 * shown as \n, between quotes. */
static void excerpt(char *dst, size_t cap, const char *s, size_t from,
                    size_t max)
{
    size_t used = 0, slen = strlen(s);
    if (from > slen)
        from = slen;
    dst[used++] = '"';
    if (from > 0 && used + 3 < cap) {
        memcpy(dst + used, "...", 3);
        used += 3;
    }
    size_t i = from;
    for (; i < slen && i < from + max && used + 4 < cap; i++) {
        if (s[i] == '\n') {
            dst[used++] = '\\';
            dst[used++] = 'n';
        } else {
            dst[used++] = s[i];
        }
    }
    if (i < slen && used + 4 < cap) {
        memcpy(dst + used, "...", 3);
        used += 3;
    }
    dst[used++] = '"';
    dst[used] = '\0';
}

/* 0 when equal; otherwise 1 and a description of the first difference. */
static int text_diff(const char *got, const char *want, char *msg, size_t cap)
{
    size_t i = 0;
    while (got[i] != '\0' && got[i] == want[i])
        i++;
    if (got[i] == want[i])
        return 0;
    size_t line = 1;
    for (size_t k = 0; k < i; k++)
        line += want[k] == '\n';
    size_t from = i > 30 ? i - 30 : 0;
    char e[200], g[200];
    excerpt(e, sizeof e, want, from, 120);
    excerpt(g, sizeof g, got, from, 120);
    snprintf(msg, cap,
             "first difference at byte %zu (output line %zu): expected %s, "
             "got %s",
             i, line, e, g);
    return 1;
}

/* Fail the test, at the caller's line, unless got equals want. */
#define EXPECT_TEXT(got, want, what)                                           \
    do {                                                                       \
        char msg_[512];                                                        \
        int differ_ = text_diff((got), (want), msg_, sizeof msg_);             \
        WB_EXPECT(!differ_, "%s: %s", (what), msg_);                           \
    } while (0)

#define EXPECT_SUM(r, acc, rej, tot)                                           \
    WB_EXPECT((r).sum.accepted == (acc) && (r).sum.rejected == (rej) &&        \
                  (r).sum.total_cents == (tot),                                \
              "summary: expected %zu accepted, %zu rejected, total %" PRId64   \
              " cents; got %zu, %zu, %" PRId64,                                \
              (size_t)(acc), (size_t)(rej), (int64_t)(tot), (r).sum.accepted,  \
              (r).sum.rejected, (r).sum.total_cents)

#define EXPECT_OK(r)                                                           \
    WB_EXPECT((r).ret == 0,                                                    \
              "report_run() should return 0 (malformed records are "           \
              "reported, not an error of the run); got %d with errno %s "      \
              "(%s)",                                                          \
              (r).ret, wb_errname((r).err_no), strerror((r).err_no))

/* --- The normal path ------------------------------------------------------ */

START_TEST(test_totals_per_item_in_first_order)
{
    struct result r = run_report("# item,quantity,unit_price_cents\n"
                                 "apple,3,45\n"
                                 "pear,1,60\n"
                                 "apple,2,45\n"
                                 "fig,0,999\n"
                                 "Pear,10,1\n"
                                 "green apple,007,1\n"
                                 "app,2,5\n"
                                 "apples,1,1\n"
                                 "apple ,1,1\n");
    EXPECT_OK(r);
    EXPECT_TEXT(r.out,
                "apple,225\npear,60\nfig,0\nPear,10\ngreen apple,7\n"
                "app,10\napples,1\napple ,1\n",
                "one line per item, in the order items first appear, "
                "totals = sum of quantity x price (items are compared "
                "whole, byte for byte: \"Pear\" and \"pear\" are two "
                "items, and so are \"app\", \"apple\", \"apples\" and "
                "\"apple \")");
    EXPECT_TEXT(r.err, "", "no record is malformed, so err stays empty");
    EXPECT_SUM(r, 9, 0, 225 + 60 + 0 + 10 + 7 + 10 + 1 + 1);
    result_free(&r);
}
END_TEST

START_TEST(test_empty_and_comment_only_input)
{
    struct result r = run_report("");
    EXPECT_OK(r);
    EXPECT_TEXT(r.out, "", "an empty input gives an empty report");
    EXPECT_TEXT(r.err, "", "an empty input has nothing to reject");
    EXPECT_SUM(r, 0, 0, 0);
    result_free(&r);

    r = run_report("\n   \n\t\n# only comments\n  \t# indented\n#,1,2\n");
    EXPECT_OK(r);
    EXPECT_TEXT(r.out, "",
                "blank lines (also of spaces and tabs) and comments (also "
                "indented) are not records");
    EXPECT_TEXT(r.err, "", "blank lines and comments are never rejected");
    EXPECT_SUM(r, 0, 0, 0);
    result_free(&r);
}
END_TEST

START_TEST(test_last_line_without_newline)
{
    struct result r = run_report("a,1,2\nb,3,4");
    EXPECT_OK(r);
    EXPECT_TEXT(r.out, "a,2\nb,12\n",
                "the last line \"b,3,4\" has no newline but is a record");
    EXPECT_SUM(r, 2, 0, 14);
    result_free(&r);

    r = run_report("a,1,2\nb,x,4");
    EXPECT_OK(r);
    EXPECT_TEXT(r.err, "line 2: not a number\n",
                "a malformed last line without newline is rejected too");
    EXPECT_SUM(r, 1, 1, 2);
    result_free(&r);

    r = run_report("z,5,5");
    EXPECT_OK(r);
    EXPECT_TEXT(r.out, "z,25\n", "an input of one line without newline");
    result_free(&r);
}
END_TEST

/* --- Malformed records ---------------------------------------------------- */

START_TEST(test_malformed_records_exact_messages)
{
    struct result r = run_report("# header\n"     /* 1 */
                                 "apple,3,45\n"   /* 2 */
                                 "apple,3\n"      /* 3 */
                                 "\n"             /* 4 */
                                 "pear,1,2,3\n"   /* 5 */
                                 ",1,2\n"         /* 6 */
                                 "pear,x,2\n"     /* 7 */
                                 "pear,1,\n"      /* 8 */
                                 "pear,-1,2\n"    /* 9 */
                                 "pear,1,-0\n"    /* 10 */
                                 "pear, 1,2\n"    /* 11 */
                                 "pear,1,2,\n"    /* 12 */
                                 "plum,2,10\n"    /* 13 */
                                 "pear\n"         /* 14 */
                                 "   # comment\n" /* 15 */
                                 "pear,-,5\n"     /* 16 */
                                 "pear,1.5,2\n"   /* 17 */
                                 "pear,2,3\n"     /* 18 */
                                 "pear,,\n"       /* 19 */
                                 ",,\n"           /* 20 */
                                 "pear,x,-1\n"    /* 21 */
                                 "pear,-1,x\n"    /* 22 */
                                 "pear,+1,2\n");  /* 23 */
    EXPECT_OK(r);
    EXPECT_TEXT(r.err,
                "line 3: missing field\n"
                "line 5: extra field\n"
                "line 6: empty item name\n"
                "line 7: not a number\n"
                "line 8: not a number\n"
                "line 9: negative\n"
                "line 10: negative\n"
                "line 11: not a number\n"
                "line 12: extra field\n"
                "line 14: missing field\n"
                "line 16: not a number\n"
                "line 17: not a number\n"
                "line 19: not a number\n"
                "line 20: empty item name\n"
                "line 21: not a number\n"
                "line 22: negative\n"
                "line 23: not a number\n",
                "one message per malformed record, \"line N: reason\", N "
                "counting every line from 1 (blank lines and comments "
                "too), checks in the order report.h gives");
    EXPECT_TEXT(r.out, "apple,135\nplum,20\npear,6\n",
                "the valid records between the malformed ones must all "
                "count");
    EXPECT_SUM(r, 3, 17, 135 + 20 + 6);
    result_free(&r);
}
END_TEST

START_TEST(test_line_numbers_count_blank_and_comment_lines)
{
    struct result r = run_report("\n\n# c\n \t \nbad\n");
    EXPECT_OK(r);
    EXPECT_TEXT(r.err, "line 5: missing field\n",
                "the bad record is on line 5 (after 2 blank lines, a "
                "comment and a line of spaces and a tab)");
    EXPECT_SUM(r, 0, 1, 0);
    result_free(&r);

    r = run_report("bad\n");
    EXPECT_OK(r);
    EXPECT_TEXT(r.err, "line 1: missing field\n", "lines count from 1");
    result_free(&r);
}
END_TEST

START_TEST(test_overflow_rejected)
{
    struct result r =
        run_report("big,9223372036854775808,1\n"     /* 1: INT64_MAX + 1 */
                   "big,1,99999999999999999999999\n" /* 2 */
                   "big,4294967296,4294967296\n"     /* 3: product 2^64 */
                   "big,-99999999999999999999,1\n"   /* 4 */
                   "big,99999999999999999999x,1\n"   /* 5 */
                   "max,9223372036854775807,1\n"     /* 6: exactly INT64_MAX */
                   "one,1,1\n"                       /* 7: grand total over */
                   "zero,5,0\n"                      /* 8 */
                   "max,0,9223372036854775807\n");   /* 9 */
    EXPECT_OK(r);
    EXPECT_TEXT(r.err,
                "line 1: overflow\n"
                "line 2: overflow\n"
                "line 3: overflow\n"
                "line 4: negative\n"
                "line 5: not a number\n"
                "line 7: overflow\n",
                "values above INT64_MAX, a product above it, and a record "
                "that would push the grand total above it are \"overflow\"; "
                "a sign or a stray character decides first");
    EXPECT_TEXT(r.out, "max,9223372036854775807\nzero,0\n",
                "INT64_MAX itself fits, and zero amounts are records too");
    EXPECT_SUM(r, 3, 6, INT64_MAX);
    result_free(&r);
}
END_TEST

/* --- Long lines and many records ------------------------------------------ */

START_TEST(test_lines_of_100_kb)
{
    enum { LONG = 100 * 1000 };
    char *name = malloc(LONG + 1);
    WB_EXPECT(name != NULL, "out of memory");
    for (size_t i = 0; i < LONG; i++)
        name[i] = (char)('a' + i % 26);
    name[LONG] = '\0';
    struct text in = {NULL, 0, 0}, note = {NULL, 0, 0};
    /* A comment as long, full of things that look like records. */
    while (note.len < LONG)
        text_add(&note, "x,1,1 ");
    text_add(&in, "%s,2,3\n", name); /* 1: valid, 100 kB item */
    text_add(&in, "#%s\n", note.s);  /* 2: a 100 kB comment */
    text_add(&in, "%s,1\n", name);   /* 3: 100 kB, missing field */
    text_add(&in, "%s,1,1\n", name); /* 4: the same item again */
    text_add(&in, "tail,1,1");       /* 5: no newline */
    struct result r = run_report(in.s);
    struct text want = {NULL, 0, 0};
    text_add(&want, "%s,7\ntail,1\n", name);
    EXPECT_OK(r);
    EXPECT_TEXT(r.out, want.s,
                "lines of 100 kB must be read whole (a fixed-size buffer "
                "cuts them into pieces that look like other lines)");
    EXPECT_TEXT(r.err, "line 3: missing field\n",
                "only line 3 is malformed; the 100 kB comment on line 2 "
                "is skipped whole");
    EXPECT_SUM(r, 3, 1, 6 + 1 + 1);
    result_free(&r);
    free(want.s);
    free(in.s);
    free(note.s);
    free(name);
}
END_TEST

START_TEST(test_nothing_valid_lost)
{
    enum { LINES = 20000, ITEMS = 97 };
    int64_t totals[ITEMS] = {0};
    int first_seen[ITEMS];
    int order[ITEMS], norder = 0;
    for (int i = 0; i < ITEMS; i++)
        first_seen[i] = 0;
    struct text in = {NULL, 0, 0}, errs = {NULL, 0, 0}, want = {NULL, 0, 0};
    size_t accepted = 0, rejected = 0;
    int64_t grand = 0;
    for (int line = 1; line <= LINES; line++) {
        int item = (line * 31) % ITEMS;
        int qty = line % 13, price = (line * 7) % 1000;
        switch (line % 11) {
        case 3:
            text_add(&in, "\n");
            continue;
        case 5:
            text_add(&in, "# line %d\n", line);
            continue;
        case 7:
            text_add(&in, "item%03d,%d\n", item, qty);
            text_add(&errs, "line %d: missing field\n", line);
            rejected++;
            continue;
        case 9:
            text_add(&in, "item%03d,%d,-%d\n", item, qty, price);
            text_add(&errs, "line %d: negative\n", line);
            rejected++;
            continue;
        default:
            break;
        }
        text_add(&in, "item%03d,%d,%d%s", item, qty, price,
                 line < LINES ? "\n" : "");
        if (!first_seen[item]) {
            first_seen[item] = 1;
            order[norder++] = item;
        }
        totals[item] += (int64_t)qty * price;
        grand += (int64_t)qty * price;
        accepted++;
    }
    for (int i = 0; i < norder; i++)
        text_add(&want, "item%03d,%" PRId64 "\n", order[i], totals[order[i]]);
    struct result r = run_report(in.s);
    EXPECT_OK(r);
    EXPECT_TEXT(r.out, want.s,
                "20000 lines (the last without newline), 97 items: every "
                "valid record must be in its item's total");
    EXPECT_TEXT(r.err, errs.s, "every malformed record, with its line");
    EXPECT_SUM(r, accepted, rejected, grand);
    result_free(&r);
    free(in.s);
    free(errs.s);
    free(want.s);
}
END_TEST

/* --- Bad arguments and failing streams ------------------------------------ */

START_TEST(test_null_arguments_einval)
{
    FILE *in = wb_tmpfile_with("a,1,1\n");
    FILE *out = tmpfile();
    WB_EXPECT(out != NULL, "tmpfile() failed");
    struct report_summary sum = {5, 5, 5};

    errno = 0;
    int ret = report_run(NULL, out, stderr, &sum);
    WB_EXPECT(ret == -1 && errno == EINVAL,
              "in = NULL: expected -1 with errno EINVAL, got %d with errno "
              "%s (%s)",
              ret, wb_errname(errno), strerror(errno));
    errno = 0;
    ret = report_run(in, NULL, stderr, &sum);
    WB_EXPECT(ret == -1 && errno == EINVAL,
              "out = NULL: expected -1 with errno EINVAL, got %d with errno "
              "%s (%s)",
              ret, wb_errname(errno), strerror(errno));
    WB_EXPECT(sum.accepted == 5 && sum.rejected == 5 && sum.total_cents == 5,
              "on EINVAL the summary must not be touched");
    long pos = ftell(in);
    WB_EXPECT(pos == 0,
              "on EINVAL nothing may be read: the input is at byte %ld", pos);
    errno = 0;
    ret = report_run(in, out, stderr, NULL);
    WB_EXPECT(ret == -1 && errno == EINVAL,
              "sum = NULL: expected -1 with errno EINVAL, got %d with errno "
              "%s (%s)",
              ret, wb_errname(errno), strerror(errno));
    rewind(out);
    char *written = wb_slurp(out);
    size_t len = strlen(written);
    free(written);
    fclose(in);
    fclose(out);
    WB_EXPECT(len == 0, "on EINVAL nothing may be written; out got %zu bytes",
              len);
}
END_TEST

START_TEST(test_null_err_still_counts)
{
    FILE *in = wb_tmpfile_with("a,1,1\nbad\nb,2,2\nc,-1,1\n");
    FILE *out = tmpfile();
    WB_EXPECT(out != NULL, "tmpfile() failed");
    struct report_summary sum = {9, 9, 9};
    errno = 0;
    int ret = report_run(in, out, NULL, &sum);
    int saved = errno;
    rewind(out);
    char *text = wb_slurp(out);
    fclose(in);
    fclose(out);
    WB_EXPECT(ret == 0,
              "err = NULL is allowed (the messages are dropped): expected "
              "0, got %d with errno %s (%s)",
              ret, wb_errname(saved), strerror(saved));
    EXPECT_TEXT(text, "a,1\nb,4\n", "the report with err = NULL");
    WB_EXPECT(sum.accepted == 2 && sum.rejected == 2 && sum.total_cents == 5,
              "with err = NULL the rejected records still count: expected "
              "2 accepted, 2 rejected, total 5; got %zu, %zu, %" PRId64,
              sum.accepted, sum.rejected, sum.total_cents);
    free(text);
}
END_TEST

START_TEST(test_read_error_reported)
{
    /* A directory opens as a stream, but reading it fails with EISDIR:
     * a read error that is easy to make. */
    FILE *in = fopen("/", "r");
    WB_EXPECT(in != NULL, "fopen(\"/\") failed: %s", strerror(errno));
    FILE *out = tmpfile();
    WB_EXPECT(out != NULL, "tmpfile() failed");
    struct report_summary sum;
    errno = 0;
    int ret = report_run(in, out, NULL, &sum);
    int saved = errno;
    rewind(out);
    char *text = wb_slurp(out);
    fclose(in);
    fclose(out);
    WB_EXPECT(ret == -1 && saved == EISDIR,
              "reading the input fails (it is a directory): expected -1 "
              "with errno EISDIR, got %d with errno %s (%s). getline() "
              "returns -1 both at end of file and on an error; ferror() "
              "tells them apart",
              ret, wb_errname(saved), strerror(saved));
    EXPECT_TEXT(text, "", "after a read error no report may be written");
    free(text);
}
END_TEST

/* A stream whose first read() hands over some lines and whose second
 * fails with EIO, like a disk that breaks in the middle of a file. */
struct failing_input {
    const char *text;
    int reads;
};

static ssize_t failing_read(void *cookie, char *buf, size_t size)
{
    struct failing_input *in = cookie;
    if (in->reads++ > 0) {
        errno = EIO;
        return -1;
    }
    size_t len = strlen(in->text);
    WB_EXPECT(len <= size, "the stream's buffer is too small for the test");
    memcpy(buf, in->text, len);
    return (ssize_t)len;
}

START_TEST(test_read_error_midway_writes_no_report)
{
    struct failing_input cookie = {"a,1,2\nbad\nb,3,4\n", 0};
    cookie_io_functions_t io = {failing_read, NULL, NULL, NULL};
    FILE *in = fopencookie(&cookie, "r", io);
    WB_EXPECT(in != NULL, "fopencookie() failed: %s", strerror(errno));
    FILE *out = tmpfile();
    FILE *err = tmpfile();
    WB_EXPECT(out != NULL && err != NULL, "tmpfile() failed");
    struct report_summary sum = {777, 777, 777};
    errno = 0;
    int ret = report_run(in, out, err, &sum);
    int saved = errno;
    rewind(out);
    rewind(err);
    char *text = wb_slurp(out);
    char *msgs = wb_slurp(err);
    fclose(in);
    fclose(out);
    fclose(err);
    WB_EXPECT(ret == -1 && saved == EIO,
              "the input gives 3 lines, then reading fails with EIO: "
              "expected -1 with errno EIO, got %d with errno %s (%s)",
              ret, wb_errname(saved), strerror(saved));
    EXPECT_TEXT(text, "",
                "after a read error in the middle of the input no report "
                "may be written: the totals of the lines before it would "
                "look like a complete report");
    EXPECT_TEXT(msgs, "line 2: missing field\n",
                "the malformed line read before the error is reported");
    WB_EXPECT(sum.accepted == 2 && sum.rejected == 1 && sum.total_cents == 14,
              "the summary counts the lines read before the error: "
              "expected 2 accepted, 1 rejected, total 14; got %zu, %zu, "
              "%" PRId64,
              sum.accepted, sum.rejected, sum.total_cents);
    free(text);
    free(msgs);
}
END_TEST

START_TEST(test_write_error_reported)
{
    /* /dev/full accepts the open, then every write fails with ENOSPC. */
    FILE *in = wb_tmpfile_with("a,1,1\nb,2,2\n");
    FILE *full = fopen("/dev/full", "w");
    WB_EXPECT(full != NULL, "fopen(\"/dev/full\") failed: %s", strerror(errno));
    struct report_summary sum;
    errno = 0;
    int ret = report_run(in, full, NULL, &sum);
    int saved = errno;
    WB_EXPECT(ret == -1 && saved == ENOSPC,
              "out cannot be written (it is /dev/full): expected -1 with "
              "errno ENOSPC, got %d with errno %s (%s). The text sits in "
              "the stream's buffer until fflush(): check the flush",
              ret, wb_errname(saved), strerror(saved));
    clearerr(full);

    FILE *in2 = wb_tmpfile_with("a,1,1\nbad\n");
    FILE *out = tmpfile();
    WB_EXPECT(out != NULL, "tmpfile() failed");
    errno = 0;
    ret = report_run(in2, out, full, &sum);
    saved = errno;
    fclose(in);
    fclose(in2);
    fclose(out);
    fclose(full); /* fails: its buffer cannot be written either */
    WB_EXPECT(ret == -1 && saved == ENOSPC,
              "err cannot be written (it is /dev/full) and there is a "
              "message for it: expected -1 with errno ENOSPC, got %d with "
              "errno %s (%s)",
              ret, wb_errname(saved), strerror(saved));
}
END_TEST

Suite *wb_suite(void)
{
    Suite *s = wb_begin("report", "chapters/01-sync/chapter.md");
    WB_ADD(s, test_totals_per_item_in_first_order,
           "Batch programs: input, process, output");
    WB_ADD(s, test_empty_and_comment_only_input,
           "Batch programs: input, process, output");
    WB_ADD(s, test_last_line_without_newline,
           "Batch programs: input, process, output");
    WB_ADD(s, test_malformed_records_exact_messages, "A batch report");
    WB_ADD(s, test_line_numbers_count_blank_and_comment_lines,
           "A batch report");
    WB_ADD(s, test_overflow_rejected, "A batch report");
    WB_ADD(s, test_lines_of_100_kb, "Batch programs: input, process, output");
    WB_ADD(s, test_nothing_valid_lost,
           "Batch programs: input, process, output");
    WB_ADD(s, test_null_arguments_einval, "Exit codes and errors");
    WB_ADD(s, test_null_err_still_counts, "Exit codes and errors");
    WB_ADD(s, test_read_error_reported, "Exit codes and errors");
    WB_ADD(s, test_read_error_midway_writes_no_report, "Exit codes and errors");
    WB_ADD(s, test_write_error_reported, "Exit codes and errors");
    return s;
}
