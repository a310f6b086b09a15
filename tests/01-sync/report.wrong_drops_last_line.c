/*
 * Known-wrong report: drops a last line that has no newline.
 *
 * The bug: a record is only taken when its line ends with '\n', but the
 * last line of a file often has none (many editors and every printf
 * without "\n" make such files); that record is silently lost. Caught
 * by test_last_line_without_newline (and test_nothing_valid_lost,
 * test_lines_of_100_kb).
 */
#include "report.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

/* One item of the report. The name is a copy with its length: items may
 * be long and are compared byte for byte. */
struct item {
    char *name;
    size_t len;
    int64_t total;
};

/* The items in the order they first appeared. A linear search is plenty
 * for a report; a hash table would be the next step for many items. */
struct table {
    struct item *items;
    size_t n, cap;
};

static void table_free(struct table *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->items[i].name);
    free(t->items);
}

/* Add @p amount to the item's total, adding the item if it is new.
 * Returns 0, or -1 with errno ENOMEM. */
static int table_add(struct table *t, const char *name, size_t len,
                     int64_t amount)
{
    for (size_t i = 0; i < t->n; i++) {
        struct item *it = &t->items[i];
        if (it->len == len && memcmp(it->name, name, len) == 0) {
            it->total += amount; /* cannot overflow: the grand total,
                                    which is larger, was checked */
            return 0;
        }
    }
    if (t->n == t->cap) {
        size_t cap = t->cap == 0 ? 16 : t->cap * 2;
        struct item *bigger = realloc(t->items, cap * sizeof *bigger);
        if (bigger == NULL)
            return -1;
        t->items = bigger;
        t->cap = cap;
    }
    char *copy = malloc(len > 0 ? len : 1);
    if (copy == NULL)
        return -1;
    memcpy(copy, name, len);
    t->items[t->n++] = (struct item){copy, len, amount};
    return 0;
}

/* Parse one amount field of @p len bytes. Returns NULL and stores the
 * value, or the reason the field is rejected. */
static const char *parse_amount(const char *s, size_t len, int64_t *out)
{
    bool negative = len > 0 && s[0] == '-';
    size_t i = negative ? 1 : 0;
    if (i == len)
        return "not a number"; /* empty, or a lone "-" */
    bool overflow = false;
    int64_t v = 0;
    for (; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return "not a number";
        int d = s[i] - '0';
        /* v * 10 + d must stay within INT64_MAX; check before computing,
         * since signed overflow is undefined behaviour in C. Keep
         * scanning: a later non-digit still makes it "not a number". */
        if (v > (INT64_MAX - d) / 10)
            overflow = true;
        else if (!overflow)
            v = v * 10 + d;
    }
    if (negative)
        return "negative";
    if (overflow)
        return "overflow";
    *out = v;
    return NULL;
}

static bool is_blank_or_comment(const char *line, size_t len)
{
    size_t i = 0;
    while (i < len && (line[i] == ' ' || line[i] == '\t'))
        i++;
    return i == len || line[i] == '#';
}

/* Check one record (without its newline). Returns NULL and fills in the
 * item and its amount, or returns the reason for rejecting it. */
static const char *check_record(const char *line, size_t len,
                                int64_t grand_total, const char **item,
                                size_t *item_len, int64_t *amount)
{
    const char *end = line + len;
    const char *c1 = memchr(line, ',', len);
    const char *c2 =
        c1 != NULL ? memchr(c1 + 1, ',', (size_t)(end - c1 - 1)) : NULL;
    if (c2 == NULL)
        return "missing field";
    if (memchr(c2 + 1, ',', (size_t)(end - c2 - 1)) != NULL)
        return "extra field";
    if (c1 == line)
        return "empty item name";

    int64_t quantity, price;
    const char *why = parse_amount(c1 + 1, (size_t)(c2 - c1 - 1), &quantity);
    if (why == NULL)
        why = parse_amount(c2 + 1, (size_t)(end - c2 - 1), &price);
    if (why != NULL)
        return why;
    if (quantity != 0 && price > INT64_MAX / quantity)
        return "overflow";
    if (quantity * price > INT64_MAX - grand_total)
        return "overflow";

    *item = line;
    *item_len = (size_t)(c1 - line);
    *amount = quantity * price;
    return NULL;
}

/* errno after a failed stream call, or EIO if the call left none. */
static int stream_errno(void)
{
    return errno != 0 ? errno : EIO;
}

/* Write the totals, in order, then flush. Returns 0 or -1 with errno. */
static int write_report(FILE *out, const struct table *t)
{
    errno = 0;
    for (size_t i = 0; i < t->n; i++) {
        const struct item *it = &t->items[i];
        if (fwrite(it->name, 1, it->len, out) != it->len ||
            fprintf(out, ",%" PRId64 "\n", it->total) < 0)
            return -1;
    }
    /* Written text may still sit in the stream's buffer: only the flush
     * tells whether it really went out. */
    if (fflush(out) == EOF || ferror(out))
        return -1;
    return 0;
}

int report_run(FILE *in, FILE *out, FILE *err, struct report_summary *sum)
{
    if (in == NULL || out == NULL || sum == NULL) {
        errno = EINVAL;
        return -1;
    }
    *sum = (struct report_summary){0, 0, 0};

    struct table table = {NULL, 0, 0};
    char *line = NULL;
    size_t cap = 0;
    size_t lineno = 0;
    int failure = 0; /* the errno that stopped the run, or 0 */

    for (;;) {
        errno = 0;
        ssize_t got = getline(&line, &cap, in); /* any length */
        if (got == -1) {
            /* End of file, or an error that looks like it: tell them
             * apart, or a failing disk reads as a short report. (Without
             * the end-of-file flag, getline() itself failed: ENOMEM.) */
            if (ferror(in) || !feof(in))
                failure = stream_errno();
            break;
        }
        lineno++;
        size_t len = (size_t)got;
        if (line[len - 1] != '\n')
            break; /* BUG: a last line without newline is dropped */
        len--;
        if (is_blank_or_comment(line, len))
            continue;

        const char *item = NULL;
        size_t item_len = 0;
        int64_t amount = 0;
        const char *why = check_record(line, len, sum->total_cents, &item,
                                       &item_len, &amount);
        if (why != NULL) {
            sum->rejected++;
            errno = 0;
            if (err != NULL &&
                fprintf(err, "line %zu: %s\n", lineno, why) < 0) {
                failure = stream_errno();
                break;
            }
            continue;
        }
        if (table_add(&table, item, item_len, amount) == -1) {
            failure = ENOMEM;
            break;
        }
        sum->accepted++;
        sum->total_cents += amount;
    }
    free(line);

    /* No report from part of the input: it would look complete. */
    if (failure == 0 && write_report(out, &table) == -1)
        failure = stream_errno();
    table_free(&table);
    errno = 0;
    if (err != NULL && (fflush(err) == EOF || ferror(err)) && failure == 0)
        failure = stream_errno();
    if (failure != 0) {
        errno = failure;
        return -1;
    }
    return 0;
}
