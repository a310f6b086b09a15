/*
 * future: futures on the event loop of chapter 4.
 *
 * The contract is in future.h. Run the tests with
 *
 *     make check CHAPTER=5 EXERCISE=future
 *
 * and ask for a hint with `make hint CHAPTER=5 EXERCISE=future`.
 *
 * The loop of chapter 4 (04-select/loop.h) is linked in: in the
 * workbook the reference solution's, in a handout yours (graded first,
 * with your timerq).
 */
#include "future.h"

#include <errno.h>
#include <stdlib.h>

/* TODO: the fields you need. */
struct future {
    int unused;
};

future *future_new(loop *l)
{
    /* TODO: see future.h. Read: chapter 5, "Futures and promises". */
    (void)l;
    errno = ENOSYS;
    return NULL;
}

int future_resolve(future *f, void *value)
{
    /* TODO: see future.h. Read: chapter 5, "Never call a continuation
     * synchronously". */
    (void)f;
    (void)value;
    return ENOSYS;
}

int future_reject(future *f, int err)
{
    /* TODO: see future.h. Read: chapter 5, "Failure is a result too". */
    (void)f;
    (void)err;
    return ENOSYS;
}

int future_then(future *f, future_cb on_settled, void *ctx)
{
    /* TODO: see future.h. Read: chapter 5, "Futures and promises". */
    (void)f;
    (void)on_settled;
    (void)ctx;
    return ENOSYS;
}

int future_state(const future *f, void **value, int *err)
{
    /* TODO: see future.h. Read: chapter 5, "Futures and promises". */
    (void)f;
    (void)value;
    (void)err;
    return 0;
}

future *future_all(loop *l, future **fs, size_t n)
{
    /* TODO: see future.h. Read: chapter 5, "Futures and promises". */
    (void)l;
    (void)fs;
    (void)n;
    errno = ENOSYS;
    return NULL;
}

void future_free(future *f)
{
    /* TODO: see future.h. Read: chapter 5, "Who owns the request". */
    (void)f;
}
