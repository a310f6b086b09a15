/*
 * cchan: a completion channel into the event loop.
 *
 * The contract is in cchan.h. Run the tests with
 *
 *     make check CHAPTER=5 EXERCISE=cchan
 *
 * and ask for a hint with `make hint CHAPTER=5 EXERCISE=cchan`.
 *
 * The event loop of chapter 4 (04-select/loop.h) is linked in: in the
 * workbook the reference solution's, in a handout yours (graded first,
 * with your timerq).
 */
#include "cchan.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

/* TODO: the fields you need. */
struct cchan {
    int unused;
};

cchan *cchan_new(loop *l, cchan_cb on_item, void *ctx)
{
    /* TODO: see cchan.h. Read: chapter 5, "The self-pipe and eventfd". */
    (void)l;
    (void)on_item;
    (void)ctx;
    errno = ENOSYS;
    return NULL;
}

int cchan_post(cchan *c, void *item)
{
    /* TODO: see cchan.h. Read: chapter 5, "Coalescing wake-ups". */
    (void)c;
    (void)item;
    return ENOSYS;
}

int cchan_close(cchan *c)
{
    /* TODO: see cchan.h. Read: chapter 5, "The completion queue". */
    (void)c;
    return ENOSYS;
}

void cchan_free(cchan *c)
{
    /* TODO: see cchan.h. Read: chapter 5, "Who owns the request". */
    (void)c;
}
