/**
 * @file runner.h
 * @brief A sequential task runner that records when each task ran.
 *
 * Exercise 1 of chapter 1 ("Synchronous programs: one step at a time").
 *
 * runner_run() takes a list of tasks and runs them one after the other,
 * in the order given, on the calling thread: a task starts only once the
 * one before it has returned. For every task it writes a
 * ::runner_record holding the time the task started, the time it ended
 * (both read from `CLOCK_MONOTONIC`, in nanoseconds) and the value the
 * task returned. runner_span_ns() turns a list of records into the wall
 * time of the whole run.
 *
 * This is the baseline of the book: later chapters run the same tasks
 * with processes, threads and an event loop, and compare their span with
 * the span of this runner. For tasks that only wait (sleep, I/O) the span
 * here is the sum of the tasks' durations; the later runners overlap the
 * waiting.
 *
 * Nothing here keeps state between calls or touches global data, so any
 * thread may call these functions, several threads at once, as long as
 * they do not share a records array.
 *
 * Promises (each checked by the tests that name its tag):
 *
 * - [order] runner_run() calls the function of every task exactly once,
 *   with the task's context, in the order given, on the calling thread;
 *   a task is called only once the one before it has returned.
 * - [times] Record i holds two `CLOCK_MONOTONIC` readings in
 *   nanoseconds: runner_record::start_ns read just before task i is
 *   called, runner_record::end_ns just after it returns. So the interval
 *   contains the whole call, and each task starts at or after the end
 *   of the one before it.
 * - [result] Record i holds the value task i returned, whatever it is.
 * - [failures] A task that fails (returns non-zero) does not stop the
 *   run: every later task still runs and is recorded. runner_run()
 *   returns how many tasks returned non-zero.
 * - [empty] With n = 0 runner_run() runs nothing, writes no record and
 *   returns 0, and runner_span_ns() returns 0, even with NULL arrays.
 * - [einval] runner_run() checks every argument and every task before
 *   it runs the first one: a NULL array while n > 0, or a task whose
 *   function is NULL (even the last one), gives -1 with `errno`
 *   `EINVAL`; then no task runs and no record is written.
 * - [too-many] n greater than `INT_MAX` gives -1 with `errno` `EINVAL`,
 *   decided from n alone, before any task is read.
 * - [no-clock] When `clock_gettime()` cannot read `CLOCK_MONOTONIC`,
 *   runner_run() returns -1 with the `errno` it left (`EINVAL`) and runs
 *   no task: the clock is tried once before the first task runs.
 * - [span] runner_span_ns() returns the last record's end minus the
 *   first record's start, `records[n-1].end_ns - records[0].start_ns`,
 *   as they are (it does not look for the largest end); -1 with `errno`
 *   `EINVAL` when the array is NULL while n > 0.
 */
#ifndef RUNNER_H
#define RUNNER_H

#include <stddef.h>
#include <stdint.h>

/**
 * @brief The work of one task.
 *
 * Called once per run by runner_run(), on the thread that called
 * runner_run().
 * @param ctx  the task's runner_task::ctx, unchanged.
 * @return 0 when the task succeeded; any other value means it failed.
 *         The value is stored in runner_record::result either way.
 */
typedef int (*runner_fn)(void *ctx);

/**
 * @brief One task: a function and the context it is called with.
 *
 * The array of tasks belongs to the caller; runner_run() only reads it
 * and keeps no pointer to it after returning.
 */
struct runner_task {
    /** A name for the caller's reports. runner_run() does not use it; it
     *  may be NULL. */
    const char *name;
    /** The function to call; must not be NULL. */
    runner_fn fn;
    /** Passed to @ref fn unchanged; may be NULL. */
    void *ctx;
};

/**
 * @brief What happened to one task, filled in by runner_run().
 *
 * Times are `CLOCK_MONOTONIC` readings in nanoseconds: they only mean
 * something relative to each other (or to another `CLOCK_MONOTONIC`
 * reading of the same boot), not as a time of day.
 */
struct runner_record {
    /** The clock read just before the task's function was called. */
    int64_t start_ns;
    /** The clock read just after the task's function returned; never
     *  before @ref start_ns. */
    int64_t end_ns;
    /** The value the task's function returned (0 = success). */
    int result;
};

/**
 * @brief Run @p n tasks one after the other and record each one.
 *
 * First checks every argument (n first) and every task; if anything is
 * wrong, no task runs and @p records is not written. Then it reads the
 * clock once, to be sure it works. Then, for i = 0 to n - 1 in
 * order: reads `CLOCK_MONOTONIC` into `records[i].start_ns`, calls
 * `tasks[i].fn(tasks[i].ctx)`, reads the clock again into
 * `records[i].end_ns` and stores the function's return value in
 * `records[i].result`. So every task starts at or after the end of the
 * one before it (`records[i].start_ns >= records[i-1].end_ns`), and the
 * recorded interval contains the whole call.
 *
 * A task that fails (returns non-zero) does not stop the run: every
 * later task still runs and is recorded. The caller learns which tasks
 * failed from the records.
 *
 * Runs on the calling thread and blocks it until the last task has
 * returned.
 *
 * @param tasks    the tasks, in the order to run them; read only. May be
 *                 NULL when @p n is 0.
 * @param n        how many tasks; 0 is allowed (nothing runs, the result
 *                 is 0). At most `INT_MAX`, so that the count of failures
 *                 fits the return value.
 * @param records  an array of at least @p n records owned by the caller;
 *                 record i describes task i. May be NULL when @p n is 0.
 * @return the number of tasks that failed (0 when all succeeded), or -1
 *         with `errno` set, and no task run, when:
 *         - `EINVAL`: @p tasks or @p records is NULL while @p n > 0; or
 *           any task's runner_task::fn is NULL (even the last one: the
 *           check comes before the first task runs); or @p n is greater
 *           than `INT_MAX` (checked before any task is read: the array
 *           may be shorter than such an @p n);
 *         - the `errno` of `clock_gettime()` when the system has no
 *           monotonic clock (`EINVAL`): runner_run() must find that out
 *           by reading the clock once before any task runs. A clock that
 *           worked then keeps working, so the readings around the tasks
 *           need no check.
 */
int runner_run(const struct runner_task *tasks, size_t n,
               struct runner_record *records);

/**
 * @brief The wall time of a whole run: from the first record's start to
 *        the last record's end.
 *
 * Computes `records[n-1].end_ns - records[0].start_ns`, with the records
 * as they are: it does not search for the smallest start or the largest
 * end. In the records of a sequential run, record 0 starts first and
 * record n - 1 ends last, so this is the sum of the tasks' durations
 * plus the runner's own small overhead between them.
 *
 * Reads only; any thread may call it.
 *
 * @param records  the records of one run, as filled in by runner_run();
 *                 read only. May be NULL when @p n is 0.
 * @param n        how many records.
 * @return the span in nanoseconds; 0 when @p n is 0; -1 with `errno` set
 *         to `EINVAL` when @p records is NULL while @p n > 0.
 */
int64_t runner_span_ns(const struct runner_record *records, size_t n);

#endif
