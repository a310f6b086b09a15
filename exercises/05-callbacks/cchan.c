/*
 * cchan: a completion channel into the event loop.
 *
 * The contract is in cchan.h. Run the tests with
 *
 *     make check CHAPTER=5 EXERCISE=cchan
 *
 * and ask for a hint with `make hint CHAPTER=5 EXERCISE=cchan`.
 *
 * The event loop of chapter 4 (04-select/loop.h) is linked in, from the
 * reference solution.
 */
#include "cchan.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

/* TODO: the fields: the loop, on_item and its ctx; the two ends of the
 * wake-up pipe; a mutex guarding a FIFO list of items, a "wake-up
 * pending" flag and a "closed" flag; and, for the loop's thread only,
 * whether the read end is watched. */
struct cchan {
    int unused;
};

cchan *cchan_new(loop *l, cchan_cb on_item, void *ctx)
{
    /* TODO: EINVAL for NULL l or on_item. Allocate, initialise the
     * mutex, make a pipe, make both ends non-blocking and close-on-exec
     * (fcntl), watch the read end for LOOP_READ with a callback of your
     * own. On any failure undo what was done and return NULL with errno.
     * Read: chapter 5, "The self-pipe and eventfd". */
    (void)l;
    (void)on_item;
    (void)ctx;
    errno = ENOSYS;
    return NULL;
}

int cchan_post(cchan *c, void *item)
{
    /* TODO: EINVAL for NULL c. Allocate a node, then under the mutex:
     * EPIPE if closed; append the node; write one byte to the pipe only
     * if no wake-up is pending, and mark one pending.
     * Read: chapter 5, "Coalescing wake-ups". */
    (void)c;
    (void)item;
    return ENOSYS;
}

int cchan_close(cchan *c)
{
    /* TODO: EINVAL for NULL c. Mark the channel closed (under the mutex).
     * If nothing is queued (and the loop's callback is not in the middle
     * of a batch), unwatch the pipe now; otherwise the loop's callback
     * unwatches it after delivering the last item.
     * Read: chapter 5, "The completion queue". */
    (void)c;
    return ENOSYS;
}

void cchan_free(cchan *c)
{
    /* TODO: nothing for NULL. Unwatch the pipe if it is still watched,
     * free the queued nodes (not the items: they are the caller's),
     * close both ends, destroy the mutex, free the channel.
     * Read: chapter 5, "Who owns the request". */
    (void)c;
}
