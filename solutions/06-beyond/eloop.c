/*
 * eloop: the event loop of loop.h on epoll (reference solution).
 * Linux only: epoll is Linux's, hence _GNU_SOURCE.
 *
 * The contract is in exercises/06-beyond/eloop.h (and loop.h).
 *
 * Descriptors: a table indexed by descriptor, grown (doubled) when a
 * higher one is watched, so there is no FD_SETSIZE. loop_watch()
 * registers a descriptor with the epoll instance once, level-triggered,
 * and changes the registration when called again; loop_unwatch() takes
 * it out with EPOLL_CTL_DEL before the caller closes it. Each iteration
 * is one epoll_wait(), which fills an array with the ready descriptors
 * only: nothing is rebuilt, nothing is walked but what is ready.
 *
 * The ready array stays in the loop while the callbacks run, and
 * loop_unwatch() clears its descriptor's entries not yet dispatched (the
 * FD_CLR() of chapter 4's loop): a callback that unwatches, closes, and
 * reuses a number does not get the new watch called on the strength of
 * what epoll said about the old descriptor. Before each callback the
 * loop looks the descriptor up in the table again (by index: the table
 * may have moved, grown by a callback's loop_watch()).
 *
 * Closed without loop_unwatch(): the kernel drops the registration when
 * the last copy of the file is closed, so EPOLL_CTL_DEL then fails
 * (EBADF, ENOENT) and loop_unwatch() forgets the watch all the same;
 * and loop_watch() of a descriptor the table still holds uses
 * EPOLL_CTL_MOD, and falls back to EPOLL_CTL_ADD when the kernel has
 * forgotten it (ENOENT: a new descriptor got the number).
 *
 * Timers: as in chapter 4's loop.c, on the timerq of chapter 4.
 */
#define _GNU_SOURCE
#include "eloop.h"
#include "04-select/timerq.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

struct loop_watch {
    loop_io_cb on_io; /* NULL when the descriptor is not watched */
    void *ctx;
    int events; /* LOOP_READ | LOOP_WRITE; 0 when not watched */
};

struct loop_timer {
    loop *l;
    loop_timer_cb on_timer;
    void *ctx;
    long id;
    struct loop_timer *next; /* in its hash bucket */
};

enum { LOOP_FIRST_BUCKETS = 16, LOOP_MAX_READY = 256 };

struct loop {
    int epfd;
    struct loop_watch *watch; /* indexed by descriptor */
    size_t nwatch;            /* entries in watch[] */
    size_t watched;           /* how many descriptors are watched */
    /* What the last epoll_wait() reported, and the next to dispatch. */
    struct epoll_event ready[LOOP_MAX_READY];
    int nready, next_ready;
    timerq *timers;
    struct loop_timer **buckets; /* timers by id, for loop_cancel_timer() */
    size_t nbuckets;             /* a power of two */
    size_t ntimers;
    int running;
    int stopping;
};

