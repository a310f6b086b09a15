/*
 * prodcons.c: producers and consumers joined by a bounded queue. The
 * queue is a ring of 4 slots guarded by one mutex and two condition
 * variables: producers wait on `not_full`, consumers on `not_empty`.
 * Two producers push the numbers 1..N each; two consumers pop and add
 * up what they get. When the producers are done, main pushes one STOP
 * per consumer. The totals show that no item was lost or taken twice.
 *
 *   prodcons [items_per_producer]   (default 20000)
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "die.h"

#define SLOTS 4
#define PRODUCERS 2
#define CONSUMERS 2
#define STOP (-1L) /* a value no producer makes: "no more work" */

// [ring]
struct ring {
    pthread_mutex_t lock;
    pthread_cond_t not_full;  /* signalled when a slot frees up */
    pthread_cond_t not_empty; /* signalled when an item arrives */
    long items[SLOTS];
    int head, count; /* oldest item; how many are stored */
};

static void ring_push(struct ring *r, long item)
{
    int en = pthread_mutex_lock(&r->lock);
    while (en == 0 && r->count == SLOTS) /* full: wait for a pop */
        en = pthread_cond_wait(&r->not_full, &r->lock);
    if (en != 0)
        die_en(en, "ring_push: lock or wait");
    r->items[(r->head + r->count) % SLOTS] = item;
    r->count++;
    if ((en = pthread_cond_signal(&r->not_empty)) != 0 ||
        (en = pthread_mutex_unlock(&r->lock)) != 0)
        die_en(en, "ring_push: signal or unlock");
}

static long ring_pop(struct ring *r)
{
    int en = pthread_mutex_lock(&r->lock);
    while (en == 0 && r->count == 0) /* empty: wait for a push */
        en = pthread_cond_wait(&r->not_empty, &r->lock);
    if (en != 0)
        die_en(en, "ring_pop: lock or wait");
    long item = r->items[r->head];
    r->head = (r->head + 1) % SLOTS;
    r->count--;
    if ((en = pthread_cond_signal(&r->not_full)) != 0 ||
        (en = pthread_mutex_unlock(&r->lock)) != 0)
        die_en(en, "ring_pop: signal or unlock");
    return item;
}
// [ring]

static struct ring queue = {PTHREAD_MUTEX_INITIALIZER,
                            PTHREAD_COND_INITIALIZER,
                            PTHREAD_COND_INITIALIZER,
                            {0},
                            0,
                            0};
static long per_producer;

struct tally {
    long count, sum; /* what one consumer got */
};

static void *on_produce(void *arg)
{
    (void)arg;
    for (long i = 1; i <= per_producer; i++)
        ring_push(&queue, i);
    return NULL;
}

// [consumer]
static void *on_consume(void *arg)
{
    struct tally *mine = arg;
    for (long item; (item = ring_pop(&queue)) != STOP;) {
        mine->count++;
        mine->sum += item;
    }
    return NULL;
}
// [consumer]

int main(int argc, char **argv)
{
    per_producer = argc > 1 ? atol(argv[1]) : 20000;
    if (per_producer < 0) {
        fprintf(stderr, "usage: %s [items_per_producer]\n", argv[0]);
        return 2;
    }
    pthread_t producers[PRODUCERS], consumers[CONSUMERS];
    struct tally tallies[CONSUMERS] = {{0, 0}};
    int en;
    for (int i = 0; i < CONSUMERS; i++)
        if ((en = pthread_create(&consumers[i], NULL, on_consume,
                                 &tallies[i])) != 0)
            die_en(en, "pthread_create");
    for (int i = 0; i < PRODUCERS; i++)
        if ((en = pthread_create(&producers[i], NULL, on_produce, NULL)) != 0)
            die_en(en, "pthread_create");

    for (int i = 0; i < PRODUCERS; i++)
        if ((en = pthread_join(producers[i], NULL)) != 0)
            die_en(en, "pthread_join");
    for (int i = 0; i < CONSUMERS; i++) /* one STOP for each consumer */
        ring_push(&queue, STOP);
    long count = 0, sum = 0;
    for (int i = 0; i < CONSUMERS; i++) {
        if ((en = pthread_join(consumers[i], NULL)) != 0)
            die_en(en, "pthread_join");
        count += tallies[i].count;
        sum += tallies[i].sum;
    }

    long want_sum = PRODUCERS * (per_producer * (per_producer + 1) / 2);
    printf("produced %ld items, sum %ld\n", PRODUCERS * per_producer, want_sum);
    int right = count == PRODUCERS * per_producer && sum == want_sum;
    printf("consumed %ld items, sum %ld: %s\n", count, sum,
           right ? "nothing lost, nothing taken twice" : "WRONG");
    return right ? 0 : 1;
}
