/*
 * Known-wrong bqueue: one condition variable for both kinds of waiter,
 * and pthread_cond_signal(). Producers wait on it for room, consumers for
 * an item; a pop's signal, meant for a producer, can wake another
 * consumer instead, which finds the queue empty and sleeps again, and
 * the producer sleeps on although there is room. With one slot, threads
 * of both kinds are asleep most of the time, and within a few items every
 * thread is asleep.
 *
 * Caught by test_many_through_one_slot (4 producers and 4 consumers
 * through a queue of capacity 1 stop moving), plain and under
 * SANITIZE=thread. With capacity 8 the stress test usually passes.
 */
#include "bqueue.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

struct bqueue {
    pthread_mutex_t lock;
    pthread_cond_t changed; /* an item, a free slot, or closed */
    void **slots;
    size_t capacity;
    size_t head;  /* index of the oldest item */
    size_t count; /* items in the queue */
    bool closed;
};

int bqueue_create(bqueue **out, size_t capacity)
{
    if (out == NULL || capacity == 0)
        return EINVAL;
    bqueue *q = malloc(sizeof *q);
    void **slots = calloc(capacity, sizeof *slots);
    if (q == NULL || slots == NULL) {
        free(q);
        free(slots);
        return ENOMEM;
    }
    int err = pthread_mutex_init(&q->lock, NULL);
    if (err != 0)
        goto fail_mutex;
    err = pthread_cond_init(&q->changed, NULL);
    if (err != 0)
        goto fail_changed;
    q->slots = slots;
    q->capacity = capacity;
    q->head = 0;
    q->count = 0;
    q->closed = false;
    *out = q;
    return 0;

fail_changed:
    pthread_mutex_destroy(&q->lock);
fail_mutex:
    free(slots);
    free(q);
    return err;
}

void bqueue_destroy(bqueue *q)
{
    if (q == NULL)
        return;
    /* These fail only if a thread still uses the queue, which the
     * contract forbids; there is nothing better to do than go on. */
    (void)pthread_cond_destroy(&q->changed);
    (void)pthread_mutex_destroy(&q->lock);
    free(q->slots);
    free(q);
}

int bqueue_push(bqueue *q, void *item)
{
    if (q == NULL)
        return EINVAL;
    int err = pthread_mutex_lock(&q->lock);
    if (err != 0)
        return err;
    while (q->count == q->capacity && !q->closed) {
        err = pthread_cond_wait(&q->changed, &q->lock);
        if (err != 0)
            goto out;
    }
    if (q->closed) {
        err = EPIPE;
        goto out;
    }
    q->slots[(q->head + q->count) % q->capacity] = item;
    q->count++;
    err = pthread_cond_signal(&q->changed); /* wakes any one waiter */
out:;
    int uerr = pthread_mutex_unlock(&q->lock);
    return err != 0 ? err : uerr;
}

int bqueue_pop(bqueue *q, void **item)
{
    if (q == NULL || item == NULL)
        return EINVAL;
    int err = pthread_mutex_lock(&q->lock);
    if (err != 0)
        return err;
    while (q->count == 0 && !q->closed) {
        err = pthread_cond_wait(&q->changed, &q->lock);
        if (err != 0)
            goto out;
    }
    /* Closed queues still hand out what they hold. */
    if (q->count == 0) {
        err = EPIPE;
        goto out;
    }
    *item = q->slots[q->head];
    q->slots[q->head] = NULL;
    q->head = (q->head + 1) % q->capacity;
    q->count--;
    /* Meant for a producer, but it may wake a consumer instead. */
    err = pthread_cond_signal(&q->changed);
out:;
    int uerr = pthread_mutex_unlock(&q->lock);
    return err != 0 ? err : uerr;
}

int bqueue_close(bqueue *q)
{
    if (q == NULL)
        return EINVAL;
    int err = pthread_mutex_lock(&q->lock);
    if (err != 0)
        return err;
    q->closed = true;
    err = pthread_cond_broadcast(&q->changed);
    int uerr = pthread_mutex_unlock(&q->lock);
    return err != 0 ? err : uerr;
}
