/*
 * tpool: a fixed pool of worker threads fed by a bounded queue.
 *
 * The contract is in tpool.h. Run the tests with
 *
 *     make check CHAPTER=3 EXERCISE=tpool
 *
 * and ask for a hint with `make hint CHAPTER=3 EXERCISE=tpool`.
 *
 * The bqueue of exercise 3 (bqueue.h) is linked in, for you to use: in
 * the workbook the reference solution's, in a handout yours (graded
 * first).
 */
#include "tpool.h"
#include "bqueue.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

/* TODO: the fields you need. */
struct tpool {
    int unused;
};

int tpool_create(tpool **out, size_t nworkers, size_t capacity)
{
    /* TODO: see tpool.h. Read: chapter 3, "A thread pool" and "A bounded
     * queue". */
    (void)out;
    (void)nworkers;
    (void)capacity;
    return ENOSYS;
}

int tpool_submit(tpool *p, tpool_task_fn on_run, void *ctx)
{
    /* TODO: see tpool.h. Read: chapter 3, "A thread pool". */
    (void)p;
    (void)on_run;
    (void)ctx;
    return ENOSYS;
}

int tpool_wait(tpool *p)
{
    /* TODO: see tpool.h. Read: chapter 3, "Condition variables" and "A
     * thread pool". */
    (void)p;
    return ENOSYS;
}

int tpool_destroy(tpool *p)
{
    /* TODO: see tpool.h. Read: chapter 3, "A thread pool". */
    (void)p;
    return ENOSYS;
}
