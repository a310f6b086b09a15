/*
 * ownership_broken.c: the loop frees a request that a worker still holds.
 * Request A is submitted; after 50 ms with no answer the loop gives up,
 * calls A's callback with ETIMEDOUT and frees A. The next request, B, gets
 * the same memory (requests come from a small free list here, so it
 * happens every time; malloc() often does the same). When A's work ends,
 * the worker writes A's result into B and posts it: B's callback runs with
 * A's answer, and later a second time with its own. A pipe ("go") lets
 * each job finish only when the demo says, so the order is the same on
 * every run.
 *
 * Run: ownership_broken
 */
#include <pthread.h>
#include <stdio.h>
#include <sys/select.h>
#include <unistd.h>

#include "die.h"

struct req {
    struct req *next;
    char name;
    int n, result;
};

static struct req slots[4], *free_list; /* loop thread only */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct req *todo, *done; /* protected by lock (one item at most) */
static int wake[2], go[2];      /* worker -> loop, loop -> worker */

static void check(int en, const char *what)
{
    if (en != 0)
        die_en(en, what);
}

static struct req *req_new(char name, int n)
{
    struct req *r = free_list;
    free_list = r->next;
    r->name = name;
    r->n = n;
    printf("submitted request %c: square %d (slot %d)\n", name, n,
           (int)(r - slots));
    return r;
}

static void req_free(struct req *r)
{
    r->next = free_list;
    free_list = r;
}

static void *on_worker(void *arg) /* one job after the other */
{
    for (int jobs = 0; jobs < 2; jobs++) {
        struct req *r = NULL;
        int n = 0;
        while (r == NULL) { /* (a real pool sleeps on a condition variable) */
            check(pthread_mutex_lock(&lock), "lock");
            if ((r = todo) != NULL)
                n = r->n; /* the input, read when the work starts */
            todo = NULL;
            check(pthread_mutex_unlock(&lock), "unlock");
        }
        char byte;
        if (read(go[0], &byte, 1) != 1) /* the work takes this long */
            die("read");
        r->result = n * n; /* into whatever r is by now */
        check(pthread_mutex_lock(&lock), "lock");
        done = r;
        check(pthread_mutex_unlock(&lock), "unlock");
        if (write(wake[1], "!", 1) != 1)
            die("write");
    }
    (void)arg;
    return NULL;
}

static void submit(struct req *r)
{
    check(pthread_mutex_lock(&lock), "lock");
    todo = r;
    check(pthread_mutex_unlock(&lock), "unlock");
}

// [timeout]
static void on_timeout(struct req *a) /* the loop: A took too long */
{
    check(pthread_mutex_lock(&lock), "lock");
    int started = todo != a; /* still queued? then it could be cancelled */
    check(pthread_mutex_unlock(&lock), "unlock");
    if (!started)
        return; /* (not in this demo: the worker took A at once) */
    printf("request %c: no answer after 50 ms: callback with ETIMEDOUT, "
           "then free it\n",
           a->name);
    req_free(a); /* WRONG: the worker still holds it */
}
// [timeout]

// [done]
static void on_done(struct req *r) /* the loop: a completion came in */
{
    printf("callback for slot %d: request %c, square of %d is %d%s\n",
           (int)(r - slots), r->name, r->n, r->result,
           r->result == r->n * r->n ? "" : "   <- WRONG");
}
// [done]

static int wait_wake(long ms) /* 1 when a worker woke us, 0 timed out */
{
    fd_set rd;
    FD_ZERO(&rd);
    FD_SET(wake[0], &rd);
    struct timeval tv = {ms / 1000, ms % 1000 * 1000};
    int n;
    while ((n = select(wake[0] + 1, &rd, NULL, NULL, &tv)) == -1)
        if (errno != EINTR)
            die("select");
    char byte;
    if (n == 1 && read(wake[0], &byte, 1) != 1)
        die("read");
    return n;
}

int main(void)
{
    for (int i = 3; i >= 0; i--)
        req_free(&slots[i]);
    if (pipe(wake) == -1 || pipe(go) == -1)
        die("pipe");
    pthread_t t;
    check(pthread_create(&t, NULL, on_worker, NULL), "pthread_create");
    struct req *a = req_new('A', 2);
    submit(a);
    if (wait_wake(50) == 0) /* 50 ms and no completion */
        on_timeout(a);
    submit(req_new('B', 5));
    for (int i = 0; i < 2; i++) {
        if (write(go[1], "!", 1) != 1) /* let the next job finish */
            die("write");
        while (!wait_wake(1000))
            continue;
        check(pthread_mutex_lock(&lock), "lock");
        struct req *r = done;
        check(pthread_mutex_unlock(&lock), "unlock");
        on_done(r);
    }
    check(pthread_join(t, NULL), "pthread_join");
    for (int i = 0; i < 2; i++)
        if (close(wake[i]) == -1 || close(go[i]) == -1)
            die("close");
    return 0;
}
