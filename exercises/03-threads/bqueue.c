/*
 * bqueue: a bounded blocking queue with close.
 *
 * The contract is in bqueue.h. Run the tests with
 *
 *     make check CHAPTER=3 EXERCISE=bqueue
 *
 * and ask for a hint with `make hint CHAPTER=3 EXERCISE=bqueue`.
 */
#include "bqueue.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

/* TODO: the fields you need. */
struct bqueue {
    int unused;
};

int bqueue_create(bqueue **out, size_t capacity)
{
    /* TODO: see bqueue.h. Read: chapter 3, "A bounded queue". */
    (void)out;
    (void)capacity;
    return ENOSYS;
}

void bqueue_destroy(bqueue *q)
{
    /* TODO: see bqueue.h. Read: chapter 3, "A bounded queue". */
    (void)q;
}

int bqueue_push(bqueue *q, void *item)
{
    /* TODO: see bqueue.h. Read: chapter 3, "Condition variables" and "A
     * bounded queue". */
    (void)q;
    (void)item;
    return ENOSYS;
}

int bqueue_pop(bqueue *q, void **item)
{
    /* TODO: see bqueue.h. Read: chapter 3, "Condition variables" and "A
     * bounded queue". */
    (void)q;
    (void)item;
    return ENOSYS;
}

int bqueue_close(bqueue *q)
{
    /* TODO: see bqueue.h. Read: chapter 3, "Condition variables". */
    (void)q;
    return ENOSYS;
}
