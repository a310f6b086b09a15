/**
 * @file report.h
 * @brief A batch report: read sales records, total them per item, and
 *        reject malformed records by line number.
 *
 * Exercise 3 of chapter 1 ("Synchronous programs: one step at a time").
 *
 * A batch program in its plainest form: read all the input, process it,
 * write the output, one step after the other. The input is text, one
 * record per line:
 *
 *     # item,quantity,unit_price_cents
 *     apple,3,45
 *     pear,1,60
 *     apple,2,45
 *
 * and the report gives, for every item, the total of quantity times unit
 * price, in the order the items first appear:
 *
 *     apple,225
 *     pear,60
 *
 * A record that cannot be read correctly is never guessed at and never
 * silently dropped: it is rejected with a message that names its line,
 * such as `line 7: not a number`, and counted. Every valid record counts,
 * wherever it is, however long its line is, and even when it is the last
 * line of the input and has no newline.
 *
 * **The input, exactly.** (These promises, and those of report_run(),
 * are each checked by the tests that name its tag.)
 * - [lines] Lines end with `\n`; the last line may lack it and still
 *   counts. Lines may be of any length (a 100 kB item name is fine).
 *   Lines are numbered from 1, counting every line, including blank
 *   lines and comments.
 * - [cr] Only `\n` ends a line. A `\r` before it (Windows line endings,
 *   `\r\n`) is not removed: it is an ordinary byte of the line. So
 *   `apple,3,45\r` is a malformed record (its unit price `45\r` is
 *   `not a number`, unless an earlier check fails first), and a line
 *   holding only `\r` is not blank but a record with a `missing field`.
 * - [blank] A line that is empty or holds only spaces and tabs is blank;
 *   a line whose first character other than a space or tab is `#` is a
 *   comment. Both are skipped: they are neither accepted nor rejected.
 *   No other byte counts as blank: a line of `\v` or `\f` is a record
 *   (with a `missing field`).
 * - [record] Every other line is a record: fields separated by commas,
 *   exactly three: `item,quantity,unit_price_cents`. Nothing is trimmed:
 *   spaces are part of a field (`apple ` is an item of its own, ` 1` is
 *   `not a number`).
 * - [items] The item is any non-empty run of bytes without a comma or a
 *   newline (a NUL byte is an ordinary byte too). Items are compared
 *   byte for byte (`Apple` and `apple` are two items, and so are `app`
 *   and `apple`), and written to the report as they are.
 *
 * **The checks.** A record is checked in the order below; the first
 * check that fails names the reason. The message is exactly
 * `line N: REASON` and a newline.
 * - [fields] First the fields: `missing field` when there are fewer than
 *   three (fewer than two commas), then `extra field` when there are
 *   more (a trailing comma makes an empty fourth field, so `a,1,2,` is an
 *   extra field), then `empty item name` when the item field is empty.
 * - [numbers] Then quantity, then unit_price_cents, each in turn. Both
 *   are whole numbers written in decimal digits only (`0`, `12`, `007`):
 *   no sign, no spaces, no decimal point. A field is `not a number` when
 *   it is empty or is not digits (a `-` followed by something other than
 *   digits also counts here, and so does a field that is just `-`, as in
 *   `pear,-,5`, and a field of 30 digits and an `x`); `negative` when it
 *   is `-` followed by one or more digits and nothing else (even `-0`);
 *   `overflow` when its value is greater than `INT64_MAX`
 *   (`9223372036854775807` itself fits, and leading zeros add nothing:
 *   `0000000000000000000000001` is 1).
 * - [overflow] Last, `overflow` when quantity times unit price, or the
 *   grand total with this record added, would be greater than
 *   `INT64_MAX`; exactly `INT64_MAX` fits.
 *
 * **The output.**
 * - [output] One line per item, `ITEM,TOTAL_CENTS` and a newline, in the
 *   order the items first appear in accepted records. An item whose
 *   records were all rejected does not appear. Nothing else is written
 *   to the output: no header, no grand total (that is in the summary).
 *
 * These functions use no global state; any thread may call report_run(),
 * as long as no other thread uses the same streams meanwhile.
 */
