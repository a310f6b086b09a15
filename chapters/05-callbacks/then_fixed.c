/*
 * then_fixed.c: a continuation never runs inside the call that registers
 * it. lookup() answers from a cache: a hit returns a future that is
 * already resolved, a miss one that resolves later (here on the loop's
 * next turn, standing in for a worker). The caller registers with then()
 * while holding a lock, and counts the request as active after then()
 * returns. Because then() always queues the continuation, even for a
 * settled future, a hit and a miss behave the same: the continuation runs
 * after the caller is done. then_broken.c calls it at once on a hit.
 *
 * Run: then_fixed
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
        later(run_continuation, f); /* settled: queue it, never call it */
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
