/*
 * ticker.h: SIGALRM every few milliseconds, caught by a handler installed
 * without SA_RESTART, so that whatever the caller is blocked in (read(),
 * write(), waitpid(), ...) returns early with EINTR. A suite gets it by
 * listing tests/support/ticker.c in its NAME.links.
 */
#ifndef WB_TICKER_H
#define WB_TICKER_H

#include <time.h>

/** Installs the handler, starts a timer that sends SIGALRM every
 * @p period_ms (under 1000) and sets the count of signals to 0. Fails the
 * test if the machine refuses. */
timer_t ticker_start(long period_ms);

/** Deletes the timer and ignores SIGALRM from now on (which also
 * discards a signal the timer sent just before). */
void ticker_stop(timer_t id);

/** How many SIGALRM the handler has caught since ticker_start(). */
int ticker_count(void);

#endif
