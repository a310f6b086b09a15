/*
 * server_threads.c: chapter 7's key-value server (resp.h), a thread per
 * client. The threads share one store behind a mutex; a crash in any of
 * them ends the whole server. Each thread has a small stack (128 KiB);
 * at most MAX_THREADS clients at once, one more is closed at once.
 *
 * Run: server_threads [SECONDS]   (prints "port N"; ends after SECONDS,
 *      default 60, or on SIGTERM). Try: redis-cli -p N ping
 */
#include <stdatomic.h>

#include "resp.h"

#define MAX_THREADS 4000

static atomic_int running;

static void *serve(void *arg)
{
    resp_serve_blocking((int)(intptr_t)arg);
    atomic_fetch_sub(&running, 1);
    return NULL;
}

int main(int argc, char *argv[])
{
    int lfd = resp_listen(argc, argv), err;
    pthread_attr_t attr;
    if ((err = pthread_attr_init(&attr)) != 0 ||
        (err = pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED)) !=
            0 ||
        (err = pthread_attr_setstacksize(&attr, 128 << 10)) != 0)
        die_en(err, "pthread_attr");
    // [loop]
    for (;;) {
        pthread_t t;
        int fd = accept(lfd, NULL, NULL);
        if (fd == -1) {
            perror("accept");
            continue;
        }
        resp_client(fd, 1);
        if (atomic_load(&running) >= MAX_THREADS) {
            close(fd); /* one too many */
            continue;
        }
        atomic_fetch_add(&running, 1);
        if ((err = pthread_create(&t, &attr, serve, (void *)(intptr_t)fd))) {
            fprintf(stderr, "pthread_create: %s\n", strerror(err));
            atomic_fetch_sub(&running, 1);
            close(fd);
        }
    }
    // [loop]
}
