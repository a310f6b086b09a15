/*
 * cancel_broken.c: the same three requests as cancel_fixed.c, with a
 * cancel that answers at once, whatever the state (it calls the callback
 * with ECANCELED from inside cancel), and a shutdown that empties the
 * queue. A was already running: its work completes anyway and its
 * completion calls the callback a second time. B was queued at shutdown:
 * nobody ever calls it. The number of callbacks (3) still equals the
 * number of requests, which is why counting them is not enough.
 *
 * Run: cancel_broken
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/select.h>
#include <unistd.h>

#include "die.h"

// [state]
enum state { QUEUED, RUNNING, FINISHED }; /* FINISHED: its answer is posted */

struct req {
    struct req *next;
    char name;
    enum state state; /* protected by lock */
    int status, calls;
};
// [state]

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t have_work = PTHREAD_COND_INITIALIZER;
static struct req *todo, *done; /* protected by lock; newest last */
static int closing;             /* protected by lock */
static int wake[2], started[2], go[2], pending;

static void check(int en, const char *what)
{
    if (en != 0)
        die_en(en, what);
}

static void append(struct req **list, struct req *r) /* with the lock */
{
    while (*list != NULL)
        list = &(*list)->next;
    r->next = NULL;
    *list = r;
}

static void finish(struct req *r, int status) /* with the lock held */
{
    r->state = FINISHED;
    r->status = status;
    append(&done, r);
    if (write(wake[1], "!", 1) != 1) /* the loop will answer it */
        die("write");
}

static void *on_worker(void *arg)
{
    for (;;) {
        check(pthread_mutex_lock(&lock), "lock");
        while (todo == NULL && !closing)
            check(pthread_cond_wait(&have_work, &lock), "wait");
        struct req *r = closing ? NULL : todo;
        if (r != NULL) {
            todo = r->next;
            r->state = RUNNING; /* from now on, cancel says EBUSY */
        }
        check(pthread_mutex_unlock(&lock), "unlock");
        if (r == NULL)
            return arg;
        char byte;
        if (r->name == 'A' && (write(started[1], "!", 1) != 1 ||
                               read(go[0], &byte, 1) != 1)) /* A is slow */
            die("pipe");
        check(pthread_mutex_lock(&lock), "lock");
        finish(r, 0);
        check(pthread_mutex_unlock(&lock), "unlock");
    }
}

static void on_done(struct req *r, int status) /* loop thread */
{
    r->calls++;
    printf("callback: %c, status %s\n", r->name,
           status == 0 ? "0 (its work completed)" : strerror(status));
}

// [cancel]
static int cancel(struct req *r) /* WRONG: answers now, whatever the state */
{
    check(pthread_mutex_lock(&lock), "lock");
    struct req **p = &todo;
    while (*p != NULL && *p != r)
        p = &(*p)->next;
    if (*p == r) /* queued: take it out; running: "ignore its result" */
        *p = r->next;
    check(pthread_mutex_unlock(&lock), "unlock");
    pending--;
    on_done(r, ECANCELED); /* inside cancel() */
    return 0;
}

static void shutdown_pool(void) /* loop thread */
{
    check(pthread_mutex_lock(&lock), "lock");
    closing = 1;
    todo = NULL; /* WRONG: the queued requests are simply forgotten */
    check(pthread_cond_broadcast(&have_work), "broadcast");
    check(pthread_mutex_unlock(&lock), "unlock");
}
// [cancel]

int main(void)
{
    struct req reqs[3] = {{.name = 'A'}, {.name = 'B'}, {.name = 'C'}};
    if (pipe(wake) == -1 || pipe(started) == -1 || pipe(go) == -1)
        die("pipe");
    pthread_t t;
    check(pthread_create(&t, NULL, on_worker, NULL), "pthread_create");
    check(pthread_mutex_lock(&lock), "lock");
    for (int i = 0; i < 3; i++, pending++)
        append(&todo, &reqs[i]);
    check(pthread_cond_signal(&have_work), "signal");
    check(pthread_mutex_unlock(&lock), "unlock");
    char byte;
    if (read(started[0], &byte, 1) != 1) /* wait until A is running */
        die("read");
    // [main]
    int c = cancel(&reqs[2]);
    printf("cancel C: %s\n", c == 0 ? "0, it had not started" : strerror(c));
    int a = cancel(&reqs[0]);
    printf("cancel A: %s\n",
           a == 0 ? "0, it had not started" : "EBUSY, it is running");
    printf("shutdown with A running and B queued\n");
    shutdown_pool();
    // [main]
    if (write(go[1], "!", 1) != 1) /* now A may finish */
        die("write");
    while (pending > 0) { /* the loop: one wake-up byte per answer here */
        if (read(wake[0], &byte, 1) != 1)
            die("read");
        check(pthread_mutex_lock(&lock), "lock");
        struct req *r = done;
        done = r->next;
        check(pthread_mutex_unlock(&lock), "unlock");
        pending--;
        on_done(r, r->status);
    }
    check(pthread_join(t, NULL), "pthread_join");
    printf("callbacks: A %d, B %d, C %d\n", reqs[0].calls, reqs[1].calls,
           reqs[2].calls);
    int fds[] = {wake[0], wake[1], started[0], started[1], go[0], go[1]};
    for (int i = 0; i < 6; i++)
        if (close(fds[i]) == -1)
            die("close");
    return 0;
}
