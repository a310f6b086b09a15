/*
 * kvsave: the reference solution (contract in exercises/07-every-way/
 * kvsave.h).
 *
 * kvsave_start() runs on the loop's thread: it copies every entry with
 * kv_each() into one block of memory (the only part that must see the
 * live table), then submits a job to the offload. The job, on a worker,
 * sorts the copy, writes it to PATH.tmp in buffered chunks, fsyncs,
 * closes, renames, and fsyncs the directory; it touches nothing but the
 * job. Its completion, back on the loop's thread, frees the copy, clears
 * the busy mark and calls kv_save_done() with the job's status.
 *
 * One job at a time ([busy]): the kvsave points at its job while one
 * runs, and refuses another SAVE with EBUSY.
 */
#include "kvsave.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct kvsave {
    loop *l;
    offload *o;
    char *path; /* PATH */
    char *tmp;  /* PATH.tmp */
    char *dir;  /* the directory that holds PATH */
    struct job *running;
};

/* One entry of the copy: its key then its value, in one allocation. */
struct entry {
    size_t klen, vlen;
    char bytes[];
};

struct job {
    kvsave *s;
    kv *k;
    kv_pending *p;
    struct entry **entries;
    size_t n, cap;
};

static void job_free(struct job *j)
{
    for (size_t i = 0; i < j->n; i++)
        free(j->entries[i]);
    free(j->entries);
    free(j);
}

// [copy]
/* kv_each()'s callback, on the loop's thread: copy one entry. */
static int copy_entry(const char *key, size_t klen, const char *val,
                      size_t vlen, void *arg)
{
    struct job *j = arg;
    if (j->n == j->cap) {
        size_t cap = j->cap ? 2 * j->cap : 64;
        struct entry **e = realloc(j->entries, cap * sizeof *e);
        if (e == NULL)
            return ENOMEM;
        j->entries = e;
        j->cap = cap;
    }
    struct entry *e = malloc(sizeof *e + klen + vlen);
    if (e == NULL)
        return ENOMEM;
    e->klen = klen;
    e->vlen = vlen;
    memcpy(e->bytes, key, klen);
    memcpy(e->bytes + klen, val, vlen);
    j->entries[j->n++] = e;
    return 0;
}
// [copy]

static int by_key(const void *a, const void *b)
{
    const struct entry *x = *(struct entry *const *)a;
    const struct entry *y = *(struct entry *const *)b;
    size_t n = x->klen < y->klen ? x->klen : y->klen;
    int c = memcmp(x->bytes, y->bytes, n);
    if (c != 0)
        return c;
    return (x->klen > y->klen) - (x->klen < y->klen);
}

/* A buffered writer: whole chunks go out with write(), short writes
 * continued. */
struct out {
    int fd;
    int err; /* the first write()'s errno; 0 */
    size_t len;
    char buf[65536];
};

static void out_flush(struct out *w)
{
    size_t done = 0;
    while (w->err == 0 && done < w->len) {
        ssize_t n = write(w->fd, w->buf + done, w->len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            w->err = n < 0 ? errno : EIO;
        else
            done += (size_t)n;
    }
    w->len = 0;
}

static void out_put(struct out *w, const char *b, size_t n)
{
    while (n > 0 && w->err == 0) {
        if (w->len == sizeof w->buf)
            out_flush(w);
        size_t room = sizeof w->buf - w->len;
        size_t take = n < room ? n : room;
        memcpy(w->buf + w->len, b, take);
        w->len += take;
        b += take;
        n -= take;
    }
}

static void out_bulk(struct out *w, const char *b, size_t n)
{
    char head[32];
    int h = snprintf(head, sizeof head, "$%zu\r\n", n);
    out_put(w, head, (size_t)h);
    out_put(w, b, n);
    out_put(w, "\r\n", 2);
}

/* Write the sorted copy to fd; the errno of the first failure, or 0. */
static int write_entries(int fd, struct job *j)
{
    struct out *w = malloc(sizeof *w);
    if (w == NULL)
        return ENOMEM;
    w->fd = fd;
    w->err = 0;
    w->len = 0;
    for (size_t i = 0; i < j->n; i++) {
        const struct entry *e = j->entries[i];
        out_put(w, "*3\r\n$3\r\nSET\r\n", 13);
        out_bulk(w, e->bytes, e->klen);
        out_bulk(w, e->bytes + e->klen, e->vlen);
    }
    out_flush(w);
    int err = w->err;
    free(w);
    return err;
}

static int fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno;
    int err = fsync(fd) == 0 ? 0 : errno;
    (void)close(fd); /* read-only: nothing to lose */
    return err;
}

