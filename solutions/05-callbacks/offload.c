/*
 * offload: work on a pool of threads, completion on the loop (reference
 * solution).
 *
 * The contract is in exercises/05-callbacks/offload.h.
 *
 * Each submission is a request record that moves through two queues,
 * both guarded by the offload's one mutex:
 *
 *     work queue  --worker takes it-->  (running)  --work returns-->
 *     completion queue  --loop's callback-->  on_done, then freed
 *
 * The work queue is doubly linked so that offload_cancel() can take a
 * request out of the middle of it: that, and not the chapter 3 bqueue,
 * is what makes cancellation possible (libuv's uv_cancel() does the
 * same to its thread pool's queue). A record's state (queued, running,
 * done) is changed only under the mutex, so a cancel and a worker that
 * takes the same request cannot both win: exactly one on_done.
 *
 * The completion side is the completion channel of exercise 1 again: a
 * pipe the loop watches, and a `wake_pending` flag so that a burst of
 * completions costs one write(). The pipe is watched only while some
 * submission's on_done has not run (`pending` > 0): an idle offload lets
 * loop_run() return.
 *
 * Ids are found by a small hash table that only the loop's thread uses
 * (submit, cancel and the completion callback all run there).
 */
#include "offload.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

enum offload_state { OFFLOAD_QUEUED, OFFLOAD_RUNNING, OFFLOAD_DONE };

struct offload_req {
    long id;
    offload_work_fn work;
    offload_done_fn on_done;
    void *req;
    void *ctx;
    int status;
    enum offload_state state; /* under the offload's mutex */
    /* In the work queue (both) or the completion queue (next only). */
    struct offload_req *prev, *next;
    struct offload_req *hnext; /* in its hash bucket; loop thread only */
};

struct offload {
    loop *l;
    int rfd, wfd; /* the wake-up pipe: the loop watches rfd */

    pthread_mutex_t lock; /* guards everything down to `stopping` */
    pthread_cond_t work_ready;
    struct offload_req *work_head, *work_tail;
    struct offload_req *done_head, *done_tail;
    int wake_pending; /* a byte is in the pipe */
    int stopping;     /* workers leave once the work queue is empty */

    /* Loop thread only. */
    struct offload_req **buckets;
    size_t nbuckets; /* a power of two */
    size_t pending;  /* submissions whose on_done has not run */
    long next_id;
    int watching;
    int freeing;

    pthread_t *workers;
    size_t nworkers;
};

enum { OFFLOAD_FIRST_BUCKETS = 64 };

/* --- The id table (loop thread) ------------------------------------------ */

static struct offload_req **offload_bucket(offload *o, long id)
{
    return &o->buckets[(unsigned long)id & (o->nbuckets - 1)];
}

/* Double the table when it holds more requests than buckets; without
 * memory it stays as it is, slower but correct. */
static void offload_grow(offload *o)
{
    size_t n = o->nbuckets * 2;
    struct offload_req **b = calloc(n, sizeof *b);
    if (b == NULL)
        return;
    for (size_t i = 0; i < o->nbuckets; i++) {
        struct offload_req *r = o->buckets[i];
        while (r != NULL) {
            struct offload_req *next = r->hnext;
            struct offload_req **head = &b[(unsigned long)r->id & (n - 1)];
            r->hnext = *head;
            *head = r;
            r = next;
        }
    }
    free(o->buckets);
    o->buckets = b;
    o->nbuckets = n;
}

static struct offload_req *offload_find(offload *o, long id)
{
    struct offload_req *r = *offload_bucket(o, id);
    while (r != NULL && r->id != id)
        r = r->hnext;
    return r;
}

static void offload_forget(offload *o, const struct offload_req *r)
{
    for (struct offload_req **p = offload_bucket(o, r->id); *p != NULL;
         p = &(*p)->hnext)
        if (*p == r) {
            *p = r->hnext;
            return;
        }
}

/* --- The completion queue ------------------------------------------------- */

/* Put a finished (or cancelled) request on the completion queue and make
 * sure the loop will look. Called with the mutex held. */
