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

/* TODO: the fields: the slots (a ring of `capacity` pointers), the index
 * of the oldest item, how many items there are, the closed flag, one
 * mutex and two condition variables ("not empty", "not full"). */
struct bqueue {
    int unused;
};

int bqueue_create(bqueue **out, size_t capacity)
{
    /* TODO: EINVAL for a NULL out or a capacity of 0; allocate the queue
     * and its slots; initialise the mutex and both condition variables
     * (each returns an error number: undo what was done and return it).
     * Read: chapter 3, "A bounded queue". */
    (void)out;
    (void)capacity;
    return ENOSYS;
}

void bqueue_destroy(bqueue *q)
{
    /* TODO: nothing for NULL; destroy the condition variables and the
     * mutex, free the slots and the queue (not the items).
     * Read: chapter 3, "A bounded queue". */
    (void)q;
}

int bqueue_push(bqueue *q, void *item)
{
    /* TODO: lock; WHILE the queue is full and open, wait on "not full";
     * if it is closed, unlock and return EPIPE; otherwise store the item
     * at the tail, signal "not empty", unlock.
     * Read: chapter 3, "Condition variables" and "A bounded queue". */
    (void)q;
    (void)item;
    return ENOSYS;
}

int bqueue_pop(bqueue *q, void **item)
{
    /* TODO: lock; WHILE the queue is empty and open, wait on "not empty";
     * if it is still empty (so closed), unlock and return EPIPE; otherwise
     * take the oldest item, signal "not full", unlock.
     * Read: chapter 3, "Condition variables" and "A bounded queue". */
    (void)q;
    (void)item;
    return ENOSYS;
}

int bqueue_close(bqueue *q)
{
    /* TODO: lock, set the closed flag, wake EVERY waiter on both
     * condition variables (broadcast), unlock. Changing the flag without
     * the mutex loses wake-ups.
     * Read: chapter 3, "Condition variables". */
    (void)q;
    return ENOSYS;
}
