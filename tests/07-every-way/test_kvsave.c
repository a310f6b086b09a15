/*
 * Tests of kvsave (exercises/07-every-way/kvsave.h): SAVE for the
 * key-value server, a snapshot written on the offload's workers.
 *
 * Each test starts a real server: a listening TCP socket on 127.0.0.1
 * (port 0), a loop, an offload of one worker, a kvsave that writes into
 * a fresh folder under /tmp, kv_start() with kvsave_start() as its
 * `save`, and a thread that runs loop_run(). The test thread plays the
 * clients with blocking sockets, reading with poll() and a deadline, so
 * a server that stalls fails a check instead of hanging the test.
 *
 * Orderings are forced, not hoped for:
 * - the disk is made slow on demand: tests/support/wrap.c holds the
 *   n-th fsync() or rename() inside its wrapper until the test lets it
 *   go, and tells which thread is held there. While it is held the test
 *   looks at the files, asks the server for a PING, and checks that the
 *   SAVE has no reply yet;
 * - "the worker reads the live table" is forced by keeping the offload's
 *   only worker busy with a job of the test's (it waits on a pipe) while
 *   another client changes the data, so the SAVE's job can only start
 *   after the change;
 * - failures are real where they can be (RLIMIT_FSIZE makes write() fail
 *   with EFBIG; a directory where the file should go makes rename() fail;
 *   a missing folder makes open() fail) and injected where they cannot
 *   (fsync() failing with EIO).
 *
 * Linux-only: gettid(), accept4() in the server.
 */
#define _GNU_SOURCE
#include "wb.h"
#include "kvnet.h"
#include "kvsave.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define MS 1000000LL /* nanoseconds */

/* How long "at once" may take on a loaded 2-core machine, and how long
 * a SAVE of a few keys may take; ten times that under Valgrind (where
 * wb_stress() is below 1), which runs one thread at a time, slowly. The
 * quiet spells ("no reply yet") are not stretched: they only wait. */
static int patience(int ms)
{
    return wb_stress() < 1 ? 10 * ms : ms;
}
#define AT_ONCE_MS patience(1500)
#define SAVE_MS patience(3000)
enum { QUIET_MS = 60, NOT_RETURNED = 99 };

/* --- The server under test ------------------------------------------------ */

struct server {
    loop *l;
    offload *o;
    kvsave *s;
    kv *k;
    int lfd, port;
    int ctl[2];     /* the test's bytes: 'q' stop, 'b' occupy the worker */
    int done[2];    /* the loop thread's byte: loop_run() returned */
    int block[2];   /* the test's job waits for a byte here ... */
    int blocked[2]; /* ... once it has said so on this pipe */
    pthread_t thread;
    atomic_long tid; /* the loop thread's kernel id */
    int run_rc;
    char dir[64];   /* the folder of the snapshot */
    char path[128]; /* the snapshot: dir/snap */
    char tmp[140];  /* dir/snap.tmp */
    /* What kvsave_start() returned last, and its errno (the loop thread
       writes them, before its reply can reach a client, but maybe after
       its worker has begun: NOT_RETURNED until the first returns). */
    atomic_int start_rc, start_errno;
    size_t live_new; /* blocks of the code under test after kvsave_new() */
};

/* The server of this test (one per test process). */
static struct server *current;

/* kv_config's save: kvsave_start(), its result recorded. */
static int save_recorded(kv *k, kv_pending *p, void *ctx)
{
    errno = 0;
    int rc = kvsave_start(k, p, ctx);
    int e = errno;
    if (current != NULL) {
        atomic_store(&current->start_errno, e);
        atomic_store(&current->start_rc, rc);
    }
    errno = e;
    return rc;
}

/* The test's own job: holds the offload's only worker until a byte. */
static int block_work(void *req)
{
    struct server *s = req;
    char b = 'b';
    if (write(s->blocked[1], &b, 1) != 1)
        return EIO;
    ssize_t n;
    do
        n = read(s->block[0], &b, 1);
    while (n < 0 && errno == EINTR);
    return 0;
}

static void block_done(offload *o, void *req, int status, void *ctx)
{
    (void)o;
    (void)req;
    (void)status;
    (void)ctx;
}

static void on_ctl(loop *l, int fd, int events, void *ctx)
{
    (void)events;
    struct server *s = ctx;
    char b;
    if (read(fd, &b, 1) != 1)
        return;
    if (b == 'b') {
        (void)offload_submit(s->o, block_work, block_done, s, NULL);
    } else {
        kv_stop(s->k);
        s->k = NULL;
        (void)loop_unwatch(l, fd);
    }
}

static void *server_main(void *arg)
{
    struct server *s = arg;
    atomic_store(&s->tid, (long)syscall(SYS_gettid));
    s->run_rc = loop_run(s->l);
    (void)write(s->done[1], "d", 1);
    return NULL;
}

static void dir_clean(const char *dir);

/* The process that runs the suite. A failed check ends a test's process
 * at once (Check's fork mode: _exit()), leaving its folder behind, and
 * the suite's own process ends with _exit() too, so each folder is named
 * after the suite's run (its process id and the time it began: suites
 * run side by side in PID namespaces of their own, as make mutants runs
 * them, may have the same process id, and a process id of another
 * namespace says nothing here), and each test first removes the folders
 * of earlier tests of this run and those untouched for ten minutes (runs
 * that have ended): at most one is left by this run, for ten minutes. */
static pid_t suite_pid;
static unsigned long long suite_stamp;

/* The folders of this run, and the stale ones. */
static void clean_stale_dirs(void)
{
    DIR *d = opendir("/tmp");
    if (d == NULL)
        return;
    struct dirent *e;
    time_t now = time(NULL);
    while ((e = readdir(d)) != NULL) {
        long pid = 0;
        unsigned long long stamp = 0;
        int at = 0;
        if (sscanf(e->d_name, "kvsave-%ld-%llx-%n", &pid, &stamp, &at) != 2 ||
            at == 0 || pid <= 0)
            continue;
        char p[300];
        snprintf(p, sizeof p, "/tmp/%s", e->d_name);
        struct stat st;
        int mine = pid == (long)suite_pid && stamp == suite_stamp;
        if (!mine && (lstat(p, &st) != 0 || now - st.st_mtime < 600))
            continue;
        dir_clean(p);
    }
    closedir(d);
}

/* Start a server whose snapshot is @p name inside a fresh folder; with
 * @p relative, the test's process moves into that folder and gives
 * kvsave_new() @p name alone. */
static void server_start_in(struct server *s, const char *name, int relative)
{
    memset(s, 0, sizeof *s);
    current = s;
    atomic_store(&s->start_rc, NOT_RETURNED);
    clean_stale_dirs();
    snprintf(s->dir, sizeof s->dir, "/tmp/kvsave-%ld-%llx-XXXXXX",
             (long)suite_pid, suite_stamp);
    ck_assert_msg(mkdtemp(s->dir) != NULL, "mkdtemp() failed");
    snprintf(s->path, sizeof s->path, "%s/%s", s->dir, name);
    snprintf(s->tmp, sizeof s->tmp, "%s.tmp", s->path);
    s->lfd = kvnet_listen(0, 64, &s->port);
    s->l = loop_new();
    ck_assert_msg(s->l != NULL, "loop_new() failed");
    s->o = offload_new(s->l, 1);
    ck_assert_msg(s->o != NULL, "offload_new() failed");
    if (relative)
        ck_assert_int_eq(chdir(s->dir), 0);
    /* The kvsave must copy the name: the test scribbles over its own. */
    char given[sizeof s->path];
    snprintf(given, sizeof given, "%s", relative ? name : s->path);
    s->s = kvsave_new(s->l, s->o, given);
    WB_EXPECT(s->s != NULL,
              "kvsave_new(loop, offload, \"%s\") should return a kvsave; got "
              "NULL%s",
              given, wb_errno_note(-1));
    s->live_new = wb_alloc_live(NULL);
    memset(given, 'X', sizeof given - 1);
    kv_config cfg = {.max_clients = 16,
                     .max_request = 1 << 20,
                     .max_queue = 1 << 20,
                     .idle_ms = 10000,
                     .save = save_recorded,
                     .save_ctx = s->s};
    s->k = kv_start(s->l, s->lfd, &cfg);
    ck_assert_msg(s->k != NULL, "kv_start() failed");
    wb_pipe(s->ctl);
    wb_pipe(s->done);
    wb_pipe(s->block);
    wb_pipe(s->blocked);
    ck_assert_int_eq(loop_watch(s->l, s->ctl[0], LOOP_READ, on_ctl, s), 0);
    ck_assert_int_eq(pthread_create(&s->thread, NULL, server_main, s), 0);
    for (int i = 0; i < 2000 && atomic_load(&s->tid) == 0; i++)
        wb_sleep_ms(1);
}

