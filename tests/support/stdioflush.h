/*
 * stdioflush.h: stdio streams that tell whether a call flushed stdio
 * before fork(): one whose flush fails, and one whose buffered text
 * must reach its file before a child's output. A suite gets them by
 * listing tests/support/stdioflush.c in its NAME.links.
 */
#ifndef WB_STDIOFLUSH_H
#define WB_STDIOFLUSH_H

#include <stdio.h>

/** A stream on /dev/full with text in its buffer: every write to it fails
 * with ENOSPC, so fflush(NULL) fails until it is closed (fclose() fails
 * too, and closes it). Fails the test if it cannot be made. */
FILE *stdioflush_full(void);

/** A temporary file with "before\n" still in its stdio buffer; its
 * descriptor in *@p fd, for a child to write "child\n" to. Fails the
 * test if it cannot be made. */
FILE *stdioflush_pending(int *fd);

/** Closes @p f (from stdioflush_pending()) and says what it held: 1 for
 * "before\nchild\n" (stdio was flushed before the child wrote), -1 for
 * "child\nbefore\n" (it was not), 0 for anything else. */
int stdioflush_order(FILE *f);

#endif
