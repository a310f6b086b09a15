/*
 * Known-wrong bqueue: bqueue_close() sets `closed` and broadcasts without
 * holding the mutex: the lost wake-up. The change can fall between a
 * consumer's test of the predicate and its pthread_cond_wait(): the
 * broadcast finds nobody waiting, and the consumer then waits for a
 * wake-up that has already gone.
 *
 * Caught by test_close_never_lost, which stops a consumer (through a
 * hook on pthread_cond_wait) after it has tested the predicate and
 * before it waits, and closes the queue right there; under
 * SANITIZE=thread, where there is no hook, the unlocked write is
 * reported as a data race.
 */
#include "bqueue.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

struct bqueue {
    pthread_mutex_t lock;
    pthread_cond_t not_empty; /* count > 0 or closed */
    pthread_cond_t not_full;  /* count < capacity or closed */
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
    err = pthread_cond_init(&q->not_empty, NULL);
    if (err != 0)
        goto fail_not_empty;
    err = pthread_cond_init(&q->not_full, NULL);
    if (err != 0)
        goto fail_not_full;
    q->slots = slots;
    q->capacity = capacity;
    q->head = 0;
    q->count = 0;
    q->closed = false;
    *out = q;
    return 0;

fail_not_full:
    pthread_cond_destroy(&q->not_empty);
fail_not_empty:
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
    (void)pthread_cond_destroy(&q->not_full);
    (void)pthread_cond_destroy(&q->not_empty);
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
    /* A while, not an if: another producer may have filled the slot we
     * were woken for before we got the mutex back. */
    while (q->count == q->capacity && !q->closed) {
        err = pthread_cond_wait(&q->not_full, &q->lock);
        if (err != 0)
            goto out;
    }
    if (q->closed) {
        err = EPIPE;
        goto out;
    }
    q->slots[(q->head + q->count) % q->capacity] = item;
    q->count++;
    err = pthread_cond_signal(&q->not_empty);
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
        err = pthread_cond_wait(&q->not_empty, &q->lock);
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
    err = pthread_cond_signal(&q->not_full);
out:;
    int uerr = pthread_mutex_unlock(&q->lock);
    return err != 0 ? err : uerr;
}

int bqueue_close(bqueue *q)
{
    if (q == NULL)
        return EINVAL;
    /* BUG: the flag changes, and the broadcast goes out, without the
     * mutex. A consumer that has just seen `closed == false` but has not
     * yet called pthread_cond_wait() misses both, and sleeps forever. */
    q->closed = true;
    int err = pthread_cond_broadcast(&q->not_empty);
    int berr = pthread_cond_broadcast(&q->not_full);
    return err != 0 ? err : berr;
}
