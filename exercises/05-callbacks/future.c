/*
 * future: futures on the event loop of chapter 4.
 *
 * The contract is in future.h. Run the tests with
 *
 *     make check CHAPTER=5 EXERCISE=future
 *
 * and ask for a hint with `make hint CHAPTER=5 EXERCISE=future`.
 *
 * The loop of chapter 4 (04-select/loop.h) is linked in, from the
 * reference solution: a loop timer of 0 ms is how a future gets its
 * continuations called later, from loop_run().
 */
#include "future.h"

#include <errno.h>
#include <stdlib.h>

/* TODO: the fields: the loop, the state (pending, resolved, rejected),
 * the value and the error, the continuations not yet run (a FIFO list of
 * callback and context), whether a loop timer is scheduled to run them,
 * and what keeps the future allocated (its owner, a scheduled or running
 * dispatch, a future_all() waiting to settle it). */
struct future {
    int unused;
};

future *future_new(loop *l)
{
    /* TODO: EINVAL for a NULL loop; allocate a pending future that its
     * owner holds. Read: chapter 5, "Futures and promises". */
    (void)l;
    errno = ENOSYS;
    return NULL;
}

int future_resolve(future *f, void *value)
{
    /* TODO: EINVAL for NULL, EALREADY once settled. Never call a
     * continuation here: if some are registered, schedule ONE loop timer
     * of 0 ms whose callback calls them in order (if the timer cannot be
     * added, change nothing and fail). Then record the value.
     * Read: chapter 5, "Never call a continuation synchronously". */
    (void)f;
    (void)value;
    return ENOSYS;
}

int future_reject(future *f, int err)
{
    /* TODO: as future_resolve(), with an error (EINVAL for err 0).
     * Read: chapter 5, "Failure is a result too". */
    (void)f;
    (void)err;
    return ENOSYS;
}

int future_then(future *f, future_cb on_settled, void *ctx)
{
    /* TODO: EINVAL for NULLs. Append a node to the list; if the future
     * has settled and no timer is scheduled yet, schedule one (if that
     * fails, take the node back and fail). The timer's callback detaches
     * the list BEFORE calling the continuations, so those registered
     * while they run wait for a timer of their own.
     * Read: chapter 5, "Futures and promises". */
    (void)f;
    (void)on_settled;
    (void)ctx;
    return ENOSYS;
}

int future_state(const future *f, void **value, int *err)
{
    /* TODO: 0, 1 or -1; write *value only when resolved, *err only when
     * rejected, and only when the pointer is not NULL. */
    (void)f;
    (void)value;
    (void)err;
    return 0;
}

future *future_all(loop *l, future **fs, size_t n)
{
    /* TODO: check the arguments (EINVAL). An input rejected already
     * decides at once (the first in fs); all resolved (or n == 0) too.
     * Otherwise allocate everything first (a join record: the joined
     * future, how many inputs are unresolved, how many of its
     * continuations have not run), then register a continuation on each
     * pending input: it rejects the joined future at the first
     * rejection, resolves it at the last resolution, and frees the join
     * after the last of them ran. Read: chapter 5, "Futures and
     * promises". */
    (void)l;
    (void)fs;
    (void)n;
    errno = ENOSYS;
    return NULL;
}

void future_free(future *f)
{
    /* TODO: NULL does nothing. A pending future is rejected with
     * ECANCELED. Then drop the owner's hold: the memory goes only when
     * no dispatch is scheduled or running and no join still needs it.
     * Read: chapter 5, "Who owns the request". */
    (void)f;
}
