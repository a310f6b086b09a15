/*
 * wakeup.c: two ways for another thread to wake a loop that sleeps in
 * select(). "pipe" is the self-pipe of chapter 4 (POSIX); "eventfd" is a
 * counter in the kernel behind one descriptor (Linux only, hence
 * _GNU_SOURCE). First a worker posts 100,000 wake-ups while the loop is
 * busy, and the loop looks at what piled up; then the loop sleeps in
 * select() with no timeout, and a worker wakes it 50 ms later.
 *
 * Run: wakeup pipe|eventfd
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <time.h>
#include <unistd.h>

#include "die.h"

static int use_eventfd;
static int rfd, wfd; /* the loop watches rfd; workers write to wfd */

// [notify]
static int notify(void) /* any thread: 0, or -1 with errno */
{
    if (use_eventfd) {
        uint64_t one = 1; /* added to the counter in the kernel */
        return write(wfd, &one, sizeof one) == sizeof one ? 0 : -1;
    }
    return write(wfd, "!", 1) == 1 ? 0 : -1; /* one byte per wake-up */
}
// [notify]

static void *on_burst(void *arg) /* 100,000 wake-ups, as fast as it can */
{
    long refused = 0;
    for (int i = 0; i < 100000; i++)
        if (notify() == -1) {
            if (errno != EAGAIN)
                die("write");
            refused++; /* the pipe is full: a wake-up is pending anyway */
        }
    printf("the worker posted 100000 wake-ups; %ld writes were refused "
           "with EAGAIN\n",
           refused);
    (void)arg;
    return NULL;
}

static void *on_late(void *arg) /* one wake-up, 50 ms from now */
{
    struct timespec ts = {0, 50 * 1000000L};
    while (nanosleep(&ts, &ts) == -1)
        if (errno != EINTR)
            die("nanosleep");
    if (notify() == -1)
        die("write");
    (void)arg;
    return NULL;
}

static void run(void *(*fn)(void *), pthread_t *t)
{
    int en = pthread_create(t, NULL, fn, NULL);
    if (en != 0)
        die_en(en, "pthread_create");
}

static void join(pthread_t t)
{
    int en = pthread_join(t, NULL);
    if (en != 0)
        die_en(en, "pthread_join");
}

static int wait_readable(struct timeval *tv) /* 1 readable, 0 timed out */
{
    fd_set rd;
    FD_ZERO(&rd);
    FD_SET(rfd, &rd);
    int n;
    while ((n = select(rfd + 1, &rd, NULL, NULL, tv)) == -1)
        if (errno != EINTR)
            die("select");
    return n;
}

// [drain]
static long drain(void) /* loop thread: how many wake-ups were pending */
{
    if (use_eventfd) {
        uint64_t count; /* one read takes the counter and sets it to 0 */
        if (read(rfd, &count, sizeof count) != sizeof count)
            die("read");
        return (long)count;
    }
    char bytes[4096];
    long total = 0;
    ssize_t n;
    while ((n = read(rfd, bytes, sizeof bytes)) > 0) /* until EAGAIN */
        total += n;
    if (n == -1 && errno != EAGAIN)
        die("read");
    return total;
}
// [drain]

int main(int argc, char *argv[])
{
    if (argc != 2 || (strcmp(argv[1], "pipe") && strcmp(argv[1], "eventfd"))) {
        fprintf(stderr, "usage: wakeup pipe|eventfd\n");
        return 2;
    }
    use_eventfd = strcmp(argv[1], "eventfd") == 0;
    if (use_eventfd) {
        if ((rfd = wfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1)
            die("eventfd");
    } else {
        int p[2];
        if (pipe(p) == -1)
            die("pipe");
        rfd = p[0];
        wfd = p[1];
        for (int i = 0; i < 2; i++) { /* a full pipe must not block anyone */
            int fl = fcntl(p[i], F_GETFL);
            if (fl == -1 || fcntl(p[i], F_SETFL, fl | O_NONBLOCK) == -1)
                die("fcntl");
        }
    }
    pthread_t t;
    run(on_burst, &t);
    join(t); /* the loop was "busy" all that time */
    struct timeval zero = {0, 0};
    printf("select with a zero timeout: %s\n",
           wait_readable(&zero) ? "readable" : "not readable");
    printf("the loop drained %ld %s\n", drain(),
           use_eventfd ? "as one counter" : "bytes");
    printf("after draining, select: %s\n",
           wait_readable(&zero) ? "readable" : "not readable");
    run(on_late, &t);
    int n = wait_readable(NULL); /* sleep until something happens */
    printf("asleep with no timeout, the loop was %s and drained %ld\n",
           n == 1 ? "woken by the worker" : "not woken", drain());
    join(t);
    if (close(rfd) == -1 || (!use_eventfd && close(wfd) == -1))
        die("close");
    return 0;
}
