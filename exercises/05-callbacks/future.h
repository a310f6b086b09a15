/**
 * @file future.h
 * @brief Futures on the event loop: a value that is not there yet, and
 *        the code to run once it is.
 *
 * Exercise 3 of chapter 5 ("Told when it is done: callback completion").
 *
 * A ::future stands for the outcome of something still under way: a
 * request on a pool, a reply on a socket. It starts pending and settles
 * once, either resolved (with a value) or rejected (with an error
 * number). Code that wants the outcome does not wait for it: it
 * registers a continuation with future_then(), and the loop calls the
 * continuation once the future has settled. future_all() joins several
 * futures into one that settles when all of them resolved, or at the
 * first rejection.
 *
 * The one rule that matters most: a continuation never runs inside the
 * call that registers it, nor inside the call that settles the future.
 * It runs later, from loop_run(), on the loop's thread. Code after
 * future_then() can rely on running before the continuation, whether or
 * not the future had already settled (see "Never call a continuation
 * synchronously" in the chapter).
 *
 * Promises (each checked by the tests that name its tag):
 *
 * - [settle-once] A future settles once. The first future_resolve() or
 *   future_reject() decides; every later one returns `EALREADY` and
 *   changes nothing: the value or error stays the first one, and no
 *   continuation runs a second time.
 * - [state] future_state() says pending (0), resolved (1) or rejected
 *   (-1), and writes only the out-parameter of the outcome: `*value`
 *   when resolved, `*err` when rejected, neither when pending.
 * - [then-any-time] A continuation registered before the future settles
 *   runs once, after it settled; one registered after it settled runs
 *   once, too. Either way it sees the future settled.
 * - [never-sync] A continuation never runs inside future_then(),
 *   future_resolve(), future_reject(), future_all() or future_free():
 *   the code after those calls always runs first.
 * - [loop-thread] Continuations run on the thread that runs loop_run(),
 *   from loop_run(); loop_run() does not return while a continuation
 *   is due to run.
 * - [order] The continuations of one future run in the order they were
 *   registered.
 * - [from-continuation] A continuation registered by a running
 *   continuation, on the same future or another, runs in a later
 *   iteration of the loop, after the loop has served its other ready
 *   descriptors and due timers, so a continuation that always registers
 *   another does not keep the loop from them.
 * - [all-resolves] The future of future_all() resolves (value NULL) once
 *   every input has resolved, in whatever order they do, and not
 *   before; with no input at all, it resolves at once.
 * - [all-rejects] The future of future_all() rejects at the first
 *   rejection of an input, with that input's error, without waiting for
 *   the other inputs; later rejections change nothing.
 * - [free-defers] future_free() of a settled future whose continuations
 *   have not run yet does not stop them: they run, and the memory is
 *   released after the last one. A continuation may free its own
 *   future.
 * - [free-pending] future_free() of a pending future rejects it with
 *   `ECANCELED` (a broken promise): its continuations still run, once,
 *   and see the rejection (unless the loop cannot schedule them: see
 *   future_free()).
 * - [all-free] The inputs of future_all() and its own future may be
 *   freed at any time, settled or not: an input freed while pending
 *   rejects the joined future with `ECANCELED`, and a joined future
 *   freed before its inputs settle is released once they have.
 * - [no-leak] Once every future has been freed and every continuation
 *   has run, nothing of them is left allocated.
 * - [bad-args] Invalid arguments fail with `EINVAL` as each function
 *   says, and change nothing.
 * - [no-memory] When an allocation fails, future_new() and future_all()
 *   return NULL and future_then() `ENOMEM`, and nothing is left
 *   allocated or registered: the failed future_then() registers nothing,
 *   and the inputs of a failed future_all() are as they were.
 * - [fails-cleanly] When the loop cannot schedule continuations,
 *   future_resolve(), future_reject() and future_then() fail with an
 *   error and change nothing: the future stays pending, or the
 *   continuation is not registered and never runs, not even when a
 *   later future_then() on the same future succeeds.
 *
 * Memory. Every future, from future_new() or future_all(), belongs to
 * the caller, who frees it with future_free() exactly once, and calls
 * nothing on it afterwards. The future itself keeps what it needs for as
 * long as it needs it: freeing it before its continuations ran, or while
 * it is pending, or while a future_all() waits on it, is allowed (the
 * promises above say what happens). The value of a resolved future and
 * the contexts of continuations are the caller's: the future never
 * reads or frees what they point to. Free each future after loop_run()
 * has run its continuations at the latest: loop_free() drops the
 * continuations that have not run, and their futures are never
 * released.
 *
 * A pending future does not keep loop_run() running by itself: whatever
 * will settle it (a watched descriptor, a timer, work on an offload)
 * does. Once it has settled, its continuations do (see [loop-thread]).
 *
 * Errors are returned as error numbers (0 on success), except by the
 * functions that return a pointer: NULL with `errno` set.
 *
 * Which thread may call what: a future belongs to its loop's thread.
 * Every function, from the thread that runs loop_run() on the future's
 * loop (from callbacks and continuations, or before and after
 * loop_run()). A result computed by another thread reaches a future
 * through the loop: the thread hands it over (a pipe the loop watches,
 * a completion channel, an offload) and a loop callback settles the
 * future.
 */
#ifndef FUTURE_H
#define FUTURE_H

#include "04-select/loop.h"

#include <stddef.h>

/**
 * @brief A future: pending, then resolved or rejected, once. Opaque.
 *
 * Made by future_new() or future_all(), freed by future_free().
 */
typedef struct future future;

