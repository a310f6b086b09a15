/*
 * cqueue.c: work on a pool, completion on the loop. Two workers run eight
 * requests (request n sleeps n * 15 ms, then squares n), post each on the
 * completion queue and wake the loop through a pipe; the loop calls every
 * request's callback on its own thread, and returns when none is pending.
 * A callback spends 3 ms "sending the reply", so the timeline shows it.
 *
 * Run: cqueue
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/select.h>
#include <time.h>
#include <unistd.h>

#include "die.h"
#include "trace.h"

#define WORKERS 2
#define REQUESTS 8

// [req]
struct req {
    struct req *next;                           /* in one queue at a time */
    int (*work)(struct req *r);                 /* on a worker: 0 or errno */
    void (*on_done)(struct req *r, int status); /* on the loop thread */
    int status;                                 /* what work returned */
    int n, result;                              /* the request's own data */
    int64_t finished;                           /* when work returned */
};
// [req]

// [state]
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t have_work = PTHREAD_COND_INITIALIZER;
static struct req *todo, **todo_end = &todo; /* protected by lock */
static struct req *done, **done_end = &done; /* protected by lock */
static int wake_sent; /* protected by lock: a wake-up byte is on its way */
static int closing;   /* protected by lock: workers may end */
static int wake[2];   /* [0] the loop watches it, [1] workers write to it */
static int pending;   /* loop thread only: submitted, callback not run yet */
// [state]
static pthread_t loop_thread;

static void check(int en, const char *what) /* for pthread results */
{
    if (en != 0)
        die_en(en, what);
}

// [worker]
static void *on_worker(void *arg)
{
    (void)arg;
    for (;;) {
        check(pthread_mutex_lock(&lock), "lock");
        while (todo == NULL && !closing)
            check(pthread_cond_wait(&have_work, &lock), "wait");
        struct req *r = todo;
        if (r != NULL && (todo = r->next) == NULL)
            todo_end = &todo;
        check(pthread_mutex_unlock(&lock), "unlock");
        if (r == NULL)
            return NULL;        /* closing, and nothing left to do */
        r->status = r->work(r); /* the slow part, off the loop thread */
        r->finished = trace_now();
        r->next = NULL;
        check(pthread_mutex_lock(&lock), "lock");
        *done_end = r; /* post the completion */
        done_end = &r->next;
        int must_wake = !wake_sent; /* the first one since the loop looked */
        wake_sent = 1;
        check(pthread_mutex_unlock(&lock), "unlock");
        if (must_wake && write(wake[1], "!", 1) != 1)
            die("write");
    }
}
// [worker]

// [submit]
static void submit(struct req *r) /* loop thread */
{
    r->next = NULL;
    check(pthread_mutex_lock(&lock), "lock");
    *todo_end = r;
    todo_end = &r->next;
    check(pthread_cond_signal(&have_work), "signal");
    check(pthread_mutex_unlock(&lock), "unlock");
    pending++;
}
// [submit]

// [loop]
static void run_loop(void)
{
    while (pending > 0) { /* never return while a callback is owed */
        fd_set rd;
        FD_ZERO(&rd);
        FD_SET(wake[0], &rd);
        int ready = select(wake[0] + 1, &rd, NULL, NULL, NULL);
        if (ready == -1 && errno != EINTR)
            die("select");
        if (ready <= 0)
            continue;
        char bytes[16];
        if (read(wake[0], bytes, sizeof bytes) == -1)
            die("read");
        /* Take the whole queue in one step. */
        check(pthread_mutex_lock(&lock), "lock");
        struct req *list = done;
        done = NULL;
        done_end = &done;
        wake_sent = 0; /* from now on, a new completion must wake us */
        check(pthread_mutex_unlock(&lock), "unlock");
        while (list != NULL) { /* callbacks run without the lock */
            struct req *r = list;
            list = r->next;
            pending--;
            r->on_done(r, r->status); /* it may free r, or submit more */
        }
    }
}
// [loop]

static int on_square(struct req *r) /* a worker runs it */
{
    int64_t t0 = trace_now();
    struct timespec ts = {0, r->n * 15 * 1000000L};
    while (nanosleep(&ts, &ts) == -1)
        if (errno != EINTR)
            return errno;
    r->result = r->n * r->n;
    char label[32];
    snprintf(label, sizeof label, "work %d", r->n);
    trace_span(label, t0, trace_now());
    return 0;
}

// [callback]
static void on_squared(struct req *r, int status) /* the loop runs it */
{
    int64_t t0 = trace_now();
    printf("request %d: %d squared is %2d, status %d, on the %s thread, "
           "%4.0f us after its work ended\n",
           r->n, r->n, r->result, status,
           pthread_equal(pthread_self(), loop_thread) ? "loop" : "WRONG",
           (double)(t0 - r->finished) / 1e3);
    while (trace_now() - t0 < 3000000) /* 3 ms: "send the reply" */
        continue;
    char label[32];
    snprintf(label, sizeof label, "done %d", r->n);
    trace_span(label, t0, trace_now());
    free(r); /* the request came back to its owner: free it */
}
// [callback]

int main(void)
{
    pthread_t workers[WORKERS];
    loop_thread = pthread_self();
    if (pipe(wake) == -1)
        die("pipe");
    for (int i = 0; i < WORKERS; i++)
        check(pthread_create(&workers[i], NULL, on_worker, NULL), "create");
    int64_t t0 = trace_now();
    for (int n = 1; n <= REQUESTS; n++) {
        struct req *r = calloc(1, sizeof *r);
        if (r == NULL)
            die("calloc");
        r->n = n;
        r->work = on_square;
        r->on_done = on_squared;
        submit(r);
    }
    trace_span("submit", t0, trace_now());
    run_loop();
    check(pthread_mutex_lock(&lock), "lock");
    closing = 1;
    check(pthread_cond_broadcast(&have_work), "broadcast");
    check(pthread_mutex_unlock(&lock), "unlock");
    for (int i = 0; i < WORKERS; i++)
        check(pthread_join(workers[i], NULL), "join");
    if (close(wake[0]) == -1 || close(wake[1]) == -1)
        die("close");
    printf("all %d callbacks ran; the loop returned\n", REQUESTS);
    return 0;
}
