/*
 * tokens_broken.c: strtok() is not thread-safe. It remembers where it
 * stopped in one hidden static pointer, shared by every thread. Thread
 * A splits "red green blue" and thread B splits "1 2 3", taking turns
 * (two semaphores make them alternate, so no two calls ever overlap).
 * Even so, each thread's strtok(NULL, ...) continues the string the
 * OTHER thread started last: the threads get each other's words.
 *
 *   tokens_broken
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
        /* The first call names the string; the next ones say "go on". */
        s->got[i] = strtok(i == 0 ? s->text : NULL, " ");
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
    struct splitter a = {"A", "red green blue", &turn_a, &turn_b, {NULL}};
    struct splitter b = {"B", "1 2 3", &turn_b, &turn_a, {NULL}};

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
