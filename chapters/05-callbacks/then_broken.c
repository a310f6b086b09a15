/*
 * then_broken.c: then_fixed.c with a then() that calls the continuation
 * at once when the future is already settled. On a cache hit the
 * continuation runs inside the caller, before the caller has finished:
 * the lock the caller holds is taken again by the same thread (a plain
 * mutex would hang for ever; this error-checking one says EDEADLK), and
 * the request is counted as finished before it was counted as started.
 *
 * Run: then_broken
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "die.h"

struct future;
typedef void (*then_fn)(struct future *f, void *ctx);
struct future {
    int settled;
    long value;
    then_fn fn; /* one continuation is enough for this demo */
    void *ctx;
};
struct task { /* something for the loop to run on a later turn */
    void (*run)(struct future *f);
    struct future *f;
};
static struct task queue[16]; /* the loop's ready queue */
static int head, tail;

static void later(void (*run)(struct future *f), struct future *f)
{
    queue[tail++ % 16] = (struct task){run, f};
}

static void run_continuation(struct future *f)
{
    f->fn(f, f->ctx);
}

// [then]
static void then(struct future *f, then_fn fn, void *ctx)
{
    f->fn = fn;
    f->ctx = ctx;
    if (f->settled)
        fn(f, ctx); /* WRONG: settled, so call it now, inside then() */
}
// [then]

static void resolve(struct future *f) /* the "worker" is done */
{
    f->settled = 1;
    if (f->fn != NULL)
        later(run_continuation, f);
}

static struct future cache[2] = {{1, 2, NULL, NULL}, {0, 0, NULL, NULL}};

static struct future *lookup(int key) /* key 0 is cached, key 1 is not */
{
    if (key == 1) {
        cache[1].value = 1;
        later(resolve, &cache[1]); /* a miss: answered later */
    }
    return &cache[key];
}

// [caller]
static pthread_mutex_t table_lock; /* error-checking, see main() */
static int active;                 /* protected by table_lock */

static void on_value(struct future *f, void *ctx)
{
    int en = pthread_mutex_lock(&table_lock);
    if (en != 0)
        printf("  on_value(%s): pthread_mutex_lock: %s\n", (char *)ctx,
               strerror(en));
    active--;
    printf("  on_value(%s): value %ld; active requests now %d\n", (char *)ctx,
           f->value, active);
    if (en == 0 && (en = pthread_mutex_unlock(&table_lock)) != 0)
        die_en(en, "pthread_mutex_unlock");
}

static void request(int key, char *name)
{
    int en = pthread_mutex_lock(&table_lock);
    if (en != 0)
        die_en(en, "pthread_mutex_lock");
    then(lookup(key), on_value, name);
    active++; /* count it: then() has returned, nothing has run yet */
    printf("request %s: registered; active requests now %d\n", name, active);
    if ((en = pthread_mutex_unlock(&table_lock)) != 0)
        die_en(en, "pthread_mutex_unlock");
}
// [caller]

int main(void)
{
    pthread_mutexattr_t attr; /* a plain mutex would hang, not fail */
    int en = pthread_mutexattr_init(&attr);
    if (en != 0 ||
        (en = pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ERRORCHECK)) ||
        (en = pthread_mutex_init(&table_lock, &attr)) ||
        (en = pthread_mutexattr_destroy(&attr)))
        die_en(en, "mutex setup");
    request(1, "miss");
    request(0, "hit");
    printf("back in the loop\n");
    while (head < tail) { /* the loop's turns */
        struct task t = queue[head++ % 16];
        t.run(t.f);
    }
    if ((en = pthread_mutex_destroy(&table_lock)) != 0)
        die_en(en, "pthread_mutex_destroy");
    return 0;
}
