/*
 * report: total sales records per item, rejecting malformed records by
 * line number.
 *
 * The contract is in report.h (it spells out the input format, the exact
 * messages and the order of the checks). Run the tests with
 *
 *     make check CHAPTER=1 EXERCISE=report
 *
 * and ask for a hint with `make hint CHAPTER=1 EXERCISE=report`.
 */
#include "report.h"

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

int report_run(FILE *in, FILE *out, FILE *err, struct report_summary *sum)
{
    /* TODO: refuse NULL in, out or sum; zero *sum. Then, one step at a
     * time:
     *   1. read the input line by line with getline(), which handles
     *      lines of any length; count every line; a last line without
     *      '\n' is still a line;
     *   2. skip blank lines and comments; check each record in the order
     *      report.h gives, and either add it to its item's total (keep
     *      the items in order of first appearance) or print
     *      "line N: reason" to err and count it;
     *   3. tell end of file from a read error (ferror()) before writing
     *      anything; then write "item,total" lines and fflush(out), and
     *      check that every write and the flush worked.
     * Read: chapter 1, "Batch programs: input, process, output",
     * "Command-line programs and filters" and "Exit codes and errors". */
    (void)in;
    (void)out;
    (void)err;
    (void)sum;
    errno = ENOSYS;
    return -1;
}
