/*
 * future: the reference solution (contract in exercises/05-callbacks/
 * future.h).
 *
 * A future keeps its registered continuations in a FIFO list. Settling
 * never calls them: when a settled future has continuations, it gets a
 * loop timer of 0 ms, its "dispatch", and the dispatch (a loop callback,
 * so on the loop's thread from loop_run()) detaches the list and calls
 * each in order. Continuations registered while the dispatch runs go on
 * a fresh list with a dispatch of their own, one iteration later, so a
 * continuation that registers another forever cannot keep the loop in
 * one callback. A pending timer also keeps loop_run() from returning
 * before the continuations ran.
 *
 * Lifetime: a count of holds. The owner holds a future until
 * future_free(); a scheduled or running dispatch holds it (so it is
 * still there for its continuations); a future_all() holds its own
 * future until its last input reported. The memory goes when the count
 * reaches 0.
 *
 * future_all() registers a continuation on each input still pending;
 * the join counts the inputs not yet resolved and the continuations not
 * yet run. Inputs that had settled before the call are read at once.
 */
#include "future.h"

#include <errno.h>
#include <stdlib.h>

struct future_cont {
    future_cb on_settled;
    void *ctx;
    struct future_cont *next;
};

struct future {
    loop *l;
    int state; /* 0 pending, 1 resolved, -1 rejected */
    void *value;
    int err;
    struct future_cont *first; /* registered, not yet run; FIFO */
    struct future_cont **last; /* where the next one goes */
    long timer;                /* the dispatch's loop timer; 0 if none */
    int holds;                 /* owner, dispatch, join: freed at 0 */
};

/* What future_all() keeps while it waits. */
struct future_join {
    future *all;
    size_t unresolved; /* inputs not resolved yet */
    size_t waiting;    /* its continuations not run yet */
};

static void future_release(future *f)
{
    if (--f->holds > 0)
        return;
    /* Only continuations dropped for want of memory can be left. */
    while (f->first != NULL) {
        struct future_cont *c = f->first;
        f->first = c->next;
        free(c);
    }
    free(f);
}

/* The dispatch: run the continuations registered so far, in order. */
static void future_on_dispatch(loop *l, void *arg)
{
    future *f = arg;
    (void)l;
    f->timer = 0; /* its hold now covers this run */
    struct future_cont *c = f->first;
    f->first = NULL;
    f->last = &f->first;
    while (c != NULL) {
        struct future_cont *next = c->next;
        c->on_settled(f, c->ctx);
        free(c);
        c = next;
    }
    future_release(f);
}

/* Schedule a dispatch for the continuations of a settled future, unless
 * one is scheduled already. 0 or ENOMEM. */
static int future_schedule(future *f)
{
    if (f->first == NULL || f->timer != 0)
        return 0;
    long id = loop_add_timer(f->l, 0, future_on_dispatch, f);
    if (id < 0)
        return ENOMEM;
    f->timer = id;
    f->holds++;
    return 0;
}

future *future_new(loop *l)
{
    if (l == NULL) {
        errno = EINVAL;
        return NULL;
    }
    future *f = calloc(1, sizeof *f);
    if (f == NULL) {
        errno = ENOMEM;
        return NULL;
    }
    f->l = l;
    f->last = &f->first;
    f->holds = 1; /* the owner's */
    return f;
}

/* Settle a pending future: schedule first, so a failure changes nothing. */
static int future_settle(future *f, int state, void *value, int err)
{
    if (f->state != 0)
        return EALREADY;
    f->state = state; /* future_schedule() looks at nothing else */
    int rc = future_schedule(f);
    if (rc != 0) {
        f->state = 0;
        return rc;
    }
    f->value = value;
    f->err = err;
    return 0;
}

int future_resolve(future *f, void *value)
{
    if (f == NULL)
        return EINVAL;
    return future_settle(f, 1, value, 0);
}

int future_reject(future *f, int err)
{
    if (f == NULL || err == 0)
        return EINVAL;
    return future_settle(f, -1, NULL, err);
}

int future_then(future *f, future_cb on_settled, void *ctx)
{
    if (f == NULL || on_settled == NULL)
        return EINVAL;
    struct future_cont *c = malloc(sizeof *c);
    if (c == NULL)
        return ENOMEM;
    *c = (struct future_cont){on_settled, ctx, NULL};
    struct future_cont **at = f->last;
    *at = c;
    f->last = &c->next;
    if (f->state != 0 && future_schedule(f) != 0) {
        *at = NULL; /* take it back off the end */
        f->last = at;
        free(c);
        return ENOMEM;
    }
    return 0;
}

int future_state(const future *f, void **value, int *err)
{
    if (f->state > 0 && value != NULL)
        *value = f->value;
    if (f->state < 0 && err != NULL)
        *err = f->err;
    return f->state;
}

/* The continuation future_all() registers on each pending input. */
static void future_on_input(future *in, void *arg)
{
    struct future_join *j = arg;
    int err = 0;
    int state = future_state(in, NULL, &err);
    /* EALREADY when an earlier input decided: the first one wins. */
    if (state < 0)
        (void)future_reject(j->all, err);
    else if (--j->unresolved == 0)
        (void)future_resolve(j->all, NULL);
    if (--j->waiting == 0) {
        future_release(j->all);
        free(j);
    }
}

future *future_all(loop *l, future **fs, size_t n)
{
    if (l == NULL || (fs == NULL && n > 0)) {
        errno = EINVAL;
        return NULL;
    }
    size_t pending = 0, rejected = n;
    for (size_t i = 0; i < n; i++) {
        if (fs[i] == NULL || fs[i]->l != l) {
            errno = EINVAL;
            return NULL;
        }
        pending += fs[i]->state == 0;
        if (fs[i]->state < 0 && rejected == n)
            rejected = i;
    }
    future *all = future_new(l);
    if (all == NULL)
        return NULL;
    /* Settled already: nothing to schedule, no continuation yet. */
    if (rejected < n) {
        all->state = -1;
        all->err = fs[rejected]->err;
        return all;
    }
    if (pending == 0) {
        all->state = 1;
        return all;
    }

    /* Allocate everything first: once linked, nothing can fail. */
    struct future_join *j = malloc(sizeof *j);
    struct future_cont **conts = calloc(pending, sizeof *conts);
    int ok = j != NULL && conts != NULL;
    for (size_t k = 0; ok && k < pending; k++)
        ok = (conts[k] = malloc(sizeof **conts)) != NULL;
    if (!ok) {
        for (size_t k = 0; conts != NULL && k < pending; k++)
            free(conts[k]);
        free(conts);
        free(j);
        future_release(all);
        errno = ENOMEM;
        return NULL;
    }
    *j = (struct future_join){all, pending, pending};
    all->holds++; /* the join's */
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (fs[i]->state != 0)
            continue;
        struct future_cont *c = conts[k++];
        *c = (struct future_cont){future_on_input, j, NULL};
        *fs[i]->last = c;
        fs[i]->last = &c->next;
    }
    free(conts);
    return all;
}

void future_free(future *f)
{
    if (f == NULL)
        return;
    /* A broken promise: whoever waits on it learns it will not come. */
    if (f->state == 0 && future_reject(f, ECANCELED) != 0) {
        while (f->first != NULL) { /* no memory to tell them: drop them */
            struct future_cont *c = f->first;
            f->first = c->next;
            free(c);
        }
        f->last = &f->first;
    }
    future_release(f);
}
