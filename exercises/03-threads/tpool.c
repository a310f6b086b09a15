/*
 * tpool: a fixed pool of worker threads fed by a bounded queue.
 *
 * The contract is in tpool.h. Run the tests with
 *
 *     make check CHAPTER=3 EXERCISE=tpool
 *
 * and ask for a hint with `make hint CHAPTER=3 EXERCISE=tpool`.
 *
 * The bqueue of exercise 3 (bqueue.h) is linked in, from the reference
 * solution: use it as the work queue.
 */
#include "tpool.h"
#include "bqueue.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

/* TODO: the fields: the queue, the worker threads, and a count of the
 * tasks submitted but not yet finished, with the mutex and condition
 * variable that guard it. */
struct tpool {
    int unused;
};

int tpool_create(tpool **out, size_t nworkers, size_t capacity)
{
    /* TODO: EINVAL for a NULL out or a 0 size. Allocate the pool, create
     * the queue, initialise the mutex and the condition variable, start
     * nworkers threads. Each worker pops a task, runs it, counts it as
     * finished, and stops when the queue is closed and empty. If a
     * pthread_create() fails, stop and join the workers already started
     * and free everything before returning its error.
     * Read: chapter 3, "A thread pool" and "A bounded queue". */
    (void)out;
    (void)nworkers;
    (void)capacity;
    return ENOSYS;
}

int tpool_submit(tpool *p, tpool_task_fn on_run, void *ctx)
{
    /* TODO: EINVAL for NULL arguments. Put the function and its context
     * in a small allocated struct, count it as pending BEFORE it can run,
     * push it (bqueue_push blocks while the queue is full; undo the count
     * if the push fails).
     * Read: chapter 3, "A thread pool". */
    (void)p;
    (void)on_run;
    (void)ctx;
    return ENOSYS;
}

int tpool_wait(tpool *p)
{
    /* TODO: EINVAL for NULL, EDEADLK when called by one of the workers
     * (pthread_equal with each of them). Otherwise wait on the condition
     * variable, in a while loop, until nothing is pending; the worker
     * that finishes the last pending task broadcasts.
     * Read: chapter 3, "Condition variables" and "A thread pool". */
    (void)p;
    return ENOSYS;
}

int tpool_destroy(tpool *p)
{
    /* TODO: 0 for NULL, EDEADLK from a worker. Close the queue (the
     * workers finish what is queued, then stop), join EVERY worker (that
     * is what waits for the running tasks), then free everything.
     * Read: chapter 3, "A thread pool". */
    (void)p;
    return ENOSYS;
}