static void server_start_as(struct server *s, const char *name)
{
    server_start_in(s, name, 0);
}

static void server_start(struct server *s)
{
    server_start_as(s, "snap");
}

/* Occupy the offload's only worker with the test's job. */
static void worker_occupy(struct server *s)
{
    ck_assert_int_eq(write(s->ctl[1], "b", 1), 1);
    WB_EXPECT(kvnet_readable_within(s->blocked[0], 3000),
              "the test's own job did not start on the offload's worker "
              "within 3 s: is the loop or the worker stuck?");
    char b;
    ck_assert_int_eq(read(s->blocked[0], &b, 1), 1);
}

static void worker_free(struct server *s)
{
    ck_assert_int_eq(write(s->block[1], "r", 1), 1);
}

/* Remove what the test made in the folder, and the folder. */
static void dir_clean(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char p[512];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        if (unlink(p) != 0)
            dir_clean(p);
    }
    closedir(d);
    (void)rmdir(dir);
}

/* Once loop_run() has returned (every SAVE completed): free the
 * offload, the kvsave and the loop, and check, for [free], that nothing
 * of the kvsave is left (the fixture would find it too, after the test,
 * without saying whose it is). */
static void server_free(struct server *s)
{
    offload_free(s->o);
    size_t at_end = wb_alloc_live(NULL);
    kvsave_free(s->s);
    loop_free(s->l);
    WB_PROMISE("free");
    size_t bytes = 0, left = wb_alloc_live(&bytes);
    WB_EXPECT(left == 0,
              "after kvsave_free(), %zu block%s (%zu bytes) that your "
              "kvsave.c allocated %s still live; %zu were live right after "
              "kvsave_new(), %zu once every SAVE had completed (before "
              "kvsave_free()): %s",
              left, left == 1 ? "" : "s", bytes, left == 1 ? "is" : "are",
              s->live_new, at_end,
              at_end > s->live_new
                  ? "a SAVE's completion, on the loop's thread, must free "
                    "the copy and the record it was given (see \"Off the "
                    "loop: the pool writes\")"
                  : "kvsave_free() must free all that kvsave_new() "
                    "allocated");
    /* A descriptor still open on the snapshot's folder or a file in it
       (the fixture would show the folder as "(deleted)", once removed). */
    DIR *d = opendir("/proc/self/fd");
    ck_assert_msg(d != NULL, "opendir(/proc/self/fd) failed");
    struct dirent *e;
    size_t dl = strlen(s->dir);
    while ((e = readdir(d)) != NULL) {
        int fd = atoi(e->d_name);
        if (e->d_name[0] == '.' || fd == dirfd(d))
            continue;
        char link[64], target[256];
        snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
        ssize_t n = readlink(link, target, sizeof target - 1);
        target[n < 0 ? 0 : n] = '\0';
        if (strncmp(target, s->dir, dl) != 0 ||
            (target[dl] != '\0' && target[dl] != '/'))
            continue;
        WB_EXPECT(0,
                  "after kvsave_free(), descriptor %d is still open on %s, "
                  "%s: close it on every path, the failed ones too",
                  fd, target,
                  strcmp(target, s->dir) == 0
                      ? "the snapshot's folder (opened for the fsync() that "
                        "makes the rename durable)"
                  : strcmp(target, s->tmp) == 0 || strcmp(target, s->path) == 0
                      ? "the file the SAVE wrote"
                      : "in the snapshot's folder");
    }
    closedir(d);
}

static void server_stop(struct server *s)
{
    ck_assert_int_eq(write(s->ctl[1], "q", 1), 1);
    WB_EXPECT(kvnet_readable_within(s->done[0], 3000),
              "after kv_stop(), loop_run() should return once every SAVE "
              "has completed; it was still running 3 s later: is a SAVE's "
              "job still on the offload (kv_save_done() never called)?");
    pthread_join(s->thread, NULL);
    server_free(s);
    int *pipes[] = {s->ctl, s->done, s->block, s->blocked};
    for (size_t i = 0; i < sizeof pipes / sizeof pipes[0]; i++) {
        close(pipes[i][0]);
        close(pipes[i][1]);
    }
    close(s->lfd);
    dir_clean(s->dir);
}

/* --- Clients -------------------------------------------------------------- */

struct client {
    int fd;
    char name;
    size_t off, len;
    char buf[1 << 16];
};

static struct client *client_connect(const struct server *s, char name)
{
    struct client *c = calloc(1, sizeof *c);
    ck_assert_msg(c != NULL, "out of memory");
    c->name = name;
    c->fd = kvnet_connect(s->port, 0, 0);
    return c;
}

static void client_free(struct client *c)
{
    close(c->fd);
    free(c);
}

static void client_send(struct client *c, const char *data, size_t len)
{
    kvnet_send_all(c->fd, data, len, c->name);
}

static void client_cmd(struct client *c, const char *cmd)
{
    client_send(c, cmd, strlen(cmd));
}

static void client_set(struct client *c, const char *k, size_t kl,
                       const char *v, size_t vl)
{
    static char b[1 << 20];
    const char *argv[] = {"SET", k, v};
    size_t lens[] = {3, kl, vl};
    client_send(c, b, kvnet_resp(b, sizeof b, 0, 3, argv, lens));
}

/* The next reply line (a simple string, error or integer), without
 * "\r\n", in @p out; 1, or 0 when none came within @p ms, -1 at end of
 * file. */
