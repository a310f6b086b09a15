/*
 * server_pool.c: chapter 7's key-value server (resp.h), a fixed pool of
 * WORKERS threads. The main thread accepts and queues the clients; a free
 * worker serves one client from its first byte to its last. So at most
 * WORKERS clients are served at once, and the next ones wait in the
 * queue, which holds QUEUE clients; one more is closed at once.
 *
 * Run: server_pool [SECONDS]   (prints "port N"; ends after SECONDS,
 *      default 60, or on SIGTERM). Try: redis-cli -p N ping
 */
#include "resp.h"

#define WORKERS 16
#define QUEUE 4096

static int queue[QUEUE];
static int head, count;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t nonempty = PTHREAD_COND_INITIALIZER;

static void check(int err, const char *what)
{
    if (err != 0)
        die_en(err, what);
}

static void *worker(void *arg)
{
    (void)arg;
    for (;;) {
        check(pthread_mutex_lock(&mu), "pthread_mutex_lock");
        while (count == 0)
            check(pthread_cond_wait(&nonempty, &mu), "pthread_cond_wait");
        int fd = queue[head];
        head = (head + 1) % QUEUE;
        count--;
        check(pthread_mutex_unlock(&mu), "pthread_mutex_unlock");
        resp_serve_blocking(fd);
    }
    return NULL;
}

int main(int argc, char *argv[])
{
    int lfd = resp_listen(argc, argv);
    for (int i = 0; i < WORKERS; i++) {
        pthread_t t;
        check(pthread_create(&t, NULL, worker, NULL), "pthread_create");
        check(pthread_detach(t), "pthread_detach");
    }
    // [loop]
    for (;;) {
        int fd = accept(lfd, NULL, NULL), full;
        if (fd == -1) {
            perror("accept");
            continue;
        }
        resp_client(fd, 1);
        check(pthread_mutex_lock(&mu), "pthread_mutex_lock");
        if (!(full = count == QUEUE))
            queue[(head + count++) % QUEUE] = fd;
        check(pthread_cond_signal(&nonempty), "pthread_cond_signal");
        check(pthread_mutex_unlock(&mu), "pthread_mutex_unlock");
        if (full && close(fd) == -1) /* one too many */
            perror("close");
    }
    // [loop]
}
