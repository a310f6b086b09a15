/*
 * workers.c: a thread pool in miniature. W worker threads loop: take a
 * task (a function and its argument) from a bounded queue, run it, take
 * the next. main submits J tasks of `ms` milliseconds of sleep each, then
 * one STOP per worker, then joins the workers. At most W tasks run at
 * once, so the total is about ceil(J / W) * ms. A timeline at the end
 * shows which worker ran which task (A, B, C, ...) when.
 *
 *   workers [workers [tasks [ms]]]   (default 2 8 100; at most 26 tasks)
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "die.h"
#include "trace.h"

#define SLOTS 4
#define MAX 26
#define TIMELINE 48

struct task {
    void (*fn)(void *arg, int worker); /* NULL means STOP */
    void *arg;
};

static struct {
    pthread_mutex_t lock;
    pthread_cond_t not_full, not_empty;
    struct task slots[SLOTS];
    int head, count;
} q = {PTHREAD_MUTEX_INITIALIZER,
       PTHREAD_COND_INITIALIZER,
       PTHREAD_COND_INITIALIZER,
       {{NULL, NULL}},
       0,
       0};

static void q_push(struct task t) /* as ring_push in prodcons.c */
{
    int en = pthread_mutex_lock(&q.lock);
    while (en == 0 && q.count == SLOTS)
        en = pthread_cond_wait(&q.not_full, &q.lock);
    if (en != 0)
        die_en(en, "q_push");
    q.slots[(q.head + q.count++) % SLOTS] = t;
    if ((en = pthread_cond_signal(&q.not_empty)) != 0 ||
        (en = pthread_mutex_unlock(&q.lock)) != 0)
        die_en(en, "q_push");
}

static struct task q_pop(void) /* as ring_pop in prodcons.c */
{
    int en = pthread_mutex_lock(&q.lock);
    while (en == 0 && q.count == 0)
        en = pthread_cond_wait(&q.not_empty, &q.lock);
    if (en != 0)
        die_en(en, "q_pop");
    struct task t = q.slots[q.head];
    q.head = (q.head + 1) % SLOTS;
    q.count--;
    if ((en = pthread_cond_signal(&q.not_full)) != 0 ||
        (en = pthread_mutex_unlock(&q.lock)) != 0)
        die_en(en, "q_pop");
    return t;
}

static int64_t start; /* trace_now() when main began, ns */
static long task_ms;
static struct record {
    int worker;       /* which worker ran the task, and when (ns): */
    int64_t from, to; /* written by the task, read by main after joining */
} records[MAX];

static void on_task(void *arg, int worker) /* a task: sleep task_ms */
{
    struct record *r = arg;
    r->worker = worker;
    r->from = trace_now();
    struct timespec d = {task_ms / 1000, task_ms % 1000 * 1000000L};
    while (nanosleep(&d, &d) != 0)
        if (errno != EINTR)
            die("nanosleep");
    r->to = trace_now();
    char label[16];
    snprintf(label, sizeof label, "task %c", 'A' + (int)(r - records));
    trace_span(label, r->from, r->to); /* for the timeline */
}

// [worker]
static void *on_worker(void *arg)
{
    int me = *(int *)arg; /* this worker's number */
    for (;;) {
        struct task t = q_pop(); /* blocks while there is nothing to do */
        if (t.fn == NULL)
            return NULL; /* STOP: the pool is shutting down */
        t.fn(t.arg, me);
    }
}
// [worker]

int main(int argc, char **argv)
{
    int nworkers = argc > 1 ? atoi(argv[1]) : 2;
    int ntasks = argc > 2 ? atoi(argv[2]) : 8;
    task_ms = argc > 3 ? atol(argv[3]) : 100;
    if (nworkers < 1 || nworkers > MAX || ntasks < 0 || ntasks > MAX ||
        task_ms < 0 || task_ms > 10000) {
        fprintf(stderr, "usage: %s [workers [tasks [ms]]] (1-26, 0-26)\n",
                argv[0]);
        return 2;
    }
    start = trace_now();

    // [pool]
    pthread_t threads[MAX];
    int ids[MAX];
    for (int w = 0; w < nworkers; w++) {
        ids[w] = w;
        int en = pthread_create(&threads[w], NULL, on_worker, &ids[w]);
        if (en != 0)
            die_en(en, "pthread_create");
    }
    for (int i = 0; i < ntasks; i++) /* blocks while the queue is full */
        q_push((struct task){on_task, &records[i]});
    for (int w = 0; w < nworkers; w++)
        q_push((struct task){NULL, NULL}); /* one STOP per worker */
    for (int w = 0; w < nworkers; w++) {
        int en = pthread_join(threads[w], NULL);
        if (en != 0)
            die_en(en, "pthread_join");
    }
    // [pool]

    int64_t total = trace_now() - start; /* then a row per worker: */
    printf("tasks: %d of %ld ms; workers: %d; total: %.3f s\n", ntasks, task_ms,
           nworkers, (double)total / 1e9);
    for (int w = 0; w < nworkers; w++) {
        char row[TIMELINE + 1] = "";
        for (int c = 0; c < TIMELINE; c++) {
            int64_t t = start + (2 * c + 1) * total / (2 * TIMELINE);
            row[c] = '.';
            for (int i = 0; i < ntasks; i++)
                if (records[i].worker == w && t >= records[i].from &&
                    t < records[i].to)
                    row[c] = (char)('A' + i);
        }
        printf("  worker %d |%s|\n", w, row);
    }
    return 0;
}
