/*
 * fdlimit.h: which descriptors the code under test can get: none at all
 * (pipe() fails with EMFILE), or only ones numbered FD_SETSIZE or above,
 * where select() cannot wait for them (loop_watch() refuses them with
 * EINVAL). A suite gets it by listing tests/support/fdlimit.c in its
 * NAME.links.
 */
#ifndef WB_FDLIMIT_H
#define WB_FDLIMIT_H

/** Lowers the soft RLIMIT_NOFILE to the lowest free descriptor:
 * descriptors are numbered from the lowest free one, so none is left.
 * Fails the test if the machine refuses. Undone by fdlimit_restore(). */
void fdlimit_none_left(void);

/** Raises the soft RLIMIT_NOFILE to FD_SETSIZE + 16 where the hard limit
 * allows and it is lower, then fills every free descriptor below
 * FD_SETSIZE with /dev/null. Fails the test if the machine refuses.
 * Undone by fdlimit_restore(). */
void fdlimit_only_high(void);

/** Closes what fdlimit_only_high() opened and puts RLIMIT_NOFILE back as
 * it was before the last fdlimit_none_left() or fdlimit_only_high().
 * Descriptors opened in between stay open. */
void fdlimit_restore(void);

#endif
