/*
 * failure.c: a completion carries a status, and the callback handles both
 * outcomes. Each request counts the lines of a file on a worker thread;
 * the work returns 0 or an error number (a missing file, a directory),
 * and the callback, on the loop thread, prints the count or the error.
 * Errors can also come before any work: the pool's queue holds 4 requests,
 * so a fifth submit is refused at once with EAGAIN, and after the pool is
 * closed a submit is refused with EPIPE. A refused submit gets no
 * callback: the return value is its answer.
 *
 * Run: failure   (in chapters/05-callbacks, which has data/)
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/select.h>
#include <unistd.h>

#include "die.h"

#define CAPACITY 4

// [req]
struct req {
    struct req *next;
    const char *path;
    long lines; /* the result, valid when status is 0 */
    int status; /* 0 or an error number */
};
// [req]

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct req *todo[CAPACITY];           /* protected by lock */
static struct req *done, **done_end = &done; /* protected by lock */
static int ntodo, closed;                    /* protected by lock */
static int wake[2], pending;

static void check(int en, const char *what)
{
    if (en != 0)
        die_en(en, what);
}

// [work]
static int count_lines(struct req *r) /* worker: 0 or an error number */
{
    int fd = open(r->path, O_RDONLY);
    if (fd == -1)
        return errno;
    char buf[4096];
    ssize_t n;
    r->lines = 0;
    while ((n = read(fd, buf, sizeof buf)) > 0 || (n == -1 && errno == EINTR))
        for (ssize_t i = 0; i < n; i++)
            r->lines += buf[i] == '\n';
    int status = n == -1 ? errno : 0; /* a directory fails here: EISDIR */
    if (close(fd) == -1 && status == 0)
        status = errno;
    return status;
}
// [work]

// [submit]
static int submit(struct req *r) /* loop thread: 0 or an error number */
{
    int status = 0;
    check(pthread_mutex_lock(&lock), "lock");
    if (closed)
        status = EPIPE; /* no more work accepted */
    else if (ntodo == CAPACITY)
        status = EAGAIN; /* full: try again later */
    else
        todo[ntodo++] = r;
    check(pthread_mutex_unlock(&lock), "unlock");
    pending += status == 0; /* a callback is owed only when accepted */
    return status;
}
// [submit]

static void *on_worker(void *arg) /* one worker, requests in order */
{
    for (;;) {
        check(pthread_mutex_lock(&lock), "lock");
        struct req *r = ntodo > 0 ? todo[0] : NULL;
        if (r != NULL)
            memmove(todo, todo + 1, (size_t)--ntodo * sizeof todo[0]);
        check(pthread_mutex_unlock(&lock), "unlock");
        if (r == NULL)
            return arg; /* everything was submitted before we started */
        r->status = count_lines(r);
        check(pthread_mutex_lock(&lock), "lock");
        r->next = NULL;
        *done_end = r;
        done_end = &r->next;
        check(pthread_mutex_unlock(&lock), "unlock");
        if (write(wake[1], "!", 1) != 1)
            die("write");
    }
}

// [callback]
static void on_counted(struct req *r, int status) /* loop thread */
{
    if (status != 0)
        printf("%-22s failed: %s\n", r->path, strerror(status));
    else
        printf("%-22s %ld lines\n", r->path, r->lines);
}
// [callback]

int main(void)
{
    static struct req reqs[] = {{.path = "data/three_lines.txt"},
                                {.path = "data/missing.txt"},
                                {.path = "data"},
                                {.path = "data/poem.txt"},
                                {.path = "data/three_lines.txt"}};
    if (pipe(wake) == -1)
        die("pipe");
    // [main]
    for (int i = 0; i < 5; i++) {
        int status = submit(&reqs[i]);
        if (status != 0) /* refused: no callback will come */
            printf("submit %-15s refused: %s\n", reqs[i].path,
                   strerror(status));
    }
    // [main]
    pthread_t t;
    check(pthread_create(&t, NULL, on_worker, NULL), "pthread_create");
    while (pending > 0) {
        char byte;
        if (read(wake[0], &byte, 1) != 1) /* (a loop would select() first) */
            die("read");
        check(pthread_mutex_lock(&lock), "lock");
        struct req *r = done; /* one byte per completion here */
        if ((done = r->next) == NULL)
            done_end = &done;
        check(pthread_mutex_unlock(&lock), "unlock");
        pending--;
        on_counted(r, r->status);
    }
    check(pthread_join(t, NULL), "pthread_join");
    check(pthread_mutex_lock(&lock), "lock");
    closed = 1;
    check(pthread_mutex_unlock(&lock), "unlock");
    int status = submit(&reqs[0]);
    printf("submit after close refused: %s\n", strerror(status));
    if (close(wake[0]) == -1 || close(wake[1]) == -1)
        die("close");
    return 0;
}
