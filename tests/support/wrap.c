/*
 * wrap.c: a suite's window on the calls the contracts promise to handle.
 *
 * A suite that lists this file in tests/NN-topic/NAME.links is linked
 * with -Wl,--wrap=NAME for each function below (the Makefile's
 * WRAP_LDFLAGS), so every call to it from the suite's objects (the code
 * under test included, stdio's own internal calls not) lands in the
 * __wrap_ function here, which reaches the real one as __real_.
 * The suite can then count the calls and make one of them fail the way
 * the system would, which a test could not arrange otherwise (as root,
 * RLIMIT_NPROC binds nothing; nothing makes pthread_mutex_init() fail).
 * See wb_wrap_reset() and its neighbours in wb.h.
 */
#define _GNU_SOURCE /* syscall(SYS_gettid) */
#include "wb.h"
#include "trace.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

pid_t __real_fork(void);
pid_t __wrap_fork(void);
int __real_pthread_create(pthread_t *thread, const pthread_attr_t *attr,
                          void *(*start)(void *), void *arg);
int __wrap_pthread_create(pthread_t *thread, const pthread_attr_t *attr,
                          void *(*start)(void *), void *arg);
ssize_t __real_write(int fd, const void *buf, size_t n);
ssize_t __wrap_write(int fd, const void *buf, size_t n);
int __real_fflush(FILE *f);
int __wrap_fflush(FILE *f);
pid_t __real_waitpid(pid_t pid, int *status, int options);
pid_t __wrap_waitpid(pid_t pid, int *status, int options);
int __real_pthread_mutex_init(pthread_mutex_t *m,
                              const pthread_mutexattr_t *attr);
int __wrap_pthread_mutex_init(pthread_mutex_t *m,
                              const pthread_mutexattr_t *attr);
int __real_pthread_cond_init(pthread_cond_t *c, const pthread_condattr_t *attr);
int __wrap_pthread_cond_init(pthread_cond_t *c, const pthread_condattr_t *attr);
int __real_clock_gettime(clockid_t clock, struct timespec *ts);
int __wrap_clock_gettime(clockid_t clock, struct timespec *ts);
int __real_fsync(int fd);
int __wrap_fsync(int fd);
int __real_rename(const char *from, const char *to);
int __wrap_rename(const char *from, const char *to);
ssize_t __real_read(int fd, void *buf, size_t n);
ssize_t __wrap_read(int fd, void *buf, size_t n);
int __real_pipe(int fds[2]);
int __wrap_pipe(int fds[2]);
int __real_fcntl(int fd, int cmd, ...);
int __wrap_fcntl(int fd, int cmd, ...);
ssize_t __real_send(int fd, const void *buf, size_t n, int flags);
ssize_t __wrap_send(int fd, const void *buf, size_t n, int flags);

/* The error a failed call reports when the test chose none. */
static const int default_errno[WB_WRAPPED_COUNT] = {
    [WB_FORK] = EAGAIN,
    [WB_PTHREAD_CREATE] = EAGAIN,
    [WB_WRITE] = EIO,
    [WB_FFLUSH] = EIO,
    [WB_WAITPID] = EINTR,
    [WB_PTHREAD_MUTEX_INIT] = ENOMEM,
    [WB_PTHREAD_COND_INIT] = ENOMEM,
    [WB_CLOCK_GETTIME] = EINVAL,
    [WB_FSYNC] = EIO,
    [WB_RENAME] = EIO,
    [WB_READ] = EIO,
    [WB_PIPE] = EMFILE,
    [WB_FCNTL] = EBADF,
    [WB_SEND] = ECONNRESET,
};

static struct {
    atomic_int calls;     /* since the last reset */
    atomic_int fail_at;   /* the call (from 1) that fails; 0: none */
    atomic_int err;       /* its error number */
    atomic_int fail_from; /* 1: that call and every later one fail */
    atomic_int hold_at;   /* the call (from 1) that waits; 0: none */
    atomic_int held_call; /* the call waiting now; 0: none */
    atomic_long held_tid; /* the thread waiting in it */
    atomic_int held_fd;   /* its descriptor (fsync()); -1: none */
} wrapped[WB_WRAPPED_COUNT];

static atomic_long write_limit;     /* largest write() passed on; 0: any */
static atomic_int write_zero_at;    /* the write() (from 1) that returns 0 */
static atomic_llong clock_shift_ns; /* added to every clock reading */
/* How send() is shaped (wb_wrap_send_limit() and its neighbours), read
 * and changed under send_lock, so that a test switching modes from one
 * thread never shows another a mix of the old and the new. */
static pthread_mutex_t send_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
    int fd;          /* the descriptor shaped; -1: every one */
    long max;        /* the most bytes a send() passes on; 0: none; -1: any */
    int every_other; /* 1: every other shaped send() fails with EAGAIN */
    unsigned turn;   /* shaped send()s since every_other was set */
    int one_thread;  /* 1: only the sends of thread are shaped */
    pthread_t thread;
    void (*on_refusal)(void *); /* called at the next refusal, once */
    void *arg;
} send_rule = {.fd = -1, .max = -1};