static int client_line(struct client *c, char *out, size_t cap, long ms)
{
    int64_t end = wb_now_ns() + ms * MS;
    for (;;) {
        /* The bytes not yet returned are buf[off, len). */
        char *from = c->buf + c->off;
        char *nl = memmem(from, c->len - c->off, "\r\n", 2);
        if (nl != NULL) {
            size_t n = (size_t)(nl - from);
            size_t keep = n < cap - 1 ? n : cap - 1;
            memcpy(out, from, keep);
            out[keep] = '\0';
            c->off += n + 2;
            return 1;
        }
        int64_t left = (end - wb_now_ns()) / MS;
        if (left < 0 || !kvnet_readable_within(c->fd, left))
            return 0;
        if (c->off > 0) { /* make room at the end */
            memmove(c->buf, from, c->len - c->off);
            c->len -= c->off;
            c->off = 0;
        }
        if (c->len == sizeof c->buf)
            c->len = 0; /* a line longer than the buffer: not ours */
        ssize_t n = recv(c->fd, c->buf + c->len, sizeof c->buf - c->len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        c->len += (size_t)n;
    }
}

static void expect_reply(struct client *c, const char *want, long ms,
                         const char *why)
{
    char line[256];
    int r = client_line(c, line, sizeof line, ms);
    WB_EXPECT(r == 1 && strcmp(line, want) == 0,
              "client %c should get the reply %s within %ld ms; got %s%s",
              c->name, kvnet_show(want, strlen(want)), ms,
              r == 1   ? kvnet_show(line, strlen(line))
              : r == 0 ? "nothing"
                       : "end of file (the server closed the connection)",
              why);
}

static void expect_quiet(struct client *c, long ms, const char *why)
{
    char line[256];
    int r = client_line(c, line, sizeof line, ms);
    WB_EXPECT(r == 0, "client %c should get no reply yet; got %s%s", c->name,
              r == 1 ? kvnet_show(line, strlen(line)) : "end of file", why);
}

/* Send @p n replies' worth of SETs already queued: read their +OK. */
static void expect_oks(struct client *c, long n, const char *why)
{
    for (long i = 0; i < n; i++)
        expect_reply(c, "+OK", SAVE_MS, why);
}

/* --- Expected files ------------------------------------------------------- */

struct kvpair {
    const char *k, *v;
    size_t kl, vl;
};

static int pair_cmp(const void *a, const void *b)
{
    const struct kvpair *x = a, *y = b;
    size_t n = x->kl < y->kl ? x->kl : y->kl;
    int c = memcmp(x->k, y->k, n);
    return c != 0 ? c : (x->kl > y->kl) - (x->kl < y->kl);
}

/* The file the contract describes for @p n pairs (sorted here; the keys
 * must differ). Caller frees; *len its size. */
static char *expected_file(struct kvpair *p, size_t n, size_t *len)
{
    qsort(p, n, sizeof *p, pair_cmp);
    size_t cap = 64;
    for (size_t i = 0; i < n; i++)
        cap += p[i].kl + p[i].vl + 64;
    char *b = malloc(cap);
    ck_assert_msg(b != NULL, "out of memory");
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        const char *argv[] = {"SET", p[i].k, p[i].v};
        size_t lens[] = {3, p[i].kl, p[i].vl};
        at = kvnet_resp(b, cap, at, 3, argv, lens);
    }
    *len = at;
    return b;
}

