/*
 * threadwatch.h: what a suite sees of its own threads through /proc
 * (Linux only): how many there are, which one is calling, how much CPU
 * it has used, and whether one is asleep in a call. A suite gets these by
 * listing tests/support/threadwatch.c in its tests/NN-topic/NAME.links.
 */
#ifndef WB_THREADWATCH_H
#define WB_THREADWATCH_H

#include <stdatomic.h>
#include <stdint.h>

/** The number of threads of this process ("Threads:" in
 * /proc/self/status); fails the test if that file cannot be read. */
int threadwatch_count(void);

/** The thread count once it has come down to @p want, waiting up to about
 * half a second: a joined thread can stay listed for a moment while the
 * kernel finishes removing it. Returns the last count seen. */
int threadwatch_after_joins(int want);

/** The kernel's id of the calling thread, as in /proc/self/task. */
int threadwatch_self(void);

/** The CPU time the calling thread has used, in nanoseconds. */
int64_t threadwatch_cpu_ns(void);

/** The state letter of thread @p tid ('R' running, 'S' asleep, ...), or
 * '?' when it cannot be read. */
char threadwatch_state(int tid);

/** Waits until a calling thread is asleep inside its call (returns 1) or
 * its call has returned (returns 0), for at most 2 s; returns -1 if
 * neither happened by then (the caller spins). @p tid holds the caller's
 * kernel id (0 until it is about to call), @p done becomes 1 once its
 * call has returned. The suite fails the test, with its own message. */
int threadwatch_blocked(atomic_int *tid, atomic_int *done);

/** Starts and joins one thread. ThreadSanitizer starts a helper thread
 * of its own at the first pthread_create() of a process: a suite that
 * calls this in wb_suite(), in the runner before it forks the tests,
 * keeps that helper out of the fixture's count of threads left running. */
void threadwatch_start_machinery(void);

#endif
