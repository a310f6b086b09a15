/**
 * @file psum.h
 * @brief Parallel sum: split an array over T threads, join them, combine.
 *
 * Exercise 1 of chapter 3 ("Threads: two things at once in one address
 * space").
 *
 * psum_sum() adds up an array of `long` values with several threads. It
 * cuts the array into contiguous slices, starts one thread per slice,
 * lets each thread add up its own slice into a result of its own, joins
 * every thread and only then adds the partial results together. No two
 * threads ever write the same memory, so no lock is needed: the join is
 * what makes each thread's result visible to the caller.
 *
 * An optional callback, called on every value by the thread that adds
 * it, lets the caller (and the tests) see which thread handled which
 * value, or add something other than the value itself (its square, say).
 *
 * Error handling follows the pthread convention: the function returns 0
 * on success and an error number (`EINVAL`, `ENOMEM`, `EAGAIN`, ...) on
 * failure; it does not use `errno`.
 *
 * Promises (each checked by the tests that name its tag), with m the
 * smaller of `nthreads` and `n`:
 *
 * - [args-first] The arguments are checked before anything else, even
 *   for an empty array: a NULL `sum`, an `nthreads` of 0, or a NULL
 *   `values` with n > 0 gives `EINVAL`; nothing starts and `*sum` is
 *   not written (so `psum_sum(NULL, 0, 0, ...)` is `EINVAL`, not 0).
 * - [empty] An empty array (n == 0; `values` may then be NULL) starts
 *   no thread, calls no callback, and its sum is 0.
 * - [slices] The array is cut into m contiguous slices whose lengths
 *   differ by at most one; every value belongs to exactly one slice, the
 *   remainder n % m included (10 values over 4 threads: 3, 3, 2, 2).
 * - [m-threads] Exactly m threads are started with `pthread_create()`,
 *   one per slice; the calling thread adds no element itself: it only
 *   starts, joins and combines.
 * - [at-once] The m threads run at the same time: the caller starts them
 *   all before it joins the first.
 * - [own-partial] Each thread adds up its slice into a partial sum that
 *   no other thread touches; after the joins the caller adds the m
 *   partial sums. No data race, no term lost.
 * - [callback] `on_value`, when not NULL, is called exactly once for
 *   every element, by the thread that adds it, with `ctx` unchanged,
 *   and what it returns is added instead of the element.
 * - [any-nthreads] `nthreads` may be any value from 1 up, even
 *   `SIZE_MAX`: threads and memory are sized by m, never by nthreads.
 * - [enomem] When there is no memory for the threads' bookkeeping,
 *   psum_sum() returns `ENOMEM` with nothing started, `*sum` left as it
 *   was, and whatever it had allocated freed again.
 * - [create-fails] When a `pthread_create()` fails, its error number is
 *   returned, no further thread is started, the threads already started
 *   are joined before psum_sum() returns, and `*sum` is left as it was.
 *
 * psum_sum() keeps no state between calls, so any thread may call it,
 * several threads at once.
 */
#ifndef PSUM_H
#define PSUM_H

#include <stddef.h>

/**
 * @brief Called on each value by the thread that adds it.
 *
 * psum_sum() calls it exactly once for every element of the array, from
 * the thread whose slice holds that element, and adds what it returns
 * instead of the element. Several threads call it at the same time, so it
 * must be thread-safe: anything it shares through @p ctx needs a lock or
 * an atomic. It may block (the tests make it wait on a gate); the sum
 * then waits for it.
 *
 * @param value  the element of the array.
 * @param ctx    the @p ctx given to psum_sum(), unchanged.
 * @return the term to add to the sum for this element.
 */
typedef long (*psum_on_value_fn)(long value, void *ctx);

/**
 * @brief Add up @p n values with up to @p nthreads threads.
 *
 * First checks the arguments; if one is wrong, nothing starts and
 * @p sum is not written (even when @p n is 0).
 *
 * Then, with m = the smaller of @p nthreads and @p n, it cuts the array
 * into m contiguous slices whose lengths differ by at most one (10
 * values over 3 threads: 4, 3 and 3), starts exactly m threads with
 * `pthread_create()`, one per slice, all of them before joining any, and
 * joins all of them with `pthread_join()`. Each thread adds up its own
 * slice (calling @p on_value on every element when it is not NULL) into
 * a partial sum of its own. After the joins the calling thread adds the
 * m partial sums and stores the total in `*sum`.
 *
 * So a call with more threads than values (`nthreads > n`) starts only
 * @p n threads, one value each; a call with `nthreads == 1` starts one
 * thread for the whole array; an empty array (`n == 0`) starts no thread
 * at all and its sum is 0. None of the threads is still running when
 * psum_sum() returns, whatever it returns.
 *
 * The caller must choose values whose partial sums and total fit in a
 * `long`: a signed overflow is undefined behaviour in C.
 *
 * Blocks the calling thread until every started thread has been joined.
 * Any thread may call it.
 *
 * @param values    the array, read only, owned by the caller; it must not
 *                  change until psum_sum() returns. May be NULL when @p n
 *                  is 0.
 * @param n         how many values; 0 is allowed.
 * @param nthreads  the most threads to use; at least 1. Any larger value
 *                  is allowed, even `SIZE_MAX`: no more than @p n threads
 *                  are started, and no memory is allocated per requested
 *                  thread beyond those.
 * @param on_value  called on every element by the thread that adds it,
 *                  see ::psum_on_value_fn; NULL to add the values
 *                  themselves.
 * @param ctx       passed to @p on_value unchanged; may be NULL.
 * @param sum       where the total is stored, owned by the caller;
 *                  written only on success.
 * @return 0 on success, with the total in `*sum`; otherwise an error
 *         number, `*sum` is left as it was, and nothing is left
 *         allocated or running:
 *         - `EINVAL`: @p sum is NULL, @p nthreads is 0, or @p values is
 *           NULL while @p n > 0 (nothing was started);
 *         - `ENOMEM`: no memory for the threads' bookkeeping (nothing was
 *           started, and what was allocated is freed);
 *         - the error number of `pthread_create()` (`EAGAIN`: the system
 *           would not start another thread): the threads already started
 *           are joined before returning, so none is left behind;
 *         - the error number of `pthread_join()`, should it fail.
 */
int psum_sum(const long *values, size_t n, size_t nthreads,
             psum_on_value_fn on_value, void *ctx, long *sum);

#endif