#ifndef REPORT_H
#define REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/**
 * @brief The counts of one run, filled in by report_run().
 *
 * The caller owns it (usually a local variable). A program can turn it
 * into an exit status: rejected records are not an error of report_run()
 * itself, but a report with rejected records may well deserve a non-zero
 * exit.
 */
struct report_summary {
    /** Records accepted and added to the totals. */
    size_t accepted;
    /** Records rejected, one message each (whether or not the messages
     *  could be shown: see report_run()'s @p err). Blank lines and
     *  comments are not records and are in neither count. */
    size_t rejected;
    /** The sum of quantity times unit price over every accepted record,
     *  in cents; never more than `INT64_MAX` (a record that would push it
     *  over is rejected with `overflow`). */
    int64_t total_cents;
};

/**
 * @brief Read every record from @p in, write the per-item totals to
 *        @p out and one message per malformed record to @p err.
 *
 * Reads @p in to its end, one line at a time, in order. Each rejected
 * record gets its message on @p err as it is read; the totals are
 * written to @p out once all the input has been read.
 *
 * - [summary] @p sum is set to zero first, then filled in as the input
 *   is read: when report_run() returns 0 it describes the whole input.
 * - [flush] Both streams are flushed before report_run() returns, so
 *   that everything it wrote has been handed to the system and a write
 *   error is seen and reported here: -1 with the `errno` the failing
 *   write or flush left (`ENOSPC`, `EPIPE`, ...), or `EIO` if it left
 *   none. A stream whose error indicator is set once it is flushed
 *   (`ferror()`, even when it was set before the call) also gives -1,
 *   with `EIO`: what reached it cannot be trusted to be whole.
 * - [read-error] When reading @p in fails, report_run() returns -1 with
 *   the `errno` the failing read left (`EISDIR` for a directory opened
 *   as a stream, `EIO`, ...), or `EIO` if it left none. Nothing is
 *   written to @p out (a report of part of the input would look
 *   complete); the messages of the lines read before the error are on
 *   @p err, and @p sum holds their counts.
 * - [null-err] @p err may be NULL: the messages are then dropped, but
 *   the records are still counted in report_summary::rejected.
 * - [err-fail] A message that cannot be written is an error of the run,
 *   not a detail: reading stops at that record (which still counts as
 *   rejected), nothing is written to @p out, and report_run() returns -1
 *   with the `errno` the failing write left (`EIO` if it left none).
 *   When @p err is buffered, a failing write may only show when @p err
 *   is flushed at the end, and the report may then already have gone to
 *   @p out; report_run() still returns -1.
 * - [einval] @p in, @p out or @p sum NULL gives -1 with `errno`
 *   `EINVAL`: nothing is read or written, and @p sum is not touched.
 * - [streams] The streams stay open and belong to the caller:
 *   report_run() does not close them.
 * - [memory] All memory report_run() allocates is freed before it
 *   returns, on every path: after a read error or a write error too.
 *
 * @param in   the input, read from its current position to its end; must
 *             not be NULL.
 * @param out  where the report goes; must not be NULL.
 * @param err  where the messages about rejected records go; may be NULL
 *             (see [null-err] and [err-fail] above).
 * @param sum  receives the counts; must not be NULL.
 * @return 0 when the whole input was read and the report written, even
 *         if some records were rejected; -1 with `errno` set when:
 *         - `EINVAL`: @p in, @p out or @p sum is NULL;
 *         - reading @p in failed (see [read-error]);
 *         - writing @p out or @p err failed (see [flush] and
 *           [err-fail]);
 *         - `ENOMEM`: memory for a line or the item table ran out.
 */
int report_run(FILE *in, FILE *out, FILE *err, struct report_summary *sum);

#endif
