/*
 * tokens_fixed.c: tokens_broken.c with strtok_r(). The place to go on
 * from lives in a pointer the caller owns (`rest`), one per thread, so
 * the two threads, taking turns exactly as before, each get their own
 * words.
 *
 *   tokens_fixed
 */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <string.h>

#include "die.h"

#define CALLS 4 /* each thread calls strtok() four times */

struct splitter {
    const char *name;
    char text[32];          /* the thread's own string */
    sem_t *my_turn, *other; /* whose turn it is */
    char *rest;             /* strtok_r's bookmark: this thread's own */
    const char *got[CALLS]; /* what each call returned */
};

static void take_turn(sem_t *s)
{
    while (sem_wait(s) != 0)
        if (errno != EINTR)
            die("sem_wait");
}

// [split]
static void *on_split(void *arg)
{
    struct splitter *s = arg;
    for (int i = 0; i < CALLS; i++) {
        take_turn(s->my_turn);
        /* Same calls, but the bookmark is s->rest, not a hidden static. */
        s->got[i] = strtok_r(i == 0 ? s->text : NULL, " ", &s->rest);
        if (sem_post(s->other) != 0)
            die("sem_post");
    }
    return NULL;
}
// [split]

int main(void)
{
    sem_t turn_a, turn_b;
    if (sem_init(&turn_a, 0, 1) != 0 || sem_init(&turn_b, 0, 0) != 0)
        die("sem_init"); /* A goes first */
    struct splitter a = {"A", "red green blue", &turn_a, &turn_b, NULL, {NULL}};
    struct splitter b = {"B", "1 2 3", &turn_b, &turn_a, NULL, {NULL}};

    pthread_t ta, tb;
    int en = pthread_create(&ta, NULL, on_split, &a);
    if (en == 0)
        en = pthread_create(&tb, NULL, on_split, &b);
    if (en != 0)
        die_en(en, "pthread_create");
    if ((en = pthread_join(ta, NULL)) != 0 ||
        (en = pthread_join(tb, NULL)) != 0)
        die_en(en, "pthread_join");

    struct splitter *both[2] = {&a, &b};
    for (int t = 0; t < 2; t++) {
        printf("thread %s got:", both[t]->name);
        for (int i = 0; i < CALLS; i++)
            printf(" %s", both[t]->got[i] ? both[t]->got[i] : "(end)");
        printf("\n");
    }
    return 0;
}