// [work]
/* On a worker: everything that may block. */
static int save_work(void *req)
{
    struct job *j = req;
    const kvsave *s = j->s;
    if (j->n > 1) /* qsort() of a NULL array is undefined, even of 0 */
        qsort(j->entries, j->n, sizeof *j->entries, by_key);
    int fd = open(s->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return errno;
    int err = write_entries(fd, j);
    if (err == 0 && fsync(fd) != 0)
        err = errno;
    if (close(fd) != 0 && err == 0)
        err = errno;
    if (err == 0 && rename(s->tmp, s->path) != 0)
        err = errno;
    if (err != 0) {
        (void)unlink(s->tmp); /* the old PATH stays as it was */
        return err;
    }
    return fsync_dir(s->dir); /* the rename itself is durable now */
}
// [work]

/* Back on the loop's thread. */
static void save_done(offload *o, void *req, int status, void *ctx)
{
    (void)o;
    (void)ctx;
    struct job *j = req;
    kv *k = j->k;
    kv_pending *p = j->p;
    j->s->running = NULL;
    job_free(j);
    kv_save_done(k, p, status);
}

int kvsave_start(kv *k, kv_pending *p, void *ctx)
{
    kvsave *s = ctx;
    if (k == NULL || p == NULL || s == NULL) {
        errno = EINVAL;
        return -1;
    }
    if (s->running != NULL) {
        errno = EBUSY;
        return -1;
    }
    struct job *j = calloc(1, sizeof *j);
    if (j == NULL)
        return -1;
    j->s = s;
    j->k = k;
    j->p = p;
    int err = kv_each(k, copy_entry, j);
    if (err != 0 || offload_submit(s->o, save_work, save_done, j, NULL) < 0) {
        if (err == 0)
            err = errno;
        job_free(j);
        errno = err;
        return -1;
    }
    s->running = j;
    return 0;
}

kvsave *kvsave_new(loop *l, offload *o, const char *path)
{
    if (l == NULL || o == NULL || path == NULL || path[0] == '\0') {
        errno = EINVAL;
        return NULL;
    }
    kvsave *s = calloc(1, sizeof *s);
    size_t n = strlen(path);
    if (s == NULL || (s->path = malloc(n + 1)) == NULL ||
        (s->tmp = malloc(n + 5)) == NULL || (s->dir = malloc(n + 2)) == NULL) {
        kvsave_free(s);
        errno = ENOMEM;
        return NULL;
    }
    s->l = l;
    s->o = o;
    memcpy(s->path, path, n + 1);
    memcpy(s->tmp, path, n);
    memcpy(s->tmp + n, ".tmp", 5);
    const char *slash = strrchr(path, '/');
    if (slash == NULL) {
        strcpy(s->dir, ".");
    } else if (slash == path) {
        strcpy(s->dir, "/");
    } else {
        memcpy(s->dir, path, (size_t)(slash - path));
        s->dir[slash - path] = '\0';
    }
    return s;
}

void kvsave_free(kvsave *s)
{
    if (s == NULL)
        return;
    free(s->path);
    free(s->tmp);
    free(s->dir);
    free(s);
}