/* The whole file, or NULL when it does not exist; *len its size. */
static char *file_read(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    size_t cap = 4096, n = 0;
    char *b = malloc(cap);
    ck_assert_msg(b != NULL, "out of memory");
    for (;;) {
        if (n == cap) {
            cap *= 2;
            b = realloc(b, cap);
            ck_assert_msg(b != NULL, "out of memory");
        }
        ssize_t r = read(fd, b + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    *len = n;
    return b;
}

static void file_write(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

static int file_exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

/* Where the two differ first, for messages. */
static size_t first_difference(const char *a, size_t al, const char *b,
                               size_t bl)
{
    size_t i = 0;
    while (i < al && i < bl && a[i] == b[i])
        i++;
    return i;
}

static void expect_file(const char *path, const char *want, size_t wlen,
                        const char *why)
{
    size_t len = 0;
    char *got = file_read(path, &len);
    WB_EXPECT(got != NULL, "%s should exist%s", path, why);
    size_t at = first_difference(got, len, want, wlen);
    WB_EXPECT(len == wlen && at == len,
              "%s should hold the %zu bytes of the snapshot; it holds %zu "
              "bytes, and differs from byte %zu: %s where %s was due%s",
              path, wlen, len, at,
              kvnet_show(got + at, len - at < 40 ? len - at : 40),
              kvnet_show(want + at, wlen - at < 40 ? wlen - at : 40), why);
    free(got);
}

/* Whether @p got (@p len bytes) holds the SET command of each of the
 * @p n pairs: with the expected length, the right commands in another
 * order. */
static int same_commands(const char *got, size_t len, const struct kvpair *p,
                         size_t n)
{
    for (size_t i = 0; i < n; i++) {
        size_t cap = p[i].kl + p[i].vl + 64;
        char *one = malloc(cap);
        ck_assert_msg(one != NULL, "out of memory");
        const char *argv[] = {"SET", p[i].k, p[i].v};
        size_t lens[] = {3, p[i].kl, p[i].vl};
        size_t olen = kvnet_resp(one, cap, 0, 3, argv, lens);
        int found = memmem(got, len, one, olen) != NULL;
        free(one);
        if (!found)
            return 0;
    }
    return 1;
}

/* After a SAVE answered +OK: @p path holds the snapshot of the @p n
 * pairs (sorted here). A missing file and the right commands in the
 * wrong order get messages of their own. */
static void expect_snapshot(const char *path, struct kvpair *p, size_t n,
                            const char *why)
{
    size_t wlen, len = 0;
    char *want = expected_file(p, n, &wlen);
    char *got = file_read(path, &len);
    WB_EXPECT(got != NULL,
              "%s should exist once the SAVE answered +OK; it does not: was "
              "+OK sent before the file was written (kv_save_done() called "
              "from kvsave_start(), or before the worker's job ran)?",
              path);
    WB_EXPECT(len != wlen || memcmp(got, want, len) == 0 ||
                  !same_commands(got, len, p, n),
              "%s holds the right %zu SET commands, but in the wrong order: "
              "sort the copy by key, in memcmp() order (the shorter key "
              "first when one starts the other), before writing it (see "
              "\"The snapshot file\")",
              path, n);
    free(got);
    expect_file(path, want, wlen, why);
    free(want);
}

/* Whether @p fd is the file or folder @p path names. */
static int same_file(int fd, const char *path)
{
    struct stat a, b;
    return fd >= 0 && fstat(fd, &a) == 0 && stat(path, &b) == 0 &&
           a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

static void expect_no_file(const char *path, const char *why)
{
    WB_EXPECT(!file_exists(path), "%s should not exist%s", path, why);
}

/* --- Tests ---------------------------------------------------------------- */

START_TEST(test_save_writes_sorted_file)
{
    WB_PROMISE("format");
    struct server s;
    server_start(&s);
    struct client *a = client_connect(&s, 'A');
    client_cmd(a,
               "SET pear 3\r\nSET apple 1\r\nSET fig 22\r\nSET apple 11\r\n");
    expect_oks(a, 4, "");
    /* What a crash in an earlier SAVE could leave: must not show. */
    char junk[4096];
    memset(junk, '#', sizeof junk - 1);
    junk[sizeof junk - 1] = '\0';
    file_write(s.tmp, junk);
    client_cmd(a, "SAVE\r\n");
    expect_reply(a, "+OK", SAVE_MS, " (the SAVE of three keys)");
    struct kvpair p[] = {
        {"pear", "3", 4, 1}, {"apple", "11", 5, 2}, {"fig", "22", 3, 2}};
    expect_snapshot(s.path, p, 3,
                    ": every key once, sorted by its bytes, as RESP SET "
                    "commands, nothing else (see kvsave.h; a PATH.tmp of "
                    "4,095 bytes of '#' was left there before this SAVE: "
                    "open it with O_TRUNC)");
    WB_PROMISE("durable");
    expect_no_file(s.tmp, ": it was renamed to the snapshot's name");
    /* Descriptor 0 free (a server that closed its standard input): the
       file the SAVE opens may get it, and that is a descriptor too. */
    client_cmd(a, "DEL fig\r\n");
    expect_reply(a, ":1", AT_ONCE_MS, "");
    struct kvpair q[] = {{"pear", "3", 4, 1}, {"apple", "11", 5, 2}};
    int in = fcntl(0, F_DUPFD_CLOEXEC, 3);
    ck_assert_int_ge(in, 0);
    close(0);
    wb_wrap_reset(WB_FSYNC, 0);
    client_cmd(a, "SAVE\r\n");
    char line[256];
    int r = client_line(a, line, sizeof line, SAVE_MS);
    ck_assert_int_eq(dup2(in, 0), 0);
    close(in);
    WB_EXPECT(r == 1 && strcmp(line, "+OK") == 0,
              "client A should get the reply \"+OK\" within %d ms; got %s "
              "(a SAVE while descriptor 0 is closed: open() may return 0, "
              "which is a descriptor, not a failure)",
              SAVE_MS,
              r == 1   ? kvnet_show(line, strlen(line))
              : r == 0 ? "nothing"
                       : "end of file");
    expect_snapshot(s.path, q, 2,
                    " (a SAVE while descriptor 0 was closed: open() may "
                    "return 0)");
    expect_no_file(s.tmp, " (a SAVE while descriptor 0 was closed)");
    WB_EXPECT(wb_wrap_calls(WB_FSYNC) == 2,
              "a SAVE while descriptor 0 is closed should fsync() the file "
              "and its folder (either may be opened as descriptor 0); it "
              "called fsync() %d times",
              wb_wrap_calls(WB_FSYNC));
    client_free(a);
    server_stop(&s);
}
END_TEST

START_TEST(test_empty_store_gives_empty_file)
{
    WB_PROMISE("format");
    struct server s;
    server_start(&s);
    struct client *a = client_connect(&s, 'A');
    client_cmd(a, "SAVE\r\n");
    expect_reply(a, "+OK", SAVE_MS, " (a SAVE of an empty store)");
    struct kvpair none[1];
    expect_snapshot(s.path, none, 0,
                    ": a store without keys saves as an empty file");
    client_free(a);
    server_stop(&s);
}
END_TEST

START_TEST(test_relative_path)
{
    WB_PROMISE("durable");
    struct server s;
    server_start_in(&s, "snap", 1);
    struct client *a = client_connect(&s, 'A');
    wb_wrap_reset(WB_FSYNC, 0);
    client_cmd(a, "SET k v\r\nSAVE\r\n");
    expect_oks(a, 1, "");
    expect_reply(a, "+OK", SAVE_MS,
                 " (kvsave_new() was given the name \"snap\", relative to "
                 "the current folder: its folder is \".\")");
    struct kvpair p[] = {{"k", "v", 1, 1}};
    expect_snapshot(s.path, p, 1, "");
    WB_EXPECT(wb_wrap_calls(WB_FSYNC) == 2,
              "a SAVE to a relative name should fsync() the file and the "
              "current folder; it called fsync() %d times",
              wb_wrap_calls(WB_FSYNC));
    client_free(a);
    server_stop(&s);
}
END_TEST

/* Keys that sort by bytes, not as C strings: prefixes, NUL and CR LF
 * bytes (keys that differ only after a NUL byte, and "a\0a\x01" that
 * memcmp() puts before "a\0b" but a C-string comparison with the
 * shorter first after it), bytes above 127; a value of 100 KiB (more than one
 * buffer of the reference's writes); 1,000 keys in all. */
START_TEST(test_any_bytes_many_keys)
{
    WB_PROMISE("format");
    struct server s;
    server_start(&s);
    struct client *a = client_connect(&s, 'A');
    enum { FULL = 1000, BIG = 100 * 1024 };
    const size_t N = (size_t)wb_scaled(FULL, 50);
    static struct kvpair p[FULL];
    static char keys[FULL][16], vals[FULL][40];
    char *big = malloc(BIG);
    ck_assert_msg(big != NULL, "out of memory");
    for (size_t i = 0; i < BIG; i++)
        big[i] = (char)(i * 7 + 1);
    static const struct {
        const char *k;
        size_t kl;
    } odd[] = {{"a", 1},
               {"ab", 2},
               {"a\0", 2},
               {"a\r\nb", 4},
               {"\xff", 1},
               {"\x80z", 2},
               {"A", 1},
               {"", 0},
               {"a b", 3},
               /* equal up to their NUL byte: strcmp() and strncmp() stop
                  there and call them equal, memcmp() does not */
               {"a\0b", 3},
               {"a\0a", 3},
               {"a\0a\x01", 4}};
    size_t n = 0;
    for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++, n++) {
        p[n].k = odd[i].k;
        p[n].kl = odd[i].kl;
        p[n].v = i == 3 ? "x\r\n$3\r\n" : "v";
        p[n].vl = strlen(p[n].v);
    }
    p[n] = (struct kvpair){"bigvalue", big, 8, BIG};
    n++;
    for (; n < N; n++) {
        p[n].kl = (size_t)snprintf(keys[n], sizeof keys[n], "key:%zu", n * 37);
        p[n].vl = (size_t)snprintf(vals[n], sizeof vals[n], "%zu", n * n);
        p[n].k = keys[n];
        p[n].v = vals[n];
    }
    /* All the SETs in one send: pipelined, as redis-cli --pipe would. */
    size_t cap = BIG + N * 128, at = 0;
    char *req = malloc(cap);
    ck_assert_msg(req != NULL, "out of memory");
    for (size_t i = 0; i < N; i++) {
        const char *argv[] = {"SET", p[i].k, p[i].v};
        size_t lens[] = {3, p[i].kl, p[i].vl};
        at = kvnet_resp(req, cap, at, 3, argv, lens);
    }
    client_send(a, req, at);
    free(req);
    expect_oks(a, (long)N, " (the SETs)");
    client_cmd(a, "SAVE\r\n");
    expect_reply(a, "+OK", SAVE_MS,
                 " (the SAVE of 1,000 keys, fewer under Valgrind)");
    expect_snapshot(s.path, p, N,
                    ": keys are compared as bytes (memcmp(), the shorter "
                    "first when one starts the other), keys and values "
                    "written as they are, NUL and \\r\\n included");
    free(big);
    client_free(a);
    server_stop(&s);
}
END_TEST

START_TEST(test_short_writes_are_continued)
{
    WB_PROMISE("format");
    struct server s;
    server_start(&s);
    struct client *a = client_connect(&s, 'A');
    struct kvpair p[] = {{"one", "first value", 3, 11},
                         {"two", "second value", 3, 12},
                         {"three", "third value", 5, 11}};
    for (size_t i = 0; i < 3; i++)
        client_set(a, p[i].k, p[i].kl, p[i].v, p[i].vl);
    expect_oks(a, 3, "");
    wb_wrap_write_limit(7);
    client_cmd(a, "SAVE\r\n");
    expect_reply(a, "+OK", SAVE_MS,
                 " (every write() writes at most 7 bytes in this test)");
    wb_wrap_write_limit(0);
    expect_snapshot(s.path, p, 3,
                    ": write() may write fewer bytes than asked; the rest "
                    "must be written by the next call");
    /* One byte at a time: a write() of 1 byte is progress too. */
    client_cmd(a, "DEL two\r\n");
    expect_reply(a, ":1", AT_ONCE_MS, "");
    wb_wrap_write_limit(1);
    client_cmd(a, "SAVE\r\n");
    expect_reply(a, "+OK", SAVE_MS,
                 " (every write() writes 1 byte in this part of the test)");
    wb_wrap_write_limit(0);
    struct kvpair q[] = {{"one", "first value", 3, 11},
                         {"three", "third value", 5, 11}};
    expect_snapshot(s.path, q, 2,
                    ": a write() of 1 byte (every write() writes 1 byte in "
                    "this part of the test) is progress, not an error");
    client_free(a);
    server_stop(&s);
}
END_TEST

START_TEST(test_snapshot_is_of_one_instant)
{
    WB_PROMISE("one-instant");
    struct server s;
    server_start(&s);
    struct client *a = client_connect(&s, 'A');
    struct client *b = client_connect(&s, 'B');
    client_cmd(a, "SET a before\r\nSET b before\r\n");
    expect_oks(a, 2, "");
    /* The SAVE's job cannot start until the test lets its own go. */
    worker_occupy(&s);
    client_cmd(a, "SAVE\r\nSET a pipelined\r\n");
    expect_quiet(a, QUIET_MS,
                 " (the offload's only worker is busy with a job of the "
                 "test, so the file cannot be written yet: a reply now was "
                 "sent before the work ran, from kvsave_start()?)");
    client_cmd(b, "SET a after\r\nSET c after\r\nGET a\r\n");
    expect_oks(b, 2, " (client B changes the data while A's SAVE waits)");
    expect_reply(b, "$5", AT_ONCE_MS, "");
    expect_reply(b, "after", AT_ONCE_MS, "");
    worker_free(&s);
    expect_reply(a, "+OK", SAVE_MS, " (the SAVE, once the worker is free)");
    expect_reply(a, "+OK", AT_ONCE_MS, " (the SET pipelined after it)");
    struct kvpair p[] = {{"a", "before", 1, 6}, {"b", "before", 1, 6}};
    expect_snapshot(s.path, p, 2,
                    ": the snapshot is the data when the SAVE arrived. "
                    "Client B set a and c after it, before the worker could "
                    "start: is the data read on the worker (from the live "
                    "table) instead of copied in kvsave_start()?");
    client_free(a);
    client_free(b);
    server_stop(&s);
}
END_TEST

START_TEST(test_loop_serves_while_disk_is_slow)
{
    WB_PROMISE("off-loop");
    struct server s;
    server_start(&s);
    struct client *a = client_connect(&s, 'A');
    struct client *b = client_connect(&s, 'B');
    client_cmd(a, "SET k v\r\n");
    expect_oks(a, 1, "");
    wb_wrap_reset(WB_FSYNC, 0);
    wb_wrap_hold(WB_FSYNC, 1);
    client_cmd(a, "SAVE\r\n");
    long held = wb_wrap_held(WB_FSYNC, SAVE_MS);
    WB_EXPECT(held != 0,
              "the SAVE should fsync() the file within %d ms; no "
              "fsync() was called",
              SAVE_MS);
    WB_EXPECT(held != atomic_load(&s.tid),
              "fsync() should run on a worker of the offload; it ran on the "
              "loop's thread, which serves no client while the disk is "
              "slow");
    client_cmd(b, "PING\r\n");
    expect_reply(b, "+PONG", AT_ONCE_MS,
                 " while A's SAVE waits in a slow fsync(): the loop must go "
                 "on serving");
    expect_quiet(a, QUIET_MS,
                 " (its fsync() has not returned: a reply now was sent "
                 "before the file was on the disk, from kvsave_start()?)");
    wb_wrap_release(WB_FSYNC);
    expect_reply(a, "+OK", SAVE_MS, " once fsync() returned");
    client_free(a);
    client_free(b);
    server_stop(&s);
}
END_TEST

START_TEST(test_reply_waits_for_the_disk)
{
    WB_PROMISE("durable");
    struct server s;
    server_start(&s);
    file_write(s.path, "old snapshot");
    struct client *a = client_connect(&s, 'A');
    client_cmd(a, "SET k1 v1\r\nSET k2 v2\r\n");
    expect_oks(a, 2, "");
    struct kvpair p[] = {{"k1", "v1", 2, 2}, {"k2", "v2", 2, 2}};
    size_t len;
    char *want = expected_file(p, 2, &len);

    wb_wrap_reset(WB_FSYNC, 0);
    wb_wrap_reset(WB_RENAME, 0);
    wb_wrap_hold(WB_FSYNC, 1);
    client_cmd(a, "SAVE\r\n");
    WB_EXPECT(wb_wrap_held(WB_FSYNC, SAVE_MS) != 0,
              "the SAVE should fsync() the temporary file; no fsync() came "
              "within %d ms",
              SAVE_MS);
    expect_file(s.tmp, want, len,
                " when its fsync() is called: write everything, then fsync()");
    WB_EXPECT(same_file(wb_wrap_held_fd(WB_FSYNC), s.tmp),
              "the first fsync() should be of %s, the file just written; it "
              "was of another descriptor",
              s.tmp);
    expect_file(s.path, "old snapshot", 12,
                ": until the rename, the old snapshot stays");
    expect_quiet(a, QUIET_MS, ": no reply before the file is on the disk");
    WB_EXPECT(wb_wrap_calls(WB_RENAME) == 0,
              "rename() should come after the file's fsync(); it was "
              "called before");

    wb_wrap_hold(WB_RENAME, 1);
    wb_wrap_hold(WB_FSYNC, 2); /* lets the first one go */
    WB_EXPECT(wb_wrap_held(WB_RENAME, SAVE_MS) != 0,
              "after the fsync(), the SAVE should rename() %s to %s; no "
              "rename() came within %d ms",
              s.tmp, s.path, SAVE_MS);
    expect_quiet(a, QUIET_MS, ": no reply before the rename");

    wb_wrap_release(WB_RENAME);
    WB_EXPECT(wb_wrap_held(WB_FSYNC, SAVE_MS) != 0,
              "after the rename, the SAVE should fsync() the directory "
              "(the rename is only durable then); no second fsync() came "
              "within %d ms",
              SAVE_MS);
    WB_EXPECT(same_file(wb_wrap_held_fd(WB_FSYNC), s.dir),
              "the second fsync() should be of the folder that holds the "
              "snapshot, %s (the rename changed that folder); it was of "
              "another descriptor",
              s.dir);
    expect_file(s.path, want, len, " once it was renamed");
    expect_no_file(s.tmp, " once it was renamed");
    expect_quiet(a, QUIET_MS, ": no reply before the directory's fsync()");
    wb_wrap_release(WB_FSYNC);
    expect_reply(a, "+OK", SAVE_MS, " once the directory's fsync() returned");
    WB_EXPECT(wb_wrap_calls(WB_FSYNC) == 2 && wb_wrap_calls(WB_RENAME) == 1,
              "one SAVE should call fsync() twice (the file, the directory) "
              "and rename() once; it called them %d and %d times",
              wb_wrap_calls(WB_FSYNC), wb_wrap_calls(WB_RENAME));
    free(want);
    client_free(a);
    server_stop(&s);
}
END_TEST

/* A SAVE fails with @p reply; the tmp file is gone and the old snapshot
 * is still there. */
static void expect_failed_save(struct server *s, struct client *a,
                               const char *reply, const char *why)
{
    client_cmd(a, "SAVE\r\n");
    WB_PROMISE("errors");
    expect_reply(a, reply, SAVE_MS, why);
    WB_PROMISE("no-tmp-left");
    expect_no_file(s->tmp, " after a failed SAVE: remove it");
    expect_file(s->path, "old snapshot", 12,
                " after a failed SAVE: the old snapshot must stay");
}

/* After a failure, a SAVE works again. */
static void expect_save_works(struct server *s, struct client *a)
{
    client_cmd(a, "SAVE\r\n");
    WB_PROMISE("errors");
    expect_reply(a, "+OK", SAVE_MS,
                 " (a SAVE after a failed one should start afresh)");
    expect_no_file(s->tmp, "");
}

START_TEST(test_write_fails)
{
    struct server s;
    server_start(&s);
    file_write(s.path, "old snapshot");
    struct client *a = client_connect(&s, 'A');
    char v[3000];
    memset(v, 'v', sizeof v);
    client_set(a, "big", 3, v, sizeof v);
    expect_oks(a, 1, "");
    /* Files may grow to 1,000 bytes: write() fails with EFBIG (the
     * signal it also sends is ignored). Check reports a failure through
     * a file, so the limit is lifted before any check. */
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit old, lim;
    ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
    lim = old;
    lim.rlim_cur = 1000;
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
    client_cmd(a, "SAVE\r\n");
    char line[256];
    int r = client_line(a, line, sizeof line, SAVE_MS);
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &old), 0);
    WB_PROMISE("errors");
    WB_EXPECT(r == 1 && strcmp(line, "-ERR File too large") == 0,
              "client A should get the reply \"-ERR File too large\" within "
              "%d ms; got %s (files may not grow beyond 1,000 bytes in this "
              "test: write() fails with EFBIG, and the SAVE must say so)",
              SAVE_MS,
              r == 1   ? kvnet_show(line, strlen(line))
              : r == 0 ? "nothing"
                       : "end of file");
    WB_PROMISE("no-tmp-left");
    expect_no_file(s.tmp, " after a failed SAVE: remove it");
    expect_file(s.path, "old snapshot", 12,
                " after a failed SAVE: the old snapshot must stay");
    expect_save_works(&s, a);
    client_free(a);
    server_stop(&s);
}
END_TEST

START_TEST(test_write_returns_zero)
{
    WB_PROMISE("errors");
    struct server s;
    server_start(&s);
    file_write(s.path, "old snapshot");
    struct client *a = client_connect(&s, 'A');
    client_cmd(a, "SET k v\r\n");
    expect_oks(a, 1, "");
    wb_wrap_reset(WB_WRITE, 0);
    wb_wrap_write_zero(1);
    expect_failed_save(&s, a, "-ERR Input/output error",
                       " (the SAVE's first write() returns 0 in this test, "
                       "writing nothing and setting no errno: EIO)");
    wb_wrap_write_zero(0);
    expect_save_works(&s, a);
    client_free(a);
    server_stop(&s);
}
END_TEST

START_TEST(test_fsync_fails)
{
    struct server s;
    server_start(&s);
    file_write(s.path, "old snapshot");
    struct client *a = client_connect(&s, 'A');
    client_cmd(a, "SET k v\r\n");
    expect_oks(a, 1, "");
    wb_wrap_fail(WB_FSYNC, 1, EIO, 0);
    expect_failed_save(&s, a, "-ERR Input/output error",
                       " (the file's fsync() fails with EIO in this test)");
    wb_wrap_reset(WB_FSYNC, 0);
    expect_save_works(&s, a);
    client_free(a);
    server_stop(&s);
}
END_TEST

START_TEST(test_rename_fails)
{
    struct server s;
    server_start(&s);
    struct client *a = client_connect(&s, 'A');
    client_cmd(a, "SET k v\r\n");
    expect_oks(a, 1, "");
    /* A folder where the snapshot should go: rename() fails, EISDIR. */
    ck_assert_int_eq(mkdir(s.path, 0755), 0);
    client_cmd(a, "SAVE\r\n");
    WB_PROMISE("errors");
    expect_reply(a, "-ERR Is a directory", SAVE_MS,
                 " (a folder has the snapshot's name in this test: rename() "
                 "fails with EISDIR)");
    WB_PROMISE("no-tmp-left");
    expect_no_file(s.tmp, " after a failed rename(): remove it");
    ck_assert_int_eq(rmdir(s.path), 0);
    expect_save_works(&s, a);
    client_free(a);
    server_stop(&s);
}
END_TEST

START_TEST(test_open_fails)
{
    WB_PROMISE("errors");
    struct server s;
    server_start_as(&s, "missing/snap");
    struct client *a = client_connect(&s, 'A');
    client_cmd(a, "SET k v\r\nSAVE\r\n");
    expect_oks(a, 1, "");
    expect_reply(a, "-ERR No such file or directory", SAVE_MS,
                 " (the snapshot's folder does not exist in this test: "
                 "open() fails with ENOENT)");
    client_cmd(a, "PING\r\n");
    expect_reply(a, "+PONG", AT_ONCE_MS, " (the connection stays)");
    client_free(a);
    server_stop(&s);
}
END_TEST

START_TEST(test_directory_fsync_fails)
{
    WB_PROMISE("errors");
    struct server s;
    server_start(&s);
    struct client *a = client_connect(&s, 'A');
    client_cmd(a, "SET k v\r\n");
    expect_oks(a, 1, "");
    wb_wrap_fail(WB_FSYNC, 2, EIO, 0);
    client_cmd(a, "SAVE\r\n");
    expect_reply(a, "-ERR Input/output error", SAVE_MS,
                 " (the directory's fsync(), the second one, fails with EIO "
                 "in this test: the rename is not known to be durable)");
    WB_PROMISE("no-tmp-left");
    expect_no_file(s.tmp, " (it was renamed)");
    wb_wrap_reset(WB_FSYNC, 0);
    client_free(a);
    server_stop(&s);
}
END_TEST

START_TEST(test_second_save_is_busy)
{
    WB_PROMISE("busy");
    struct server s;
    server_start(&s);
    struct client *a = client_connect(&s, 'A');
    struct client *b = client_connect(&s, 'B');
    client_cmd(a, "SET k v\r\n");
    expect_oks(a, 1, "");
    wb_wrap_reset(WB_FSYNC, 0);
    wb_wrap_hold(WB_FSYNC, 1);
    client_cmd(a, "SAVE\r\n");
    long held = wb_wrap_held(WB_FSYNC, SAVE_MS);
    WB_EXPECT(held != 0,
              "the SAVE should fsync() the file; no fsync() came within %d "
              "ms",
              SAVE_MS);
    WB_EXPECT(held != atomic_load(&s.tid),
              "fsync() should run on a worker of the offload; it ran on the "
              "loop's thread, so kvsave_start() cannot return before the "
              "disk is done");
    /* The worker may reach fsync() before kvsave_start() has returned
       on the loop's thread (a preemption after offload_submit()): give
       it time to return before reading what it returned. */
    int rc = atomic_load(&s.start_rc);
    for (int64_t end = wb_now_ns() + AT_ONCE_MS * MS;
         rc == NOT_RETURNED && wb_now_ns() < end; rc = atomic_load(&s.start_rc))
        wb_sleep_ms(1);
    WB_EXPECT(rc != NOT_RETURNED,
              "kvsave_start() has not returned within %d ms although its "
              "worker is already in fsync(): does kvsave_start() wait for "
              "the job? It should submit it and return 0 at once",
              AT_ONCE_MS);
    WB_EXPECT(rc == 0,
              "kvsave_start() should return 0 when the SAVE started; it "
              "returned %d",
              rc);
    client_cmd(b, "SAVE\r\n");
    expect_reply(b, "-ERR Device or resource busy", AT_ONCE_MS,
                 ": a SAVE while another one runs is refused at once with "
                 "EBUSY");
    WB_EXPECT(
        atomic_load(&s.start_rc) == -1 && atomic_load(&s.start_errno) == EBUSY,
        "kvsave_start() of a SAVE while another one runs should "
        "return -1 with errno EBUSY; it returned %d, errno %s",
        atomic_load(&s.start_rc), wb_errname(atomic_load(&s.start_errno)));
    expect_quiet(a, QUIET_MS, " (its fsync() has not returned)");
    wb_wrap_release(WB_FSYNC);
    expect_reply(a, "+OK", SAVE_MS, " (the first SAVE goes on undisturbed)");
    client_cmd(b, "SAVE\r\n");
    expect_reply(b, "+OK", SAVE_MS,
                 " (once the first SAVE completed, SAVE works again)");
    client_free(a);
    client_free(b);
    server_stop(&s);
}
END_TEST

START_TEST(test_one_reply_per_save)
{
    WB_PROMISE("exactly-once");
    struct server s;
    server_start(&s);
    struct client *a = client_connect(&s, 'A');
    for (int i = 0; i < 10; i++) {
        char cmd[64];
        snprintf(cmd, sizeof cmd, "SET k%d v\r\nSAVE\r\nPING\r\n", i);
        client_cmd(a, cmd);
        expect_reply(a, "+OK", SAVE_MS, " (the SET)");
        expect_reply(a, "+OK", SAVE_MS, wb_format(" (SAVE number %d)", i + 1));
        expect_reply(a, "+PONG", SAVE_MS,
                     " (the PING after the SAVE: one reply per SAVE)");
    }
    expect_quiet(a, QUIET_MS, ": every request was answered once");
    client_free(a);
    server_stop(&s);
}
END_TEST

START_TEST(test_bad_args)
{
    WB_PROMISE("bad-args");
    loop *l = loop_new();
    ck_assert_msg(l != NULL, "loop_new() failed");
    offload *o = offload_new(l, 1);
    ck_assert_msg(o != NULL, "offload_new() failed");
    struct {
        loop *l;
        offload *o;
        const char *path;
        const char *what;
    } bad[] = {{NULL, o, "/tmp/x", "a NULL loop"},
               {l, NULL, "/tmp/x", "a NULL offload"},
               {l, o, NULL, "a NULL path"},
               {l, o, "", "an empty path"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        errno = 0;
        kvsave *s = kvsave_new(bad[i].l, bad[i].o, bad[i].path);
        WB_EXPECT(s == NULL && errno == EINVAL,
                  "kvsave_new() with %s should fail with EINVAL; got %s, "
                  "errno %s",
                  bad[i].what, s == NULL ? "NULL" : "a kvsave",
                  wb_errname(errno));
    }
    /* Names it may be given (it opens nothing): in the root folder,
       relative (of one byte too), absolute. */
    static const char *const good[] = {"/snap", "snap", "s", "dir/snap"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        errno = 0;
        kvsave *g = kvsave_new(l, o, good[i]);
        WB_EXPECT(g != NULL,
                  "kvsave_new() with the path \"%s\" should return a "
                  "kvsave (it creates nothing yet); got NULL, errno %s",
                  good[i], wb_errname(errno));
        kvsave_free(g);
    }
    kvsave *s = kvsave_new(l, o, "/tmp/x");
    ck_assert_msg(s != NULL, "kvsave_new() with valid arguments failed");
    int dummy;
    errno = 0;
    int rc = kvsave_start(NULL, (kv_pending *)&dummy, s);
    WB_EXPECT(rc == -1 && errno == EINVAL,
              "kvsave_start(NULL, p, ctx) should fail with EINVAL; got %d%s",
              rc, wb_errno_note(rc));
    errno = 0;
    rc = kvsave_start((kv *)&dummy, NULL, s);
    WB_EXPECT(rc == -1 && errno == EINVAL,
              "kvsave_start(k, NULL, ctx) should fail with EINVAL; got %d%s",
              rc, wb_errno_note(rc));
    errno = 0;
    rc = kvsave_start((kv *)&dummy, (kv_pending *)&dummy, NULL);
    WB_EXPECT(rc == -1 && errno == EINVAL,
              "kvsave_start(k, p, NULL) should fail with EINVAL; got %d%s", rc,
              wb_errno_note(rc));
    WB_PROMISE("free");
    kvsave_free(s);
    kvsave_free(NULL);
    offload_free(o);
    loop_free(l);
}
END_TEST

START_TEST(test_leaves_only_the_snapshot)
{
    WB_PROMISE("free");
    struct server s;
    server_start(&s);
    struct client *a = client_connect(&s, 'A');
    client_cmd(a, "SET k v\r\nSAVE\r\nSAVE\r\n");
    expect_oks(a, 3, "");
    client_free(a);
    ck_assert_int_eq(write(s.ctl[1], "q", 1), 1);
    WB_EXPECT(kvnet_readable_within(s.done[0], 3000),
              "loop_run() should return after kv_stop()");
    pthread_join(s.thread, NULL);
    server_free(&s);
    DIR *d = opendir(s.dir);
    ck_assert_msg(d != NULL, "opendir() failed");
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        WB_EXPECT(strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 ||
                      strcmp(e->d_name, "snap") == 0,
                  "after SAVEs, the folder should hold only the snapshot "
                  "\"snap\"; it also holds \"%s\"",
                  e->d_name);
    closedir(d);
    int *pipes[] = {s.ctl, s.done, s.block, s.blocked};
    for (size_t i = 0; i < sizeof pipes / sizeof pipes[0]; i++) {
        close(pipes[i][0]);
        close(pipes[i][1]);
    }
    close(s.lfd);
    dir_clean(s.dir);
}
END_TEST

/* A SAVE the allocator refuses: allocation @p call (from 1) of the code
 * under test, from the SAVE on, fails. 1: it failed with ENOMEM; 0:
 * the SAVE made fewer allocations, and succeeded. */
static int save_without_memory(struct server *s, struct client *a, int call)
{
    size_t before = wb_alloc_live(NULL);
    wb_alloc_fail(call);
    client_cmd(a, "SAVE\r\n");
    char line[256];
    int r = client_line(a, line, sizeof line, SAVE_MS);
    int calls = wb_alloc_calls();
    wb_alloc_fail(0);
    WB_EXPECT(r == 1 && (strcmp(line, "+OK") == 0 ||
                         strcmp(line, "-ERR Cannot allocate memory") == 0),
              "client A should get \"+OK\" or \"-ERR Cannot allocate "
              "memory\" within %d ms; got %s (allocation number %d of "
              "the SAVE fails with ENOMEM in this test: whether the copy in "
              "kvsave_start() or the worker found no memory, the SAVE "
              "fails with the ENOMEM that malloc() set)",
              SAVE_MS,
              r == 1   ? kvnet_show(line, strlen(line))
              : r == 0 ? "nothing"
                       : "end of file",
              call);
    if (strcmp(line, "+OK") == 0) {
        WB_EXPECT(calls < call,
                  "the SAVE answered +OK though its allocation number %d "
                  "failed (it made %d): a failed allocation must fail the "
                  "SAVE with ENOMEM",
                  call, calls);
        return 0;
    }
    expect_no_file(s->tmp, " after a SAVE that found no memory");
    expect_file(s->path, "old snapshot", 12,
                " after a SAVE that found no memory: the old snapshot must "
                "stay");
    size_t after = wb_alloc_live(NULL);
    for (int i = 0; i < 200 && after > before; i++) {
        wb_sleep_ms(5);
        after = wb_alloc_live(NULL);
    }
    WB_EXPECT(after <= before,
              "a SAVE whose allocation number %d failed should free what "
              "it had allocated; %zu blocks were live before it, %zu after "
              "its reply",
              call, before, after);
    return 1;
}

START_TEST(test_no_memory)
{
    WB_PROMISE("no-memory");
    loop *l = loop_new();
    ck_assert_msg(l != NULL, "loop_new() failed");
    offload *o = offload_new(l, 1);
    ck_assert_msg(o != NULL, "offload_new() failed");
    int failed = 0;
    for (int call = 1; call <= 20; call++) {
        wb_alloc_fail(call);
        errno = 0;
        kvsave *k = kvsave_new(l, o, "/tmp/kvsave-no-memory/snap");
        int e = errno, calls = wb_alloc_calls();
        wb_alloc_fail(0);
        if (k != NULL) {
            kvsave_free(k);
            WB_EXPECT(calls < call,
                      "kvsave_new() returned a kvsave though its allocation "
                      "number %d failed: it should fail with ENOMEM",
                      call);
            break;
        }
        failed++;
        WB_EXPECT(e == ENOMEM,
                  "kvsave_new() whose allocation number %d fails should "
                  "fail with ENOMEM; errno was %s",
                  call, wb_errname(e));
        WB_EXPECT(wb_alloc_live(NULL) == 0,
                  "kvsave_new() whose allocation number %d failed should "
                  "free what it had allocated; %zu blocks are left",
                  call, wb_alloc_live(NULL));
    }
    WB_EXPECT(failed > 0, "kvsave_new() should allocate (it copies the path)");
    offload_free(o);
    loop_free(l);

    struct server s;
    server_start(&s);
    file_write(s.path, "old snapshot");
    struct client *a = client_connect(&s, 'A');
    client_cmd(a, "SET k v\r\nSET a b\r\n");
    expect_oks(a, 2, "");
    failed = 0;
    int call = 1;
    while (call <= 40 && save_without_memory(&s, a, call)) {
        failed++;
        call++;
    }
    WB_EXPECT(failed > 0 && call <= 40,
              "a SAVE should copy the data (an allocation) and succeed "
              "once no allocation fails; %d of its allocations failed it",
              failed);
    struct kvpair p[] = {{"a", "b", 1, 1}, {"k", "v", 1, 1}};
    expect_snapshot(s.path, p, 2, " (the SAVE after those that failed)");
    client_free(a);
    server_stop(&s);
}
END_TEST

START_TEST(test_submit_fails)
{
    WB_PROMISE("submit-fails");
    /* The offload's own pipe above FD_SETSIZE: the select() loop refuses
       to watch it, so offload_submit() fails with EINVAL. */
    struct rlimit r;
    ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &r), 0);
    if (r.rlim_cur < FD_SETSIZE + 64 &&
        (r.rlim_max == RLIM_INFINITY || r.rlim_max >= FD_SETSIZE + 64)) {
        r.rlim_cur = FD_SETSIZE + 64;
        ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &r), 0);
    }
    if (r.rlim_cur < FD_SETSIZE + 64) {
        printf("test_submit_fails: fewer than %d descriptors allowed: "
               "skipped\n",
               FD_SETSIZE + 64);
        return;
    }
    static int fill[FD_SETSIZE];
    int nfill = 0;
    int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
    ck_assert_int_ge(null, 0);
    for (int fd = 0; fd < FD_SETSIZE - 1 && nfill < FD_SETSIZE;) {
        fd = fcntl(null, F_DUPFD_CLOEXEC, 0);
        ck_assert_int_ge(fd, 0);
        fill[nfill++] = fd;
    }
    struct server s;
    memset(&s, 0, sizeof s);
    s.l = loop_new();
    ck_assert_msg(s.l != NULL, "loop_new() failed");
    offload *o = offload_new(s.l, 1);
    ck_assert_msg(o != NULL, "offload_new() failed");
    for (int i = 0; i < nfill; i++)
        close(fill[i]);
    close(null);
    snprintf(s.dir, sizeof s.dir, "/tmp/kvsave-%ld-%llx-XXXXXX",
             (long)suite_pid, suite_stamp);
    ck_assert_msg(mkdtemp(s.dir) != NULL, "mkdtemp() failed");
    snprintf(s.path, sizeof s.path, "%s/snap", s.dir);
    snprintf(s.tmp, sizeof s.tmp, "%s.tmp", s.path);
    s.o = o;
    s.s = kvsave_new(s.l, s.o, s.path);
    ck_assert_msg(s.s != NULL, "kvsave_new() failed");
    s.live_new = wb_alloc_live(NULL);
    s.lfd = kvnet_listen(0, 64, &s.port);
    kv_config cfg = {.max_clients = 4,
                     .max_request = 4096,
                     .max_queue = 4096,
                     .idle_ms = 10000,
                     .save = kvsave_start,
                     .save_ctx = s.s};
    s.k = kv_start(s.l, s.lfd, &cfg);
    ck_assert_msg(s.k != NULL, "kv_start() failed");
    wb_pipe(s.ctl);
    wb_pipe(s.done);
    wb_pipe(s.block);
    wb_pipe(s.blocked);
    ck_assert_int_eq(loop_watch(s.l, s.ctl[0], LOOP_READ, on_ctl, &s), 0);
    ck_assert_int_eq(pthread_create(&s.thread, NULL, server_main, &s), 0);
    struct client *a = client_connect(&s, 'A');
    client_cmd(a, "SET k v\r\n");
    expect_oks(a, 1, "");
    size_t before = wb_alloc_live(NULL);
    for (int i = 0; i < 2; i++) {
        client_cmd(a, "SAVE\r\nPING\r\n");
        expect_reply(a, "-ERR Invalid argument", AT_ONCE_MS,
                     wb_format(" (SAVE number %d: offload_submit() fails "
                               "with EINVAL in this test, its loop refuses "
                               "the offload's pipe; kvsave_start() fails "
                               "with its errno, and the next SAVE is not "
                               "busy)",
                               i + 1));
        expect_reply(a, "+PONG", AT_ONCE_MS, "");
    }
    size_t after = wb_alloc_live(NULL);
    WB_EXPECT(after <= before,
              "a SAVE that offload_submit() refused should free its copy; "
              "%zu blocks were live before, %zu after",
              before, after);
    expect_no_file(s.tmp, "");
    expect_no_file(s.path, " (no SAVE could start)");
    client_free(a);
    server_stop(&s);
}
END_TEST