static void offload_complete_locked(offload *o, struct offload_req *r,
                                    int status)
{
    r->status = status;
    r->state = OFFLOAD_DONE;
    r->next = NULL;
    if (o->done_tail != NULL)
        o->done_tail->next = r;
    else
        o->done_head = r;
    o->done_tail = r;
    if (!o->wake_pending) {
        ssize_t w;
        do
            w = write(o->wfd, "!", 1);
        while (w == -1 && errno == EINTR);
        /* A failed write (EAGAIN: the pipe is full) leaves the flag
         * clear, so the next completion tries again; with a byte in a
         * full pipe the loop wakes anyway. */
        o->wake_pending = w == 1;
    }
}

/* Take every completed request off the queue, emptying the pipe and
 * clearing the flag in the same critical section. */
static struct offload_req *offload_take_done(offload *o)
{
    pthread_mutex_lock(&o->lock);
    char buf[64];
    ssize_t n;
    do
        n = read(o->rfd, buf, sizeof buf);
    while (n > 0 || (n == -1 && errno == EINTR));
    o->wake_pending = 0;
    struct offload_req *batch = o->done_head;
    o->done_head = o->done_tail = NULL;
    pthread_mutex_unlock(&o->lock);
    return batch;
}

/* Call on_done for each request of the batch, in order, and free it. */
static void offload_deliver(offload *o, struct offload_req *batch)
{
    while (batch != NULL) {
        struct offload_req *r = batch;
        batch = r->next;
        offload_forget(o, r);
        o->pending--;
        r->on_done(o, r->req, r->status, r->ctx);
        free(r);
    }
}

static void offload_on_ready(loop *l, int fd, int events, void *arg)
{
    (void)fd;
    (void)events;
    offload *o = arg;
    offload_deliver(o, offload_take_done(o));
    /* Nothing pending: let loop_run() return. An on_done that submitted
     * again kept pending above 0. */
    if (o->pending == 0 && o->watching) {
        (void)loop_unwatch(l, o->rfd);
        o->watching = 0;
    }
}

/* --- Workers -------------------------------------------------------------- */

static void *offload_worker(void *arg)
{
    offload *o = arg;
    pthread_mutex_lock(&o->lock);
    for (;;) {
        while (o->work_head == NULL && !o->stopping)
            pthread_cond_wait(&o->work_ready, &o->lock);
        struct offload_req *r = o->work_head;
        if (r == NULL)
            break; /* stopping, and nothing left to run */
        o->work_head = r->next;
        if (o->work_head != NULL)
            o->work_head->prev = NULL;
        else
            o->work_tail = NULL;
        r->state = OFFLOAD_RUNNING; /* from now on cancel says EBUSY */
        pthread_mutex_unlock(&o->lock);

        int status = r->work(r->req);

        pthread_mutex_lock(&o->lock);
        offload_complete_locked(o, r, status);
    }
    pthread_mutex_unlock(&o->lock);
    return NULL;
}

/* Tell the workers to leave once the queue is empty, and join them. */
static void offload_stop_workers(offload *o, size_t started)
{
    pthread_mutex_lock(&o->lock);
    o->stopping = 1;
    pthread_cond_broadcast(&o->work_ready);
    pthread_mutex_unlock(&o->lock);
    for (size_t i = 0; i < started; i++)
        pthread_join(o->workers[i], NULL);
}

/* --- The contract ----------------------------------------------------------
 */

static int offload_set_flags(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    int fd_fl = fcntl(fd, F_GETFD);
    if (fl == -1 || fd_fl == -1 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1 ||
        fcntl(fd, F_SETFD, fd_fl | FD_CLOEXEC) == -1)
        return -1;
    return 0;
}

/* Free what offload_new() made, threads excepted. */
static void offload_release(offload *o)
{
    close(o->rfd);
    close(o->wfd);
    pthread_cond_destroy(&o->work_ready);
    pthread_mutex_destroy(&o->lock);
    free(o->workers);
    free(o->buckets);
    free(o);
}

