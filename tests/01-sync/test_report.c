/*
 * Tests of the batch report (exercises/01-sync/report.h).
 *
 * Every test feeds report_run() a whole input through a temporary file
 * and compares what it wrote, byte for byte, with what the contract
 * says: the totals on out, the messages (with their line numbers) on
 * err, and the summary.
 *
 * Linux-only (glibc): _GNU_SOURCE is for fopencookie(), which makes a
 * stream that fails in the middle of the input, or notes that it was
 * closed.
 */
#define _GNU_SOURCE
#include "wb.h"
#include "report.h"
#include "errnote.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

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

/* A new temporary file; fails the test if none can be made. */
static FILE *new_tmpfile(void)
{
    FILE *f = tmpfile();
    WB_EXPECT(f != NULL, "tmpfile() failed");
    return f;
}

/* What @p f holds from its start, as a string to free(). */
static char *text_of(FILE *f)
{
    rewind(f);
    return wb_slurp(f);
}

static struct result run_report(const char *input)
{
    struct result r;
    FILE *in = wb_tmpfile_with(input);
    FILE *out = new_tmpfile();
    FILE *err = new_tmpfile();
    /* Garbage, so a summary that is never set shows up. */
    r.sum = (struct report_summary){777, 777, 777};
    errno = 0;
    r.ret = report_run(in, out, err, &r.sum);
    r.err_no = errno;
    r.out = text_of(out);
    r.err = text_of(err);
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

/* Expects -1 with errno @p want from a call that returned @p ret (@p err,
 * its errno); @p what says what the call was given, for the message. */
static void expect_fails_with(int ret, int err, int want, const char *what)
{
    WB_EXPECT(ret == -1 && err == want,
              "%s: expected -1 with errno %s, got %d with errno %s (%s)", what,
              wb_errname(want), ret, wb_errname(err), strerror(err));
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
    WB_PROMISE("items");
    EXPECT_TEXT(r.out,
                "apple,225\npear,60\nfig,0\nPear,10\ngreen apple,7\n"
                "app,10\napples,1\napple ,1\n",
                "one line per item, in the order items first appear, "
                "totals = sum of quantity x price (items are compared "
                "whole, byte for byte: \"Pear\" and \"pear\" are two "
                "items, and so are \"app\", \"apple\", \"apples\" and "
                "\"apple \")");
    WB_PROMISE("output");
    EXPECT_TEXT(r.err, "", "no record is malformed, so err stays empty");
    WB_PROMISE("summary");
    EXPECT_SUM(r, 9, 0, 225 + 60 + 0 + 10 + 7 + 10 + 1 + 1);
    result_free(&r);
}
END_TEST

START_TEST(test_empty_and_comment_only_input)
{
    WB_PROMISE("blank");
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
    WB_PROMISE("lines");
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

    /* The last line ends where its bytes end, even when a longer line
     * before it had commas further on. */
    r = run_report("abcdef,1,2\na,1,2");
    EXPECT_OK(r);
    EXPECT_TEXT(r.out, "abcdef,2\na,2\n",
                "the last line \"a,1,2\" (no newline) after the longer "
                "\"abcdef,1,2\" has exactly three fields");
    result_free(&r);
    r = run_report("abcd,1,2\nb,1");
    EXPECT_OK(r);
    EXPECT_TEXT(r.err, "line 2: missing field\n",
                "the last line \"b,1\" (no newline) after the longer "
                "\"abcd,1,2\" has two fields, not more");
    result_free(&r);
}
END_TEST

/* --- Malformed records ---------------------------------------------------- */

START_TEST(test_malformed_records_exact_messages)
{
    WB_PROMISE("fields");
    struct result r = run_report("# header\n"   /* 1 */
                                 "apple,3,45\n" /* 2 */
                                 "apple,3\n"    /* 3 */
                                 "\n"           /* 4 */
                                 "pear,1,2,3\n" /* 5 */
                                 ",1,2\n"       /* 6 */
                                 "pear,1,2,\n"  /* 7 */
                                 "plum,2,10\n"  /* 8 */
                                 "pear\n"       /* 9 */
                                 "# comment\n"  /* 10 */
                                 ",,\n"         /* 11 */
                                 ",1,2,3\n"     /* 12 */
                                 ",x,1\n"       /* 13 */
                                 "pear,x\n"     /* 14 */
                                 "pear,x,1,\n"  /* 15 */
                                 "pear,2,3\n"); /* 16 */
    EXPECT_OK(r);
    EXPECT_TEXT(r.err,
                "line 3: missing field\n"
                "line 5: extra field\n"
                "line 6: empty item name\n"
                "line 7: extra field\n"
                "line 9: missing field\n"
                "line 11: empty item name\n"
                "line 12: extra field\n"
                "line 13: empty item name\n"
                "line 14: missing field\n"
                "line 15: extra field\n",
                "one message per malformed record, \"line N: reason\", N "
                "counting every line from 1 (blank lines and comments "
                "too); the count of fields is checked first, then the "
                "item, then the numbers");
    WB_PROMISE("output");
    EXPECT_TEXT(r.out, "apple,135\nplum,20\npear,6\n",
                "the valid records between the malformed ones must all "
                "count");
    WB_PROMISE("summary");
    EXPECT_SUM(r, 3, 10, 135 + 20 + 6);
    result_free(&r);

    WB_PROMISE("fields");
    r = run_report("pear,1,,\n");
    EXPECT_OK(r);
    EXPECT_TEXT(r.err, "line 1: extra field\n",
                "\"pear,1,,\" has a third comma right after the second: an "
                "extra field (empty fields count)");
    result_free(&r);
}
END_TEST

/* An input stream that hands over its text in reads of at most 256
 * bytes and, at each read, allocates blocks of a few sizes filled with a
 * pattern: heap memory that is not report_run()'s, next to what it
 * allocates meanwhile. A table written past its end (without
 * AddressSanitizer, nothing else notices) changes some of them. */
enum { CANARY_BLOCKS = 240, CANARY_BYTE = 0x5a };

struct canary_input {
    const char *text;
    size_t pos, len;
    unsigned char *blocks[CANARY_BLOCKS];
    size_t sizes[CANARY_BLOCKS];
    int nblocks;
};

static ssize_t canary_read(void *cookie, char *buf, size_t size)
{
    static const size_t sizes[] = {192, 256, 384, 512, 768};
    struct canary_input *c = cookie;
    for (int k = 0; k < 10 && c->nblocks < CANARY_BLOCKS; k++) {
        size_t n = sizes[c->nblocks % 5];
        unsigned char *b = malloc(n);
        WB_EXPECT(b != NULL, "out of memory");
        memset(b, CANARY_BYTE, n);
        c->sizes[c->nblocks] = n;
        c->blocks[c->nblocks++] = b;
    }
    size_t n = c->len - c->pos;
    if (n > 256)
        n = 256;
    if (n > size)
        n = size;
    memcpy(buf, c->text + c->pos, n);
    c->pos += n;
    return (ssize_t)n;
}

/* How many canary blocks were changed; frees them all. */
static int canaries_changed(struct canary_input *c)
{
    int changed = 0;
    for (int i = 0; i < c->nblocks; i++) {
        size_t k = 0;
        while (k < c->sizes[i] && c->blocks[i][k] == CANARY_BYTE)
            k++;
        changed += k < c->sizes[i];
        free(c->blocks[i]);
    }
    return changed;
}

/* More items than any first guess of a table's size: every one is kept,
 * in order, and no memory but report_run()'s own is written. */
START_TEST(test_a_thousand_items)
{
    WB_PROMISE("output");
    struct text in = {NULL, 0, 0}, want = {NULL, 0, 0};
    text_add(&in, "%s", "");
    text_add(&want, "%s", "");
    enum { ITEMS = 1000 };
    for (int round = 0; round < 2; round++)
        for (int i = 0; i < ITEMS; i++)
            text_add(&in, "item%04d,%d,%d\n", i, round + 1, i);
    for (int i = 0; i < ITEMS; i++)
        text_add(&want, "item%04d,%d\n", i, 3 * i);
    struct canary_input *canary = calloc(1, sizeof *canary);
    WB_EXPECT(canary != NULL, "out of memory");
    canary->text = in.s;
    canary->len = in.len;
    cookie_io_functions_t io = {canary_read, NULL, NULL, NULL};
    FILE *input = fopencookie(canary, "r", io);
    FILE *out = tmpfile();
    FILE *err = tmpfile();
    WB_EXPECT(input != NULL && out != NULL && err != NULL,
              "fopencookie() or tmpfile() failed");
    struct result r;
    r.sum = (struct report_summary){777, 777, 777};
    errno = 0;
    r.ret = report_run(input, out, err, &r.sum);
    r.err_no = errno;
    int changed = canaries_changed(canary);
    int blocks = canary->nblocks;
    free(canary);
    fclose(input);
    r.out = text_of(out);
    r.err = text_of(err);
    fclose(out);
    fclose(err);
    EXPECT_OK(r);
    WB_EXPECT(changed == 0,
              "while report_run() read 1000 items, %d of %d blocks of "
              "memory the test allocated meanwhile were changed: something "
              "wrote past the end of its own memory (a table that does "
              "not grow when full?)",
              changed, blocks);
    EXPECT_TEXT(r.out, want.s,
                "1000 items, each in two records: one line per item, in "
                "the order they first appear, with both records added");
    EXPECT_TEXT(r.err, "", "no record is malformed");
    WB_PROMISE("summary");
    EXPECT_SUM(r, 2 * ITEMS, 0, (int64_t)3 * (ITEMS - 1) * ITEMS / 2);
    result_free(&r);
    free(in.s);
    free(want.s);
}
END_TEST

START_TEST(test_number_checks)
{
    WB_PROMISE("numbers");
    struct result r = run_report("pear,x,2\n"                           /* 1 */
                                 "pear,1,\n"                            /* 2 */
                                 "pear,-1,2\n"                          /* 3 */
                                 "pear,1,-0\n"                          /* 4 */
                                 "pear,-,5\n"                           /* 5 */
                                 "pear,1.5,2\n"                         /* 6 */
                                 "pear,,\n"                             /* 7 */
                                 "pear,x,-1\n"                          /* 8 */
                                 "pear,-1,x\n"                          /* 9 */
                                 "pear,+1,2\n"                          /* 10 */
                                 "pear,-x,2\n"                          /* 11 */
                                 "pear,--1,2\n"                         /* 12 */
                                 "pear,007,0000000000000000000000001\n" /* 13 */
                                 "pear,00,5\n"                          /* 14 */
                                 "pear,-00,5\n"                         /* 15 */
                                 "pear,1,2\n"                           /* 16 */
                                 "pear,0x10,1\n"                        /* 17 */
                                 "pear,1e3,1\n");                       /* 18 */
    EXPECT_OK(r);
    EXPECT_TEXT(r.err,
                "line 1: not a number\n"
                "line 2: not a number\n"
                "line 3: negative\n"
                "line 4: negative\n"
                "line 5: not a number\n"
                "line 6: not a number\n"
                "line 7: not a number\n"
                "line 8: not a number\n"
                "line 9: negative\n"
                "line 10: not a number\n"
                "line 11: not a number\n"
                "line 12: not a number\n"
                "line 15: negative\n"
                "line 17: not a number\n"
                "line 18: not a number\n",
                "quantity, then unit price: digits only (leading zeros "
                "are fine), \"negative\" for '-' and digits (even -0), "
                "\"not a number\" for anything else");
    EXPECT_TEXT(r.out, "pear,9\n",
                "007 x 000...001, 00 x 5 and 1 x 2 are the valid records");
    WB_PROMISE("summary");
    EXPECT_SUM(r, 3, 15, 9);
    result_free(&r);
}
END_TEST

START_TEST(test_line_numbers_count_blank_and_comment_lines)
{
    WB_PROMISE("lines");
    struct result r = run_report("\n\n# c\n\nbad\n");
    EXPECT_OK(r);
    EXPECT_TEXT(r.err, "line 5: missing field\n",
                "the bad record is on line 5 (after 2 empty lines, a "
                "comment and another empty line)");
    EXPECT_SUM(r, 0, 1, 0);
    result_free(&r);

    r = run_report("bad\n");
    EXPECT_OK(r);
    EXPECT_TEXT(r.err, "line 1: missing field\n", "lines count from 1");
    result_free(&r);
}
END_TEST

START_TEST(test_number_too_big)
{
    WB_PROMISE("numbers");
    struct result r =
        run_report("big,9223372036854775808,1\n"     /* 1: INT64_MAX + 1 */
                   "big,1,99999999999999999999999\n" /* 2 */
                   "big,-99999999999999999999,1\n"   /* 3 */
                   "big,99999999999999999999x,1\n"   /* 4 */
                   "big,1,18446744073709551616x\n"   /* 5 */
                   "big,1,9223372036854775808\n"     /* 6 */
                   "max,9223372036854775807,1\n"     /* 7: exactly INT64_MAX */
                   "one,0000000000000000000000001,0\n"); /* 8 */
    EXPECT_OK(r);
    EXPECT_TEXT(r.err,
                "line 1: overflow\n"
                "line 2: overflow\n"
                "line 3: negative\n"
                "line 4: not a number\n"
                "line 5: not a number\n"
                "line 6: overflow\n",
                "a value above INT64_MAX (9223372036854775807) is "
                "\"overflow\", INT64_MAX itself is not, and a sign or a "
                "stray character anywhere in the field decides first");
    EXPECT_TEXT(r.out, "max,9223372036854775807\none,0\n",
                "INT64_MAX itself fits, and leading zeros add nothing");
    WB_PROMISE("summary");
    EXPECT_SUM(r, 2, 6, INT64_MAX);
    result_free(&r);
}
END_TEST

START_TEST(test_overflow_rejected)
{
    WB_PROMISE("overflow");
    /* Every field fits; only products and the grand total are too big.
     * 3037000499 squared is INT64_MAX - 5928526806. */
    struct result r = run_report("d,4294967296,4294967296\n" /* 1: 2^64 */
                                 "e,2,4611686018427387904\n" /* 2: 2^63 */
                                 "f,3037000500,3037000500\n" /* 3 */
                                 "g,3037000499,3037000499\n" /* 4 */
                                 "h,1,5928526807\n"          /* 5: +1 */
                                 "h,1,5928526806\n"          /* 6: = max */
                                 "i,0,1\n"                   /* 7 */
                                 "j,1,1\n"                   /* 8 */
                                 "g,1,0\n");                 /* 9 */
    EXPECT_OK(r);
    EXPECT_TEXT(r.err,
                "line 1: overflow\n"
                "line 2: overflow\n"
                "line 3: overflow\n"
                "line 5: overflow\n"
                "line 8: overflow\n",
                "a product above INT64_MAX, and a record that would push "
                "the grand total above it, are \"overflow\" (check before "
                "you multiply or add: signed overflow is undefined in C)");
    EXPECT_TEXT(r.out, "g,9223372030926249001\nh,5928526806\ni,0\n",
                "a grand total of exactly INT64_MAX fits, and zero "
                "amounts are records too");
    WB_PROMISE("summary");
    EXPECT_SUM(r, 4, 5, INT64_MAX);
    result_free(&r);

    WB_PROMISE("overflow");
    r = run_report("k,49,188232082384791343\nl,0,0\n");
    EXPECT_OK(r);
    EXPECT_TEXT(r.err, "",
                "49 x 188232082384791343 is exactly INT64_MAX: it fits");
    EXPECT_TEXT(r.out, "k,9223372036854775807\nl,0\n",
                "a product of exactly INT64_MAX");
    result_free(&r);
}
END_TEST

/* --- Long lines and many records ------------------------------------------ */

START_TEST(test_lines_of_100_kb)
{
    WB_PROMISE("lines");
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
    WB_PROMISE("lines");
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
            text_add(&in, "item%03d,%d,-%d\n", item, qty, price + 1);
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
    WB_PROMISE("einval");
    FILE *in = wb_tmpfile_with("a,1,1\n");
    FILE *out = new_tmpfile();
    struct report_summary sum = {5, 5, 5};

    errno = 0;
    int ret = report_run(NULL, out, stderr, &sum);
    expect_fails_with(ret, errno, EINVAL, "in = NULL");
    errno = 0;
    ret = report_run(in, NULL, stderr, &sum);
    expect_fails_with(ret, errno, EINVAL, "out = NULL");
    WB_EXPECT(sum.accepted == 5 && sum.rejected == 5 && sum.total_cents == 5,
              "on EINVAL the summary must not be touched");
    long pos = ftell(in);
    WB_EXPECT(pos == 0,
              "on EINVAL nothing may be read: the input is at byte %ld", pos);
    errno = 0;
    ret = report_run(in, out, stderr, NULL);
    expect_fails_with(ret, errno, EINVAL, "sum = NULL");
    char *written = text_of(out);
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
    WB_PROMISE("null-err");
    FILE *in = wb_tmpfile_with("a,1,1\nbad\nb,2,2\nc,-1,1\n");
    FILE *out = new_tmpfile();
    struct report_summary sum = {9, 9, 9};
    errno = 0;
    int ret = report_run(in, out, NULL, &sum);
    int saved = errno;
    char *text = text_of(out);
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
    WB_PROMISE("read-error");
    /* A directory opens as a stream, but reading it fails with EISDIR:
     * a read error that is easy to make. */
    FILE *in = fopen("/", "r");
    WB_EXPECT(in != NULL, "fopen(\"/\") failed: %s", strerror(errno));
    FILE *out = new_tmpfile();
    struct report_summary sum;
    errno = 0;
    int ret = report_run(in, out, NULL, &sum);
    int saved = errno;
    char *text = text_of(out);
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

/* A stream whose first read() hands over @p text and whose later ones
 * fail with @p errno_after (0: with no errno at all, leaving errno as it
 * was), like a disk that breaks in the middle of a file. */
struct breaking_input {
    const char *text;
    int errno_after;
    int reads;
};

static ssize_t breaking_read(void *cookie, char *buf, size_t size)
{
    struct breaking_input *in = cookie;
    if (in->reads++ > 0) {
        if (in->errno_after != 0)
            errno = in->errno_after;
        return -1;
    }
    size_t len = strlen(in->text);
    WB_EXPECT(len <= size, "the stream's buffer is too small for the test");
    memcpy(buf, in->text, len);
    return (ssize_t)len;
}

static FILE *breaking_stream(struct breaking_input *in)
{
    cookie_io_functions_t io = {breaking_read, NULL, NULL, NULL};
    FILE *f = fopencookie(in, "r", io);
    WB_EXPECT(f != NULL, "fopencookie() failed: %s", strerror(errno));
    return f;
}

START_TEST(test_read_error_midway_writes_no_report)
{
    WB_PROMISE("read-error");
    struct breaking_input cookie = {"a,1,2\nbad\nb,3,4\n", EIO, 0};
    FILE *in = breaking_stream(&cookie);
    FILE *out = new_tmpfile();
    FILE *err = new_tmpfile();
    struct report_summary sum = {777, 777, 777};
    errno = 0;
    int ret = report_run(in, out, err, &sum);
    int saved = errno;
    char *text = text_of(out);
    char *msgs = text_of(err);
    fclose(in);
    fclose(out);
    fclose(err);
    expect_fails_with(ret, saved, EIO,
                      "the input gives 3 lines, then reading fails with EIO");
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
    WB_PROMISE("flush");
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

    WB_PROMISE("err-fail");
    FILE *in2 = wb_tmpfile_with("a,1,1\nbad\n");
    FILE *out = new_tmpfile();
    errno = 0;
    ret = report_run(in2, out, full, &sum);
    saved = errno;
    fclose(in);
    fclose(in2);
    fclose(out);
    fclose(full); /* fails: its buffer cannot be written either */
    expect_fails_with(ret, saved, ENOSPC,
                      "err cannot be written (it is /dev/full, buffered) and "
                      "there is a message for it");
}
END_TEST

/* --- Bytes that are not what they seem ------------------------------------ */

START_TEST(test_fields_are_not_trimmed)
{
    WB_PROMISE("record");
    struct result r = run_report("apple ,1,1\n" /* 1: item "apple " */
                                 " apple,1,2\n" /* 2: item " apple" */
                                 "\tfig,1,3\n"  /* 3: item "\tfig" */
                                 "pear, 1,2\n"  /* 4 */
                                 "pear,1 ,2\n"  /* 5 */
                                 "pear,1,2 \n"  /* 6 */
                                 "pear,1,\t2\n" /* 7 */
                                 "fig,1,4\n");  /* 8 */
    EXPECT_OK(r);
    EXPECT_TEXT(r.err,
                "line 4: not a number\n"
                "line 5: not a number\n"
                "line 6: not a number\n"
                "line 7: not a number\n",
                "nothing is trimmed: a space or a tab in a number field "
                "makes it \"not a number\"");
    EXPECT_TEXT(r.out, "apple ,1\n apple,2\n\tfig,3\nfig,4\n",
                "nothing is trimmed: \"apple \", \" apple\", \"\\tfig\" "
                "and \"fig\" are four items");
    EXPECT_SUM(r, 4, 4, 10);
    result_free(&r);
}
END_TEST

START_TEST(test_carriage_return_is_a_byte)
{
    WB_PROMISE("cr");
    struct result r = run_report("apple,3,45\r\n" /* 1 */
                                 "\r\n"           /* 2 */
                                 "pear,1,2\n"     /* 3 */
                                 "pear,1\r,2\n"   /* 4 */
                                 "  \r\n"         /* 5 */
                                 "#\r\n"          /* 6: a comment */
                                 "\r,1,2\r\n"     /* 7 */
                                 "plum,1,5\r");   /* 8: no newline */
    EXPECT_OK(r);
    EXPECT_TEXT(r.err,
                "line 1: not a number\n"
                "line 2: missing field\n"
                "line 4: not a number\n"
                "line 5: missing field\n"
                "line 7: not a number\n"
                "line 8: not a number\n",
                "Windows line endings: only \\n ends a line, and a \\r "
                "before it is an ordinary byte (\"45\\r\" is not a number, "
                "and a line of \\r alone is a record with a missing field, "
                "not a blank line)");
    EXPECT_TEXT(r.out, "pear,2\n", "only line 3 is a valid record");
    EXPECT_SUM(r, 1, 6, 2);
    result_free(&r);
}
END_TEST

START_TEST(test_other_white_space_is_not_blank)
{
    WB_PROMISE("blank");
    struct result r = run_report("\v\n"                /* 1 */
                                 "\f\n"                /* 2 */
                                 " \t \v\n"            /* 3 */
                                 "\t\t\n"              /* 4: blank */
                                 "\t# note\n"          /* 5: comment */
                                 " \t \t# x,1,2\n"     /* 6: comment */
                                 "a,1,1\n"             /* 7 */
                                 "\v# not a comment\n" /* 8 */
                                 "   \n");             /* 9: blank */
    EXPECT_OK(r);
    EXPECT_TEXT(r.err,
                "line 1: missing field\n"
                "line 2: missing field\n"
                "line 3: missing field\n"
                "line 8: missing field\n",
                "only spaces and tabs make a line blank (or lead to a "
                "comment's #); a line with \\v or \\f in it is a record "
                "(isspace() says yes to both: do not use it here)");
    EXPECT_TEXT(r.out, "a,1\n", "only line 7 is a valid record");
    EXPECT_SUM(r, 1, 4, 1);
    result_free(&r);
}
END_TEST

/* A temporary file holding exactly @p len bytes, NUL bytes included. */
static FILE *tmpfile_with_bytes(const char *bytes, size_t len)
{
    FILE *f = tmpfile();
    WB_EXPECT(f != NULL, "tmpfile() failed: %s", strerror(errno));
    WB_EXPECT(fwrite(bytes, 1, len, f) == len && fflush(f) == 0,
              "writing the temporary file failed");
    rewind(f);
    return f;
}

/* Everything from @p f's start, NUL bytes included; its length in *len. */
static char *slurp_bytes(FILE *f, size_t *len)
{
    rewind(f);
    size_t cap = 256, have = 0;
    char *buf = malloc(cap);
    WB_EXPECT(buf != NULL, "out of memory");
    size_t got;
    while ((got = fread(buf + have, 1, cap - have, f)) > 0) {
        have += got;
        if (have == cap) {
            char *bigger = realloc(buf, cap *= 2);
            WB_EXPECT(bigger != NULL, "out of memory");
            buf = bigger;
        }
    }
    *len = have;
    return buf;
}

/* @p s shown with \0 and \n spelled out, in a buffer of the test. */
static const char *shown(const char *s, size_t len)
{
    static char text[256];
    size_t used = 0;
    for (size_t i = 0; i < len && used + 3 < sizeof text; i++) {
        if (s[i] == '\0' || s[i] == '\n') {
            text[used++] = '\\';
            text[used++] = s[i] == '\0' ? '0' : 'n';
        } else {
            text[used++] = s[i];
        }
    }
    text[used] = '\0';
    return text;
}

START_TEST(test_nul_bytes_in_items)
{
    WB_PROMISE("items");
    /* No item begins with another one's first byte, so this checks
     * NUL bytes, not the comparison of names that share a prefix. */
    static const char input[] = "a\0b,1,2\n"  /* 1: item "a\0b" */
                                "c,1,1\n"     /* 2 */
                                "\0d,2,2\n"   /* 3: item "\0d" */
                                "e\0,1,1\n"   /* 4: item "e\0" */
                                "c,1\0,2\n"   /* 5 */
                                "a\0b,1,1\n"; /* 6 */
    static const char want[] = "a\0b,3\nc,1\n\0d,4\ne\0,1\n";
    FILE *in = tmpfile_with_bytes(input, sizeof input - 1);
    FILE *out = new_tmpfile();
    FILE *err = new_tmpfile();
    struct report_summary sum = {777, 777, 777};
    errno = 0;
    int ret = report_run(in, out, err, &sum);
    int saved = errno;
    size_t out_len, err_len;
    char *text = slurp_bytes(out, &out_len);
    char *msgs = slurp_bytes(err, &err_len);
    fclose(in);
    fclose(out);
    fclose(err);
    WB_EXPECT(ret == 0, "expected 0, got %d with errno %s", ret,
              wb_errname(saved));
    int same = out_len == sizeof want - 1 && memcmp(text, want, out_len) == 0;
    char got_shown[256];
    snprintf(got_shown, sizeof got_shown, "%s", shown(text, out_len));
    WB_EXPECT(same,
              "a NUL byte is an ordinary byte of an item, read, compared "
              "and written like any other (getline() returns the line's "
              "length: use it, not strlen() or strchr()): expected the "
              "report \"%s\", got \"%s\"",
              shown(want, sizeof want - 1), got_shown);
    WB_EXPECT(err_len == strlen("line 5: not a number\n") &&
                  memcmp(msgs, "line 5: not a number\n", err_len) == 0,
              "\"1\\0\" is not a number: expected the message \"line 5: "
              "not a number\\n\", got \"%s\"",
              shown(msgs, err_len));
    WB_EXPECT(sum.accepted == 5 && sum.rejected == 1 && sum.total_cents == 9,
              "expected 5 accepted, 1 rejected, total 9; got %zu, %zu, "
              "%" PRId64,
              sum.accepted, sum.rejected, sum.total_cents);
    free(text);
    free(msgs);
}
END_TEST

START_TEST(test_rejected_items_do_not_appear)
{
    WB_PROMISE("output");
    struct result r = run_report("x,1,-1\n"  /* 1 */
                                 "y,1,1\n"   /* 2 */
                                 "x,a,1\n"   /* 3 */
                                 "z,1\n"     /* 4 */
                                 "w,1,2,3\n" /* 5 */
                                 "y,2,2\n"); /* 6 */
    EXPECT_OK(r);
    EXPECT_TEXT(r.out, "y,5\n",
                "items x, z and w have no accepted record, so they are "
                "not in the report");
    EXPECT_TEXT(r.err,
                "line 1: negative\nline 3: not a number\nline 4: missing "
                "field\nline 5: extra field\n",
                "the four rejected records");
    EXPECT_SUM(r, 2, 4, 5);
    result_free(&r);
}
END_TEST

/* --- Failing and checked streams ------------------------------------------ */

START_TEST(test_unwritable_message_stops_the_run)
{
    WB_PROMISE("err-fail");
    /* err unbuffered on /dev/full: the message for line 2 fails at once. */
    FILE *in = wb_tmpfile_with("ok,1,1\nbad\napple,2,1\nworse\n");
    FILE *out = new_tmpfile();
    FILE *full = fopen("/dev/full", "w");
    WB_EXPECT(full != NULL, "fopen(\"/dev/full\") failed: %s", strerror(errno));
    WB_EXPECT(setvbuf(full, NULL, _IONBF, 0) == 0, "setvbuf() failed");
    struct report_summary sum = {777, 777, 777};
    errno = 0;
    int ret = report_run(in, out, full, &sum);
    int saved = errno;
    char *text = text_of(out);
    fclose(in);
    fclose(out);
    fclose(full);
    WB_EXPECT(ret == -1 && saved == ENOSPC,
              "err is unbuffered and cannot be written (/dev/full): the "
              "message for line 2 fails at once, so expected -1 with the "
              "errno that write left, ENOSPC; got %d%s",
              ret, errnote_with(ret, saved));
    EXPECT_TEXT(text, "",
                "the message for line 2 could not be written: reading "
                "stops there and nothing is written to out");
    WB_EXPECT(sum.accepted == 1 && sum.rejected == 1 && sum.total_cents == 1,
              "reading stops at the record whose message failed (line 2, "
              "counted as rejected): expected 1 accepted, 1 rejected, "
              "total 1; got %zu, %zu, %" PRId64,
              sum.accepted, sum.rejected, sum.total_cents);
    free(text);
}
END_TEST

/* Read what a pipe holds now, without waiting; a new string. */
static char *pipe_now(int rfd)
{
    int flags = fcntl(rfd, F_GETFL);
    WB_EXPECT(flags != -1 && fcntl(rfd, F_SETFL, flags | O_NONBLOCK) != -1,
              "fcntl() failed: %s", strerror(errno));
    struct text t = {NULL, 0, 0};
    text_add(&t, "%s", "");
    char buf[512];
    ssize_t got;
    while ((got = read(rfd, buf, sizeof buf - 1)) > 0) {
        buf[got] = '\0';
        text_add(&t, "%s", buf);
    }
    return t.s;
}

START_TEST(test_flushed_before_returning)
{
    WB_PROMISE("flush");
    /* Streams on pipes are fully buffered: what report_run() leaves in
     * their buffers does not reach the pipes until someone flushes. */
    int ofd[2], efd[2];
    wb_pipe(ofd);
    wb_pipe(efd);
    FILE *out = fdopen(ofd[1], "w");
    FILE *err = fdopen(efd[1], "w");
    WB_EXPECT(out != NULL && err != NULL, "fdopen() failed: %s",
              strerror(errno));
    FILE *in = wb_tmpfile_with("a,1,2\nbad\nb,3,4\n");
    struct report_summary sum;
    errno = 0;
    int ret = report_run(in, out, err, &sum);
    int saved = errno;
    char *text = pipe_now(ofd[0]);
    char *msgs = pipe_now(efd[0]);
    fclose(in);
    fclose(out);
    fclose(err);
    close(ofd[0]);
    close(efd[0]);
    WB_EXPECT(ret == 0, "expected 0, got %d with errno %s", ret,
              wb_errname(saved));
    EXPECT_TEXT(text, "a,2\nb,12\n",
                "when report_run() returns, the report must be in the "
                "pipe out writes to: flush out before returning (only the "
                "flush tells whether the text could be written)");
    EXPECT_TEXT(msgs, "line 2: missing field\n",
                "when report_run() returns, the messages must be in the "
                "pipe err writes to: flush err before returning");
    free(text);
    free(msgs);
}
END_TEST

/* A stream that notes whether it was closed: in, out or err. */
struct tracked {
    const char *text; /* what a reading stream gives */
    size_t pos;
    int closed;
};

static ssize_t tracked_read(void *cookie, char *buf, size_t size)
{
    struct tracked *t = cookie;
    size_t left = strlen(t->text) - t->pos;
    size_t n = left < size ? left : size;
    memcpy(buf, t->text + t->pos, n);
    t->pos += n;
    return (ssize_t)n;
}

static ssize_t tracked_write(void *cookie, const char *buf, size_t size)
{
    (void)cookie;
    (void)buf;
    return (ssize_t)size;
}

static int tracked_close(void *cookie)
{
    struct tracked *t = cookie;
    t->closed = 1;
    return 0;
}

START_TEST(test_streams_stay_open)
{
    WB_PROMISE("streams");
    struct tracked tin = {"a,1,1\nbad\n", 0, 0}, tout = {"", 0, 0},
                   terr = {"", 0, 0};
    cookie_io_functions_t rio = {tracked_read, NULL, NULL, tracked_close};
    cookie_io_functions_t wio = {NULL, tracked_write, NULL, tracked_close};
    FILE *in = fopencookie(&tin, "r", rio);
    FILE *out = fopencookie(&tout, "w", wio);
    FILE *err = fopencookie(&terr, "w", wio);
    WB_EXPECT(in != NULL && out != NULL && err != NULL,
              "fopencookie() failed: %s", strerror(errno));
    struct report_summary sum;
    errno = 0;
    int ret = report_run(in, out, err, &sum);
    int saved = errno;
    int closed_in = tin.closed, closed_out = tout.closed,
        closed_err = terr.closed;
    /* A stream report_run() closed is gone: closing it again would be a
     * double free. */
    if (!closed_in)
        fclose(in);
    if (!closed_out)
        fclose(out);
    if (!closed_err)
        fclose(err);
    WB_EXPECT(ret == 0, "expected 0, got %d with errno %s", ret,
              wb_errname(saved));
    WB_EXPECT(!closed_in && !closed_out && !closed_err,
              "the streams belong to the caller, who may go on using "
              "them: report_run() closed %s%s%s",
              closed_in ? "in " : "", closed_out ? "out " : "",
              closed_err ? "err" : "");
}
END_TEST

START_TEST(test_read_error_without_errno_is_eio)
{
    WB_PROMISE("read-error");
    struct breaking_input cookie = {"a,1,2\n", 0, 0};
    FILE *in = breaking_stream(&cookie);
    FILE *out = new_tmpfile();
    struct report_summary sum;
    errno = ENOTTY; /* a leftover, as a library call may leave one */
    int ret = report_run(in, out, NULL, &sum);
    int saved = errno;
    char *text = text_of(out);
    fclose(in);
    fclose(out);
    WB_EXPECT(ret == -1 && saved == EIO,
              "reading fails without setting errno: expected -1 with "
              "errno EIO, got %d%s (set errno to 0 before reading, and "
              "use EIO when the failure left it at 0)",
              ret, errnote_with(ret, saved));
    EXPECT_TEXT(text, "", "after a read error no report may be written");
    free(text);
}
END_TEST

/* An output stream whose every write fails and sets no errno, as a
 * stream of a library might. */
static ssize_t failing_write(void *cookie, const char *buf, size_t size)
{
    (void)cookie;
    (void)buf;
    (void)size;
    return -1;
}

static FILE *failing_stream(int buffered)
{
    cookie_io_functions_t io = {NULL, failing_write, NULL, NULL};
    FILE *f = fopencookie(NULL, "w", io);
    WB_EXPECT(f != NULL, "fopencookie() failed: %s", strerror(errno));
    if (!buffered)
        WB_EXPECT(setvbuf(f, NULL, _IONBF, 0) == 0, "setvbuf() failed");
    return f;
}

/* Run report_run() on @p input with these streams (errno set to ENOTTY
 * before, a leftover); returns what it returned, errno in *err_no. */
static int run_with(const char *input, FILE *out, FILE *err, int *err_no,
                    struct report_summary *sum)
{
    FILE *in = wb_tmpfile_with(input);
    errno = ENOTTY;
    int ret = report_run(in, out, err, sum);
    *err_no = errno;
    fclose(in);
    return ret;
}

START_TEST(test_write_error_without_errno_is_eio)
{
    WB_PROMISE("flush");
    struct report_summary sum;
    int err_no;
    FILE *out = failing_stream(1);
    int ret = run_with("a,1,1\n", out, NULL, &err_no, &sum);
    fclose(out); /* fails too: its buffer cannot go out */
    WB_EXPECT(ret == -1 && err_no == EIO,
              "out fails when it is flushed, without setting errno: "
              "expected -1 with errno EIO, got %d%s (set errno to 0 "
              "before writing, and use EIO when the failure left it at 0)",
              ret, errnote_with(ret, err_no));

    WB_PROMISE("err-fail");
    FILE *ok = new_tmpfile();
    FILE *err = failing_stream(0);
    ret = run_with("a,1,1\nbad\n", ok, err, &err_no, &sum);
    fclose(err);
    WB_EXPECT(ret == -1 && err_no == EIO,
              "err is unbuffered and its write fails without setting "
              "errno: expected -1 with errno EIO, got %d%s",
              ret, errnote_with(ret, err_no));
    err = failing_stream(1);
    ret = run_with("a,1,1\nbad\n", ok, err, &err_no, &sum);
    fclose(err);
    fclose(ok);
    WB_EXPECT(ret == -1 && err_no == EIO,
              "err is buffered and fails when it is flushed at the end, "
              "without setting errno: expected -1 with errno EIO, got "
              "%d%s",
              ret, errnote_with(ret, err_no));
}
END_TEST

/* A stream whose error indicator is already set (a read from a stream
 * open only for writing sets it). */
static FILE *stream_in_error(void)
{
    FILE *f = fopen("/dev/null", "w");
    WB_EXPECT(f != NULL, "fopen(\"/dev/null\") failed: %s", strerror(errno));
    WB_EXPECT(fgetc(f) == EOF && ferror(f),
              "test setup: reading a stream open for writing should set "
              "its error indicator");
    return f;
}

START_TEST(test_stream_in_error_fails_the_run)
{
    WB_PROMISE("flush");
    struct report_summary sum;
    int err_no;
    FILE *out = stream_in_error();
    int ret = run_with("a,1,1\n", out, NULL, &err_no, &sum);
    fclose(out);
    WB_EXPECT(ret == -1 && err_no == EIO,
              "out's error indicator is set (ferror()), so what it got "
              "cannot be trusted to be whole: expected -1 with errno EIO, "
              "got %d%s (fflush() can succeed on such a stream: check "
              "ferror() too)",
              ret, errnote_with(ret, err_no));
    FILE *ok = new_tmpfile();
    FILE *err = stream_in_error();
    ret = run_with("a,1,1\nbad\n", ok, err, &err_no, &sum);
    fclose(err);
    fclose(ok);
    WB_EXPECT(ret == -1 && err_no == EIO,
              "err's error indicator is set (ferror()): expected -1 with "
              "errno EIO, got %d%s (fflush() can succeed on such a "
              "stream: check ferror() too)",
              ret, errnote_with(ret, err_no));
}
END_TEST

START_TEST(test_error_paths_free_memory)
{
    WB_PROMISE("memory");
    /* Each run fails after report_run() has allocated a line and items;
     * the leak checker that runs after every test sees what it did not
     * free. */
    struct text long_line = {NULL, 0, 0};
    text_add(&long_line, "a,1,2\nbb,1,1\nccc,2,2\n");
    for (int i = 0; i < 300; i++)
        text_add(&long_line, "item");
    text_add(&long_line, ",1,1\n");
    struct breaking_input cookie = {long_line.s, EIO, 0};
    FILE *in = breaking_stream(&cookie);
    FILE *out = new_tmpfile();
    struct report_summary sum;
    errno = 0;
    int ret = report_run(in, out, NULL, &sum);
    int saved = errno;
    fclose(in);
    WB_EXPECT(ret == -1 && saved == EIO && sum.accepted == 4,
              "a read error after 4 records: expected -1 with errno EIO "
              "and 4 records accepted, got %d with errno %s and %zu",
              ret, wb_errname(saved), sum.accepted);

    FILE *full = fopen("/dev/full", "w");
    WB_EXPECT(full != NULL, "fopen(\"/dev/full\") failed: %s", strerror(errno));
    WB_EXPECT(setvbuf(full, NULL, _IONBF, 0) == 0, "setvbuf() failed");
    in = wb_tmpfile_with("a,1,1\nb,1,1\nbad\nc,1,1\n");
    errno = 0;
    ret = report_run(in, out, full, &sum);
    saved = errno;
    fclose(in);
    WB_EXPECT(ret == -1 && saved == ENOSPC,
              "a message that cannot be written: expected -1 with errno "
              "ENOSPC, got %d with errno %s",
              ret, wb_errname(saved));
    clearerr(full);

    in = wb_tmpfile_with("a,1,1\nb,1,1\nc,1,1\n");
    errno = 0;
    ret = report_run(in, full, NULL, &sum);
    saved = errno;
    fclose(in);
    fclose(out);
    fclose(full);
    WB_EXPECT(ret == -1 && saved == ENOSPC,
              "a report that cannot be written: expected -1 with errno "
              "ENOSPC, got %d with errno %s",
              ret, wb_errname(saved));
    free(long_line.s);
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
    WB_ADD(s, test_number_checks, "A batch report");
    WB_ADD(s, test_fields_are_not_trimmed, "A batch report");
    WB_ADD(s, test_carriage_return_is_a_byte, "A batch report");
    WB_ADD(s, test_other_white_space_is_not_blank, "A batch report");
    WB_ADD(s, test_nul_bytes_in_items, "A batch report");
    WB_ADD(s, test_rejected_items_do_not_appear,
           "Batch programs: input, process, output");
    WB_ADD(s, test_line_numbers_count_blank_and_comment_lines,
           "A batch report");
    WB_ADD(s, test_number_too_big, "A batch report");
    WB_ADD(s, test_overflow_rejected, "A batch report");
    WB_ADD(s, test_lines_of_100_kb, "Batch programs: input, process, output");
    WB_ADD(s, test_nothing_valid_lost,
           "Batch programs: input, process, output");
    WB_ADD(s, test_null_arguments_einval, "Exit codes and errors");
    WB_ADD(s, test_null_err_still_counts, "Exit codes and errors");
    WB_ADD(s, test_read_error_reported, "Exit codes and errors");
    WB_ADD(s, test_read_error_midway_writes_no_report, "Exit codes and errors");
    WB_ADD(s, test_read_error_without_errno_is_eio, "Exit codes and errors");
    WB_ADD(s, test_write_error_reported, "Exit codes and errors");
    WB_ADD(s, test_unwritable_message_stops_the_run, "Exit codes and errors");
    WB_ADD(s, test_flushed_before_returning, "Exit codes and errors");
    WB_ADD(s, test_streams_stay_open, "A batch report");
    WB_ADD(s, test_error_paths_free_memory, "A batch report");
    WB_ADD(s, test_a_thousand_items, "Batch programs: input, process, output");
    WB_ADD(s, test_write_error_without_errno_is_eio, "Exit codes and errors");
    WB_ADD(s, test_stream_in_error_fails_the_run, "Exit codes and errors");
    return s;
}