static int64_t loop_now(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
        return -1;
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

loop *loop_new(void)
{
    loop *l = calloc(1, sizeof *l);
    if (l == NULL)
        return NULL;
    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (l->epfd == -1) {
        free(l);
        return NULL; /* errno from epoll_create1() */
    }
    l->nbuckets = LOOP_FIRST_BUCKETS;
    l->buckets = calloc(l->nbuckets, sizeof *l->buckets);
    l->timers = timerq_new();
    if (l->buckets == NULL || l->timers == NULL) {
        free(l->buckets);
        timerq_free(l->timers);
        close(l->epfd);
        free(l);
        errno = ENOMEM;
        return NULL;
    }
    return l;
}

void loop_free(loop *l)
{
    if (l == NULL)
        return;
    timerq_free(l->timers); /* drops the pending timers, runs none */
    for (size_t b = 0; b < l->nbuckets; b++) {
        struct loop_timer *t = l->buckets[b];
        while (t != NULL) {
            struct loop_timer *next = t->next;
            free(t);
            t = next;
        }
    }
    free(l->buckets);
    free(l->watch);
    close(l->epfd); /* the watched descriptors stay the caller's */
    free(l);
}

/* --- Descriptors ---------------------------------------------------------- */

static uint32_t loop_epoll_events(int events)
{
    return ((events & LOOP_READ) ? EPOLLIN : 0) |
           ((events & LOOP_WRITE) ? EPOLLOUT : 0);
}

/* Make the table hold descriptor fd. */
static int loop_grow_watch(loop *l, int fd)
{
    if ((size_t)fd < l->nwatch)
        return 0;
    size_t n = l->nwatch > 0 ? l->nwatch : 64;
    while (n <= (size_t)fd)
        n *= 2;
    struct loop_watch *w = realloc(l->watch, n * sizeof *w);
    if (w == NULL) {
        errno = ENOMEM;
        return -1;
    }
    for (size_t i = l->nwatch; i < n; i++)
        w[i] = (struct loop_watch){0};
    l->watch = w;
    l->nwatch = n;
    return 0;
}

int loop_watch(loop *l, int fd, int events, loop_io_cb on_io, void *ctx)
{
    if (l == NULL || on_io == NULL || fd < 0 || events == 0 ||
        (events & ~(LOOP_READ | LOOP_WRITE)) != 0) {
        errno = EINVAL;
        return -1;
    }
    if (loop_grow_watch(l, fd) == -1)
        return -1;
    struct epoll_event ev = {.events = loop_epoll_events(events),
                             .data.fd = fd};
    int known = l->watch[fd].events != 0;
    /* Level-triggered (no EPOLLET): a descriptor that stays ready is
     * reported by every epoll_wait(), as select() would. */
    int rc = epoll_ctl(l->epfd, known ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev);
    if (rc == -1 && known && errno == ENOENT) {
        /* Closed without loop_unwatch(): the kernel forgot it, and fd is
         * a new descriptor now. */
        rc = epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev);
    } else if (rc == -1 && !known && errno == EEXIST) {
        rc = epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev);
    }
    if (rc == -1)
        return -1; /* EBADF, EPERM, ENOMEM, ENOSPC: nothing changed */
    if (!known)
        l->watched++;
    l->watch[fd] = (struct loop_watch){on_io, ctx, events};
    return 0;
}

int loop_unwatch(loop *l, int fd)
{
    if (l == NULL) {
        errno = EINVAL;
        return -1;
    }
    if (fd < 0 || (size_t)fd >= l->nwatch || l->watch[fd].events == 0) {
        errno = ENOENT;
        return -1;
    }
    /* Fails when fd was closed first (EBADF, or ENOENT once another
     * descriptor has its number): the watch goes all the same. */
    (void)epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
    l->watch[fd] = (struct loop_watch){0};
    l->watched--;
    /* What epoll said about fd in this iteration is void now, even if
     * a new descriptor with the same number is watched before the loop
     * gets to it. */
    for (int i = l->next_ready; i < l->nready; i++)
        if (l->ready[i].data.fd == fd)
            l->ready[i].events = 0;
    return 0;
}

/* --- Timers --------------------------------------------------------------- */

static struct loop_timer **loop_bucket(loop *l, long id)
{
    return &l->buckets[(unsigned long)id & (l->nbuckets - 1)];
}

/* Double the hash table when it holds more timers than buckets. Without
 * memory it stays as it is: slower, still correct. */
static void loop_grow_buckets(loop *l)
{
    size_t n = l->nbuckets * 2;
    struct loop_timer **b = calloc(n, sizeof *b);
    if (b == NULL)
        return;
    for (size_t i = 0; i < l->nbuckets; i++) {
        struct loop_timer *t = l->buckets[i];
        while (t != NULL) {
            struct loop_timer *next = t->next;
            struct loop_timer **head = &b[(unsigned long)t->id & (n - 1)];
            t->next = *head;
            *head = t;
            t = next;
        }
    }
    free(l->buckets);
    l->buckets = b;
    l->nbuckets = n;
}

/* Take the timer with this id out of the hash table; NULL if absent. */
static struct loop_timer *loop_take_timer(loop *l, long id)
{
    for (struct loop_timer **p = loop_bucket(l, id); *p != NULL;
         p = &(*p)->next) {
        if ((*p)->id == id) {
            struct loop_timer *t = *p;
            *p = t->next;
            l->ntimers--;
            return t;
        }
    }
    return NULL;
}

/* The timerq callback of every loop timer. */
static void loop_on_due(void *arg)
{
    struct loop_timer *t = arg;
    loop *l = t->l;
    loop_timer_cb on_timer = t->on_timer;
    void *ctx = t->ctx;

    /* Freed before the callback runs: the callback may add timers (the
     * table may grow) and may try to cancel this one (ENOENT). */
    loop_take_timer(l, t->id);
    free(t);
    on_timer(l, ctx);
}

