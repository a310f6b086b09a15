/*
 * timerq: a timer queue, earliest deadline first (reference solution).
 *
 * The contract is in exercises/04-select/timerq.h.
 *
 * The pending timers are in a binary min-heap ordered by (deadline, id).
 * Ids are handed out in increasing order, so ordering by id is ordering
 * by the time of adding: that is what keeps equal deadlines in order.
 * Each timer remembers its index in the heap, so cancel can take it out
 * of the middle in O(log n).
 *
 * Cancel gets an id, not a timer, so the queue also keeps an index: the
 * pairs (id, timer) in the order the timers were added, which is the
 * order of their ids, so a binary search finds an id. A timer that runs
 * or is cancelled leaves a hole (timer NULL) in the index; when holes are
 * more than half of it, the index is compacted, which costs O(1) per
 * removal on average.
 *
 * While timerq_run_due() runs, timers added by callbacks are kept in a
 * side list instead of the heap, and join the heap when the call ends:
 * so they cannot run in that call, however early their deadline.
 */
#include "timerq.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

struct timer {
    int64_t deadline;
    long id;
    timerq_cb on_timer;
    void *ctx;
    size_t at;  /* index in the heap, or in the side list when added */
    bool aside; /* added during run_due: in the side list */
};

struct entry {
    long id;
    struct timer *t; /* NULL once the timer ran or was cancelled */
};

struct timerq {
    struct timer **heap; /* heap[0] is the earliest */
    size_t n, heap_cap;
    struct timer **aside; /* added during run_due */
    size_t naside, aside_cap;
    struct entry *index; /* sorted by id */
    size_t nindex, index_cap, nholes;
    long next_id;
    bool running;
};

timerq *timerq_new(void)
{
    timerq *q = calloc(1, sizeof *q);
    if (q == NULL)
        return NULL;
    q->next_id = 1;
    return q;
}

void timerq_free(timerq *q)
{
    if (q == NULL)
        return;
    for (size_t i = 0; i < q->n; i++)
        free(q->heap[i]);
    for (size_t i = 0; i < q->naside; i++)
        free(q->aside[i]);
    free(q->heap);
    free(q->aside);
    free(q->index);
    free(q);
}

/* The array @p arr of *cap elements of @p elem bytes, grown if needed to
 * hold @p need elements: @p arr itself, a bigger copy, or NULL (and @p arr
 * unchanged) when there is no memory. */
static void *room_for(void *arr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return arr;
    size_t ncap = *cap < 8 ? 16 : *cap * 2;
    if (ncap < need)
        ncap = need;
    if (ncap > SIZE_MAX / elem)
        return NULL;
    void *bigger = realloc(arr, ncap * elem);
    if (bigger != NULL)
        *cap = ncap;
    return bigger;
}

/* --- The heap ------------------------------------------------------------ */

static bool earlier(const struct timer *a, const struct timer *b)
{
    return a->deadline < b->deadline ||
           (a->deadline == b->deadline && a->id < b->id);
}

static void place(timerq *q, size_t i, struct timer *t)
{
    q->heap[i] = t;
    t->at = i;
}

static void sift_up(timerq *q, size_t i)
{
    struct timer *t = q->heap[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!earlier(t, q->heap[parent]))
            break;
        place(q, i, q->heap[parent]);
        i = parent;
    }
    place(q, i, t);
}

static void sift_down(timerq *q, size_t i)
{
    struct timer *t = q->heap[i];
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= q->n)
            break;
        if (child + 1 < q->n && earlier(q->heap[child + 1], q->heap[child]))
            child++;
        if (!earlier(q->heap[child], t))
            break;
        place(q, i, q->heap[child]);
        i = child;
    }
    place(q, i, t);
}

static void heap_push(timerq *q, struct timer *t)
{
    q->heap[q->n] = t;
    t->at = q->n++;
    sift_up(q, t->at);
}

/* Take @p t out of the heap: the last timer fills its place and moves
 * up or down to where it belongs. */
static void heap_remove(timerq *q, struct timer *t)
{
    size_t i = t->at;
    struct timer *last = q->heap[--q->n];
    if (last == t)
        return;
    place(q, i, last);
    if (i > 0 && earlier(last, q->heap[(i - 1) / 2]))
        sift_up(q, i);
    else
        sift_down(q, i);
}

/* --- The index of ids ---------------------------------------------------- */

