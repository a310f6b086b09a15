/**
 * @file timerq.h
 * @brief A timer queue: callbacks to run at deadlines, earliest first.
 *
 * Exercise 2 of chapter 4 ("One thread, many waits: select() event
 * loops").
 *
 * An event loop waits in select() for descriptors, but it must also wake
 * up for timers ("close this client if it says nothing for 30 s"). A
 * ::timerq keeps the pending timers ordered by deadline, and answers the
 * two questions the loop asks on each turn:
 *
 *     int64_t wait = timerq_until_next(q, now);  // select()'s timeout
 *     ...select()...
 *     timerq_run_due(q, now_again);               // run what is due
 *
 * Deadlines are plain numbers of nanoseconds on whatever clock the
 * caller chooses: the queue never reads a clock itself. The loop of this
 * chapter uses `CLOCK_MONOTONIC`; the tests use made-up times.
 *
 * Adding, cancelling and running a timer each take O(log n) time for n
 * pending timers, a cancel from the middle of the queue included: the
 * queue is a binary min-heap ordered by (deadline, order of adding).
 *
 * Promises (each checked by the tests that name its tag):
 *
 * - [order] Due timers run earliest deadline first.
 * - [ties] Timers with equal deadlines run in the order they were added.
 * - [due-only] timerq_run_due() runs exactly the timers whose deadline
 *   is at most `now_ns` (equal included) and returns how many ran.
 * - [ids] Ids are greater than 0 and never reused in the queue's life.
 * - [cancel] A cancelled timer never runs and no longer counts as
 *   pending.
 * - [cancel-enoent] Cancelling an id that is not pending (it ran, was
 *   cancelled, or never existed) fails with `ENOENT` and changes nothing.
 * - [until-next] timerq_until_next() is -1 with no timer, 0 when the
 *   earliest is due (or overdue), otherwise the nanoseconds left.
 * - [callbacks] A callback may add and cancel timers: a timer it
 *   cancels does not run, even when it was due in the same call.
 * - [no-rerun] A timer added while timerq_run_due() runs (by a
 *   callback) does not run in that call, even when already due.
 * - [ebusy] timerq_run_due() called from one of the queue's own
 *   callbacks fails with `EBUSY` and runs nothing.
 * - [fast] 100,000 timers are added, cancelled or run in a small
 *   fraction of a second: each operation is O(log n), a cancel from the
 *   middle of the queue included.
 * - [bounded] Memory follows the timers pending, not the timers ever
 *   added: a queue that has added and cancelled (or run) a million
 *   timers, never more than a few at a time, holds no more than it did
 *   with a few.
 * - [free] timerq_free() drops pending timers without running them.
 * - [bad-args] A NULL queue or callback fails with `EINVAL`.
 *
 * Errors are reported the system-call way: -1 (or NULL) with `errno` set.
 *
 * Which thread may call what: a ::timerq is not thread-safe. Use it from
 * one thread (in this chapter: the event loop's thread), callbacks
 * included: the callbacks run in the thread that calls
 * timerq_run_due().
 */
#ifndef TIMERQ_H
#define TIMERQ_H

#include <stddef.h>
#include <stdint.h>

/**
 * @brief A timer queue. Opaque: use the functions below.
 *
 * Made by timerq_new(), freed by timerq_free().
 */
typedef struct timerq timerq;

/**
 * @brief What a timer runs when it is due.
 * @param ctx  the pointer given to timerq_add() with the callback.
 */
typedef void (*timerq_cb)(void *ctx);

/**
 * @brief Make an empty timer queue.
 * @return the queue, to be freed with timerq_free(); NULL with errno
 *         `ENOMEM` when there is no memory.
 */
timerq *timerq_new(void);

/**
 * @brief Free a queue and every timer still pending in it.
 *
 * Pending timers are dropped: their callbacks are not run, and what
 * their `ctx` points to is not touched (it belongs to whoever added the
 * timer). Must not be called from one of the queue's callbacks.
 *
 * @param q  the queue; NULL does nothing.
 */
void timerq_free(timerq *q);

/**
 * @brief Add a timer that runs @p on_timer(@p ctx) once @p deadline_ns
 *        is reached.
 *
 * The timer runs in the first timerq_run_due() whose `now_ns` is at
 * least @p deadline_ns (a deadline already past is fine: the timer is
 * due at once). Callable from a callback of the same queue; a timer
 * added by a callback does not run in the timerq_run_due() call that ran
 * that callback.
 *
 * @param q            the queue; must not be NULL.
 * @param deadline_ns  when the timer is due, in nanoseconds on the
 *                     caller's clock.
 * @param on_timer     the callback; must not be NULL.
 * @param ctx          passed to @p on_timer as is; may be NULL. The queue
 *                     never reads or frees it.
 * @return the timer's id, greater than 0 and never given to another
 *         timer of this queue (for timerq_cancel()); -1 with errno set:
 *         - `EINVAL`: @p q or @p on_timer is NULL;
 *         - `ENOMEM`: no memory (nothing was added).
 */
long timerq_add(timerq *q, int64_t deadline_ns, timerq_cb on_timer, void *ctx);

/**
 * @brief Cancel a pending timer: it will not run.
 *
 * Callable from a callback of the same queue. A callback cancelling its
 * own timer gets `ENOENT`: a timer stops being pending when its callback
 * starts.
 *
 * @param q   the queue; must not be NULL.
 * @param id  an id returned by timerq_add() on this queue.
 * @return 0 when the timer was pending and is now cancelled; -1 with
 *         errno set:
 *         - `ENOENT`: no pending timer has this id (it already ran, was
 *           cancelled, or never existed);
 *         - `EINVAL`: @p q is NULL.
 */
int timerq_cancel(timerq *q, long id);

/**
 * @brief How long until the earliest pending timer is due.
 *
 * What the loop turns into select()'s timeout.
 *
 * @param q       the queue; must not be NULL.
 * @param now_ns  the current time, on the clock of the deadlines.
 * @return -1 when no timer is pending; 0 when the earliest deadline is
 *         at most @p now_ns; otherwise its deadline minus @p now_ns, in
 *         nanoseconds (INT64_MAX if that does not fit).
 */
int64_t timerq_until_next(const timerq *q, int64_t now_ns);

/**
 * @brief Run every timer due at @p now_ns, earliest first.
 *
 * Runs, one after the other in the calling thread, the callback of each
 * pending timer whose deadline is at most @p now_ns: earliest deadline
 * first, equal deadlines in the order they were added. Each timer stops
 * being pending just before its callback runs. A callback may add and
 * cancel timers of this queue (but not call timerq_run_due() or
 * timerq_free() on it): a cancelled timer does not run, and a timer
 * added during this call does not run in this call, even when it is
 * already due (so a callback that re-adds itself cannot keep this call
 * going forever).
 *
 * @param q       the queue; must not be NULL.
 * @param now_ns  the current time, on the clock of the deadlines.
 * @return how many callbacks ran (0 when none was due); -1 with errno
 *         set:
 *         - `EINVAL`: @p q is NULL;
 *         - `EBUSY`: called from one of this queue's callbacks.
 */
int timerq_run_due(timerq *q, int64_t now_ns);

/**
 * @brief How many timers are pending (added, not yet run or cancelled).
 * @param q  the queue; NULL counts as empty.
 * @return the count.
 */
size_t timerq_pending(const timerq *q);

#endif