offload *offload_new(loop *l, size_t nworkers)
{
    if (l == NULL || nworkers == 0) {
        errno = EINVAL;
        return NULL;
    }
    offload *o = calloc(1, sizeof *o);
    if (o == NULL)
        return NULL;
    o->l = l;
    o->next_id = 1;
    o->nworkers = nworkers;
    o->nbuckets = OFFLOAD_FIRST_BUCKETS;
    o->buckets = calloc(o->nbuckets, sizeof *o->buckets);
    o->workers = calloc(nworkers, sizeof *o->workers);
    if (o->buckets == NULL || o->workers == NULL) {
        free(o->buckets);
        free(o->workers);
        free(o);
        errno = ENOMEM;
        return NULL;
    }
    int err = pthread_mutex_init(&o->lock, NULL);
    if (err == 0) {
        err = pthread_cond_init(&o->work_ready, NULL);
        if (err != 0)
            pthread_mutex_destroy(&o->lock);
    }
    if (err != 0) {
        free(o->buckets);
        free(o->workers);
        free(o);
        errno = err;
        return NULL;
    }
    int fds[2];
    if (pipe(fds) == -1) {
        o->rfd = o->wfd = -1;
        err = errno;
        offload_release(o);
        errno = err;
        return NULL;
    }
    o->rfd = fds[0];
    o->wfd = fds[1];
    if (offload_set_flags(o->rfd) == -1 || offload_set_flags(o->wfd) == -1) {
        err = errno;
        offload_release(o);
        errno = err;
        return NULL;
    }
    for (size_t i = 0; i < nworkers; i++) {
        err = pthread_create(&o->workers[i], NULL, offload_worker, o);
        if (err != 0) {
            offload_stop_workers(o, i);
            offload_release(o);
            errno = err;
            return NULL;
        }
    }
    return o;
}

long offload_submit(offload *o, offload_work_fn work, offload_done_fn on_done,
                    void *req, void *ctx)
{
    if (o == NULL || work == NULL || on_done == NULL) {
        errno = EINVAL;
        return -1;
    }
    if (o->freeing) {
        errno = EPIPE;
        return -1;
    }
    struct offload_req *r = calloc(1, sizeof *r);
    if (r == NULL)
        return -1;
    if (!o->watching) {
        if (loop_watch(o->l, o->rfd, LOOP_READ, offload_on_ready, o) == -1) {
            free(r);
            return -1;
        }
        o->watching = 1;
    }
    r->id = o->next_id++;
    r->work = work;
    r->on_done = on_done;
    r->req = req;
    r->ctx = ctx;
    r->state = OFFLOAD_QUEUED;
    if (o->pending >= o->nbuckets)
        offload_grow(o);
    struct offload_req **head = offload_bucket(o, r->id);
    r->hnext = *head;
    *head = r;
    o->pending++;

    pthread_mutex_lock(&o->lock);
    r->prev = o->work_tail;
    if (o->work_tail != NULL)
        o->work_tail->next = r;
    else
        o->work_head = r;
    o->work_tail = r;
    pthread_cond_signal(&o->work_ready);
    pthread_mutex_unlock(&o->lock);
    return r->id;
}

int offload_cancel(offload *o, long id)
{
    if (o == NULL) {
        errno = EINVAL;
        return -1;
    }
    struct offload_req *r = offload_find(o, id);
    if (r == NULL) {
        errno = ENOENT;
        return -1;
    }
    pthread_mutex_lock(&o->lock);
    if (r->state != OFFLOAD_QUEUED) {
        pthread_mutex_unlock(&o->lock);
        errno = EBUSY;
        return -1;
    }
    if (r->prev != NULL)
        r->prev->next = r->next;
    else
        o->work_head = r->next;
    if (r->next != NULL)
        r->next->prev = r->prev;
    else
        o->work_tail = r->prev;
    /* On the completion queue, not called here: on_done runs later, from
     * the loop, like every other completion. */
    offload_complete_locked(o, r, ECANCELED);
    pthread_mutex_unlock(&o->lock);
    return 0;
}

void offload_free(offload *o)
{
    if (o == NULL)
        return;
    o->freeing = 1;
    /* Cancel what has not started, in queue order. */
    pthread_mutex_lock(&o->lock);
    while (o->work_head != NULL) {
        struct offload_req *r = o->work_head;
        o->work_head = r->next;
        offload_complete_locked(o, r, ECANCELED);
    }
    o->work_tail = NULL;
    pthread_mutex_unlock(&o->lock);
    /* Joining the workers is what waits for the running work. */
    offload_stop_workers(o, o->nworkers);
    if (o->watching) {
        (void)loop_unwatch(o->l, o->rfd);
        o->watching = 0;
    }
    offload_deliver(o, offload_take_done(o));
    offload_release(o);
}