static struct entry *find(const timerq *q, long id)
{
    size_t lo = 0, hi = q->nindex;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (q->index[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < q->nindex && q->index[lo].id == id && q->index[lo].t != NULL)
        return &q->index[lo];
    return NULL;
}

static void unindex(timerq *q, struct entry *e)
{
    e->t = NULL;
    if (++q->nholes <= q->nindex / 2)
        return;
    size_t kept = 0;
    for (size_t i = 0; i < q->nindex; i++)
        if (q->index[i].t != NULL)
            q->index[kept++] = q->index[i];
    q->nindex = kept;
    q->nholes = 0;
}

/* --- The operations ------------------------------------------------------ */

long timerq_add(timerq *q, int64_t deadline_ns, timerq_cb on_timer, void *ctx)
{
    if (q == NULL || on_timer == NULL) {
        errno = EINVAL;
        return -1;
    }
    /* All the room first, so that ENOMEM leaves the queue as it was. The
     * heap gets room for the timers set aside too: they join it at the end
     * of run_due, which cannot fail. */
    void *p =
        room_for(q->index, &q->index_cap, q->nindex + 1, sizeof *q->index);
    if (p != NULL) {
        q->index = p;
        p = room_for(q->heap, &q->heap_cap, q->n + q->naside + 1,
                     sizeof *q->heap);
    }
    if (p != NULL) {
        q->heap = p;
        if (q->running) {
            p = room_for(q->aside, &q->aside_cap, q->naside + 1,
                         sizeof *q->aside);
            if (p != NULL)
                q->aside = p;
        }
    }
    struct timer *t = p != NULL ? malloc(sizeof *t) : NULL;
    if (t == NULL) {
        errno = ENOMEM;
        return -1;
    }
    *t = (struct timer){.deadline = deadline_ns,
                        .id = q->next_id++,
                        .on_timer = on_timer,
                        .ctx = ctx};
    q->index[q->nindex++] = (struct entry){.id = t->id, .t = t};
    if (q->running) {
        t->aside = true;
        t->at = q->naside;
        q->aside[q->naside++] = t;
    } else {
        heap_push(q, t);
    }
    return t->id;
}

int timerq_cancel(timerq *q, long id)
{
    if (q == NULL) {
        errno = EINVAL;
        return -1;
    }
    struct entry *e = find(q, id);
    if (e == NULL) {
        errno = ENOENT;
        return -1;
    }
    struct timer *t = e->t;
    if (t->aside) {
        struct timer *last = q->aside[--q->naside];
        q->aside[t->at] = last;
        last->at = t->at;
    } else {
        heap_remove(q, t);
    }
    unindex(q, e);
    free(t);
    return 0;
}

static int64_t until(int64_t deadline, int64_t now)
{
    if (deadline <= now)
        return 0;
    if (now < 0 && deadline > INT64_MAX + now)
        return INT64_MAX;
    return deadline - now;
}

int64_t timerq_until_next(const timerq *q, int64_t now_ns)
{
    if (q == NULL || q->n + q->naside == 0)
        return -1;
    /* The side list is not empty only when a callback asks. */
    bool have = q->n > 0;
    int64_t first = have ? q->heap[0]->deadline : 0;
    for (size_t i = 0; i < q->naside; i++)
        if (!have || q->aside[i]->deadline < first) {
            first = q->aside[i]->deadline;
            have = true;
        }
    return until(first, now_ns);
}

int timerq_run_due(timerq *q, int64_t now_ns)
{
    if (q == NULL) {
        errno = EINVAL;
        return -1;
    }
    if (q->running) {
        errno = EBUSY;
        return -1;
    }
    q->running = true;
    int ran = 0;
    while (q->n > 0 && q->heap[0]->deadline <= now_ns) {
        struct timer *t = q->heap[0];
        heap_remove(q, t);
        unindex(q, find(q, t->id));
        timerq_cb on_timer = t->on_timer;
        void *ctx = t->ctx;
        free(t);
        on_timer(ctx); /* may add and cancel timers */
        ran++;
    }
    /* timerq_add() made room for them in the heap. */
    for (size_t i = 0; i < q->naside; i++) {
        struct timer *t = q->aside[i];
        t->aside = false;
        heap_push(q, t);
    }
    q->naside = 0;
    q->running = false;
    return ran;
}

size_t timerq_pending(const timerq *q)
{
    return q == NULL ? 0 : q->n + q->naside;
}
