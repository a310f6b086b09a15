/*
 * interrupt.h: signals that interrupt a blocked caller, caught by
 * handlers installed without SA_RESTART, so that whatever the caller is
 * blocked in (read(), write(), poll(), waitpid(), ...) returns early
 * with EINTR: SIGUSR1 that a child or a thread sends, or SIGALRM every
 * few milliseconds. A suite gets them by listing
 * tests/support/interrupt.c in its NAME.links.
 */
#ifndef WB_INTERRUPT_H
#define WB_INTERRUPT_H

#include <time.h>

/** Catches SIGUSR1 from now on. Fails the test if sigaction() fails. */
void interrupt_on_usr1(void);

/** 1 once the SIGUSR1 handler has run, 0 before (and after
 * interrupt_usr1_forget()). */
int interrupt_usr1_seen(void);

/** Forgets the SIGUSR1 already caught. */
void interrupt_usr1_forget(void);

/** Catches SIGALRM, starts a timer that sends it every @p period_ms
 * (under 1000) and sets the count of ticks to 0. Fails the test if the
 * machine refuses. */
timer_t interrupt_tick_start(long period_ms);

/** Deletes the timer and ignores SIGALRM from now on (which also
 * discards a signal the timer sent just before). */
void interrupt_tick_stop(timer_t id);

/** How many SIGALRM were caught since interrupt_tick_start(). */
int interrupt_ticks(void);

#endif
