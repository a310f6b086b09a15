/**
 * @file bqueue.h
 * @brief A bounded blocking queue of pointers, with close.
 *
 * Exercise 3 of chapter 3 ("Threads: two things at once in one address
 * space").
 *
 * A ::bqueue carries pointers from producer threads to consumer threads,
 * first in, first out. It holds at most `capacity` items:
 *
 * - bqueue_push() blocks while the queue is full, until a pop makes room;
 * - bqueue_pop() blocks while the queue is empty, until a push brings an
 *   item;
 * - bqueue_close() says "no more items": pushes fail from then on, pops
 *   still get what is left, then report that the queue is closed, and
 *   every thread blocked in either call wakes up.
 *
 * Built from one mutex and two condition variables ("not full" and "not
 * empty").
 *
 * Promises (each checked by the tests that name its tag):
 *
 * - [fifo] Items come out in the order they went in, across any number
 *   of wrap-arounds of the slots. The queue stores the pointers, never
 *   what they point to, and NULL is a valid item.
 * - [push-blocks] bqueue_push() blocks while the queue is full and open,
 *   and returns as soon as a pop makes room: with two producers asleep
 *   on a full queue, two pops let both of them push.
 * - [pop-blocks] bqueue_pop() blocks while the queue is empty and open,
 *   and returns the oldest item as soon as there is one: with two
 *   consumers asleep on an empty queue, two pushes wake both of them.
 * - [while-loop] A waiting thread re-tests its condition in a `while`
 *   loop around `pthread_cond_wait()`: when it wakes, another thread may
 *   already have taken the item (or the room) it was woken for, and
 *   wake-ups may also come for no reason at all.
 * - [locked-changes] Every change to what a waiter tests (the items, the
 *   closed flag) is made with the mutex held, or a waiter can test, miss
 *   the change and sleep through the only wake-up it would get.
 * - [close-wakes-all] bqueue_close() wakes every thread blocked in
 *   bqueue_push() (they fail with `EPIPE`) and every thread blocked in
 *   bqueue_pop(): a `pthread_cond_broadcast()` on both condition
 *   variables, not a signal.
 * - [close-drains] After bqueue_close(), pops still return the items
 *   left, oldest first; then `EPIPE` at once, every time, without
 *   writing `*item`. Closing again does nothing and returns 0.
 * - [push-closed] A push to a closed queue fails with `EPIPE` and adds
 *   nothing, even when there is room.
 * - [exactly-once] With many producers and consumers at once, every item
 *   pushed is popped exactly once, and each producer's items come out
 *   in the order it pushed them.
 * - [einval] A NULL queue, a NULL `item` pointer in bqueue_pop(), a NULL
 *   `out` or a capacity of 0 gives `EINVAL`, and the queue is left as
 *   it was.
 * - [create-fails] When bqueue_create() fails (no memory for the queue
 *   or its slots, or a `pthread_mutex_init()` or `pthread_cond_init()`
 *   that fails: the tests make each one fail), it returns the error
 *   number, leaves `*out` as it was and keeps nothing allocated.
 * - [destroy] bqueue_destroy() frees everything bqueue_create()
 *   allocated, and nothing else: the items still in the queue are not
 *   freed (they belong to whoever pushed them). bqueue_destroy(NULL)
 *   does nothing.
 *
 * Error handling follows the pthread convention: functions return 0 on
 * success and an error number on failure, and do not use `errno`.
 *
 * Which thread may call what: bqueue_push(), bqueue_pop() and
 * bqueue_close() from any thread, any number at once.
 * bqueue_create() and bqueue_destroy() once each, from the owner, when
 * no other thread uses the queue.
 */
#ifndef BQUEUE_H
#define BQUEUE_H

#include <stddef.h>

/**
 * @brief A bounded blocking queue. Opaque: use the functions below.
 *
 * Made by bqueue_create(), freed by bqueue_destroy().
 */
typedef struct bqueue bqueue;

/**
 * @brief Make an empty, open queue that holds at most @p capacity items.
 *
 * @param out       receives the new queue on success; left as it was on
 *                  failure. Must not be NULL.
 * @param capacity  the most items the queue holds at once; at least 1.
 * @return 0 on success; otherwise an error number and nothing is
 *         allocated:
 *         - `EINVAL`: @p out is NULL or @p capacity is 0;
 *         - `ENOMEM`: no memory for the queue and its @p capacity slots;
 *         - the error number of `pthread_mutex_init()` or
 *           `pthread_cond_init()`.
 */
int bqueue_create(bqueue **out, size_t capacity);

/**
 * @brief Free a queue.
 *
 * Call it once, from the owner, when no thread is blocked in or will
 * call any function of the queue (close it and join the threads that use
 * it first). Items still in the queue are not freed: they belong to
 * whoever pushed them.
 *
 * @param q  the queue from bqueue_create(); NULL does nothing.
 */
void bqueue_destroy(bqueue *q);

/**
 * @brief Add @p item at the tail, waiting while the queue is full.
 *
 * Blocks the calling thread while the queue holds `capacity` items and
 * is open. Returns as soon as the item is in the queue (and wakes a
 * consumer waiting in bqueue_pop()), or as soon as the queue is closed:
 * a push blocked on a full queue fails when bqueue_close() is called.
 * Any thread may call it.
 *
 * @param q     the queue; must not be NULL.
 * @param item  the pointer to queue; may be NULL. The queue keeps the
 *              pointer only, and the caller keeps ownership of what it
 *              points to.
 * @return 0 when the item was added; otherwise an error number and the
 *         item was not added:
 *         - `EINVAL`: @p q is NULL;
 *         - `EPIPE`: the queue is closed (it was before the call, or it
 *           was closed while this push waited for room);
 *         - the error number of a pthread mutex or condition variable
 *           call.
 */
int bqueue_push(bqueue *q, void *item);

/**
 * @brief Take the item at the head, waiting while the queue is empty.
 *
 * Blocks the calling thread while the queue is empty and open. Returns
 * the oldest item as soon as there is one (and wakes a producer waiting
 * in bqueue_push()). After bqueue_close(), it still returns the items
 * left in the queue, oldest first; once those are gone it returns
 * `EPIPE` at once, every time. Any thread may call it; each item is
 * returned to exactly one caller.
 *
 * @param q     the queue; must not be NULL.
 * @param item  receives the item; written only when 0 is returned. Must
 *              not be NULL.
 * @return 0 when an item was taken; otherwise an error number and
 *         `*item` is not written:
 *         - `EINVAL`: @p q or @p item is NULL;
 *         - `EPIPE`: the queue is closed and empty: no item will ever
 *           come;
 *         - the error number of a pthread mutex or condition variable
 *           call.
 */
int bqueue_pop(bqueue *q, void **item);

/**
 * @brief Close the queue: no more pushes, and every waiter wakes up.
 *
 * Marks the queue closed (with the mutex held) and wakes every thread
 * blocked in bqueue_push() (they fail with `EPIPE`) and every thread
 * blocked in bqueue_pop() (they take the items left, or fail with
 * `EPIPE` when there are none). Closing an already closed queue does
 * nothing and succeeds. Any thread may call it.
 *
 * @param q  the queue; must not be NULL.
 * @return 0 on success; otherwise an error number:
 *         - `EINVAL`: @p q is NULL;
 *         - the error number of a pthread mutex or condition variable
 *           call.
 */
int bqueue_close(bqueue *q);

#endif
