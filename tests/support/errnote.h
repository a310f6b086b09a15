/*
 * errnote.h: " with errno ENAME" after a call's result, for the end of a
 * test's message. A suite gets it by listing tests/support/errnote.c in
 * its NAME.links.
 */
#ifndef WB_ERRNOTE_H
#define WB_ERRNOTE_H

/** " with errno ENAME" when @p r is -1 (@p err being the errno saved
 * right after the call), "" otherwise; in a buffer of the calling thread,
 * overwritten by its next call. */
const char *errnote_with(long r, int err);

#endif
