/*
 * futures.c: a future is a value that will exist later. size_async()
 * asks for a file's size on a worker thread (stat() can block, on a slow
 * disk or a network file system) and returns a future at once; the
 * completion, on the loop thread, resolves it with the size or rejects it
 * with the error. then() registers a continuation, before or after the
 * future settled; it always runs later, from the loop's queue of ready
 * continuations. all_of() makes one future out of several.
 *
 * Run: futures   (in chapters/05-callbacks, which has data/)
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "die.h"

// [future]
struct future;
typedef void (*then_fn)(struct future *f, void *ctx);
struct cont { /* a continuation: run fn(f, ctx) */
    struct cont *next;
    then_fn fn;
    void *ctx;
    struct future *f;
};
struct future {
    int state; /* 0 pending, 1 resolved, -1 rejected */
    long value;
    int err;
    struct cont *waiting; /* registered while pending, oldest first */
    int left;             /* for all_of(): inputs not resolved yet */
};
static struct cont *ready, **ready_end = &ready; /* loop thread only */

static void schedule(struct cont *c) /* the loop runs it on its next turn */
{
    c->next = NULL;
    *ready_end = c;
    ready_end = &c->next;
}

static void then(struct future *f, then_fn fn, void *ctx)
{
    struct cont *c = malloc(sizeof *c);
    if (c == NULL)
        die("malloc");
    *c = (struct cont){NULL, fn, ctx, f};
    if (f->state != 0) {
        schedule(c); /* settled already: later all the same, never now */
        return;
    }
    struct cont **end = &f->waiting;
    while (*end != NULL)
        end = &(*end)->next;
    *end = c;
}

static void settle(struct future *f, int state, long value, int err)
{
    if (f->state != 0)
        return; /* a future settles once */
    f->state = state;
    f->value = value;
    f->err = err;
    for (struct cont *c; (c = f->waiting) != NULL;) {
        f->waiting = c->next;
        schedule(c);
    }
}
// [future]

// [all]
static void on_input(struct future *in, void *ctx)
{
    struct future *all = ctx;
    if (in->state < 0) /* the first rejection rejects all */
        settle(all, -1, 0, in->err);
    else if (--all->left == 0)
        settle(all, 1, 0, 0);
}

static struct future *all_of(struct future **fs, int n)
{
    struct future *all = calloc(1, sizeof *all);
    if (all == NULL)
        die("calloc");
    all->left = n;
    for (int i = 0; i < n; i++)
        then(fs[i], on_input, all);
    return all;
}
// [all]

struct req { /* one offloaded stat() */
    const char *path;
    struct stat st;
    int status;
    struct future f;
    pthread_t thread;
};
static int wake[2], pending;

static void *on_thread(void *arg) /* worker */
{
    struct req *r = arg;
    r->status = stat(r->path, &r->st) == -1 ? errno : 0;
    /* The pipe carries the finished request itself: a pointer is far
       smaller than PIPE_BUF, so each write arrives whole. */
    if (write(wake[1], &r, sizeof r) != sizeof r)
        die("write");
    return NULL;
}

static struct future *size_async(struct req *r) /* returns at once */
{
    int en = pthread_create(&r->thread, NULL, on_thread, r);
    if (en != 0)
        die_en(en, "pthread_create");
    pending++;
    return &r->f;
}

static struct req good[2] = {{.path = "data/poem.txt"},
                             {.path = "data/list.txt"}};
static struct req bad[2] = {{.path = "data/poem.txt"}, {.path = "data/nope"}};
static struct future *all[2]; /* the all_of() of good, of bad */

static void start(struct req *r, struct future **out, then_fn on_all)
{
    struct future *f[2] = {size_async(&r[0]), size_async(&r[1])};
    *out = all_of(f, 2);
    then(*out, on_all, r);
}

// [use]
static void on_bad(struct future *f, void *ctx)
{
    struct req *r = ctx;
    printf("all of %s, %s: %s\n", r[0].path, r[1].path,
           f->state < 0 ? strerror(f->err) : "resolved");
}

static void on_good(struct future *f, void *ctx)
{
    struct req *r = ctx; /* the inputs of this all_of() */
    printf("all resolved: %s %ld + %s %ld = %ld bytes\n", r[0].path,
           r[0].f.value, r[1].path, r[1].f.value, r[0].f.value + r[1].f.value);
    start(bad, &all[1], on_bad); /* the next step */
    (void)f;
}
// [use]

int main(void)
{
    if (pipe(wake) == -1)
        die("pipe");
    start(good, &all[0], on_good);
    printf("two requests started; no size is known yet\n");
    // [loop]
    while (pending > 0 || ready != NULL) {                   /* the loop */
        for (struct cont *c; (c = ready) != NULL; free(c)) { /* ready ones */
            if ((ready = c->next) == NULL)
                ready_end = &ready;
            c->fn(c->f, c->ctx);
        }
        if (pending == 0)
            continue;
        struct req *r; /* (the loop's one descriptor: no select() here) */
        if (read(wake[0], &r, sizeof r) != sizeof r)
            die("read");
        int en = pthread_join(r->thread, NULL);
        if (en != 0)
            die_en(en, "pthread_join");
        pending--;
        settle(&r->f, r->status ? -1 : 1, r->st.st_size, r->status);
    }
    // [loop]
    free(all[0]);
    free(all[1]);
    if (close(wake[0]) == -1 || close(wake[1]) == -1)
        die("close");
    return 0;
}