const char *const wb_trace_test = "test_loop_serves_while_disk_is_slow";

Suite *wb_suite(void)
{
    suite_pid = getpid();
    suite_stamp = (unsigned long long)wb_now_ns();
    /* The reference loop records the server's callbacks for TRACE=1. */
    setenv("WB_TRACE_LOOP", "1", 1);
    Suite *s = wb_begin("kvsave", "chapters/07-every-way/chapter.md");
    WB_ADD(s, test_save_writes_sorted_file, "The snapshot file");
    WB_ADD(s, test_empty_store_gives_empty_file, "The snapshot file");
    WB_ADD_TIMEOUT(s, test_relative_path,
                   "Durable: write, fsync, rename, fsync the folder", 6.0);
    WB_ADD_TIMEOUT(s, test_any_bytes_many_keys, "The snapshot file", 15.0);
    WB_ADD(s, test_short_writes_are_continued, "The snapshot file");
    WB_ADD_TIMEOUT(s, test_snapshot_is_of_one_instant,
                   "A snapshot of one instant", 6.0);
    WB_ADD_TIMEOUT(s, test_loop_serves_while_disk_is_slow,
                   "Off the loop: the pool writes", 6.0);
    WB_ADD_TIMEOUT(s, test_reply_waits_for_the_disk,
                   "Durable: write, fsync, rename, fsync the folder", 8.0);
    WB_ADD_TIMEOUT(s, test_write_fails, "When the disk says no", 6.0);
    WB_ADD_TIMEOUT(s, test_write_returns_zero, "When the disk says no", 6.0);
    WB_ADD_TIMEOUT(s, test_fsync_fails, "When the disk says no", 6.0);
    WB_ADD_TIMEOUT(s, test_rename_fails, "When the disk says no", 6.0);
    WB_ADD_TIMEOUT(s, test_open_fails, "When the disk says no", 6.0);
    WB_ADD_TIMEOUT(s, test_directory_fsync_fails, "When the disk says no", 6.0);
    WB_ADD_TIMEOUT(s, test_second_save_is_busy, "One SAVE at a time", 6.0);
    WB_ADD_TIMEOUT(s, test_one_reply_per_save, "Off the loop: the pool writes",
                   8.0);
    WB_ADD(s, test_bad_args, "The snapshot file");
    WB_ADD_TIMEOUT(s, test_leaves_only_the_snapshot, "When the disk says no",
                   6.0);
    WB_ADD_TIMEOUT(s, test_no_memory, "When the disk says no", 8.0);
    WB_ADD_TIMEOUT(s, test_submit_fails, "When the disk says no", 6.0);
    return s;
}