/**
 * @brief A continuation: called by the loop once the future has settled.
 *
 * Runs on the loop's thread, from loop_run(), once per registration,
 * never inside the call that registered it or settled the future. It
 * may read the outcome with future_state(), and may call every function
 * of this header and of loop.h that a loop callback may call: register
 * more continuations (on this future too: they run in a later iteration
 * of the loop, see [from-continuation]), settle other futures, free
 * this future or others. It must not block.
 *
 * @param f    the settled future; valid until the continuation returns,
 *             even when its owner freed it.
 * @param ctx  the context given to future_then(), unchanged.
 */
typedef void (*future_cb)(future *f, void *ctx);

/**
 * @brief Make a pending future whose continuations run on @p l.
 * @param l  the loop; must not be NULL, and must outlive the future.
 * @return the future, to be freed with future_free(); NULL with errno
 *         set:
 *         - `EINVAL`: @p l is NULL;
 *         - `ENOMEM`: no memory.
 */
future *future_new(loop *l);

/**
 * @brief Resolve @p f with @p value, if it is still pending.
 *
 * The continuations registered so far are scheduled to run on the loop,
 * in registration order; none runs inside this call.
 *
 * @param f      the future; must not be NULL.
 * @param value  its value, for future_state(); may be NULL. Stays the
 *               caller's: never read or freed.
 * @return 0 when @p f was pending and is now resolved; otherwise an
 *         error number, and @p f is unchanged:
 *         - `EALREADY`: @p f had settled already;
 *         - `EINVAL`: @p f is NULL;
 *         - `ENOMEM`: the loop could not schedule its continuations
 *           (for want of memory, or because the loop could not read
 *           its clock); it stays pending, and the call may be repeated.
 */
int future_resolve(future *f, void *value);

/**
 * @brief Reject @p f with the error number @p err, if it is still
 *        pending.
 *
 * As future_resolve(), with an error instead of a value.
 *
 * @param f    the future; must not be NULL.
 * @param err  the error number, for future_state(); not 0.
 * @return 0 when @p f was pending and is now rejected; otherwise an
 *         error number, and @p f is unchanged:
 *         - `EALREADY`: @p f had settled already;
 *         - `EINVAL`: @p f is NULL or @p err is 0;
 *         - `ENOMEM`: as future_resolve().
 */
int future_reject(future *f, int err);

/**
 * @brief Register @p on_settled to run once @p f has settled.
 *
 * Before or after @p f settles, the continuation runs later, on the
 * loop's thread, from loop_run(); never inside this call, even when
 * @p f has settled already. Continuations of one future run in the
 * order they were registered.
 *
 * @param f           the future; must not be NULL and must not have
 *                    been freed.
 * @param on_settled  the continuation; must not be NULL.
 * @param ctx         passed to @p on_settled as is; may be NULL. Stays
 *                    the caller's, and must stay valid until the
 *                    continuation has run.
 * @return 0 when registered; otherwise an error number, and nothing is
 *         registered:
 *         - `EINVAL`: @p f or @p on_settled is NULL;
 *         - `ENOMEM`: no memory, or @p f has settled and the loop could
 *           not schedule the continuation (as future_resolve()).
 */
int future_then(future *f, future_cb on_settled, void *ctx);

/**
 * @brief Read the state of @p f, and its outcome once settled.
 * @param f      the future; must not be NULL.
 * @param value  receives the value when @p f is resolved, and is left
 *               alone otherwise; may be NULL.
 * @param err    receives the error number when @p f is rejected, and is
 *               left alone otherwise; may be NULL.
 * @return 0 while pending, 1 when resolved, -1 when rejected.
 */
int future_state(const future *f, void **value, int *err);

/**
 * @brief Join @p n futures into one: it resolves when all of them have,
 *        and rejects at the first rejection.
 *
 * The new future resolves, with the value NULL, once every input has
 * resolved (at once when @p n is 0 or every input had resolved
 * already). It rejects at the first rejection of an input, with that
 * input's error, without waiting for the others: the first input
 * rejected while it waits, or, when inputs had been rejected before
 * this call, the first of them in @p fs. Later outcomes of the inputs
 * change nothing.
 *
 * The inputs stay the caller's (see the file's description: they may
 * be freed at any time). Their values are not collected: read them
 * with future_state().
 *
 * @param l   the loop of every input, and of the new future; must not
 *            be NULL.
 * @param fs  the inputs, @p n of them, none NULL, each made on @p l; may
 *            be NULL when @p n is 0. The array is not kept: it may be
 *            freed when this call returns.
 * @param n   how many inputs.
 * @return the joined future, to be freed with future_free(); NULL with
 *         errno set:
 *         - `EINVAL`: @p l is NULL, @p fs is NULL while @p n is not 0,
 *           an input is NULL, or an input belongs to another loop;
 *         - `ENOMEM`: no memory.
 */
future *future_all(loop *l, future **fs, size_t n);

/**
 * @brief Give up the caller's future: it is released as soon as nothing
 *        needs it any more.
 *
 * A pending future is rejected with `ECANCELED` first, so its
 * continuations (those of a future_all() waiting on it included) run and
 * learn that it will never resolve. Continuations that have not run yet
 * still run, later, on the loop, and the memory is released after the
 * last of them; should there be no memory to schedule them, they are
 * dropped without running. A future_all() keeps its own future until
 * every input it waits for has settled. The caller must not use @p f
 * after this call; a continuation running later still gets @p f as its
 * argument, valid until it returns.
 *
 * @param f  the future; NULL does nothing. Call it once per future.
 */
void future_free(future *f);

#endif
