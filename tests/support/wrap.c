/*
 * wrap.c: a suite's window on fork() and pthread_create().
 *
 * A suite that lists this file in tests/NN-topic/NAME.links is linked
 * with -Wl,--wrap=fork -Wl,--wrap=pthread_create (the Makefile's
 * WRAP_LDFLAGS), so every call to fork() or pthread_create() in its
 * objects (the code under test included) lands in the __wrap_ function
 * below, which reaches the real one as __real_.
 * The suite can then count the calls and make one of them fail the way
 * the system would when it has no room for another process or thread,
 * which a test could not arrange otherwise (as root, RLIMIT_NPROC binds
 * nothing). See wb_wrap_reset() in wb.h.
 */
#include "wb.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

pid_t __real_fork(void);
pid_t __wrap_fork(void);
int __real_pthread_create(pthread_t *thread, const pthread_attr_t *attr,
                          void *(*start)(void *), void *arg);
int __wrap_pthread_create(pthread_t *thread, const pthread_attr_t *attr,
                          void *(*start)(void *), void *arg);

static struct {
    atomic_int calls;   /* since the last reset */
    atomic_int fail_at; /* the call (from 1) that fails; 0: none */
} wrapped[WB_WRAPPED_COUNT];

/* Count a call; whether it is the one to fail. */
static int wrap_fails(enum wb_wrapped f)
{
    int call = atomic_fetch_add(&wrapped[f].calls, 1) + 1;
    return call == atomic_load(&wrapped[f].fail_at);
}

pid_t __wrap_fork(void)
{
    if (wrap_fails(WB_FORK)) {
        errno = EAGAIN;
        return -1;
    }
    return __real_fork();
}

int __wrap_pthread_create(pthread_t *thread, const pthread_attr_t *attr,
                          void *(*start)(void *), void *arg)
{
    if (wrap_fails(WB_PTHREAD_CREATE))
        return EAGAIN;
    return __real_pthread_create(thread, attr, start, arg);
}

void wb_wrap_reset(enum wb_wrapped f, int fail)
{
    atomic_store(&wrapped[f].fail_at, fail);
    atomic_store(&wrapped[f].calls, 0);
}

int wb_wrap_calls(enum wb_wrapped f)
{
    return atomic_load(&wrapped[f].calls);
}