/* Count a call; 0 when it goes through, else the error it fails with.
 * The call chosen by wb_wrap_hold() first waits for wb_wrap_release();
 * @p fd is the descriptor it works on, or -1. */
static int wrap_fails_fd(enum wb_wrapped f, int fd)
{
    int call = atomic_fetch_add(&wrapped[f].calls, 1) + 1;
    if (call == atomic_load(&wrapped[f].hold_at)) {
        atomic_store(&wrapped[f].held_tid, (long)syscall(SYS_gettid));
        atomic_store(&wrapped[f].held_fd, fd);
        atomic_store(&wrapped[f].held_call, call);
        int64_t t0 = trace_now();
        struct timespec ms = {0, 1000000};
        while (atomic_load(&wrapped[f].hold_at) == call)
            nanosleep(&ms, NULL);
        trace_span(f == WB_FSYNC ? "fsync held by the test"
                                 : "rename held by the test",
                   t0, trace_now());
        int mine = call;
        atomic_compare_exchange_strong(&wrapped[f].held_call, &mine, 0);
    }
    int at = atomic_load(&wrapped[f].fail_at);
    if (at == 0 || call < at ||
        (call > at && !atomic_load(&wrapped[f].fail_from)))
        return 0;
    int err = atomic_load(&wrapped[f].err);
    return err != 0 ? err : default_errno[f];
}

static int wrap_fails(enum wb_wrapped f)
{
    return wrap_fails_fd(f, -1);
}

pid_t __wrap_fork(void)
{
    int err = wrap_fails(WB_FORK);
    if (err != 0) {
        errno = err;
        return -1;
    }
    return __real_fork();
}

int __wrap_pthread_create(pthread_t *thread, const pthread_attr_t *attr,
                          void *(*start)(void *), void *arg)
{
    int err = wrap_fails(WB_PTHREAD_CREATE);
    return err != 0 ? err : __real_pthread_create(thread, attr, start, arg);
}

ssize_t __wrap_write(int fd, const void *buf, size_t n)
{
    int err = wrap_fails(WB_WRITE);
    if (err != 0) {
        errno = err;
        return -1;
    }
    int zero = atomic_load(&write_zero_at);
    if (zero != 0 && atomic_load(&wrapped[WB_WRITE].calls) == zero && n > 0)
        return 0; /* moved nothing, and no error either */
    long limit = atomic_load(&write_limit);
    if (limit > 0 && n > (size_t)limit)
        n = (size_t)limit;
    return __real_write(fd, buf, n);
}

int __wrap_fflush(FILE *f)
{
    int err = wrap_fails(WB_FFLUSH);
    if (err != 0) {
        errno = err;
        return EOF;
    }
    return __real_fflush(f);
}

pid_t __wrap_waitpid(pid_t pid, int *status, int options)
{
    int err = wrap_fails(WB_WAITPID);
    if (err != 0) {
        errno = err;
        return -1;
    }
    return __real_waitpid(pid, status, options);
}

int __wrap_pthread_mutex_init(pthread_mutex_t *m,
                              const pthread_mutexattr_t *attr)
{
    int err = wrap_fails(WB_PTHREAD_MUTEX_INIT);
    return err != 0 ? err : __real_pthread_mutex_init(m, attr);
}

int __wrap_pthread_cond_init(pthread_cond_t *c, const pthread_condattr_t *attr)
{
    int err = wrap_fails(WB_PTHREAD_COND_INIT);
    return err != 0 ? err : __real_pthread_cond_init(c, attr);
}

int __wrap_clock_gettime(clockid_t clock, struct timespec *ts)
{
    int err = wrap_fails(WB_CLOCK_GETTIME);
    if (err != 0) {
        errno = err;
        return -1;
    }
    int rc = __real_clock_gettime(clock, ts);
    long long shift = atomic_load(&clock_shift_ns);
    if (rc == 0 && shift != 0) {
        long long ns =
            (long long)ts->tv_sec * 1000000000LL + ts->tv_nsec + shift;
        ts->tv_sec = (time_t)(ns / 1000000000LL);
        ts->tv_nsec = (long)(ns % 1000000000LL);
        if (ts->tv_nsec < 0) {
            ts->tv_nsec += 1000000000L;
            ts->tv_sec--;
        }
    }
    return rc;
}

int __wrap_fsync(int fd)
{
    int err = wrap_fails_fd(WB_FSYNC, fd);
    if (err != 0) {
        errno = err;
        return -1;
    }
    return __real_fsync(fd);
}

int __wrap_rename(const char *from, const char *to)
{
    int err = wrap_fails(WB_RENAME);
    if (err != 0) {
        errno = err;
        return -1;
    }
    return __real_rename(from, to);
}

ssize_t __wrap_read(int fd, void *buf, size_t n)
{
    int err = wrap_fails(WB_READ);
    if (err != 0) {
        errno = err;
        return -1;
    }
    return __real_read(fd, buf, n);
}

