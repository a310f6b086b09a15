/**
 * @file tpool.h
 * @brief A fixed-size thread pool with a bounded work queue.
 *
 * Exercise 4 of chapter 3 ("Threads: two things at once in one address
 * space").
 *
 * tpool_create() starts N worker threads once. tpool_submit() puts a task
 * (a function and its context pointer) on a bounded queue; each worker
 * takes the next task, runs it, and goes back for another. tpool_wait()
 * blocks until every task submitted so far has finished, and
 * tpool_destroy() lets the workers finish every task already submitted,
 * joins them all and frees the pool.
 *
 * Promises (each checked by the tests that name its tag), for a pool of
 * N workers:
 *
 * - [at-most-n] At most N tasks run at once: they run on the N workers
 *   that tpool_create() started, never on the thread that submits them
 *   and never on a thread started for one task.
 * - [n-at-once] When N tasks are waiting to run, N run at once: each
 *   worker takes a task as soon as it is free.
 * - [once] Every submitted task runs exactly once: none is lost, none
 *   runs twice, even when many threads submit at once.
 * - [submit-blocks] tpool_submit() blocks while the queue is full, until
 *   a worker takes a task.
 * - [wait-idle] tpool_wait() returns only at a moment when no task is
 *   queued and none is running. So every task submitted before the call,
 *   and every task those tasks submitted, has returned; and a task that
 *   another thread submits while it waits is waited for too (under a
 *   steady stream of submissions it may never return).
 * - [pending-from-submit] A task is pending from the moment
 *   tpool_submit() accepts it until it has returned: a tpool_wait() in
 *   progress never misses it, however slow the submitting thread.
 * - [locked-count] Tasks that finish at the same moment on two workers
 *   are both counted as finished: tpool_wait() never returns early, and
 *   never waits for ever, because two counts raced.
 * - [wait-wakes-all] Several threads may wait at once, and all of them
 *   return when the pool becomes idle.
 * - [idle-sleeps] An idle pool uses no CPU time: workers with nothing
 *   to do sleep until there is.
 * - [edeadlk] tpool_wait() or tpool_destroy() called from one of this
 *   pool's own tasks, on any of its workers, returns `EDEADLK` at once;
 *   nothing is done and the pool stays usable. A task of another pool is
 *   not one of this pool's tasks: it may call tpool_wait() on this pool
 *   like any other thread.
 * - [destroy-finishes] tpool_destroy() runs every task already queued,
 *   waits for the running ones, joins every worker and frees the pool:
 *   when it returns, no task of the pool is running and no thread of the
 *   pool is left.
 * - [destroy-refuses] From the moment tpool_destroy() is called, a
 *   tpool_submit() (from a task still running) returns `EPIPE`, and its
 *   task never runs; so does a submit that was blocked on a full queue
 *   when destroy began.
 * - [create-fails] When tpool_create() fails (no memory for the pool or
 *   for its list of workers, a worker cannot be started, or the queue, a
 *   mutex or a condition variable cannot be set up: the tests make each
 *   of these fail), it returns the error number, leaves `*out` as it
 *   was, and leaves nothing allocated or running.
 * - [einval] A NULL pool, `out` or `on_run`, or 0 workers or capacity,
 *   gives `EINVAL`; tpool_destroy(NULL) does nothing and returns 0.
 *
 * The queue may be the ::bqueue of exercise 3 (bqueue.h), which the
 * tests link: in the workbook the reference solution, in a handout
 * yours, graded first.
 *
 * Error handling follows the pthread convention: functions return 0 on
 * success and an error number on failure, and do not use `errno`.
 *
 * Which thread may call what: tpool_submit() from any thread, tasks
 * included, any number at once. tpool_wait() from any thread that is not
 * one of the pool's workers. tpool_create() and tpool_destroy() once
 * each, from the owner; destroy when no other thread will call a
 * function of the pool any more.
 */
#ifndef TPOOL_H
#define TPOOL_H

#include <stddef.h>

/**
 * @brief A thread pool. Opaque: use the functions below.
 *
 * Made by tpool_create(), freed by tpool_destroy().
 */
typedef struct tpool tpool;

/**
 * @brief The work of one task, run by one of the pool's workers.
 *
 * Runs on a worker thread, at the same time as other tasks on other
 * workers: anything it shares needs a lock or an atomic. It may block
 * (the tests make tasks wait on a gate), but a blocked task keeps its
 * worker busy. It may call tpool_submit(); it must not call tpool_wait()
 * or tpool_destroy() of its own pool, that is of the pool whose worker
 * runs it (they return `EDEADLK`). It may wait on another pool.
 *
 * @param ctx  the context given to tpool_submit() with this task,
 *             unchanged.
 */
