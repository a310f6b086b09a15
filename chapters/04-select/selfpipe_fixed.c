/*
 * selfpipe_fixed.c: the self-pipe trick. The signal handler writes one
 * byte into a pipe whose read end the loop watches, so a signal that comes
 * just before select() leaves the pipe readable and select() returns at
 * once. The same pipe lets another thread wake the loop: a worker thread
 * finishes a job and writes a byte, and the loop, which was asleep in
 * select(), picks up the result.
 *
 * Run: selfpipe_fixed
 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
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

// [handler]
static int wake[2]; /* the self-pipe: [0] the loop watches, [1] to wake it */

static void on_signal(int sig)
{
    int saved = errno; /* write() may change errno; the loop may need it */
    char byte = 's';
    ssize_t n = write(wake[1], &byte, 1); /* -1 if full: one is pending */
    (void)n;
    (void)sig;
    errno = saved;
}
// [handler]

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int result; /* protected by lock */

// [worker]
static void *on_work(void *arg) /* a job in another thread */
{
    struct timespec ts = {0, 200 * 1000000L};
    (void)arg;
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
        continue;
    int en = pthread_mutex_lock(&lock);
    result = 6 * 7;
    if (en != 0 || (en = pthread_mutex_unlock(&lock)) != 0)
        die_en(en, "mutex");
    if (write(wake[1], "w", 1) == -1 && errno != EAGAIN)
        die("write"); /* wake the loop up */
    return NULL;
}
// [worker]

int main(void)
{
    if (pipe(wake) == -1)
        die("pipe");
    for (int i = 0; i < 2; i++) {
        int flags = fcntl(wake[i], F_GETFL);
        if (flags == -1 || fcntl(wake[i], F_SETFL, flags | O_NONBLOCK) == -1)
            die("fcntl");
    }
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    if (sigemptyset(&sa.sa_mask) == -1 || sigaction(SIGUSR1, &sa, NULL) == -1)
        die("sigaction");
    pthread_t worker;
    int en = pthread_create(&worker, NULL, on_work, NULL);
    if (en != 0)
        die_en(en, "pthread_create");

    double t0 = now_ms();
    // [loop]
    for (int round = 0, worker_done = 0, signalled = 0;
         !(worker_done && signalled); round++) {
        if (round == 0 && raise(SIGUSR1) != 0) /* the worst moment */
            die("raise");
        fd_set rd;
        FD_ZERO(&rd);
        FD_SET(wake[0], &rd);
        struct timeval tv = {1, 0};
        int n = select(wake[0] + 1, &rd, NULL, NULL, &tv);
        if (n == -1 && errno != EINTR)
            die("select");
        char bytes[16];
        ssize_t got;
        while (n == 1 && (got = read(wake[0], bytes, sizeof bytes)) > 0)
            for (ssize_t i = 0; i < got; i++) { /* drain: all wake-ups */
                if (bytes[i] == 's' && !signalled++)
                    printf("SIGUSR1 handled %s\n",
                           now_ms() - t0 < 100 ? "at once" : "late");
                if (bytes[i] == 'w' && !worker_done++) {
                    if ((en = pthread_mutex_lock(&lock)) != 0)
                        die_en(en, "pthread_mutex_lock");
                    printf("the worker thread woke the loop: result %d\n",
                           result);
                    if ((en = pthread_mutex_unlock(&lock)) != 0)
                        die_en(en, "pthread_mutex_unlock");
                }
            }
    }
    // [loop]
    if ((en = pthread_join(worker, NULL)) != 0)
        die_en(en, "pthread_join");
    return 0;
}
