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
 * (offload.h) are linked in: in the workbook the reference solutions, in
 * a handout yours (graded first, with your timerq).
 */
#include "deadline.h"

#include <errno.h>
#include <stdlib.h>

long deadline_submit(offload *o, loop *l, long timeout_ms, offload_work_fn work,
                     offload_done_fn on_done, void *req, void *ctx)
{
    /* TODO: see deadline.h. Read: chapter 5, "A deadline races the work". */
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
