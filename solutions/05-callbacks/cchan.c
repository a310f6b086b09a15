/*
 * cchan: a completion channel into the event loop (reference solution).
 *
 * The contract is in exercises/05-callbacks/cchan.h.
 *
 * A queue of items (a singly linked list with a tail pointer) and a
 * pipe, both guarded by one mutex. `wake_pending` says that a byte is in
 * the pipe, or that the loop has been told some other way and will look
 * at the queue: while it is set, posts only append. The loop's callback,
 * under the same mutex, empties the pipe, clears the flag and takes the
 * whole queue, then delivers the taken items with the mutex released.
 * Doing those three things in one critical section is what makes a
 * wake-up impossible to lose: a post either comes before it (its item is
 * taken now) or after it (it sees the flag clear and writes a byte the
 * loop will see).
 *
 * The byte is written with the mutex held, so the flag and the pipe
 * never disagree; the pipe is non-blocking and holds at most one byte,
 * so the write never waits.
 */
#include "cchan.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

struct cchan_node {
    void *item;
    struct cchan_node *next;
};

struct cchan {
    loop *l;
    cchan_cb on_item;
    void *ctx;
    int rfd, wfd; /* the wake-up pipe: the loop watches rfd */

    pthread_mutex_t lock; /* guards the queue, wake_pending and closed */
    struct cchan_node *head, *tail;
    int wake_pending; /* a byte is in the pipe: posts need not write */
    int closed;

    int watching;   /* loop thread only: rfd is watched */
    int delivering; /* loop thread only: on_ready is delivering a batch */
};

/* Unwatch once closed and nothing is left to deliver. Loop thread. */
static void cchan_maybe_let_go(cchan *c)
{
    if (!c->watching || c->delivering)
        return;
    pthread_mutex_lock(&c->lock);
    int done = c->closed && c->head == NULL;
    pthread_mutex_unlock(&c->lock);
    if (done) {
        (void)loop_unwatch(c->l, c->rfd);
        c->watching = 0;
    }
}

/* Read every byte in the (non-blocking) pipe. */
static void cchan_drain(int fd)
{
    char buf[64];
    ssize_t n;
    do
        n = read(fd, buf, sizeof buf);
    while (n > 0 || (n == -1 && errno == EINTR));
}

static void cchan_on_ready(loop *l, int fd, int events, void *arg)
{
    (void)l;
    (void)fd;
    (void)events;
    cchan *c = arg;

    pthread_mutex_lock(&c->lock);
    cchan_drain(c->rfd);
    c->wake_pending = 0;
    struct cchan_node *batch = c->head;
    c->head = c->tail = NULL;
    pthread_mutex_unlock(&c->lock);

    /* Only the batch taken above: an item that on_item posts goes to
     * the queue and waits for the next iteration, so the loop gets to
     * its other descriptors and timers in between. */
    c->delivering = 1;
    while (batch != NULL) {
        struct cchan_node *n = batch;
        batch = n->next;
        void *item = n->item;
        free(n);
        c->on_item(c, item, c->ctx);
    }
    c->delivering = 0;
    cchan_maybe_let_go(c);
}

static int cchan_set_flags(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    int fd_fl = fcntl(fd, F_GETFD);
    if (fl == -1 || fd_fl == -1 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1 ||
        fcntl(fd, F_SETFD, fd_fl | FD_CLOEXEC) == -1)
        return -1;
    return 0;
}

cchan *cchan_new(loop *l, cchan_cb on_item, void *ctx)
{
    if (l == NULL || on_item == NULL) {
        errno = EINVAL;
        return NULL;
    }
    cchan *c = calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    c->l = l;
    c->on_item = on_item;
    c->ctx = ctx;
    int err = pthread_mutex_init(&c->lock, NULL);
    if (err != 0) {
        free(c);
        errno = err;
        return NULL;
    }
    int fds[2];
    if (pipe(fds) == -1)
        goto fail_mutex;
    c->rfd = fds[0];
    c->wfd = fds[1];
    if (cchan_set_flags(c->rfd) == -1 || cchan_set_flags(c->wfd) == -1 ||
        loop_watch(l, c->rfd, LOOP_READ, cchan_on_ready, c) == -1)
        goto fail_pipe;
    c->watching = 1;
    return c;

fail_pipe:
    err = errno;
    close(c->rfd);
    close(c->wfd);
    errno = err;
fail_mutex:
    err = errno;
    pthread_mutex_destroy(&c->lock);
    free(c);
    errno = err;
    return NULL;
}

int cchan_post(cchan *c, void *item)
{
    if (c == NULL)
        return EINVAL;
    struct cchan_node *n = malloc(sizeof *n);
    if (n == NULL)
        return ENOMEM;
    n->item = item;
    n->next = NULL;

    pthread_mutex_lock(&c->lock);
    if (c->closed) {
        pthread_mutex_unlock(&c->lock);
        free(n);
        return EPIPE;
    }
    if (!c->wake_pending) {
        ssize_t w;
        do
            w = write(c->wfd, "!", 1);
        while (w == -1 && errno == EINTR);
        /* EAGAIN: the pipe is full, so the loop will wake anyway. */
        if (w == -1 && errno != EAGAIN) {
            int err = errno;
            pthread_mutex_unlock(&c->lock);
            free(n);
            return err;
        }
        c->wake_pending = 1;
    }
    if (c->tail != NULL)
        c->tail->next = n;
    else
        c->head = n;
    c->tail = n;
    pthread_mutex_unlock(&c->lock);
    return 0;
}

int cchan_close(cchan *c)
{
    if (c == NULL)
        return EINVAL;
    pthread_mutex_lock(&c->lock);
    c->closed = 1;
    pthread_mutex_unlock(&c->lock);
    /* With items queued, a byte is in the pipe: on_ready delivers them
     * and lets go after the last. */
    cchan_maybe_let_go(c);
    return 0;
}

void cchan_free(cchan *c)
{
    if (c == NULL)
        return;
    if (c->watching)
        (void)loop_unwatch(c->l, c->rfd);
    struct cchan_node *n = c->head;
    while (n != NULL) {
        struct cchan_node *next = n->next;
        free(n);
        n = next;
    }
    close(c->rfd);
    close(c->wfd);
    pthread_mutex_destroy(&c->lock);
    free(c);
}
