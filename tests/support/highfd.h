/*
 * highfd.h: takes every free descriptor below FD_SETSIZE, so that the
 * next ones a test opens are numbered FD_SETSIZE or above, where select()
 * cannot wait for them (loop_watch() refuses them with EINVAL). A suite
 * gets it by listing tests/support/highfd.c in its NAME.links.
 */
#ifndef WB_HIGHFD_H
#define WB_HIGHFD_H

/** Raises the soft RLIMIT_NOFILE to FD_SETSIZE + 16 where the hard limit
 * allows and it is lower, then fills every free descriptor below
 * FD_SETSIZE with /dev/null. Fails the test if the machine refuses. One
 * highfd_take() at a time, each followed by highfd_give_back(). */
void highfd_take(void);

/** Closes what highfd_take() opened and puts RLIMIT_NOFILE back as it
 * was. Descriptors opened in between stay open. */
void highfd_give_back(void);

#endif
