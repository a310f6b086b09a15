/*
 * offload: work on a pool of threads, completion on the event loop.
 *
 * The contract is in offload.h. Run the tests with
 *
 *     make check CHAPTER=5 EXERCISE=offload
 *
 * and ask for a hint with `make hint CHAPTER=5 EXERCISE=offload`.
 *
 * The event loop of chapter 4 (04-select/loop.h) is linked in, from the
 * reference solution.
 */
#include "offload.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

/* TODO: the fields: the loop; the worker threads; one mutex and a
 * condition variable guarding a work queue (doubly linked, so cancel can
 * take a request out of the middle) and a completion queue; a wake-up
 * pipe with a "wake-up pending" flag; and, for the loop's thread only,
 * a table from id to request, the next id, how many submissions still
 * wait for their on_done, and whether the pipe is watched. */
struct offload {
    int unused;
};

offload *offload_new(loop *l, size_t nworkers)
{
    /* TODO: EINVAL for NULL l or 0 workers. Allocate, initialise the
     * mutex and condition variable, make a non-blocking, close-on-exec
     * pipe (not watched yet), start the workers. If a pthread_create()
     * fails, stop and join the workers already started and free
     * everything. Each worker: take the first queued request (mark it
     * running, under the mutex), run its work without the mutex, then put
     * it on the completion queue and wake the loop.
     * Read: chapter 5, "The completion queue". */
    (void)l;
    (void)nworkers;
    errno = ENOSYS;
    return NULL;
}

long offload_submit(offload *o, offload_work_fn work, offload_done_fn on_done,
                    void *req, void *ctx)
{
    /* TODO: EINVAL for NULL arguments, EPIPE once offload_free() began.
     * Watch the pipe if it is not watched; count the submission as
     * pending; give it the next id; queue it and signal a worker.
     * Read: chapter 5, "Who owns the request". */
    (void)o;
    (void)work;
    (void)on_done;
    (void)req;
    (void)ctx;
    errno = ENOSYS;
    return -1;
}

int offload_cancel(offload *o, long id)
{
    /* TODO: EINVAL for NULL o, ENOENT for an unknown id. Under the
     * mutex: a request still queued is taken off the work queue and put
     * on the completion queue with ECANCELED (its on_done runs later,
     * from the loop); any other gives EBUSY.
     * Read: chapter 5, "Cancellation and timeouts". */
    (void)o;
    (void)id;
    errno = ENOSYS;
    return -1;
}

void offload_free(offload *o)
{
    /* TODO: nothing for NULL. Refuse submits (EPIPE); cancel the queued
     * requests; tell the workers to stop and join them (that waits for
     * the running work); unwatch the pipe; call every on_done not yet
     * run; close the pipe and free everything.
     * Read: chapter 5, "Exactly once". */
    (void)o;
}
