/*
 * deadline: a request on an offload with a time limit.
 *
 * The contract is in deadline.h. Run the tests with
 *
 *     make check CHAPTER=5 EXERCISE=deadline
 *
 * and ask for a hint with `make hint CHAPTER=5 EXERCISE=deadline`.
 *
 * The loop of chapter 4 (04-select/loop.h) and the offload of exercise 2
 * (offload.h) are linked in, from their reference solutions.
 */
#include "deadline.h"

#include <errno.h>
#include <stdlib.h>

long deadline_submit(offload *o, loop *l, long timeout_ms, offload_work_fn work,
                     offload_done_fn on_done, void *req, void *ctx)
{
    /* TODO: EINVAL for bad arguments. Allocate a record for the request
     * (offload, loop, on_done, req, ctx, the timer's id, the offload's
     * id, who won). Add the loop timer FIRST, then offload_submit() the
     * work with a done callback of yours and the record as its context
     * (if the submit fails, cancel the timer and free the record).
     * Whichever of your two callbacks runs first reports to on_done;
     * the second sees that it lost. The offload's completion always
     * comes, so it is the one that frees the record.
     * Read: chapter 5, "A deadline races the work". */
    (void)o;
    (void)l;
    (void)timeout_ms;
    (void)work;
    (void)on_done;
    (void)req;
    (void)ctx;
    errno = ENOSYS;
    return -1;
}
