/*
 * deadline.c: a request with a time limit, where the work's completion
 * and the timer race and exactly one of them answers. Both arrive on the
 * loop thread (the completion through the queue, the timer from select's
 * timeout), so the loop decides who was first, with no lock: whichever
 * comes first calls the callback; the timer is then cancelled, or the
 * late completion is swallowed and the request freed when it comes back.
 *
 * Run: deadline WORK_MS LIMIT_MS   one request
 *      deadline race N             N requests, 2 at a time, work of 0 to
 *                                  3 ms against a limit of 1.5 ms
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <unistd.h>

#include "die.h"
#include "trace.h"

struct req {
    struct req *next;
    long work_us;
    int64_t deadline; /* loop thread: when the timer fires */
    int timer, calls; /* loop thread: timer pending; callbacks so far */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t have_work = PTHREAD_COND_INITIALIZER;
static struct req *todo, *done; /* protected by lock */
static int closing, wake_sent;  /* protected by lock */
static int wake[2];
static long timed_out, late, wrong; /* loop thread only */
static int verbose;

static void check(int en, const char *what)
{
    if (en != 0)
        die_en(en, what);
}

static void *on_worker(void *arg)
{
    for (;;) {
        check(pthread_mutex_lock(&lock), "lock");
        while (todo == NULL && !closing)
            check(pthread_cond_wait(&have_work, &lock), "wait");
        struct req *r = todo;
        if (r != NULL)
            todo = r->next;
        check(pthread_mutex_unlock(&lock), "unlock");
        if (r == NULL)
            return arg;
        struct timespec ts = {r->work_us / 1000000,
                              r->work_us % 1000000 * 1000};
        while (nanosleep(&ts, &ts) == -1) /* the work */
            if (errno != EINTR)
                die("nanosleep");
        check(pthread_mutex_lock(&lock), "lock");
        r->next = done; /* (order does not matter here) */
        done = r;
        int must_wake = !wake_sent;
        wake_sent = 1;
        check(pthread_mutex_unlock(&lock), "unlock");
        if (must_wake && write(wake[1], "!", 1) != 1)
            die("write");
    }
}

static void submit(struct req *r, long limit_us) /* loop thread */
{
    r->deadline = trace_now() + limit_us * 1000;
    r->timer = 1;
    check(pthread_mutex_lock(&lock), "lock");
    r->next = todo;
    todo = r;
    check(pthread_cond_signal(&have_work), "signal");
    check(pthread_mutex_unlock(&lock), "unlock");
}

// [race]
static void on_done(struct req *r, int status) /* the user's callback */
{
    r->calls++;
    timed_out += status == ETIMEDOUT;
    if (verbose)
        printf("callback: status %s\n", status ? strerror(status) : "0");
}

static void on_timer(struct req *r) /* loop: the limit passed first */
{
    r->timer = 0;
    on_done(r, ETIMEDOUT); /* the work still runs; r stays allocated */
}

static void on_completion(struct req *r) /* loop: the work came back */
{
    if (r->calls > 0) { /* the timer won: swallow this completion */
        late++;
        if (verbose)
            printf("the late completion: swallowed, request freed\n");
    } else {
        r->timer = 0; /* the work won: cancel the timer */
        on_done(r, 0);
        if (verbose)
            printf("the timer: cancelled\n");
    }
    wrong += r->calls != 1; /* (the demo checks: exactly once) */
    free(r);
}
// [race]

int main(int argc, char *argv[])
{
    int race = argc == 3 && strcmp(argv[1], "race") == 0;
    long a = argc == 3 ? atol(argv[race ? 2 : 1]) : 0;
    long limit_us = race ? 1500 : argc == 3 ? atol(argv[2]) * 1000 : 0;
    if (a <= 0 || a > 100000 || limit_us <= 0 || limit_us > 10000000) {
        fprintf(stderr, "usage: deadline WORK_MS LIMIT_MS | deadline race N\n");
        return 2;
    }
    long n = race ? a : 1, submitted = 0;
    unsigned seed = 42;
    verbose = !race;
    if (pipe(wake) == -1)
        die("pipe");
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        check(pthread_create(&t[i], NULL, on_worker, NULL), "pthread_create");
    struct req *live[2] = {NULL, NULL}; /* the requests in the pool */
    while (submitted < n || live[0] != NULL || live[1] != NULL) {
        for (int i = 0; i < 2 && submitted < n; i++)
            if (live[i] == NULL) { /* keep two requests in the pool */
                seed = seed * 1103515245 + 12345;
                live[i] = calloc(1, sizeof *live[i]);
                if (live[i] == NULL)
                    die("calloc");
                submitted++;
                live[i]->work_us = race ? (long)(seed >> 8) % 3001 : a * 1000;
                submit(live[i], limit_us);
            }
        int64_t next = INT64_MAX; /* the earliest pending timer */
        for (int i = 0; i < 2; i++)
            if (live[i] != NULL && live[i]->timer && live[i]->deadline < next)
                next = live[i]->deadline;
        int64_t wait = next == INT64_MAX ? 1000000000 : next - trace_now();
        wait = wait < 0 ? 0 : wait;
        struct timeval tv = {wait / 1000000000, wait % 1000000000 / 1000};
        fd_set rd;
        FD_ZERO(&rd);
        FD_SET(wake[0], &rd);
        int ready = select(wake[0] + 1, &rd, NULL, NULL, &tv);
        if (ready == -1 && errno != EINTR)
            die("select");
        char byte;
        if (ready > 0 && read(wake[0], &byte, 1) != 1)
            die("read");
        check(pthread_mutex_lock(&lock), "lock");
        struct req *list = done;
        done = NULL;
        wake_sent = 0;
        check(pthread_mutex_unlock(&lock), "unlock");
        for (struct req *r; (r = list) != NULL;) { /* completions first */
            list = r->next;
            live[live[0] == r ? 0 : 1] = NULL;
            on_completion(r);
        }
        for (int i = 0; i < 2; i++) /* then the timers now due */
            if (live[i] != NULL && live[i]->timer &&
                live[i]->deadline <= trace_now())
                on_timer(live[i]);
    }
    if (race)
        printf("%ld requests: %ld answered by the work, %ld by the timer, %ld "
               "not exactly once; %ld late completions swallowed\n",
               n, n - timed_out, timed_out, wrong, late);
    check(pthread_mutex_lock(&lock), "lock");
    closing = 1;
    check(pthread_cond_broadcast(&have_work), "broadcast");
    check(pthread_mutex_unlock(&lock), "unlock");
    for (int i = 0; i < 2; i++)
        check(pthread_join(t[i], NULL), "pthread_join");
    if (close(wake[0]) == -1 || close(wake[1]) == -1)
        die("close");
    return 0;
}
