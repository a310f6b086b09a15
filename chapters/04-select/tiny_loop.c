/*
 * tiny_loop.c: the smallest event loop worth the name. Code that wants to
 * hear about a descriptor registers a callback for it (tiny_watch); the
 * loop builds the fd_set from what is registered, waits in select(), calls
 * the callback of every descriptor that is ready, and goes round again
 * until nothing is registered. The callbacks know nothing about select()
 * and the loop knows nothing about what the descriptors are.
 *
 * Here three children write words into three pipes at their own pace;
 * one callback, with a different context for each pipe, prints them.
 *
 * Run: tiny_loop
 */
#include <stdio.h>
#include <sys/select.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "die.h"

// [api]
struct tiny;
typedef void (*tiny_cb)(struct tiny *loop, int fd, void *ctx);

struct tiny {
    struct {
        tiny_cb on_readable; /* NULL: not watched */
        void *ctx;
    } watch[FD_SETSIZE];
    int watched; /* how many descriptors have a callback */
};

static int tiny_watch(struct tiny *loop, int fd, tiny_cb on_readable, void *ctx)
{
    if (fd < 0 || fd >= FD_SETSIZE || on_readable == NULL) {
        errno = EINVAL;
        return -1;
    }
    if (loop->watch[fd].on_readable == NULL)
        loop->watched++;
    loop->watch[fd].on_readable = on_readable;
    loop->watch[fd].ctx = ctx;
    return 0;
}

static void tiny_unwatch(struct tiny *loop, int fd)
{
    if (fd >= 0 && fd < FD_SETSIZE && loop->watch[fd].on_readable != NULL) {
        loop->watch[fd].on_readable = NULL;
        loop->watched--;
    }
}
// [api]

// [run]
static void tiny_run(struct tiny *loop)
{
    while (loop->watched > 0) {
        fd_set readable; /* 1. register: what do the callbacks want? */
        int maxfd = -1;
        FD_ZERO(&readable);
        for (int fd = 0; fd < FD_SETSIZE; fd++)
            if (loop->watch[fd].on_readable != NULL) {
                FD_SET(fd, &readable);
                maxfd = fd;
            }
        /* 2. wait until at least one of them is ready */
        if (select(maxfd + 1, &readable, NULL, NULL, NULL) == -1) {
            if (errno == EINTR)
                continue;
            die("select");
        }
        for (int fd = 0; fd <= maxfd; fd++) /* 3. dispatch */
            if (FD_ISSET(fd, &readable) && loop->watch[fd].on_readable)
                loop->watch[fd].on_readable(loop, fd, loop->watch[fd].ctx);
    } /* 4. repeat */
}
// [run]

static struct timespec start;

// [callback]
static void on_words(struct tiny *loop, int fd, void *ctx)
{
    const char *name = ctx;
    char buf[64];
    ssize_t n = read(fd, buf, sizeof buf); /* ready: will not block */
    struct timespec t;
    if (n == -1 || clock_gettime(CLOCK_MONOTONIC, &t) == -1)
        die("read");
    double ms = (double)(t.tv_sec - start.tv_sec) * 1e3 +
                (double)(t.tv_nsec - start.tv_nsec) / 1e6;
    if (n > 0) {
        printf("%6.1f ms  %s: %.*s\n", ms, name, (int)n, buf);
        return;
    }
    printf("%6.1f ms  %s: end of file\n", ms, name);
    tiny_unwatch(loop, fd); /* the last one ends tiny_run() */
    if (close(fd) == -1)
        die("close");
}
// [callback]

static int child_writes(long every_ms, const char *words[])
{
    int p[2];
    if (pipe(p) == -1)
        die("pipe");
    pid_t pid = fork();
    if (pid == -1)
        die("fork");
    if (pid == 0) {
        for (int i = 0; words[i] != NULL; i++) {
            struct timespec ts = {0, every_ms * 1000000L};
            while (nanosleep(&ts, &ts) == -1)
                if (errno != EINTR)
                    die("nanosleep");
            size_t len = 0;
            while (words[i][len] != '\0')
                len++;
            if (write(p[1], words[i], len) != (ssize_t)len)
                die("write");
        }
        _exit(0);
    }
    if (close(p[1]) == -1)
        die("close");
    return p[0];
}

int main(void)
{
    static struct tiny loop; /* about 16 KiB: not on the stack */
    const char *a[] = {"one", "two", "three", "four", NULL};
    const char *b[] = {"red", "green", NULL};
    const char *c[] = {"north", "south", "east", NULL};
    if (clock_gettime(CLOCK_MONOTONIC, &start) == -1)
        die("clock_gettime");
    // [main]
    if (tiny_watch(&loop, child_writes(90, a), on_words, "numbers") == -1 ||
        tiny_watch(&loop, child_writes(230, b), on_words, "colours") == -1 ||
        tiny_watch(&loop, child_writes(140, c), on_words, "compass") == -1)
        die("tiny_watch");
    tiny_run(&loop);
    // [main]
    for (int i = 0; i < 3; i++)
        if (wait(NULL) == -1)
            die("wait");
    return 0;
}
