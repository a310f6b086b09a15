/**
 * @file counter.h
 * @brief A thread-safe counter that keeps statistics of the values added.
 *
 * Exercise 2 of chapter 3 ("Threads: two things at once in one address
 * space").
 *
 * A ::counter is shared by many threads. Each counter_add() records one
 * value: the counter keeps how many values were added, the smallest, the
 * largest and their sum. counter_snapshot() copies those four numbers
 * out.
 *
 * Promises (each checked by the tests that name its tag). The first
 * two make it thread-safe:
 *
 * - [no-lost-update] When T threads each add K values at once, the
 *   count is exactly T * K, and the sum, min and max are exactly those
 *   of the values added. `count++` from two threads at once is a read,
 *   an add and a write that can interleave, so one of the two increments
 *   can vanish: every read and every write of the counter's fields
 *   happens with its mutex held.
 * - [one-moment] The four numbers a snapshot returns were all true at
 *   the same instant, between two whole counter_add() calls: never the
 *   count from before an add together with the sum from after it.
 * - [empty] A new counter has count, min, max and sum all 0.
 * - [stats] After values are added, the count is how many, the sum their
 *   sum, min the smallest and max the largest (the first value is both);
 *   each counter has statistics of its own.
 * - [erange] An add that would take the sum above `LLONG_MAX` or below
 *   `LLONG_MIN` returns `ERANGE` and changes nothing (count, sum, min
 *   and max stay as they were); a sum of exactly `LLONG_MAX` or
 *   `LLONG_MIN` fits. The counter stays usable: later values that keep
 *   the sum in range are added as usual.
 * - [einval] A NULL counter, or a NULL `out`, gives `EINVAL`, and nothing
 *   is recorded or written.
 * - [create-fails] When counter_create() fails (no memory, or
 *   `pthread_mutex_init()` fails: the tests make it), it returns the
 *   error number, leaves `*out` as it was and keeps nothing allocated.
 * - [destroy-frees] counter_destroy() frees everything counter_create()
 *   allocated: creating and destroying counters leaks nothing.
 *   counter_destroy(NULL) does nothing.
 *
 * Error handling follows the pthread convention: functions return 0 on
 * success and an error number on failure, and do not use `errno`.
 *
 * Which thread may call what: counter_add() and counter_snapshot() from
 * any thread, any number at once. counter_create() and counter_destroy()
 * once each, from the thread that owns the counter, when no other thread
 * uses it.
 */
#ifndef COUNTER_H
#define COUNTER_H

/**
 * @brief A counter shared by threads. Opaque: use the functions below.
 *
 * Made by counter_create(), freed by counter_destroy().
 */
typedef struct counter counter;

/**
 * @brief The statistics of a counter at one moment, copied out by
 *        counter_snapshot().
 *
 * A plain value that belongs to the caller: it does not change when the
 * counter does.
 */
typedef struct counter_stats {
    /** How many values counter_add() recorded. */
    unsigned long long count;
    /** The smallest value recorded; 0 when @ref count is 0. */
    long min;
    /** The largest value recorded; 0 when @ref count is 0. */
    long max;
    /** The sum of every value recorded, in a `long long`, which may be
     *  no wider than `long`: see counter_add() for a sum out of range.
     *  0 when @ref count is 0. */
    long long sum;
} counter_stats;

/**
 * @brief Make a new counter with nothing recorded.
 *
 * Allocates the counter and initialises its mutex. Call it before any
 * thread can see the counter; the thread that creates it owns it.
 *
 * @param out  receives the new counter on success; left as it was on
 *             failure. Must not be NULL.
 * @return 0 on success; otherwise an error number and nothing is
 *         allocated:
 *         - `EINVAL`: @p out is NULL;
 *         - `ENOMEM`: no memory for the counter;
 *         - the error number of `pthread_mutex_init()`.
 */
int counter_create(counter **out);

/**
 * @brief Free a counter and its mutex: everything counter_create()
 *        allocated.
 *
 * Call it once, from the owner, when no other thread uses the counter
 * any more (after joining them) and none ever will: a thread still in
 * counter_add() would use freed memory.
 *
 * @param c  the counter from counter_create(); NULL does nothing.
 */
void counter_destroy(counter *c);

/**
 * @brief Record one value: count it, add it to the sum, update min/max.
 *
 * The whole update happens under the counter's mutex, so it is atomic
 * for every other counter_add() and counter_snapshot(). Any thread may
 * call it, any number of threads at once.
 *
 * @param c      the counter; must not be NULL.
 * @param value  the value to record; any `long`.
 * @return 0 on success; otherwise an error number and nothing is
 *         recorded:
 *         - `EINVAL`: @p c is NULL;
 *         - `ERANGE`: the new sum would be greater than `LLONG_MAX` or
 *           less than `LLONG_MIN`, so it would not fit in the `long long`
 *           sum. Nothing is changed, neither the count nor the sum, min
 *           or max, and the mutex is released as on every other return,
 *           so later values that keep the sum in range can still be
 *           added. Where
 *           `long long` is no wider than `long` (as on 64-bit Linux,
 *           where both have 64 bits), adding `LONG_MAX` twice to an
 *           empty counter gives `ERANGE` the second time; where
 *           `long long` is wider, both adds succeed, and it takes many
 *           more to leave its range;
 *         - the error number of `pthread_mutex_lock()` or
 *           `pthread_mutex_unlock()`.
 */
int counter_add(counter *c, long value);

/**
 * @brief Copy the counter's statistics, all taken at one moment.
 *
 * Copies count, min, max and sum under the counter's mutex, in one
 * critical section, so the four values belong together: with every
 * value added equal to v, a snapshot always has `sum == count * v`.
 * Any thread may call it, any number of threads at once.
 *
 * @param c    the counter; must not be NULL.
 * @param out  receives the statistics; written only on success. Must not
 *             be NULL.
 * @return 0 on success; otherwise an error number:
 *         - `EINVAL`: @p c or @p out is NULL;
 *         - the error number of `pthread_mutex_lock()` or
 *           `pthread_mutex_unlock()`.
 */
int counter_snapshot(counter *c, counter_stats *out);

#endif
