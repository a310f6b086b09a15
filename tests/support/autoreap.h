/*
 * autoreap.h: children the kernel reaps by itself, so that a parent's
 * waitpid() fails with ECHILD. A suite gets it by listing
 * tests/support/autoreap.c in its NAME.links.
 */
#ifndef WB_AUTOREAP_H
#define WB_AUTOREAP_H

/** Sets SIGCHLD to SIG_IGN: from now on the kernel reaps each child as
 * it ends, and waitpid() waits for the children to end, then fails with
 * ECHILD. Fails the test if sigaction() fails. */
void autoreap_start(void);

/** Puts SIGCHLD's action back as it was before autoreap_start(). */
void autoreap_stop(void);

#endif
