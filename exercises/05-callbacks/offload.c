/*
 * offload: work on a pool of threads, completion on the event loop.
 *
 * The contract is in offload.h. Run the tests with
 *
 *     make check CHAPTER=5 EXERCISE=offload
 *
 * and ask for a hint with `make hint CHAPTER=5 EXERCISE=offload`.
 *
 * The event loop of chapter 4 (04-select/loop.h) is linked in: in the
 * workbook the reference solution's, in a handout yours (graded first,
 * with your timerq).
 */
#include "offload.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

/* TODO: the fields you need. */
struct offload {
    int unused;
};

offload *offload_new(loop *l, size_t nworkers)
{
    /* TODO: see offload.h. Read: chapter 5, "The completion queue". */
    (void)l;
    (void)nworkers;
    errno = ENOSYS;
    return NULL;
}

long offload_submit(offload *o, offload_work_fn work, offload_done_fn on_done,
                    void *req, void *ctx)
{
    /* TODO: see offload.h. Read: chapter 5, "Who owns the request". */
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
    /* TODO: see offload.h. Read: chapter 5, "Cancellation and timeouts". */
    (void)o;
    (void)id;
    errno = ENOSYS;
    return -1;
}

void offload_free(offload *o)
{
    /* TODO: see offload.h. Read: chapter 5, "Exactly once". */
    (void)o;
}
