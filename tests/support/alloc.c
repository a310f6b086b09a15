/*
 * alloc.c: the count of the memory the code under test allocates.
 *
 * When a suite is linked, every object of the code under test (the
 * learner's file in the grader, the exercise, solution or known-wrong
 * variant in make's builds; never the suites or this support) has its
 * calls of malloc(), calloc(), realloc(), reallocarray(), free(),
 * strdup(), strndup(), posix_memalign(), aligned_alloc(), memalign(),
 * valloc(), pvalloc(), getline(), getdelim(), asprintf() and vasprintf()
 * renamed to the wb_learner_ functions below
 * (objcopy --redefine-syms: tests/support/wbtools/buildbox.py and the
 * Makefile's LEARNER_REDIRECT). Those keep each live block in a table; the
 * fixture (wb.c) empties it before each test and, after the test, fails
 * one that leaves blocks behind, reachable or not, in every build and
 * whatever the code does to hide them from a leak checker.
 *
 * A block the contract hands to the caller is freed by the test with
 * free(); every object is linked with -Wl,--wrap=free, so that free() is
 * __wrap_free() here and takes the block off the table too.
 *
 * New blocks (malloc, the grown part of realloc) are filled with 0xA5, not
 * zeros, so a string left without its terminating '\0' shows.
 *
 * wb_alloc_fail() makes one of those calls fail, as the C library's do
 * when there is no memory (NULL, errno ENOMEM): malloc(), calloc(),
 * realloc(), reallocarray(), strdup() and strndup() count; the others
 * never fail here.
 *
 * A building block the suite links (a solutions/ file its NAME.links
 * names, or the learner's own in a handout) has its malloc(), calloc(),
 * realloc(), reallocarray(), strdup() and strndup() renamed to the
 * wb_block_ functions below (the Makefile's BLOCK_REDIRECT): they count
 * no block, and fail only when wb_block_alloc_fail() says, so that a test
 * can make the loop or the linebuf under the code under test run out of
 * memory.
 *
 * Blind spots: memory the C library allocates for the code behind other
 * calls (fopen(), realpath(), open_memstream()...) is not counted; a
 * counted block that the C library frees or moves itself through a call
 * not listed here stays on the table.
 */
#define _GNU_SOURCE
#include "wb.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void *wb_learner_malloc(size_t n);
void *wb_learner_calloc(size_t count, size_t n);
void *wb_learner_realloc(void *p, size_t n);
void *wb_learner_reallocarray(void *p, size_t count, size_t n);
void wb_learner_free(void *p);
char *wb_learner_strdup(const char *s);
char *wb_learner_strndup(const char *s, size_t n);
int wb_learner_posix_memalign(void **out, size_t align, size_t n);
void *wb_learner_aligned_alloc(size_t align, size_t n);
void *wb_learner_memalign(size_t align, size_t n);
void *wb_learner_valloc(size_t n);
void *wb_learner_pvalloc(size_t n);
ssize_t wb_learner_getdelim(char **line, size_t *cap, int delim, FILE *in);
ssize_t wb_learner_getline(char **line, size_t *cap, FILE *in);
int wb_learner_vasprintf(char **out, const char *fmt, va_list ap);
int wb_learner_asprintf(char **out, const char *fmt, ...);
void __wrap_free(void *p);
void *wb_block_malloc(size_t n);
void *wb_block_calloc(size_t count, size_t n);
void *wb_block_realloc(void *p, size_t n);
void *wb_block_reallocarray(void *p, size_t count, size_t n);
char *wb_block_strdup(const char *s);
char *wb_block_strndup(const char *s, size_t n);

/* The C library's free() when linked with --wrap=free; a null address in
 * a link without it (make mutants), where free() is the real one. */
extern void __real_free(void *p) __attribute__((weak));

static void real_free(void *p)
{
    if (__real_free != NULL)
        __real_free(p);
    else
        free(p);
}

/* 1 MiB of table, made before the test begins (wb_alloc_reset()): a
 * test that compares wb_heap_in_use() before and after a call must not
 * see it appear in between. It grows past 32,768 live blocks. */
enum { JUNK = 0xA5, INITIAL_CAP = 1 << 16 };

struct slot {
    void *p; /* NULL: empty */
    size_t n;
};