int __wrap_pipe(int fds[2])
{
    int err = wrap_fails(WB_PIPE);
    if (err != 0) {
        errno = err;
        return -1;
    }
    return __real_pipe(fds);
}

/* The commands the workbook uses take no argument, an int or a pointer:
 * the third argument is passed on as a pointer, as the C library's own
 * fcntl() reads it. */
int __wrap_fcntl(int fd, int cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    int err = wrap_fails(WB_FCNTL);
    if (err != 0) {
        errno = err;
        return -1;
    }
    return __real_fcntl(fd, cmd, arg);
}

ssize_t __wrap_send(int fd, const void *buf, size_t n, int flags)
{
    int err = wrap_fails_fd(WB_SEND, fd);
    if (err != 0) {
        errno = err;
        return -1;
    }
    int refuse = 0;
    void (*hook)(void *) = NULL;
    void *arg = NULL;
    pthread_mutex_lock(&send_lock);
    long max = send_rule.max;
    if ((max >= 0 || send_rule.every_other) && n > 0 &&
        (send_rule.fd == -1 || send_rule.fd == fd) &&
        (!send_rule.one_thread ||
         pthread_equal(pthread_self(), send_rule.thread))) {
        if ((send_rule.every_other && send_rule.turn++ % 2 == 0) || max == 0)
            refuse = 1;
        else if (max > 0 && n > (size_t)max)
            n = (size_t)max;
        if (refuse) {
            hook = send_rule.on_refusal;
            arg = send_rule.arg;
            send_rule.on_refusal = NULL;
        }
    }
    pthread_mutex_unlock(&send_lock);
    if (refuse) {
        if (hook != NULL)
            hook(arg);
        errno = EAGAIN; /* as from a full socket */
        return -1;
    }
    return __real_send(fd, buf, n, flags);
}

void wb_wrap_hold(enum wb_wrapped f, int call)
{
    atomic_store(&wrapped[f].hold_at, call);
}

long wb_wrap_held(enum wb_wrapped f, long ms)
{
    for (long i = 0;; i++) {
        int at = atomic_load(&wrapped[f].hold_at);
        if (at != 0 && atomic_load(&wrapped[f].held_call) == at)
            return atomic_load(&wrapped[f].held_tid);
        if (i >= ms)
            return 0;
        wb_sleep_ms(1);
    }
}

int wb_wrap_held_fd(enum wb_wrapped f)
{
    return atomic_load(&wrapped[f].held_fd);
}

void wb_wrap_release(enum wb_wrapped f)
{
    atomic_store(&wrapped[f].hold_at, 0);
}

void wb_wrap_reset(enum wb_wrapped f, int fail)
{
    atomic_store(&wrapped[f].fail_at, fail);
    atomic_store(&wrapped[f].err, 0);
    atomic_store(&wrapped[f].fail_from, 0);
    atomic_store(&wrapped[f].calls, 0);
}

void wb_wrap_fail(enum wb_wrapped f, int fail, int err, int and_later)
{
    atomic_store(&wrapped[f].fail_at, fail);
    atomic_store(&wrapped[f].err, err);
    atomic_store(&wrapped[f].fail_from, and_later);
    atomic_store(&wrapped[f].calls, 0);
}

int wb_wrap_calls(enum wb_wrapped f)
{
    return atomic_load(&wrapped[f].calls);
}

void wb_wrap_write_zero(int call)
{
    atomic_store(&write_zero_at, call);
}

void wb_wrap_write_limit(size_t max)
{
    atomic_store(&write_limit, (long)max);
}

/* Set the descriptor, the most bytes and whether every other send() is
 * refused, all at once; the alternation starts anew (the first refused)
 * only when it was off. */
static void send_shape(int fd, long max, int every_other)
{
    pthread_mutex_lock(&send_lock);
    if (every_other && !send_rule.every_other)
        send_rule.turn = 0;
    send_rule.fd = fd;
    send_rule.max = max;
    send_rule.every_other = every_other;
    pthread_mutex_unlock(&send_lock);
}

void wb_wrap_send_limit(int fd, long max)
{
    send_shape(fd, max, 0);
}

void wb_wrap_send_alternate(int fd, long max)
{
    send_shape(fd, max, 1);
}

void wb_wrap_send_thread(const pthread_t *thread)
{
    pthread_mutex_lock(&send_lock);
    send_rule.one_thread = thread != NULL;
    if (thread != NULL)
        send_rule.thread = *thread;
    pthread_mutex_unlock(&send_lock);
}

void wb_wrap_send_on_refusal(void (*fn)(void *), void *arg)
{
    pthread_mutex_lock(&send_lock);
    send_rule.on_refusal = fn;
    send_rule.arg = arg;
    pthread_mutex_unlock(&send_lock);
}

void wb_wrap_clock_shift(int64_t ns)
{
    atomic_store(&clock_shift_ns, (long long)ns);
}
