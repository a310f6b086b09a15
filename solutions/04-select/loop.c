/*
 * loop: an event loop on select() (reference solution).
 *
 * The contract is in exercises/04-select/loop.h.
 *
 * Descriptors: a table of FD_SETSIZE watches indexed by descriptor, so a
 * watch is found in O(1) and nothing can index past an fd_set. Each
 * iteration builds the two fd_sets from the table (a write set only for
 * descriptors that asked for LOOP_WRITE), calls select(), and walks the
 * sets select() returned, which the loop keeps. Before each callback it
 * looks the descriptor up in the table again, since a callback earlier
 * in the iteration may have unwatched it or changed its events; and
 * loop_unwatch() takes the descriptor out of those ready sets too. So a
 * callback that unwatches and closes a descriptor, gets a new one with
 * the same number (dup2(), accept()) and watches it, does not make the
 * loop call the new watch on the strength of what select() said about
 * the old descriptor.
 *
 * Timers: the timerq of exercise 2 (timerq.h; the tests link its
 * reference solution) keeps the deadlines, in nanoseconds of
 * CLOCK_MONOTONIC. timerq callbacks take one pointer, so each timer is a
 * small struct (loop, callback, context); loop_cancel_timer() finds it
 * by id in a small hash table, to free it.
 *
 * Tracing: when WB_TRACE names a trace file (chapters/trace.h) and
 * WB_TRACE_LOOP is set and not empty, every callback is recorded as a
 * span ("read fd 5", "write fd 7", "timer"). Later suites that link this
 * loop (the chat server's) set it to draw the server's work; the loop's
 * own suite leaves it unset and records spans in its callbacks.
 */
#include "loop.h"
#include "timerq.h"
#include "trace.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/select.h>
#include <time.h>

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

struct loop {
    struct loop_watch watch[FD_SETSIZE];
    int max_fd;                /* highest watched descriptor, -1 for none */
    size_t watched;            /* how many descriptors are watched */
    fd_set ready_rd, ready_wr; /* what the last select() reported */
    timerq *timers;
    struct loop_timer **buckets; /* timers by id, for loop_cancel_timer() */
    size_t nbuckets;             /* a power of two */
    size_t ntimers;
    int running;
    int stopping;
    int trace; /* record a span per callback */
};

enum { LOOP_FIRST_BUCKETS = 16 };

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
    l->max_fd = -1;
    l->nbuckets = LOOP_FIRST_BUCKETS;
    l->buckets = calloc(l->nbuckets, sizeof *l->buckets);
    l->timers = timerq_new();
    if (l->buckets == NULL || l->timers == NULL) {
        free(l->buckets);
        timerq_free(l->timers);
        free(l);
        errno = ENOMEM;
        return NULL;
    }
    const char *t = getenv("WB_TRACE_LOOP");
    l->trace = t != NULL && t[0] != '\0' && trace_enabled();
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
    free(l);
}

/* --- Descriptors ---------------------------------------------------------- */

int loop_watch(loop *l, int fd, int events, loop_io_cb on_io, void *ctx)
{
    /* The bound check is what keeps FD_SET() inside the fd_set. */
    if (l == NULL || on_io == NULL || fd < 0 || fd >= FD_SETSIZE ||
        events == 0 || (events & ~(LOOP_READ | LOOP_WRITE)) != 0) {
        errno = EINVAL;
        return -1;
    }
    struct loop_watch *w = &l->watch[fd];
    if (w->events == 0) {
        l->watched++;
        if (fd > l->max_fd)
            l->max_fd = fd;
    }
    w->on_io = on_io;
    w->ctx = ctx;
    w->events = events;
    return 0;
}

int loop_unwatch(loop *l, int fd)
{
    if (l == NULL) {
        errno = EINVAL;
        return -1;
    }
    if (fd < 0 || fd >= FD_SETSIZE || l->watch[fd].events == 0) {
        errno = ENOENT;
        return -1;
    }
    l->watch[fd] = (struct loop_watch){0};
    l->watched--;
    /* What select() said about fd in this iteration is void now, even if
     * a new descriptor with the same number is watched before the loop
     * gets to it. */
    FD_CLR(fd, &l->ready_rd);
    FD_CLR(fd, &l->ready_wr);
    while (l->max_fd >= 0 && l->watch[l->max_fd].events == 0)
        l->max_fd--;
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
    int64_t t0 = l->trace ? trace_now() : 0;
    on_timer(l, ctx);
    if (l->trace)
        trace_span("timer", t0, trace_now());
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

/* Call the callbacks of the descriptors select() reported ready. */
static void loop_dispatch(loop *l, int nfds)
{
    for (int fd = 0; fd < nfds; fd++) {
        /* Read the sets anew for each descriptor: loop_unwatch() in an
         * earlier callback clears its descriptor from them. */
        int ready = (FD_ISSET(fd, &l->ready_rd) ? LOOP_READ : 0) |
                    (FD_ISSET(fd, &l->ready_wr) ? LOOP_WRITE : 0);
        /* Look the watch up again too: its events may have changed. */
        const struct loop_watch *w = &l->watch[fd];
        int events = ready & w->events;
        if (events == 0)
            continue;
        if (!l->trace) {
            w->on_io(l, fd, events, w->ctx);
            continue;
        }
        int64_t t0 = trace_now();
        w->on_io(l, fd, events, w->ctx);
        char label[48];
        snprintf(label, sizeof label, "%s fd %d",
                 events == LOOP_READ    ? "read"
                 : events == LOOP_WRITE ? "write"
                                        : "read+write",
                 fd);
        trace_span(label, t0, trace_now());
    }
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
        fd_set *rd = &l->ready_rd, *wr = &l->ready_wr;
        FD_ZERO(rd);
        FD_ZERO(wr);
        for (int fd = 0; fd <= l->max_fd; fd++) {
            if (l->watch[fd].events & LOOP_READ)
                FD_SET(fd, rd);
            /* Only descriptors with something to write: a socket is
             * nearly always writable, and asking anyway spins. */
            if (l->watch[fd].events & LOOP_WRITE)
                FD_SET(fd, wr);
        }

        int64_t now = loop_now();
        if (now < 0) {
            rc = -1;
            break;
        }
        int64_t wait_ns = timerq_until_next(l->timers, now);
        struct timeval tv, *timeout = NULL;
        if (wait_ns >= 0) {
            /* Round up: a timeout rounded down to 0 would wake before
             * the deadline, find nothing due, and go round again. */
            int64_t us = wait_ns / 1000 + (wait_ns % 1000 != 0);
            tv.tv_sec = (time_t)(us / 1000000);
            tv.tv_usec = (suseconds_t)(us % 1000000);
            timeout = &tv;
        }

        int nfds = l->max_fd + 1;
        int n = select(nfds, rd, wr, NULL, timeout);
        if (n == -1) {
            if (errno == EINTR)
                continue; /* a signal: wait again, timeout recomputed */
            rc = -1;      /* EBADF: a watched descriptor was closed */
            break;
        }
        /* The time of this iteration, read once, right after select()
         * returns: a timer a callback adds now (even with a delay of 0)
         * has a later deadline, so it runs in a later iteration. */
        now = loop_now();
        if (now < 0) {
            rc = -1;
            break;
        }
        if (n > 0)
            loop_dispatch(l, nfds);

        /* Whether or not select() timed out: a descriptor that is always
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
