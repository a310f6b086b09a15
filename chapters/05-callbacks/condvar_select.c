/*
 * condvar_select.c: why a condition variable cannot wake a thread that
 * sleeps in select(). The loop waits in select() on its wake-up pipe with
 * a 500 ms timeout (its next timer, say); a worker finishes after 50 ms.
 *   condvar  the worker sets a flag under a mutex and signals a condition
 *            variable. Nobody waits on it (the loop waits in select()), so
 *            the loop sees the flag only when select() times out.
 *   pipe     the worker sets the flag and writes a byte into the pipe;
 *            select() returns at once.
 *
 * Run: condvar_select condvar|pipe
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/select.h>
#include <time.h>
#include <unistd.h>

#include "die.h"

static double now_ms(void)
{
    struct timespec t;
    if (clock_gettime(CLOCK_MONOTONIC, &t) == -1)
        die("clock_gettime");
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t finished = PTHREAD_COND_INITIALIZER;
static int done;       /* protected by lock */
static double done_at; /* protected by lock */
static int wake[2];    /* the loop watches wake[0] */
static int use_pipe;

static void check(int en, const char *what)
{
    if (en != 0)
        die_en(en, what);
}

// [worker]
static void *on_work(void *arg)
{
    struct timespec ts = {0, 50 * 1000000L}; /* the work */
    while (nanosleep(&ts, &ts) == -1)
        if (errno != EINTR)
            die("nanosleep");
    check(pthread_mutex_lock(&lock), "lock");
    done = 1;
    done_at = now_ms();
    check(pthread_cond_signal(&finished), "signal"); /* wakes no one */
    check(pthread_mutex_unlock(&lock), "unlock");
    if (use_pipe && write(wake[1], "!", 1) != 1) /* this wakes select() */
        die("write");
    (void)arg;
    return NULL;
}
// [worker]

int main(int argc, char *argv[])
{
    if (argc != 2 || (strcmp(argv[1], "condvar") && strcmp(argv[1], "pipe"))) {
        fprintf(stderr, "usage: condvar_select condvar|pipe\n");
        return 2;
    }
    use_pipe = strcmp(argv[1], "pipe") == 0;
    if (pipe(wake) == -1)
        die("pipe");
    pthread_t t;
    check(pthread_create(&t, NULL, on_work, NULL), "pthread_create");
    // [loop]
    double start = now_ms(), deadline = start + 500;
    for (int seen = 0; !seen;) {
        double left = deadline - now_ms();
        struct timeval tv = {0, left > 0 ? (long)(left * 1000) : 0};
        fd_set rd;
        FD_ZERO(&rd);
        FD_SET(wake[0], &rd);
        int n = select(wake[0] + 1, &rd, NULL, NULL, &tv);
        if (n == -1 && errno != EINTR)
            die("select");
        char byte;
        if (n > 0 && read(wake[0], &byte, 1) != 1)
            die("read");
        check(pthread_mutex_lock(&lock), "lock");
        if (done) { /* the loop looks at the flag after every wait */
            seen = 1;
            double late = now_ms() - done_at;
            printf("%s: the work ended at about 50 ms; the loop saw it %s\n",
                   argv[1],
                   late < 100 ? "at once: the pipe woke select()"
                              : "only when select()'s 500 ms timeout ran "
                                "out");
        }
        check(pthread_mutex_unlock(&lock), "unlock");
        if (n == 0 && now_ms() >= deadline)
            deadline += 500; /* the "timer" ran; the next one is far */
    }
    // [loop]
    check(pthread_join(t, NULL), "pthread_join");
    if (close(wake[0]) == -1 || close(wake[1]) == -1)
        die("close");
    return 0;
}