/* Open addressing, linear probing; cap is a power of two, at least twice
 * the live count. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct slot *table;
static size_t cap, live, live_bytes;

static size_t slot_of(const void *p)
{
    uint64_t h = (uint64_t)(uintptr_t)p >> 4;
    h *= 0x9E3779B97F4A7C15ULL;
    return (size_t)(h >> 20) & (cap - 1);
}

static int grow(void)
{
    size_t old_cap = cap;
    struct slot *old = table;
    size_t new_cap = cap == 0 ? INITIAL_CAP : cap * 2;
    struct slot *t = calloc(new_cap, sizeof *t);
    if (t == NULL)
        return -1;
    table = t;
    cap = new_cap;
    for (size_t i = 0; i < old_cap; i++) {
        if (old[i].p == NULL)
            continue;
        size_t j = slot_of(old[i].p);
        while (table[j].p != NULL)
            j = (j + 1) & (cap - 1);
        table[j] = old[i];
    }
    real_free(old);
    return 0;
}

static void track(void *p, size_t n)
{
    if (p == NULL)
        return;
    pthread_mutex_lock(&lock);
    if ((live + 1) * 2 > cap && grow() == -1) {
        pthread_mutex_unlock(&lock);
        return;
    }
    size_t i = slot_of(p);
    while (table[i].p != NULL && table[i].p != p)
        i = (i + 1) & (cap - 1);
    if (table[i].p == p) {
        /* The C library reused a block it freed behind our back. */
        live_bytes -= table[i].n;
    } else {
        live++;
    }
    table[i] = (struct slot){p, n};
    live_bytes += n;
    pthread_mutex_unlock(&lock);
}

/* Take @p off the table; its size, or (size_t)-1 when it was not on it. */
static size_t untrack(void *p)
{
    size_t n = (size_t)-1;
    if (p == NULL)
        return n;
    pthread_mutex_lock(&lock);
    if (cap == 0) {
        pthread_mutex_unlock(&lock);
        return n;
    }
    size_t i = slot_of(p);
    while (table[i].p != NULL && table[i].p != p)
        i = (i + 1) & (cap - 1);
    if (table[i].p == p) {
        n = table[i].n;
        live--;
        live_bytes -= n;
        table[i].p = NULL;
        /* Move back the entries after it that belong before the hole. */
        size_t hole = i, j = (i + 1) & (cap - 1);
        while (table[j].p != NULL) {
            size_t home = slot_of(table[j].p);
            if (((j - home) & (cap - 1)) >= ((j - hole) & (cap - 1))) {
                table[hole] = table[j];
                table[j].p = NULL;
                hole = j;
            }
            j = (j + 1) & (cap - 1);
        }
    }
    pthread_mutex_unlock(&lock);
    return n;
}

static void before_fork(void)
{
    pthread_mutex_lock(&lock);
}

static void after_fork(void)
{
    pthread_mutex_unlock(&lock);
}

void wb_alloc_reset(void)
{
    static int registered;
    if (!registered) {
        /* A child forked while another thread holds the lock could never
         * allocate. */
        pthread_atfork(before_fork, after_fork, after_fork);
        registered = 1;
    }
    pthread_mutex_lock(&lock);
    if (cap == 0)
        grow();
    else
        memset(table, 0, cap * sizeof *table);
    live = 0;
    live_bytes = 0;
    pthread_mutex_unlock(&lock);
    wb_alloc_fail(0);
    wb_block_alloc_fail(0);
}

size_t wb_alloc_live(size_t *bytes)
{
    pthread_mutex_lock(&lock);
    size_t n = live;
    if (bytes != NULL)
        *bytes = live_bytes;
    pthread_mutex_unlock(&lock);
    return n;
}

/* A failure to come: the allocation call (from 1) that fails, and the
 * calls counted since it was armed. One for the code under test
 * (wb_alloc_fail()), one for the building blocks (wb_block_alloc_fail()). */
struct failure {
    atomic_int at, calls;
};
static struct failure learner_failure, block_failure;

/* Count an allocation call; 1 when it is the one that must fail (it then
 * sets errno to ENOMEM, as the C library's do). */
static int fails(struct failure *f)
{
    int call = atomic_fetch_add(&f->calls, 1) + 1;
    if (call != atomic_load(&f->at))
        return 0;
    errno = ENOMEM;
    return 1;
}

static int alloc_fails(void)
{
    return fails(&learner_failure);
}

static void arm(struct failure *f, int call)
{
    atomic_store(&f->at, call);
    atomic_store(&f->calls, 0);
}

void wb_alloc_fail(int call)
{
    arm(&learner_failure, call);
}

int wb_alloc_calls(void)
{
    return atomic_load(&learner_failure.calls);
}

void wb_block_alloc_fail(int call)
{
    arm(&block_failure, call);
}

int wb_block_alloc_calls(void)
{
    return atomic_load(&block_failure.calls);
}

