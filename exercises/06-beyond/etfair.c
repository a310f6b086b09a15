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

/* TODO: the fields you need. */
struct etfair {
    int unused;
};

etfair *etfair_new(size_t budget)
{
    /* TODO: see etfair.h. Read: chapter 6, "Fair reading: drain,
     * but share". */
    (void)budget;
    errno = ENOSYS;
    return NULL;
}

void etfair_free(etfair *r)
{
    /* TODO: see etfair.h. Read: chapter 6, "Fair reading: drain,
     * but share". */
    (void)r;
}

int etfair_add(etfair *r, int fd, etfair_cb on_data, void *ctx)
{
    /* TODO: see etfair.h. Read: chapter 6, "Level-triggered and
     * edge-triggered". */
    (void)r;
    (void)fd;
    (void)on_data;
    (void)ctx;
    errno = ENOSYS;
    return -1;
}

int etfair_remove(etfair *r, int fd)
{
    /* TODO: see etfair.h. Read: chapter 6, "Fair reading: drain,
     * but share". */
    (void)r;
    (void)fd;
    errno = ENOSYS;
    return -1;
}

int etfair_round(etfair *r, int timeout_ms)
{
    /* TODO: see etfair.h. Read: chapter 6, "Fair reading: drain,
     * but share". */
    (void)r;
    (void)timeout_ms;
    errno = ENOSYS;
    return -1;
}