typedef void (*tpool_task_fn)(void *ctx);

/**
 * @brief Make a pool of @p nworkers threads and a queue of @p capacity
 *        tasks.
 *
 * Starts every worker before returning; they sleep until tasks arrive.
 * If a worker cannot be started, the workers already started are stopped
 * and joined and everything is freed, so a failed call leaves no thread
 * behind.
 *
 * @param out       receives the new pool on success; left as it was on
 *                  failure. Must not be NULL.
 * @param nworkers  how many worker threads, that is how many tasks can
 *                  run at once; at least 1.
 * @param capacity  how many submitted tasks can wait in the queue before
 *                  tpool_submit() blocks; at least 1.
 * @return 0 on success; otherwise an error number and nothing is left
 *         allocated or running:
 *         - `EINVAL`: @p out is NULL, or @p nworkers or @p capacity is 0;
 *         - `ENOMEM`: no memory for the pool;
 *         - the error number of `pthread_create()` (`EAGAIN`: the system
 *           would not start another thread), of the queue, or of a
 *           pthread mutex or condition variable initialisation.
 */
int tpool_create(tpool **out, size_t nworkers, size_t capacity);

/**
 * @brief Queue a task: a worker will call `on_run(ctx)` exactly once.
 *
 * Blocks while the queue is full, until a worker takes a task. The task
 * counts as pending from this call until it has finished running, so a
 * tpool_wait() that starts after tpool_submit() returns waits for it,
 * and so does one already waiting when a running task submits another.
 * Any thread may call it, tasks of this pool included; but a task that
 * submits to a full queue while every worker does the same waits
 * forever, so keep the queue large enough for what tasks submit.
 *
 * @param p       the pool; must not be NULL.
 * @param on_run  the task's function; must not be NULL.
 * @param ctx     passed to @p on_run unchanged; may be NULL. The pool
 *                does not read or free what it points to; it must stay
 *                valid until the task has run.
 * @return 0 when the task was queued; otherwise an error number and the
 *         task will not run:
 *         - `EINVAL`: @p p or @p on_run is NULL;
 *         - `ENOMEM`: no memory to queue the task;
 *         - `EPIPE`: the pool is being destroyed: a task submitted
 *           during tpool_destroy(), or a submit that was blocked on a
 *           full queue when tpool_destroy() began;
 *         - the error number of a pthread mutex or condition variable
 *           call.
 */
int tpool_submit(tpool *p, tpool_task_fn on_run, void *ctx);

/**
 * @brief Wait until every submitted task has finished.
 *
 * Blocks until a moment when no task is queued and none is running:
 * then every task submitted before this call, and every task those tasks
 * submitted, has returned. Tasks that other threads submit while it
 * waits keep it waiting too, so under a steady stream of submissions it
 * may never return; stop submitting first. Returns at once when nothing
 * is pending. The pool stays usable: submit more and wait again. Any
 * thread except the pool's own workers may call it, several at once,
 * tasks of other pools included.
 *
 * @param p  the pool; must not be NULL.
 * @return 0 once nothing is pending; otherwise an error number:
 *         - `EINVAL`: @p p is NULL;
 *         - `EDEADLK`: called from one of this pool's own tasks (on
 *           any of its workers), which would wait for itself forever;
 *         - the error number of a pthread mutex or condition variable
 *           call.
 */
int tpool_wait(tpool *p);

/**
 * @brief Finish every submitted task, join every worker, free the pool.
 *
 * Stops accepting tasks (a tpool_submit() from a task still running gets
 * `EPIPE`), lets the workers run every task already queued, waits for
 * every running task to return, joins every worker thread and frees the
 * pool. When it returns, no task of the pool is running and no thread of
 * the pool is left.
 *
 * Call it once, from the owner, when no other thread will call a
 * function of the pool any more.
 *
 * @param p  the pool; NULL does nothing and returns 0.
 * @return 0 on success; otherwise an error number:
 *         - `EDEADLK`: called from one of this pool's own tasks, which
 *           would join itself; nothing is done and the pool stays
 *           usable;
 *         - the error number of `pthread_join()` or of closing the
 *           queue. The pool has still been torn down and freed as far
 *           as it could be: do not use it again.
 */
int tpool_destroy(tpool *p);

#endif
