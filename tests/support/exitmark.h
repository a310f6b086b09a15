/*
 * exitmark.h: tells whether the children a call forked ended with exit()
 * (running the caller's atexit() handlers) instead of _exit(). A suite
 * gets it by listing tests/support/exitmark.c in its NAME.links.
 */
#ifndef WB_EXITMARK_H
#define WB_EXITMARK_H

#include <stddef.h>
#include <sys/types.h>

/** From now on, a process other than this one that runs this process's
 * atexit() handlers (a forked child that ended with exit()) writes one
 * byte to a pipe. Fails the test if the pipe or handler cannot be set. */
void exitmark_arm(void);

/** Stops the marking and returns how many marks were written since
 * exitmark_arm(), reading at most @p most (at most 64) in one read():
 * 0 when no child ran the handlers. Call it once the children have been
 * waited for. */
ssize_t exitmark_count(size_t most);

#endif
