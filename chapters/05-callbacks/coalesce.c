/*
 * coalesce.c: completions per second through a completion queue, with a
 * wake-up per completion and with coalesced wake-ups, in one run. Two
 * worker threads post N completions (no work at all: this measures the
 * queue) onto a mutex-protected list and wake the loop through a
 * non-blocking pipe. "each" writes a byte after every post; "coalesced"
 * writes only when no wake-up is pending since the loop last looked. The
 * loop drains the list and calls a callback per completion.
 *
 * Run: coalesce [N]   (default 200000)
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/select.h>
#include <time.h>
#include <unistd.h>

#include "die.h"

struct item {
    struct item *next;
    long value;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct item *done, **done_end = &done; /* protected by lock */
static int wake_pending;                      /* protected by lock */
static int coalesce, wake[2];
static long per_worker, writes; /* writes: protected by lock */
static struct item *items;

static void check(int en, const char *what)
{
    if (en != 0)
        die_en(en, what);
}

static double now_s(void)
{
    struct timespec t;
    if (clock_gettime(CLOCK_MONOTONIC, &t) == -1)
        die("clock_gettime");
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

// [post]
static void post(struct item *it) /* any thread */
{
    it->next = NULL;
    check(pthread_mutex_lock(&lock), "lock");
    *done_end = it;
    done_end = &it->next;
    int must_wake = !coalesce || !wake_pending;
    wake_pending = 1;
    writes += must_wake;
    check(pthread_mutex_unlock(&lock), "unlock");
    if (must_wake && write(wake[1], "!", 1) == -1 && errno != EAGAIN)
        die("write"); /* EAGAIN: the pipe is full, the loop will wake */
}
// [post]

static void *on_worker(void *arg)
{
    struct item *mine = arg;
    for (long i = 0; i < per_worker; i++)
        post(&mine[i]);
    return NULL;
}

static void run(const char *name, long n, double *rate)
{
    long got = 0, sum = 0, wakeups = 0;
    pthread_t t[2];
    writes = 0;
    double start = now_s();
    for (int i = 0; i < 2; i++)
        check(pthread_create(&t[i], NULL, on_worker, items + i * per_worker),
              "pthread_create");
    // [drain]
    while (got < n) {
        fd_set rd;
        FD_ZERO(&rd);
        FD_SET(wake[0], &rd);
        if (select(wake[0] + 1, &rd, NULL, NULL, NULL) == -1) {
            if (errno == EINTR)
                continue;
            die("select");
        }
        wakeups++;
        char bytes[4096];
        while (read(wake[0], bytes, sizeof bytes) > 0) /* all of them */
            continue;
        if (errno != EAGAIN)
            die("read");
        check(pthread_mutex_lock(&lock), "lock");
        struct item *list = done;
        done = NULL;
        done_end = &done;
        wake_pending = 0;
        check(pthread_mutex_unlock(&lock), "unlock");
        for (; list != NULL; list = list->next, got++)
            sum += list->value; /* the "callback" */
    }
    // [drain]
    double secs = now_s() - start;
    for (int i = 0; i < 2; i++)
        check(pthread_join(t[i], NULL), "pthread_join");
    *rate = (double)n / secs;
    printf("%-9s %ld completions, %6ld writes, %6ld wake-ups, %6.1f per "
           "wake-up, %.3f s, %8.0f completions/s%s\n",
           name, got, writes, wakeups, (double)got / (double)wakeups, secs,
           *rate, sum == n ? "" : " (WRONG SUM)");
}

int main(int argc, char *argv[])
{
    char *end = "";
    long n = argc > 1 ? strtol(argv[1], &end, 10) : 200000;
    if (argc > 2 || *end != '\0' || n < 2 || n > 10000000 || n % 2 != 0) {
        fprintf(stderr, "usage: coalesce [N (even, 2-10000000)]\n");
        return 2;
    }
    per_worker = n / 2;
    if ((items = malloc((size_t)n * sizeof *items)) == NULL)
        die("malloc");
    for (long i = 0; i < n; i++)
        items[i].value = 1;
    if (pipe(wake) == -1)
        die("pipe");
    for (int i = 0; i < 2; i++) {
        int fl = fcntl(wake[i], F_GETFL);
        if (fl == -1 || fcntl(wake[i], F_SETFL, fl | O_NONBLOCK) == -1)
            die("fcntl");
    }
    double each, coalesced;
    coalesce = 0;
    run("each", n, &each);
    coalesce = 1;
    run("coalesced", n, &coalesced);
    printf("coalesced wake-ups: %.1f times the completions per second\n",
           coalesced / each);
    free(items);
    if (close(wake[0]) == -1 || close(wake[1]) == -1)
        die("close");
    return 0;
}
