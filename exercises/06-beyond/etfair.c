/*
 * etfair: fair edge-triggered reading. Linux only: epoll is Linux's,
 * hence _GNU_SOURCE.
 *
 * The contract is in etfair.h. Run the tests with
 *
 *     make check CHAPTER=6 EXERCISE=etfair
 *
 * and ask for a hint with `make hint CHAPTER=6 EXERCISE=etfair`.
 */
#define _GNU_SOURCE
#include "etfair.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

/* TODO: the fields: the epoll descriptor, the budget, a table indexed by
 * descriptor (callback, context, whether it is on the ready list), the
 * ready list itself (a FIFO of descriptors whose budget ran out before
 * EAGAIN), a flag for "a round is running", and a read buffer. */
struct etfair {
    int unused;
};

etfair *etfair_new(size_t budget)
{
    /* TODO: EINVAL for a budget of 0; allocate, epoll_create1() with
     * EPOLL_CLOEXEC (its errno when it fails).
     * Read: chapter 6, "Fair reading: drain, but share". */
    (void)budget;
    errno = ENOSYS;
    return NULL;
}

void etfair_free(etfair *r)
{
    /* TODO: close the epoll descriptor, free; close no added descriptor
     * and call no callback. */
    (void)r;
}

int etfair_add(etfair *r, int fd, etfair_cb on_data, void *ctx)
{
    /* TODO: EINVAL for NULL arguments, a negative fd, or one without
     * O_NONBLOCK (fcntl(F_GETFL); its EBADF when fd is not open); EEXIST
     * when fd is already added. Register it with EPOLLIN | EPOLLRDHUP |
     * EPOLLET (epoll_ctl()'s errno when it refuses, nothing changed),
     * then store callback and context.
     * Read: chapter 6, "Level-triggered and edge-triggered". */
    (void)r;
    (void)fd;
    (void)on_data;
    (void)ctx;
    errno = ENOSYS;
    return -1;
}

int etfair_remove(etfair *r, int fd)
{
    /* TODO: EINVAL for NULL, ENOENT when fd is not added. EPOLL_CTL_DEL,
     * take fd off the ready list, forget it. */
    (void)r;
    (void)fd;
    errno = ENOSYS;
    return -1;
}

int etfair_round(etfair *r, int timeout_ms)
{
    /* TODO: EINVAL for NULL, EBUSY from a callback. epoll_wait() with a
     * timeout of 0 when the ready list is not empty, timeout_ms
     * otherwise; append what it reports to the ready list. Then give one
     * turn to each descriptor that was on the list when the turns
     * began: read up to the budget, passing each read to the callback,
     * until EAGAIN (off the list), end of file or an error (remove it,
     * then call back with 0 or -errno), or the budget is spent (back to
     * the end of the list). Return how many are left on the list.
     * Read: chapter 6, "Fair reading: drain, but share". */
    (void)r;
    (void)timeout_ms;
    errno = ENOSYS;
    return -1;
}
