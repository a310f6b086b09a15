/**
 * @file deadline.h
 * @brief A request with a time limit: the work on an offload races a
 *        timer on the loop, and the caller hears of exactly one winner.
 *
 * Exercise 4 of chapter 5 ("Told when it is done: callback completion").
 *
 * deadline_submit() is offload_submit() (offload.h) with a limit.
 * Two things start at once: the work, on one of the offload's workers,
 * and a timer of `timeout_ms` on the loop. Whichever finishes first
 * decides what the caller's `on_done` gets: the work's own status, or
 * `ETIMEDOUT`. The other one still happens (a thread cannot be stopped
 * in the middle of a function; a timer might already be due), and must
 * be kept from reaching the caller: the timer is cancelled when the work
 * wins, and the work's late completion is swallowed when the timer wins.
 *
 * Promises (each checked by the tests that name its tag):
 *
 * - [work-wins] When the work finishes before the limit, `on_done` runs
 *   once with the work's status (0 or its error number), and the `req`
 *   and `ctx` given to deadline_submit().
 * - [timer-cancelled] When the work wins, the timer is cancelled: once
 *   the work is done nothing of the request is left on the loop, and
 *   loop_run() returns without waiting for the limit.
 * - [timeout] When the limit passes first, `on_done` runs once with
 *   `ETIMEDOUT`, no earlier than `timeout_ms` after deadline_submit(),
 *   and without waiting for the work.
 * - [cancel-queued] A request whose limit passes before a worker took it
 *   is cancelled on the offload: its work never runs.
 * - [swallowed] The work's late completion, after a timeout, never
 *   reaches the caller, and the memory the deadline kept for it is
 *   freed when it arrives.
 * - [exactly-once] Every accepted request gets exactly one `on_done`,
 *   with its status or `ETIMEDOUT`, however close the work's end and the
 *   limit are: thousands of requests that finish right at their limit.
 * - [loop-thread] `on_done` runs on the loop's thread, from loop_run();
 *   never on a worker and never inside deadline_submit(), not even with
 *   a limit of 0.
 * - [cancel] offload_cancel() with the id deadline_submit() returned
 *   cancels a request that has not started: `on_done` runs once, with
 *   `ECANCELED`, and the timer is cancelled.
 * - [no-spin] While the request waits for its work or its limit, the
 *   loop sleeps in select(): a deadline is a timer, not a loop that
 *   looks at the clock.
 * - [fails-cleanly] When deadline_submit() fails, nothing of the
 *   request is left: its work never runs, `on_done` is never called, no
 *   timer is pending.
 * - [bad-args] Invalid arguments fail with `EINVAL` and submit nothing.
 *
 * Memory. `req` and `ctx` are the caller's: the deadline never reads or
 * frees what they point to. What the deadline allocates for a request
 * it frees itself, after both the work's completion and the timer are
 * done with it. Careful with `req` after a timeout: `on_done` has run
 * with `ETIMEDOUT`, but the work may still be running with `req` on a
 * worker (nothing can stop it). So `req` must stay valid until the work
 * has finished, not merely until `on_done`: keep it until loop_run()
 * returns (the offload keeps the loop running until every completion,
 * the swallowed ones included, has arrived), or let `work` and the
 * caller share it through a reference count.
 *
 * Errors are reported the system-call way: -1 with `errno` set.
 *
 * Which thread may call what: deadline_submit() from the loop's thread
 * only, as offload_submit() (before, during or after loop_run(); from
 * `on_done` too).
 */
#ifndef DEADLINE_H
#define DEADLINE_H

#include "04-select/loop.h"
#include "05-callbacks/offload.h"

/**
 * @brief Submit @p work on @p o with a limit of @p timeout_ms: exactly
 *        one @p on_done, with the work's status or `ETIMEDOUT`.
 *
 * Adds a timer of @p timeout_ms to @p l and submits the work to @p o,
 * then returns at once. If the work completes first, the timer is
 * cancelled and `on_done(o, req, status, ctx)` runs with the work's
 * status. If the timer runs first, `on_done(o, req, ETIMEDOUT, ctx)`
 * runs at once, the request is cancelled on the offload if no worker
 * took it yet, and the work's completion, whenever it comes, is
 * swallowed. A limit of 0 has passed already, but its `ETIMEDOUT` is
 * reported like any other, from the loop: the timer runs in the loop's
 * next iteration (never inside this call), and wins unless the work's
 * completion is already there by then.
 *
 * `on_done` has the rules of ::offload_done_fn: loop's thread, from
 * loop_run() (or from offload_free(), which completes what is pending),
 * must not block, must not call offload_free().
 *
 * @param o           the offload that runs the work; must not be NULL.
 * @param l           the loop @p o completes on (the one given to
 *                    offload_new()); must not be NULL.
 * @param timeout_ms  the limit, in milliseconds from now; 0 or more.
 * @param work        the work, run on a worker; must not be NULL.
 * @param on_done     the completion; must not be NULL.
 * @param req         passed to @p work and @p on_done unchanged; may be
 *                    NULL. Must stay valid until the work has finished
 *                    (see the file's description).
 * @param ctx         passed to @p on_done unchanged; may be NULL.
 * @return the offload's id of the request, greater than 0 (for
 *         offload_cancel()); -1 with errno set, and then neither the
 *         work nor @p on_done will run:
 *         - `EINVAL`: @p o, @p l, @p work or @p on_done is NULL, or
 *           @p timeout_ms is negative;
 *         - `ENOMEM`: no memory;
 *         - the errno of loop_add_timer() or offload_submit() (`EPIPE`:
 *           offload_free() has begun).
 */
long deadline_submit(offload *o, loop *l, long timeout_ms, offload_work_fn work,
                     offload_done_fn on_done, void *req, void *ctx);

#endif
