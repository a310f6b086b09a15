/*
 * Known-wrong tpool: when a worker cannot be started, tpool_create()
 * returns the error at once. The workers already started are left asleep
 * in bqueue_pop() on a queue nobody will close, for as long as the
 * program runs, and the pool's memory is lost with them.
 *
 * Caught by test_create_fails_cleanly, which makes the third of four
 * pthread_create() calls fail and counts the threads left running.
 */
#include "tpool.h"
#include "bqueue.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

struct tpool_task {
    tpool_task_fn on_run;
    void *ctx;
};

struct tpool {
    bqueue *queue;
    pthread_t *workers;
    size_t nworkers;
    pthread_mutex_t lock;
    pthread_cond_t idle; /* pending == 0 */
    size_t pending;      /* submitted and not yet finished; under lock */
};

/* Count one task as finished; the last one wakes the waiters. */
static void tpool_task_done(tpool *p)
{
    /* A worker has nobody to report an error to; a failure here means a
     * corrupted pool, and going on is as good as anything else. */
    if (pthread_mutex_lock(&p->lock) != 0)
        return;
    if (--p->pending == 0)
        (void)pthread_cond_broadcast(&p->idle);
    (void)pthread_mutex_unlock(&p->lock);
}

static void *tpool_worker(void *arg)
{
    tpool *p = arg;
    void *item;
    /* bqueue_pop() fails with EPIPE once the queue is closed and empty:
     * every task queued before destroy still runs. */
    while (bqueue_pop(p->queue, &item) == 0) {
        struct tpool_task *t = item;
        t->on_run(t->ctx);
        free(t);
        tpool_task_done(p);
    }
    return NULL;
}

static int tpool_is_worker(const tpool *p)
{
    pthread_t self = pthread_self();
    for (size_t i = 0; i < p->nworkers; i++)
        if (pthread_equal(p->workers[i], self))
            return 1;
    return 0;
}

/* Close the queue, join the first @p started workers, free everything. */
static int tpool_teardown(tpool *p, size_t started)
{
    int err = bqueue_close(p->queue);
    for (size_t i = 0; i < started; i++) {
        int jerr = pthread_join(p->workers[i], NULL);
        if (jerr != 0 && err == 0)
            err = jerr;
    }
    bqueue_destroy(p->queue);
    (void)pthread_cond_destroy(&p->idle);
    (void)pthread_mutex_destroy(&p->lock);
    free(p->workers);
    free(p);
    return err;
}

int tpool_create(tpool **out, size_t nworkers, size_t capacity)
{
    if (out == NULL || nworkers == 0 || capacity == 0)
        return EINVAL;
    tpool *p = calloc(1, sizeof *p);
    if (p == NULL)
        return ENOMEM;
    p->workers = calloc(nworkers, sizeof *p->workers);
    if (p->workers == NULL) {
        free(p);
        return ENOMEM;
    }
    int err = bqueue_create(&p->queue, capacity);
    if (err != 0)
        goto fail_queue;
    err = pthread_mutex_init(&p->lock, NULL);
    if (err != 0)
        goto fail_lock;
    err = pthread_cond_init(&p->idle, NULL);
    if (err != 0)
        goto fail_idle;
    p->nworkers = nworkers;
    for (size_t i = 0; i < nworkers; i++) {
        err = pthread_create(&p->workers[i], NULL, tpool_worker, p);
        if (err != 0)
            return err; /* BUG: workers 0..i-1 are neither stopped nor joined */
    }
    *out = p;
    return 0;

fail_idle:
    pthread_mutex_destroy(&p->lock);
fail_lock:
    bqueue_destroy(p->queue);
fail_queue:
    free(p->workers);
    free(p);
    return err;
}

int tpool_submit(tpool *p, tpool_task_fn on_run, void *ctx)
{
    if (p == NULL || on_run == NULL)
        return EINVAL;
    struct tpool_task *t = malloc(sizeof *t);
    if (t == NULL)
        return ENOMEM;
    t->on_run = on_run;
    t->ctx = ctx;

    /* Count the task before it can run (and finish): otherwise a worker
     * could decrement pending below the tasks still queued, and a
     * tpool_wait() could return early. */
    int err = pthread_mutex_lock(&p->lock);
    if (err != 0) {
        free(t);
        return err;
    }
    p->pending++;
    err = pthread_mutex_unlock(&p->lock);
    if (err == 0)
        err = bqueue_push(p->queue, t);
    if (err != 0) {
        free(t);
        tpool_task_done(p);
    }
    return err;
}

int tpool_wait(tpool *p)
{
    if (p == NULL)
        return EINVAL;
    if (tpool_is_worker(p))
        return EDEADLK;
    int err = pthread_mutex_lock(&p->lock);
    if (err != 0)
        return err;
    while (p->pending > 0) {
        err = pthread_cond_wait(&p->idle, &p->lock);
        if (err != 0)
            break;
    }
    int uerr = pthread_mutex_unlock(&p->lock);
    return err != 0 ? err : uerr;
}

int tpool_destroy(tpool *p)
{
    if (p == NULL)
        return 0;
    if (tpool_is_worker(p))
        return EDEADLK;
    /* Closing lets the workers drain the queue; joining each one waits
     * for the task it is running, if any. */
    return tpool_teardown(p, p->nworkers);
}
