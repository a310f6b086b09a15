/*
 * deadline: the reference solution (contract in exercises/05-callbacks/
 * deadline.h).
 *
 * One record per request, shared by its two contenders: the loop timer
 * and the offload's completion. Both run on the loop's thread, so the
 * record needs no lock: the first to run reports to the caller and
 * leaves a mark for the second. The completion always comes (the
 * offload promises one per submission, the cancelled ones included), so
 * it is the one that frees the record. The timer never outlives the
 * record: either it ran, or the completion cancels it.
 */
#include "deadline.h"

#include <errno.h>
#include <stdlib.h>

struct deadline_req {
    offload *o;
    loop *l;
    offload_done_fn on_done;
    void *req;
    void *ctx;
    long id;       /* the offload's */
    long timer;    /* the loop's */
    int timed_out; /* the timer won: swallow the completion */
};

/* The offload's completion: the work finished, or was cancelled. */
static void deadline_on_done(offload *o, void *req, int status, void *arg)
{
    struct deadline_req *d = arg;
    if (!d->timed_out) {
        (void)loop_cancel_timer(d->l, d->timer);
        d->on_done(o, req, status, d->ctx);
    }
    free(d);
}

/* The limit passed before the work finished. */
static void deadline_on_timeout(loop *l, void *arg)
{
    struct deadline_req *d = arg;
    (void)l;
    d->timed_out = 1;
    /* A request no worker took yet need not run at all. EBUSY: it runs,
     * and its completion will free the record. */
    (void)offload_cancel(d->o, d->id);
    d->on_done(d->o, d->req, ETIMEDOUT, d->ctx);
}

long deadline_submit(offload *o, loop *l, long timeout_ms, offload_work_fn work,
                     offload_done_fn on_done, void *req, void *ctx)
{
    if (o == NULL || l == NULL || work == NULL || on_done == NULL ||
        timeout_ms < 0) {
        errno = EINVAL;
        return -1;
    }
    struct deadline_req *d = malloc(sizeof *d);
    if (d == NULL) {
        errno = ENOMEM;
        return -1;
    }
    *d = (struct deadline_req){o, l, on_done, req, ctx, 0, 0, 0};
    /* The timer first: it can be taken back, a submitted work cannot. */
    d->timer = loop_add_timer(l, timeout_ms, deadline_on_timeout, d);
    if (d->timer < 0) {
        free(d);
        return -1;
    }
    d->id = offload_submit(o, work, deadline_on_done, req, d);
    if (d->id < 0) {
        int err = errno;
        (void)loop_cancel_timer(l, d->timer);
        free(d);
        errno = err;
        return -1;
    }
    return d->id;
}