void *wb_learner_malloc(size_t n)
{
    if (alloc_fails())
        return NULL;
    void *p = malloc(n);
    if (p != NULL) {
        memset(p, JUNK, n);
        track(p, n);
    }
    return p;
}

void *wb_learner_calloc(size_t count, size_t n)
{
    if (alloc_fails())
        return NULL;
    void *p = calloc(count, n);
    track(p, count * n);
    return p;
}

void *wb_learner_realloc(void *p, size_t n)
{
    if (p == NULL)
        return wb_learner_malloc(n);
    if (alloc_fails())
        return NULL; /* the old block stays, as after a failed realloc() */
    size_t old = untrack(p);
    void *q = realloc(p, n);
    if (q == NULL) {
        if (n != 0 && old != (size_t)-1)
            track(p, old); /* it failed: the old block is still there */
        return NULL;
    }
    if (old != (size_t)-1 && n > old)
        memset((char *)q + old, JUNK, n - old);
    track(q, n);
    return q;
}

void *wb_learner_reallocarray(void *p, size_t count, size_t n)
{
    if (n != 0 && count > SIZE_MAX / n) {
        errno = ENOMEM;
        return NULL;
    }
    return wb_learner_realloc(p, count * n);
}

void wb_learner_free(void *p)
{
    untrack(p);
    real_free(p);
}

void __wrap_free(void *p)
{
    untrack(p);
    real_free(p);
}

char *wb_learner_strdup(const char *s)
{
    if (alloc_fails())
        return NULL;
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p != NULL) {
        memcpy(p, s, n);
        track(p, n);
    }
    return p;
}

char *wb_learner_strndup(const char *s, size_t n)
{
    if (alloc_fails())
        return NULL;
    size_t len = strnlen(s, n);
    char *p = malloc(len + 1);
    if (p != NULL) {
        memcpy(p, s, len);
        p[len] = '\0';
        track(p, len + 1);
    }
    return p;
}

int wb_learner_posix_memalign(void **out, size_t align, size_t n)
{
    int err = posix_memalign(out, align, n);
    if (err == 0 && *out != NULL) {
        memset(*out, JUNK, n);
        track(*out, n);
    }
    return err;
}

static void *filled(void *p, size_t n)
{
    if (p != NULL) {
        memset(p, JUNK, n);
        track(p, n);
    }
    return p;
}

void *wb_learner_aligned_alloc(size_t align, size_t n)
{
    return filled(aligned_alloc(align, n), n);
}

void *wb_learner_memalign(size_t align, size_t n)
{
    return filled(memalign(align, n), n);
}

void *wb_learner_valloc(size_t n)
{
    return filled(valloc(n), n);
}

void *wb_learner_pvalloc(size_t n)
{
    return filled(pvalloc(n), n);
}

/* The buffer may be the code's (then the C library may move or grow it)
 * or a new one: either way, the code must free what is there after. */
ssize_t wb_learner_getdelim(char **line, size_t *cap, int delim, FILE *in)
{
    if (line != NULL)
        untrack(*line);
    ssize_t got = getdelim(line, cap, delim, in);
    if (line != NULL && *line != NULL && cap != NULL)
        track(*line, *cap);
    return got;
}

ssize_t wb_learner_getline(char **line, size_t *cap, FILE *in)
{
    return wb_learner_getdelim(line, cap, '\n', in);
}

int wb_learner_vasprintf(char **out, const char *fmt, va_list ap)
{
    int n = vasprintf(out, fmt, ap);
    if (n >= 0)
        track(*out, (size_t)n + 1);
    return n;
}

int wb_learner_asprintf(char **out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = wb_learner_vasprintf(out, fmt, ap);
    va_end(ap);
    return n;
}

/* A building block's allocations: the C library's, unless one must fail. */
void *wb_block_malloc(size_t n)
{
    return fails(&block_failure) ? NULL : malloc(n);
}

void *wb_block_calloc(size_t count, size_t n)
{
    return fails(&block_failure) ? NULL : calloc(count, n);
}

void *wb_block_realloc(void *p, size_t n)
{
    return fails(&block_failure) ? NULL : realloc(p, n);
}

void *wb_block_reallocarray(void *p, size_t count, size_t n)
{
    return fails(&block_failure) ? NULL : reallocarray(p, count, n);
}

char *wb_block_strdup(const char *s)
{
    return fails(&block_failure) ? NULL : strdup(s);
}

char *wb_block_strndup(const char *s, size_t n)
{
    return fails(&block_failure) ? NULL : strndup(s, n);
}