long loop_add_timer(loop *l, long delay_ms, loop_timer_cb on_timer, void *ctx)
{
    if (l == NULL || on_timer == NULL || delay_ms < 0) {
        errno = EINVAL;
        return -1;
    }
    int64_t now = loop_now();
    if (now < 0)
        return -1;
    /* Far enough to be "never" without overflowing int64_t. */
    int64_t delay_ns = delay_ms > INT64_MAX / 4 / 1000000
                           ? INT64_MAX / 4
                           : (int64_t)delay_ms * 1000000;
    struct loop_timer *t = malloc(sizeof *t);
    if (t == NULL)
        return -1;
    *t = (struct loop_timer){l, on_timer, ctx, 0, NULL};
    t->id = timerq_add(l->timers, now + delay_ns, loop_on_due, t);
    if (t->id < 0) {
        free(t);
        return -1;
    }
    if (l->ntimers >= l->nbuckets)
        loop_grow_buckets(l);
    struct loop_timer **head = loop_bucket(l, t->id);
    t->next = *head;
    *head = t;
    l->ntimers++;
    return t->id;
}

int loop_cancel_timer(loop *l, long id)
{
    if (l == NULL) {
        errno = EINVAL;
        return -1;
    }
    struct loop_timer *t = loop_take_timer(l, id);
    if (t == NULL) {
        errno = ENOENT;
        return -1;
    }
    (void)timerq_cancel(l->timers, id); /* pending, since it is in the table */
    free(t);
    return 0;
}

/* --- Running -------------------------------------------------------------- */

/* Call the callbacks of the descriptors epoll_wait() reported ready. */
static void loop_dispatch(loop *l)
{
    for (l->next_ready = 0; l->next_ready < l->nready;) {
        const struct epoll_event *ev = &l->ready[l->next_ready++];
        int fd = ev->data.fd;
        /* A hang-up or an error: the next read() or write() will not
         * block (it returns 0 or fails), as select() would say. */
        uint32_t e = ev->events;
        int ready = ((e & (EPOLLIN | EPOLLHUP | EPOLLERR)) ? LOOP_READ : 0) |
                    ((e & (EPOLLOUT | EPOLLHUP | EPOLLERR)) ? LOOP_WRITE : 0);
        /* Look the watch up again: an earlier callback may have
         * unwatched it, changed its events, or grown the table. */
        if (e == 0 || (size_t)fd >= l->nwatch)
            continue;
        const struct loop_watch *w = &l->watch[fd];
        int events = ready & w->events;
        if (events != 0)
            w->on_io(l, fd, events, w->ctx);
    }
    l->nready = l->next_ready = 0;
}

int loop_run(loop *l)
{
    if (l == NULL) {
        errno = EINVAL;
        return -1;
    }
    if (l->running) {
        errno = EBUSY;
        return -1;
    }
    l->running = 1;
    l->stopping = 0;
    int rc = 0;
    while (!l->stopping && (l->watched > 0 || timerq_pending(l->timers) > 0)) {
        int64_t now = loop_now();
        if (now < 0) {
            rc = -1;
            break;
        }
        int64_t wait_ns = timerq_until_next(l->timers, now);
        int timeout = -1; /* no timer: wait for a descriptor */
        if (wait_ns >= 0) {
            /* Round up: a timeout rounded down to 0 would wake before
             * the deadline, find nothing due, and go round again. */
            int64_t ms = wait_ns / 1000000 + (wait_ns % 1000000 != 0);
            timeout = ms > INT_MAX ? INT_MAX : (int)ms;
        }

        int n = epoll_wait(l->epfd, l->ready, LOOP_MAX_READY, timeout);
        if (n == -1) {
            if (errno == EINTR)
                continue; /* a signal: wait again, timeout recomputed */
            rc = -1;
            break;
        }
        /* The time of this iteration, read once, right after the wait. */
        now = loop_now();
        if (now < 0) {
            rc = -1;
            break;
        }
        l->nready = n;
        loop_dispatch(l);

        /* Whether or not the wait timed out: a descriptor that is always
         * ready must not keep due timers from running. */
        (void)timerq_run_due(l->timers, now);
    }
    l->running = 0;
    l->stopping = 0;
    return rc;
}

void loop_stop(loop *l)
{
    if (l != NULL && l->running)
        l->stopping = 1;
}
